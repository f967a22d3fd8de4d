//! Runs blocking Diesel work on actix's blocking pool, never on the async executor.

use actix_web::web;
use staffroom_persistence::{DbConnection, StoreError, StoreResult};

use crate::error::ApiError;
use crate::state::AppState;

/// Runs `f` with a pooled connection on the blocking pool and maps its error.
pub async fn run<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || -> StoreResult<T> {
        let mut conn = pool.get().map_err(StoreError::from)?;
        f(&mut conn)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "blocking task failed");
        ApiError::internal()
    })?
    .map_err(ApiError::from)
}
