//! Diesel work with a pooled connection on threads of its own, never on the async executor.
//!
//! The work runs on the blocking pool of one runtime kept for it, whose threads stay once
//! started (up to [`MAX_THREADS`]), instead of the blocking pool of the HTTP worker's own
//! runtime, whose idle threads exit after 10 s and are started again at the next burst: with
//! that churn a steady load made the server's resident memory creep up for as long as it ran
//! (outside SQLite's heap; purging the exited threads' allocator pages did not stop it), and
//! without it the memory flattens (`docs/decisions.md`, "The read path").

use std::sync::OnceLock;
use std::time::Duration;

use staffroom_persistence::{DbConnection, Pool, StoreError};
use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinError;

/// The most threads database work runs on at once; more work waits for one. Four times the
/// default pool size (`--pool-size`): work beyond the pool's connections would only wait for
/// one on its thread.
pub const MAX_THREADS: usize = 64;

/// How long an idle database thread stays before it exits.
const KEEP_ALIVE: Duration = Duration::from_secs(24 * 60 * 60);

/// Runs `f` with a connection from `pool` on a database thread (a failed checkout is `f`'s
/// error); `Err` if the task died.
pub async fn blocking<T, E, F>(pool: &Pool, f: F) -> Result<Result<T, E>, JoinError>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
{
    let pool = pool.clone();
    run(move || {
        let mut conn = pool.get().map_err(StoreError::from)?;
        f(&mut conn)
    })
    .await
}

/// Runs `f` on a database thread; `Err` if it panicked.
pub async fn run<T, F>(f: F) -> Result<T, JoinError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match threads() {
        Some(threads) => threads.spawn_blocking(f).await,
        None => tokio::task::spawn_blocking(f).await,
    }
}

/// The runtime whose blocking pool runs database work. It schedules no tasks of its own
/// (nothing drives it), so it starts no thread until work arrives. `None` if it could not be
/// built: the work then runs on the calling runtime's blocking pool.
fn threads() -> Option<&'static Runtime> {
    static THREADS: OnceLock<Option<Runtime>> = OnceLock::new();
    THREADS
        .get_or_init(|| {
            Builder::new_current_thread()
                .max_blocking_threads(MAX_THREADS)
                .thread_keep_alive(KEEP_ALIVE)
                .thread_name("staffroom-db")
                .build()
                .inspect_err(|e| tracing::error!(error = %e, "cannot start the database threads"))
                .ok()
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn work_runs_on_the_database_threads_and_a_panic_is_an_error() {
        let name = run(|| std::thread::current().name().map(str::to_owned))
            .await
            .ok()
            .flatten();
        assert_eq!(name.as_deref(), Some("staffroom-db"));
        let panicked = run(|| -> u8 { panic!("boom") }).await;
        assert!(panicked.is_err_and(|e| e.is_panic()));
        assert_eq!(run(|| 7).await.ok(), Some(7));
    }
}
