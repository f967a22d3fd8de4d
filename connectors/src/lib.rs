//! Outbound connectors to third-party providers (exercise prescription, imaging, email).
//!
//! This crate never touches the database. Its first piece is the failure model every
//! connector shares: a provider answer is either **transient** (timeout, refused
//! connection, 5xx, 429 — retry later with the same idempotency key) or **permanent**
//! (any other 4xx — surface the provider's reason to the user and undo the state change).
//! The HTTP clients, their wire formats and the provider simulator build on it.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod failure;

pub use failure::ProviderError;
