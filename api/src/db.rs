//! Runs a handler's Diesel work on the blocking pool and maps its errors to problems.

use staffroom_persistence::{DbConnection, StoreResult};

use crate::error::ApiError;
use crate::state::AppState;

/// Runs `f` with a pooled connection on the blocking pool and maps its error.
pub async fn run<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
{
    crate::pool::blocking(&state.pool, f)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "blocking task failed");
            ApiError::internal()
        })?
        .map_err(ApiError::from)
}
