//! What every handler shares: the pool, the token keys and the request limits.

use std::sync::Arc;

use staffroom_persistence::Pool;

use crate::auth::tokens::TokenKeys;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub tokens: Arc<TokenKeys>,
    pub max_body_bytes: usize,
    /// When set, `PATCH`/`PUT`/`DELETE` without `If-Match` answer `428`.
    pub require_if_match: bool,
}
