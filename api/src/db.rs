//! Runs blocking Diesel work on actix's blocking pool, never on the async executor.

use staffroom_persistence::{DbConnection, Pool, StoreError, StoreResult};
use tokio::task::JoinError;

use crate::error::ApiError;
use crate::state::AppState;

/// Runs `f` with a connection from `pool` on the blocking pool; `Err` if the task died.
pub async fn blocking<T, F>(pool: &Pool, f: F) -> Result<StoreResult<T>, JoinError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(StoreError::from)?;
        f(&mut conn)
    })
    .await
}

/// Runs `f` with a pooled connection on the blocking pool and maps its error.
pub async fn run<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
{
    blocking(&state.pool, f)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "blocking task failed");
            ApiError::internal()
        })?
        .map_err(ApiError::from)
}
