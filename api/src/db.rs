//! Runs a handler's Diesel work on the blocking pool (or, a short read on SQLite, on the
//! HTTP worker) and maps its errors to problems.

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

/// Runs a short read `f`, one whose cost does not grow with the data (a user by id, a page
/// of one index). On SQLite it runs on the calling HTTP worker with a pooled connection
/// that is idle at once, saving the hand-off to a blocking thread and back, which costs as
/// much as such a read; on PostgreSQL, whose every statement waits on the network, or when
/// no connection is idle, it runs on the blocking pool like [`run`]. See
/// `docs/decisions.md`, "The read path".
pub async fn short_read<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
{
    if state.short_reads_inline
        && let Some(mut conn) = state.pool.try_get()
    {
        return f(&mut conn).map_err(ApiError::from);
    }
    run(state, f).await
}
