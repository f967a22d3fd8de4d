//! What every handler shares: the pool, the token keys, the limits and the metrics.

use std::sync::Arc;

use staffroom_persistence::{DbConnection, Pool};

use crate::auth::callers::CallerCache;
use crate::auth::password::Hashing;
use crate::auth::tokens::TokenKeys;
use crate::metrics::Metrics;
use crate::provider_calls::ProviderCalls;
use crate::rate_limit::RateLimiter;
use crate::read_cache::ReadCache;
use crate::webhooks::WebhookSecret;

/// Default body limit (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub tokens: Arc<TokenKeys>,
    pub max_body_bytes: usize,
    /// When set, `PATCH`/`PUT`/`DELETE` without `If-Match` answer `428`.
    pub require_if_match: bool,
    pub limiter: Arc<RateLimiter>,
    /// Take the client address from forwarding headers (only behind a trusted proxy).
    pub behind_proxy: bool,
    pub metrics: Arc<Metrics>,
    /// Provider jobs (run at once by the request that wrote them, then by the worker) and
    /// direct provider calls.
    pub providers: ProviderCalls,
    /// Where people reach the product: invitation links start with it.
    pub public_url: String,
    /// How long an invitation link works.
    pub invitation_ttl: chrono::Duration,
    /// Test-only: `"<METHOD> <path>"` of a request after whose commit the process exits
    /// (read once at start-up from `STAFFROOM_TEST_EXIT_AFTER_COMMIT`; see `usecase::Act`).
    pub exit_after_commit: Option<String>,
    /// The bound on password hashing (Argon2id) in flight.
    pub hashing: Arc<Hashing>,
    /// The principals as last read, reused while their site is unchanged.
    pub callers: Arc<CallerCache>,
    /// The secret the imaging provider signs its webhook deliveries with; without one
    /// every delivery answers `401 invalid_signature`.
    pub imaging_webhook: Option<Arc<WebhookSecret>>,
    /// Answers of reads, sent again while their site is unchanged.
    pub read_cache: Arc<ReadCache>,
    /// Whether short reads run on the HTTP worker ([`crate::db::short_read`]): on SQLite.
    pub short_reads_inline: bool,
}

impl AppState {
    /// State with default limits (1 MiB bodies, optional `If-Match`, no rate limit).
    pub fn new(pool: Pool, tokens: TokenKeys, providers: ProviderCalls) -> Self {
        Self {
            providers,
            public_url: "http://127.0.0.1:8080".to_owned(),
            invitation_ttl: chrono::Duration::days(7),
            exit_after_commit: None,
            tokens: Arc::new(tokens),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            require_if_match: false,
            limiter: Arc::new(RateLimiter::disabled()),
            behind_proxy: false,
            metrics: Arc::new(Metrics::default()),
            hashing: Arc::new(Hashing::per_core()),
            callers: Arc::default(),
            read_cache: Arc::default(),
            imaging_webhook: None,
            short_reads_inline: pool
                .get()
                .is_ok_and(|c| matches!(*c, DbConnection::Sqlite(_))),
            pool,
        }
    }
}
