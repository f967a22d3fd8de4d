//! Outbound connectors to third-party providers (exercise prescription, imaging, email).
//!
//! This crate never touches the database. It holds:
//!
//! * the failure model every connector shares ([`ProviderError`]): a provider answer is
//!   either **transient** (timeout, refused connection, 5xx, 429 — retry later with the same
//!   idempotency key) or **permanent** (any other 4xx — surface the provider's reason to the
//!   user and undo the state change);
//! * one trait per provider ([`ExerciseProvider`], [`ImagingProvider`], [`EmailSender`]) and
//!   its HTTP implementation over `reqwest` ([`http`]); the wire formats are written down in
//!   `WIRE.md` beside this crate, the contract a real adapter must meet;
//! * the provider simulator ([`sim`], binary `provider-sim`) that plays all three over HTTP
//!   for the embedded default, demos and tests.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod email;
pub mod exercise;
mod failure;
pub mod http;
pub mod imaging;
pub mod sim;

/// Resolves on Ctrl-C, or SIGTERM on Unix: how the long-running commands stop.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub use email::{EmailMessage, EmailSender, SentEmail};
pub use exercise::{ExerciseClinic, ExerciseProvider, ExerciseUser, LaunchLink, NewExerciseUser};
pub use failure::{ProviderCode, ProviderError};
pub use imaging::{
    ImagingProvider, ImagingUser, ImagingUserUpdate, NewImagingUser, NewReferral, Referral,
};

/// What every provider call returns.
pub type ProviderResult<T> = Result<T, ProviderError>;
