//! Migrations: idempotent, and safe when several instances start on one fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Barrier;

use staffroom_persistence::testing::{TestDatabase, postgres_server};
use staffroom_persistence::{connect, run_migrations};

#[test]
fn a_second_run_applies_nothing() {
    let database = TestDatabase::create().unwrap();
    let pool = connect(&database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let first = run_migrations(&mut conn).unwrap();
    assert!(first > 0, "a fresh database has migrations to apply");
    assert_eq!(run_migrations(&mut conn).unwrap(), 0);
    assert_eq!(run_migrations(&mut conn).unwrap(), 0);
}

/// Two instances starting together on one fresh database: both must succeed, and the
/// migrations must be applied exactly once between them.
#[test]
fn concurrent_migrations_of_a_fresh_database_both_succeed() {
    let total = {
        let database = TestDatabase::create().unwrap();
        let pool = connect(&database.url, 1).unwrap();
        run_migrations(&mut pool.get().unwrap()).unwrap()
    };
    // The interleaving that breaks an unguarded migration is a matter of timing: on SQLite
    // it shows up in roughly one attempt in four, so try often there; PostgreSQL serialises
    // with an advisory lock, and creating its databases is slow, so a few attempts do.
    let attempts = if postgres_server().is_some() { 5 } else { 20 };
    for attempt in 0..attempts {
        let database = TestDatabase::create().unwrap();
        let pool = connect(&database.url, 2).unwrap();
        let barrier = Barrier::new(2);
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let mut conn = pool.get().unwrap();
                        barrier.wait();
                        run_migrations(&mut conn)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let applied: Vec<usize> = results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|e| panic!("attempt {attempt} on {}: {e}", database.backend()))
            })
            .collect();
        assert_eq!(
            applied.iter().sum::<usize>(),
            total,
            "attempt {attempt}: each migration is applied once, got {applied:?}"
        );
        assert_eq!(run_migrations(&mut pool.get().unwrap()).unwrap(), 0);
    }
}
