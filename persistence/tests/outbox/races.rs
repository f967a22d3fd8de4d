//! Racing workers: every due job is claimed exactly once.

use super::*;

fn racing_db() -> Db {
    Db::with_pool_size(u32::try_from(RACERS).unwrap() + 1)
}

/// Runs `attempt` on `RACERS` threads, each with its own pooled connection, released
/// together by a barrier; returns the results in thread order.
fn race<T: Send>(pool: &Pool, attempt: impl Fn(usize, &mut DbConnection) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(RACERS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACERS)
            .map(|i| {
                let (barrier, attempt) = (&barrier, &attempt);
                s.spawn(move || {
                    // Check out before the barrier so the race is between claims.
                    let conn = pool.get();
                    barrier.wait();
                    let mut conn = conn.expect("a pooled connection for every racer");
                    attempt(i, &mut conn)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("racer panicked"))
            .collect()
    })
}

/// Asserts that every job of `round_jobs` was claimed by exactly one racer, with a lease
/// that is really that racer's, then finishes them all through their owners.
fn assert_each_claimed_once(
    conn: &mut DbConnection,
    round: usize,
    round_jobs: &[JobRow],
    claims: &[Vec<(String, JobRow)>],
    attempts: i64,
) {
    let mut by_job: BTreeMap<JobId, Vec<usize>> = BTreeMap::new();
    for (racer, claimed) in claims.iter().enumerate() {
        for (_, job) in claimed {
            by_job.entry(job.id).or_default().push(racer);
        }
    }
    let twice: Vec<_> = by_job.iter().filter(|(_, r)| r.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "round {round}: jobs claimed by several racers: {twice:?}"
    );
    let claimed: BTreeSet<JobId> = by_job.keys().copied().collect();
    let expected: BTreeSet<JobId> = round_jobs.iter().map(|j| j.id).collect();
    assert_eq!(claimed, expected, "round {round}: every job claimed");
    let per_racer: Vec<usize> = claims.iter().map(Vec::len).collect();
    for (owner, job) in claims.iter().flatten() {
        assert_eq!(job.attempts, attempts, "round {round}");
        assert_eq!(job.lease_owner.as_deref(), Some(owner.as_str()));
        let row = stored(conn, job.id);
        assert_eq!(row.lease_owner.as_deref(), Some(owner.as_str()));
        assert_eq!(
            row.attempts, attempts,
            "round {round}: one attempt per claim"
        );
        let (finished, ran) =
            finish_noting(conn, job, owner, &Outcome::Succeeded { result: json!({}) });
        assert_eq!((finished.unwrap(), ran), (true, 1), "round {round}");
    }
    eprintln!("round {round}: claims per racer {per_racer:?}");
}

#[test]
fn racing_workers_claim_every_due_job_exactly_once() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    let (_, ctx) = new_site(&mut setup, "claim-race");
    let started = Instant::now();
    for round in 0..ROUNDS {
        let jobs: Vec<JobRow> = (0..JOBS).map(|n| enqueue(&mut setup, &ctx, n)).collect();
        let claims = race(&db.pool, |i, conn| {
            outbox::claim_due(conn, &format!("racer-{i}"), long_lease(), 32)
                .unwrap_or_else(|e| panic!("round {round}, racer {i}: {e:?}"))
        });
        assert_each_claimed_once(&mut setup, round, &jobs, &claims, 1);
        assert_eq!(outbox::pending_count(&mut setup).unwrap(), 0);
    }
    eprintln!(
        "{}: {ROUNDS} rounds of {RACERS} racers over {JOBS} jobs in {:?}",
        db.database.backend(),
        started.elapsed()
    );
}

#[test]
fn racing_workers_with_small_batches_drain_the_outbox_exactly_once() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    let (_, ctx) = new_site(&mut setup, "drain-race");
    for round in 0..ROUNDS {
        let jobs: Vec<JobRow> = (0..JOBS).map(|n| enqueue(&mut setup, &ctx, n)).collect();
        // Each racer keeps taking batches of 3 until nothing is left to take: the
        // candidates of one batch are often taken by others in between.
        let claims = race(&db.pool, |i, conn| {
            let mut mine = Vec::new();
            loop {
                let batch = outbox::claim_due(conn, &format!("racer-{i}"), long_lease(), 3)
                    .unwrap_or_else(|e| panic!("round {round}, racer {i}: {e:?}"));
                if batch.is_empty() {
                    let left: i64 = outbox_jobs::table
                        .filter(outbox_jobs::status.eq(JobStatus::Pending))
                        .filter(outbox_jobs::leased_until.is_null())
                        .count()
                        .get_result(conn)
                        .unwrap();
                    if left == 0 {
                        return mine;
                    }
                }
                mine.extend(batch);
            }
        });
        assert_each_claimed_once(&mut setup, round, &jobs, &claims, 1);
    }
}

#[test]
fn racing_workers_take_over_expired_leases_exactly_once() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    let (_, ctx) = new_site(&mut setup, "takeover-race");
    for round in 0..ROUNDS {
        let jobs: Vec<JobRow> = (0..JOBS).map(|n| enqueue(&mut setup, &ctx, n)).collect();
        // A worker that took them all and then died.
        let crashed = outbox::claim_due(&mut setup, "crashed", tiny_lease(), 100).unwrap();
        assert_eq!(crashed.len(), JOBS);
        let_leases_expire();
        let claims = race(&db.pool, |i, conn| {
            outbox::claim_due(conn, &format!("racer-{i}"), long_lease(), 32)
                .unwrap_or_else(|e| panic!("round {round}, racer {i}: {e:?}"))
        });
        // The dead worker's late outcomes are refused and change nothing.
        for (owner, job) in &crashed {
            let (finished, ran) = finish_noting(
                &mut setup,
                job,
                owner,
                &Outcome::Failed {
                    error: "late".into(),
                },
            );
            assert_eq!((finished.unwrap(), ran), (false, 0), "round {round}");
        }
        assert_each_claimed_once(&mut setup, round, &jobs, &claims, 2);
    }
}

#[test]
fn racing_claims_of_one_job_have_one_winner() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    let (_, ctx) = new_site(&mut setup, "one-job-race");
    for round in 0..ROUNDS * 2 {
        let job = enqueue(&mut setup, &ctx, round);
        let owners: Vec<String> = (0..RACERS)
            .map(|i| outbox::new_owner(&format!("racer-{i}")))
            .collect();
        let results = race(&db.pool, |i, conn| {
            outbox::claim(conn, job.id, &owners[i], long_lease()).unwrap()
        });
        let winners: Vec<usize> = (0..RACERS).filter(|i| results[*i].is_some()).collect();
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let row = stored(&mut setup, job.id);
        assert_eq!(row.attempts, 1, "round {round}");
        assert_eq!(row.lease_owner.as_ref(), Some(&owners[winners[0]]));
        // Racing finishes: only the winner's is recorded, and its effect runs once.
        let outcome = Outcome::Succeeded { result: json!({}) };
        let claimed = results[winners[0]].clone().unwrap();
        let effects = Mutex::new(0_usize);
        let finished = race(&db.pool, |i, conn| {
            outbox::finish(conn, &claimed, &owners[i], &outcome, |_, _, _| {
                *effects.lock().unwrap() += 1;
                Ok(())
            })
            .unwrap()
        });
        let recorded: Vec<usize> = (0..RACERS).filter(|i| finished[*i]).collect();
        assert_eq!(recorded, winners, "round {round}");
        assert_eq!(*effects.lock().unwrap(), 1, "round {round}");
    }
}
