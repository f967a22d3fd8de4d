//! Provider and outbox settings shared by `serve` and `worker`, and building the providers
//! from them: an HTTP client per configured URL; without a URL, the built-in provider
//! simulator (exercise, imaging) started in-process, and the database mail sink (email).

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use staffroom_connectors::http::{HttpConfig, HttpEmail, HttpExercise, HttpImaging};
use staffroom_connectors::sim::{self, SimHandle, SimOptions};
use staffroom_domain::RetryPolicy;
use staffroom_persistence::Pool;

use crate::outbox::{OutboxConfig, Providers, StoredMail};
use crate::startup_error::StartupError;

#[derive(Debug, Clone, Args)]
pub struct ProviderArgs {
    /// Base URL of the exercise-prescription provider; unset: the built-in simulator.
    #[arg(long, env = "STAFFROOM_EXERCISE_URL")]
    pub exercise_url: Option<String>,
    #[arg(long, env = "STAFFROOM_EXERCISE_API_KEY", hide_env_values = true)]
    pub exercise_api_key: Option<String>,
    /// Base URL of the imaging provider; unset: the built-in simulator.
    #[arg(long, env = "STAFFROOM_IMAGING_URL")]
    pub imaging_url: Option<String>,
    #[arg(long, env = "STAFFROOM_IMAGING_API_KEY", hide_env_values = true)]
    pub imaging_api_key: Option<String>,
    /// Base URL of the email provider; unset: mail is kept in the database
    /// (`staffroom mail list`).
    #[arg(long, env = "STAFFROOM_EMAIL_URL")]
    pub email_url: Option<String>,
    #[arg(long, env = "STAFFROOM_EMAIL_API_KEY", hide_env_values = true)]
    pub email_api_key: Option<String>,
    /// Longest a provider call may take, in milliseconds.
    #[arg(long, env = "STAFFROOM_PROVIDER_TIMEOUT_MS", default_value_t = 5000)]
    pub provider_timeout_ms: u64,
    /// How long a request waits for its provider call before answering `pending`, in
    /// milliseconds.
    #[arg(long, env = "STAFFROOM_PROVIDER_BUDGET_MS", default_value_t = 2000)]
    pub provider_budget_ms: u64,
    /// How often an idle outbox worker looks for due jobs, in milliseconds.
    #[arg(long, env = "STAFFROOM_OUTBOX_POLL_MS", default_value_t = 500)]
    pub outbox_poll_ms: u64,
    /// Delay before the first retry, in milliseconds; it doubles with each failure.
    #[arg(long, env = "STAFFROOM_OUTBOX_BACKOFF_MS", default_value_t = 1000)]
    pub outbox_backoff_ms: u64,
    /// Longest delay between retries, in milliseconds.
    #[arg(
        long,
        env = "STAFFROOM_OUTBOX_BACKOFF_MAX_MS",
        default_value_t = 300_000
    )]
    pub outbox_backoff_max_ms: u64,
    /// Attempts before a job that keeps failing transiently is given up and its effect
    /// undone; unset, such jobs are retried for ever (at the longest delay).
    #[arg(long, env = "STAFFROOM_OUTBOX_MAX_ATTEMPTS")]
    pub outbox_max_attempts: Option<u32>,
    /// Jobs one worker runs at once.
    #[arg(long, env = "STAFFROOM_OUTBOX_BATCH", default_value_t = 32)]
    pub outbox_batch: i64,
}

impl ProviderArgs {
    fn timeout(&self) -> Duration {
        Duration::from_millis(self.provider_timeout_ms.max(1))
    }

    /// The outbox settings; a lease always outlasts the longest provider call.
    pub fn outbox(&self) -> Result<OutboxConfig, StartupError> {
        if self.outbox_max_attempts == Some(0) {
            return Err(StartupError(
                "STAFFROOM_OUTBOX_MAX_ATTEMPTS must be at least 1".into(),
            ));
        }
        if !(1..=1000).contains(&self.outbox_batch) {
            return Err(StartupError(
                "STAFFROOM_OUTBOX_BATCH must be between 1 and 1000".into(),
            ));
        }
        Ok(OutboxConfig {
            policy: RetryPolicy {
                base: Duration::from_millis(self.outbox_backoff_ms.max(1)),
                cap: Duration::from_millis(self.outbox_backoff_max_ms.max(1)),
                max_attempts: self.outbox_max_attempts,
            },
            lease: (self.timeout() * 3).max(Duration::from_secs(30)),
            poll: Duration::from_millis(self.outbox_poll_ms.max(10)),
            batch: self.outbox_batch,
            inline_budget: Duration::from_millis(self.provider_budget_ms),
            worker_name: format!(
                "{}:{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "staffroom".into()),
                std::process::id()
            ),
        })
    }

    /// A client of `url`; `key` is set for every configured URL (checked in `build`), and
    /// the built-in simulator takes any key.
    fn http(&self, url: &str, key: Option<&String>) -> HttpConfig {
        HttpConfig::new(url, key.map_or("simulated", String::as_str))
            .with_timeouts(Duration::from_secs(2).min(self.timeout()), self.timeout())
    }

    /// A configured provider URL needs its API key: refused at start-up rather than every
    /// call failing with `401`.
    pub fn check_api_keys(&self) -> Result<(), StartupError> {
        for (name, url, key) in [
            ("EXERCISE", &self.exercise_url, &self.exercise_api_key),
            ("IMAGING", &self.imaging_url, &self.imaging_api_key),
            ("EMAIL", &self.email_url, &self.email_api_key),
        ] {
            if url.is_some() && key.as_deref().is_none_or(str::is_empty) {
                return Err(StartupError(format!(
                    "STAFFROOM_{name}_API_KEY must be set when STAFFROOM_{name}_URL is"
                )));
            }
        }
        Ok(())
    }

    /// Builds the providers; starts the simulator in-process when a provider URL is unset
    /// (the returned handle keeps it running), signing its report deliveries with
    /// `webhook_secret` (the server's, so that they verify).
    pub async fn build(
        &self,
        pool: &Pool,
        webhook_secret: Option<&str>,
    ) -> Result<(Providers, Option<SimHandle>), StartupError> {
        self.check_api_keys()?;
        let needs_sim = self.exercise_url.is_none() || self.imaging_url.is_none();
        let sim = if needs_sim {
            let options = SimOptions {
                webhook_secret: webhook_secret.map(str::to_owned),
                ..SimOptions::default()
            };
            let handle = sim::start(([127, 0, 0, 1], 0).into(), options)
                .await
                .map_err(|e| StartupError(format!("cannot start the provider simulator: {e}")))?;
            tracing::info!(
                url = %handle.base_url(),
                "no provider URL configured: using the built-in provider simulator"
            );
            Some(handle)
        } else {
            None
        };
        let url = |configured: &Option<String>, simulated: fn(&SimHandle) -> String| {
            configured
                .clone()
                .or_else(|| sim.as_ref().map(simulated))
                .unwrap_or_default()
        };
        let client_error = |what: &str, e: staffroom_connectors::ProviderError| {
            StartupError(format!("{what} provider: {e}"))
        };
        let exercise = HttpExercise::new(self.http(
            &url(&self.exercise_url, SimHandle::exercise_url),
            self.exercise_api_key.as_ref(),
        ))
        .map_err(|e| client_error("exercise", e))?;
        let imaging = HttpImaging::new(self.http(
            &url(&self.imaging_url, SimHandle::imaging_url),
            self.imaging_api_key.as_ref(),
        ))
        .map_err(|e| client_error("imaging", e))?;
        let email: Arc<dyn staffroom_connectors::EmailSender> = match &self.email_url {
            Some(url) => Arc::new(
                HttpEmail::new(self.http(url, self.email_api_key.as_ref()))
                    .map_err(|e| client_error("email", e))?,
            ),
            None => {
                tracing::info!("no STAFFROOM_EMAIL_URL: mail is kept in the database");
                Arc::new(StoredMail::new(pool.clone()))
            }
        };
        Ok((
            Providers {
                exercise: Arc::new(exercise),
                imaging: Arc::new(imaging),
                email,
            },
            sim,
        ))
    }
}

/// Clients of a simulator's three providers, for tests and benchmarks; email goes to the
/// simulator too with `email_via_sim`, else to the database sink.
///
/// # Panics
/// Never with a started simulator: its URLs are valid client configurations.
pub fn simulated(
    sim: &SimHandle,
    pool: &Pool,
    timeout: Duration,
    email_via_sim: bool,
) -> Providers {
    let config = |url: String| HttpConfig::new(url, "simulated").with_timeouts(timeout, timeout);
    let email: Arc<dyn staffroom_connectors::EmailSender> = if email_via_sim {
        Arc::new(must(HttpEmail::new(config(sim.email_url()))))
    } else {
        Arc::new(StoredMail::new(pool.clone()))
    };
    Providers {
        exercise: Arc::new(must(HttpExercise::new(config(sim.exercise_url())))),
        imaging: Arc::new(must(HttpImaging::new(config(sim.imaging_url())))),
        email,
    }
}

fn must<T>(client: staffroom_connectors::ProviderResult<T>) -> T {
    client.unwrap_or_else(|e| panic!("simulator URL refused: {e}"))
}
