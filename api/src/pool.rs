//! Diesel work with a pooled connection on tokio's blocking threads, never on the async
//! executor.

use staffroom_persistence::{DbConnection, Pool, StoreError, StoreResult};
use tokio::task::JoinError;

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
