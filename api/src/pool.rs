//! Diesel work with a pooled connection on threads of its own, never on the async executor.
//!
//! The work runs on the blocking pool of one runtime kept for it, whose threads stay once
//! started, instead of the blocking pool of the HTTP worker's own runtime, whose idle
//! threads exit after 10 s and are started again at the next burst: with that churn a
//! steady load made the server's resident memory creep up for as long as it ran (outside
//! SQLite's heap; purging the exited threads' allocator pages did not stop it), and without
//! it the memory flattens (`docs/decisions.md`, "The read path").
//!
//! There are at most as many threads as the pool has connections: work beyond them would
//! only wait for a connection on its thread. A blocking pool starts a thread whenever work
//! arrives while none is idle, which under a fast steady load also happens in the instant
//! between one task's end and its thread's return to idle, so with a higher bound (64) the
//! thread count kept rising through a 10-minute soak (21 → 37), each new thread's stack and
//! allocator heap adding to the resident memory.

use std::sync::OnceLock;
use std::time::Duration;

use staffroom_persistence::{DbConnection, Pool, StoreError};
use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinError;

/// The most threads database work runs on when no pool has set it: the default pool size
/// (`--pool-size`).
pub const DEFAULT_THREADS: usize = 16;

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
    let threads = threads(usize::try_from(pool.max_size()).unwrap_or(DEFAULT_THREADS));
    let pool = pool.clone();
    spawn(threads, move || {
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
    spawn(threads(DEFAULT_THREADS), f).await
}

async fn spawn<T, F>(threads: Option<&'static Runtime>, f: F) -> Result<T, JoinError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match threads {
        Some(threads) => threads.spawn_blocking(f).await,
        None => tokio::task::spawn_blocking(f).await,
    }
}

/// The runtime whose blocking pool runs database work, with at most `max` threads if this
/// call builds it (the first does: a server has one pool). It schedules no tasks of its own
/// (nothing drives it), so it starts no thread until work arrives. `None` if it could not be
/// built: the work then runs on the calling runtime's blocking pool.
fn threads(max: usize) -> Option<&'static Runtime> {
    static THREADS: OnceLock<Option<Runtime>> = OnceLock::new();
    THREADS
        .get_or_init(|| {
            Builder::new_current_thread()
                .max_blocking_threads(max.max(1))
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

    #[actix_web::test]
    async fn work_beyond_the_thread_bound_waits_for_a_thread() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..DEFAULT_THREADS * 3)
            .map(|_| {
                let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
                tokio::spawn(run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            assert!(matches!(task.await, Ok(Ok(()))));
        }
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak > 1 && peak <= DEFAULT_THREADS, "{peak} at once");
    }
}
