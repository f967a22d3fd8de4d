//! The provider simulator (WIRE.md, SPEC §6.4): one small actix-web server, with its state
//! in memory, that plays the exercise (`/exercise`), imaging (`/imaging`) and email
//! (`/email`) provider APIs, plus the `/_sim/*` control endpoints.
//!
//! ```text
//! let sim = sim::start("127.0.0.1:0".parse()?, SimOptions::default()).await?;
//! let client = HttpExerciseProvider::new(sim.exercise_url(), "any-key");
//! sim.set_faults(Faults { fail_next: 2, ..Faults::default() });
//! ```
//!
//! [`start`] works inside a tokio runtime (any flavour) and inside an actix system: it
//! binds the listener, spawns the server on actix's own worker threads and a small
//! supervisor task on the caller's runtime, and returns a [`SimHandle`]. The handle is
//! cheap to clone; dropping every handle leaves the simulator running until the runtime
//! ends, [`SimHandle::stop`] ends it.
//!
//! # Behaviour beyond WIRE.md
//!
//! * **Faults** apply to provider calls only, in this order: a call caught in a
//!   `refuse_for_ms` window is held until the server drops its connection; then
//!   `latency_ms`; then `fail_next` (decremented) and `fail_rate`, which answer
//!   `503 simulated_failure` before authentication and change nothing; then
//!   `timeout_rate`, which lets the call do its work (and record its idempotency key)
//!   and then sleeps `hang_ms` (default 30 s) before answering. A timed-out call that
//!   ends in an error (say `401`) hangs just the same.
//! * **Refusing connections**: `PUT /_sim/faults` with `refuse_for_ms > 0` answers `204`,
//!   then 50 ms later the server is stopped (listener closed, open connections dropped),
//!   and `refuse_for_ms` after that a fresh server listens on the same port with the same
//!   state. The other fields of that body take effect at once; `refuse_for_ms` itself is
//!   an action, not a lasting fault, so `GET /_sim/faults` shows it as 0. While the port
//!   is closed the [`SimHandle`] keeps working (its state and faults are in process).
//! * **Idempotency keys** (1 to 255 characters, else `422 invalid_idempotency_key`) are
//!   scoped per provider and per bearer key. A replay answers the first status and body
//!   with the header `Idempotent-Replayed: true`; the same key with another method, path
//!   or body answers `422 idempotency_key_reused`. Every answer below 500 is recorded,
//!   errors included; a faulted `503` is not.
//! * Imaging emails must look like `local@domain` (`422 invalid_email`); malformed JSON
//!   answers `400 invalid_json`, a body of the wrong shape `422 invalid_body`; unknown
//!   routes `404 not_found`, wrong methods `405 method_not_allowed`.
//! * Exercise users are removed from the state when deleted; a clinic appears in the state
//!   after the first successful call that names it, as `{"clm_id", "name": "Clinic CLM-…"}`.
//! * **Report deliveries** (`POST /_sim/imaging/referrals/{id}/report`, WIRE.md) are signed
//!   with [`SimOptions::webhook_secret`] and sent from a task of their own, retried while
//!   the receiver answers `5xx` or does not answer; faults do not apply to them.
//! * Launch links (`{base}/exercise/launch/{token}`, where `{base}` is
//!   [`SimOptions::public_url`] or the simulator's own address, valid 5 minutes) answer `GET` without
//!   authentication or faults: `200` with the user, `404 unknown_launch`, `410
//!   launch_expired`.

mod args;
mod routes;
mod state;
mod webhooks;

pub use args::SimArgs;

use std::fmt;
use std::future::pending;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use routes::{Command, FaultState, Shared, lock};
use state::SimState;

/// How long after a `refuse_for_ms` request the listener closes, so the `204` gets out.
const REFUSE_DELAY: Duration = Duration::from_millis(50);
/// How long to wait between attempts to listen again on the port after a refusal.
const REBIND_RETRY: Duration = Duration::from_millis(50);

/// How the simulator is started.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// The only bearer key accepted; `None` (or an empty key) accepts any non-empty key.
    pub api_key: Option<String>,
    /// Where people's browsers reach the simulator (`http://HOST:PORT`): exercise launch
    /// links start with it. `None`: its own address, right when both run on one machine.
    pub public_url: Option<String>,
    /// The deployment's `whsec_…` imaging webhook secret: report deliveries are signed with
    /// it. `None`: `POST /_sim/imaging/referrals/{id}/report` answers `409`.
    pub webhook_secret: Option<String>,
}

/// The faults in force (`PUT /_sim/faults`); every field defaults to 0 / none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Share of provider calls (0 to 1) answered `503 simulated_failure`, doing nothing.
    pub fail_rate: f64,
    /// Share of provider calls (0 to 1) that do their work, then hang for `hang_ms`.
    pub timeout_rate: f64,
    /// Delay before every provider call.
    pub latency_ms: u64,
    /// The next N provider calls answer `503 simulated_failure`, doing nothing.
    pub fail_next: u32,
    /// Close the listener for this long, then listen again on the same port (an action:
    /// it is not kept among the faults in force).
    pub refuse_for_ms: u64,
    /// How long a timed-out call hangs; `None` is 30 s.
    pub hang_ms: Option<u64>,
}

impl Faults {
    /// Rates must be within 0 to 1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("fail_rate", self.fail_rate),
            ("timeout_rate", self.timeout_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, not {rate}"));
            }
        }
        Ok(())
    }

    /// Rates pulled into 0 to 1 (NaN is 0), for faults set in process.
    fn clamped(mut self) -> Self {
        for rate in [&mut self.fail_rate, &mut self.timeout_rate] {
            *rate = if rate.is_nan() {
                0.0
            } else {
                rate.clamp(0.0, 1.0)
            };
        }
        self
    }
}

/// A running simulator. Clones share it.
#[derive(Clone)]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// The bound address (with the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`; an unspecified bind address (`0.0.0.0`, `::`) reads as loopback.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn exercise_url(&self) -> String {
        format!("{}/exercise", self.shared.base_url)
    }

    pub fn imaging_url(&self) -> String {
        format!("{}/imaging", self.shared.base_url)
    }

    pub fn email_url(&self) -> String {
        format!("{}/email", self.shared.base_url)
    }

    /// Everything held, as `GET /_sim/state` answers it.
    pub fn state(&self) -> serde_json::Value {
        lock(&self.shared.state).snapshot()
    }

    /// The faults in force, as `GET /_sim/faults` answers them.
    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).faults.clone()
    }

    /// As `PUT /_sim/faults`, except that rates outside 0 to 1 are clamped, not refused.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.apply_faults(faults.clamped());
    }

    /// As `DELETE /_sim/faults`.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Stops listening and ends the server (for every clone); open connections are dropped.
    pub async fn stop(self) {
        let (done, stopped) = oneshot::channel();
        if self.shared.commands.send(Command::Stop(done)).is_ok() {
            let _ = stopped.await;
        }
    }
}

fn base_url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Starts the simulator on `addr` (port 0 picks a free port). Must be called within a
/// tokio runtime or an actix system; the port is listening when this returns.
pub async fn start(addr: SocketAddr, options: SimOptions) -> io::Result<SimHandle> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|e| io::Error::other(format!("provider-sim needs a tokio runtime: {e}")))?;
    let listener = TcpListener::bind(addr)?;
    let addr = listener.local_addr()?;
    let (commands, receiver) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        state: Mutex::new(SimState::default()),
        faults: Mutex::new(FaultState::default()),
        api_key: options.api_key.filter(|key| !key.is_empty()),
        launch_base_url: options.public_url.map_or_else(
            || base_url_for(addr),
            |url| url.trim_end_matches('/').to_owned(),
        ),
        base_url: base_url_for(addr),
        commands,
        webhook_secret: options.webhook_secret.filter(|secret| !secret.is_empty()),
        http: delivery_client()?,
    });
    let server = serve(listener, &shared)?;
    runtime.spawn(supervise(Arc::clone(&shared), addr, server, receiver));
    tracing::info!(%addr, "provider-sim listening");
    Ok(SimHandle { addr, shared })
}

/// The client report deliveries are made with (no redirects: a callback is one URL).
fn delivery_client() -> io::Result<reqwest::Client> {
    crate::http::install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(concat!("provider-sim/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(io::Error::other)
}

/// An actix-web server on `listener`, not yet polled.
fn serve(listener: TcpListener, shared: &Arc<Shared>) -> io::Result<Server> {
    let data = web::Data::from(Arc::clone(shared));
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(routes::entry))
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run())
}

/// A server being polled by its own task.
struct Running {
    handle: ServerHandle,
    task: JoinHandle<io::Result<()>>,
}

impl Running {
    fn spawn(server: Server) -> Self {
        Self {
            handle: server.handle(),
            task: tokio::spawn(server),
        }
    }

    /// Closes the listener, drops open connections and waits for the server to end.
    async fn shut_down(self) {
        self.handle.stop(false).await;
        let _ = self.task.await;
    }
}

enum Phase {
    Running(Running),
    /// The listener is closed until then (a `refuse_for_ms`).
    Refusing(Instant),
}

/// The next command; once every sender is gone, never.
async fn next_command(receiver: &mut Option<mpsc::UnboundedReceiver<Command>>) -> Command {
    loop {
        match receiver {
            Some(rx) => match rx.recv().await {
                Some(command) => return command,
                None => *receiver = None,
            },
            None => pending::<()>().await,
        }
    }
}

/// Owns the listener: runs the server, closes and reopens it for `refuse_for_ms`, and
/// stops it on [`SimHandle::stop`].
async fn supervise(
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Server,
    receiver: mpsc::UnboundedReceiver<Command>,
) {
    let mut receiver = Some(receiver);
    let mut phase = Phase::Running(Running::spawn(server));
    loop {
        phase = match phase {
            Phase::Running(mut running) => {
                let command = tokio::select! {
                    result = &mut running.task => {
                        match result {
                            Ok(Ok(())) => tracing::info!(%addr, "provider-sim server ended"),
                            Ok(Err(e)) => tracing::error!(%addr, "provider-sim server failed: {e}"),
                            Err(e) => tracing::error!(%addr, "provider-sim server task failed: {e}"),
                        }
                        lock(&shared.faults).refusing = false;
                        return;
                    }
                    command = next_command(&mut receiver) => command,
                };
                match command {
                    Command::Refuse(window) => {
                        tokio::time::sleep(REFUSE_DELAY).await;
                        running.shut_down().await;
                        tracing::info!(%addr, ?window, "provider-sim refusing connections");
                        Phase::Refusing(Instant::now() + window)
                    }
                    Command::Stop(done) => {
                        running.shut_down().await;
                        lock(&shared.faults).refusing = false;
                        let _ = done.send(());
                        tracing::info!(%addr, "provider-sim stopped");
                        return;
                    }
                }
            }
            Phase::Refusing(until) => {
                tokio::select! {
                    () = tokio::time::sleep_until(until) => match reopen(addr, &shared) {
                        Ok(running) => {
                            tracing::info!(%addr, "provider-sim listening again");
                            Phase::Running(running)
                        }
                        Err(e) => {
                            tracing::debug!(%addr, "provider-sim cannot listen again yet: {e}");
                            Phase::Refusing(Instant::now() + REBIND_RETRY)
                        }
                    },
                    command = next_command(&mut receiver) => match command {
                        Command::Refuse(window) => Phase::Refusing(until.max(Instant::now() + window)),
                        Command::Stop(done) => {
                            lock(&shared.faults).refusing = false;
                            let _ = done.send(());
                            return;
                        }
                    },
                }
            }
        };
    }
}

/// Listens again on the same address (`SO_REUSEADDR` is set by `std` on Unix) with the
/// same state; calls are no longer held once it is open.
fn reopen(addr: SocketAddr, shared: &Arc<Shared>) -> io::Result<Running> {
    let listener = TcpListener::bind(addr)?;
    let server = serve(listener, shared)?;
    lock(&shared.faults).refusing = false;
    Ok(Running::spawn(server))
}
