//! What every handler shares: the pool, the token keys, the limits and the metrics.

use std::sync::Arc;

use staffroom_persistence::Pool;

use crate::auth::tokens::TokenKeys;
use crate::extract::DEFAULT_MAX_BODY_BYTES;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;

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
}

impl AppState {
    /// State with default limits: 1 MiB bodies, optional `If-Match`, no rate limit.
    pub fn new(pool: Pool, tokens: TokenKeys) -> Self {
        Self {
            pool,
            tokens: Arc::new(tokens),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            require_if_match: false,
            limiter: Arc::new(RateLimiter::disabled()),
            behind_proxy: false,
            metrics: Arc::new(Metrics::default()),
        }
    }
}
