//! The outbox (SPEC §9 "Outbound reliability", DESIGN.md "Outbox") on both backends: jobs
//! are written in the caller's transaction, leased by one guarded update so that a job is
//! worked by one owner at a time, finished under a fence on the owner token (the effect
//! runs only for a final outcome and only while the lease is still owned), and claimed by
//! racing workers exactly once. Also the exercise integration's `start`/`settle` and the
//! embedded mail sink that ride on it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Barrier, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Value, json};
use staffroom_domain::{
    ActorKind, ExerciseAction, ExerciseNames, ExerciseRefusal, ExerciseState, JobId, JobKind,
    JobStatus, SiteId, UserId,
};
use staffroom_persistence::exercise::{self, JobPayload};
use staffroom_persistence::mail::{self, MailPayload};
use staffroom_persistence::outbox::{self, JobQuery, JobRow, Outcome};
use staffroom_persistence::schema::{outbox_jobs, sent_mail};
use staffroom_persistence::tx::{AuditContext, now, write_transaction};
use staffroom_persistence::usecase::Failure;
use staffroom_persistence::{DbConnection, Pool, StoreError, StoreResult};
use support::{Db, create_site, create_user, flex, new_user, person, user_ctx};

/// Workers racing for the same jobs.
const RACERS: usize = 8;
/// Due jobs per race round.
const JOBS: usize = 20;
/// Rounds of each race.
const ROUNDS: usize = 10;

/// A lease no test outlives.
fn long_lease() -> Duration {
    Duration::seconds(60)
}

/// A lease that is over by the time the test looks again (see [`let_leases_expire`]).
fn tiny_lease() -> Duration {
    Duration::milliseconds(1)
}

fn let_leases_expire() {
    std::thread::sleep(std::time::Duration::from_millis(20));
}

/// One race test at a time, so their pools (`RACERS + 1` connections each) stay well within
/// what a local PostgreSQL allows.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn new_site(conn: &mut DbConnection, name: &str) -> (SiteId, AuditContext) {
    let site = create_site(conn, name, flex(50)).site_id;
    (site, user_ctx(site))
}

/// The user job `n` of [`enqueue`] is about (no such user needs to exist).
fn subject(n: usize) -> UserId {
    UserId::from_uuid(uuid::Uuid::from_u128(u128::try_from(n).unwrap() + 1))
}

fn enqueue(conn: &mut DbConnection, ctx: &AuditContext, n: usize) -> JobRow {
    outbox::enqueue(
        conn,
        ctx,
        JobKind::ExerciseCreateUser,
        Some(subject(n)),
        &json!({"n": n}),
    )
    .unwrap()
}

fn stored(conn: &mut DbConnection, id: JobId) -> JobRow {
    outbox_jobs::table
        .find(id)
        .select(JobRow::as_select())
        .first(conn)
        .unwrap()
}

fn job_count(conn: &mut DbConnection) -> i64 {
    outbox_jobs::table.count().get_result(conn).unwrap()
}

/// Moves a job's next attempt, as a retry scheduled for then would.
fn set_due(conn: &mut DbConnection, id: JobId, at: NaiveDateTime) {
    diesel::update(outbox_jobs::table.find(id))
        .set(outbox_jobs::next_attempt_at.eq(at))
        .execute(conn)
        .unwrap();
}

/// Finishes with an effect that only notes that it ran.
fn finish_noting(
    conn: &mut DbConnection,
    job: &JobRow,
    owner: &str,
    outcome: &Outcome,
) -> (StoreResult<bool>, usize) {
    let mut ran = 0;
    let finished = outbox::finish(
        conn,
        job,
        owner,
        outcome,
        |_, effect_job, effect_outcome| {
            assert_eq!(effect_job.id, job.id);
            assert_eq!(effect_outcome, outcome);
            ran += 1;
            Ok(())
        },
    );
    (finished, ran)
}

fn query(kind: Option<JobKind>, subject: Option<UserId>) -> JobQuery {
    JobQuery {
        kind,
        subject_id: subject,
        limit: 200,
        ..JobQuery::default()
    }
}

// ---------------------------------------------------------------------------------------
// enqueue

#[test]
fn enqueue_writes_a_pending_job_due_now_with_its_own_idempotency_key() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, ctx) = new_site(&mut conn, "enqueue");
    let before = now();
    let first = enqueue(&mut conn, &ctx, 1);
    let second = enqueue(&mut conn, &ctx, 2);
    let after = now();

    let row = stored(&mut conn, first.id);
    assert_eq!(row, first, "what enqueue returns is what it stored");
    assert_eq!(row.site_id, site);
    assert_eq!(row.kind, JobKind::ExerciseCreateUser);
    assert_eq!(row.subject_id, Some(subject(1)));
    assert_eq!(row.payload().unwrap(), json!({"n": 1}));
    assert_eq!(row.status, JobStatus::Pending);
    assert_eq!(row.attempts, 0);
    assert!(before <= row.next_attempt_at && row.next_attempt_at <= after);
    assert_eq!((row.leased_until, row.lease_owner.as_ref()), (None, None));
    assert_eq!((row.last_error.as_ref(), row.result.as_ref()), (None, None));
    assert_eq!(row.finished_at, None);
    assert_eq!(row.actor_kind, ActorKind::User);
    assert_eq!(row.actor_id.as_deref(), Some("actor-1"));
    assert_eq!(row.audit_context(), ctx);
    assert!(!row.idempotency_key.is_empty());
    assert_ne!(first.idempotency_key, second.idempotency_key);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 2);
}

#[test]
fn enqueue_inside_a_transaction_that_rolls_back_leaves_no_job() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, ctx) = new_site(&mut conn, "rollback");
    let result: StoreResult<()> = write_transaction(&mut conn, |conn| {
        let job = enqueue(conn, &ctx, 1);
        // Visible inside the transaction…
        assert_eq!(stored(conn, job.id).id, job.id);
        Err(StoreError::NotFound)
    });
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    // …and gone with it.
    assert_eq!(job_count(&mut conn), 0);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 0);
    let page = outbox::list(&mut conn, site, &query(None, None)).unwrap();
    assert!(page.items.is_empty());
    assert!(
        outbox::claim_due(&mut conn, "w", long_lease(), 10)
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// claim

#[test]
fn a_due_job_is_claimed_once_until_its_lease_expires() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "claim");
    let job = enqueue(&mut conn, &ctx, 1);

    let first = outbox::new_owner("worker-a");
    let before = now();
    let claimed = outbox::claim(&mut conn, job.id, &first, tiny_lease())
        .unwrap()
        .expect("a pending, due, unleased job is claimed");
    assert_eq!(claimed.id, job.id);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.lease_owner.as_deref(), Some(first.as_str()));
    let leased_until = claimed.leased_until.expect("a lease");
    assert!(leased_until >= before + tiny_lease(), "{leased_until}");
    assert_eq!(claimed.status, JobStatus::Pending);

    // Another owner while a lease holds (a long one, so the check cannot race the clock).
    let job2 = enqueue(&mut conn, &ctx, 2);
    let holder = outbox::new_owner("worker-a");
    let held = outbox::claim(&mut conn, job2.id, &holder, long_lease())
        .unwrap()
        .unwrap();
    assert_eq!(held.attempts, 1);
    let other = outbox::new_owner("worker-b");
    assert_eq!(
        outbox::claim(&mut conn, job2.id, &other, long_lease()).unwrap(),
        None,
        "a leased job is not claimed by another owner"
    );
    assert_eq!(
        outbox::claim(&mut conn, job2.id, &holder, long_lease()).unwrap(),
        None,
        "nor again by its holder"
    );
    let row = stored(&mut conn, job2.id);
    assert_eq!(row.attempts, 1, "a refused claim counts no attempt");
    assert_eq!(row.lease_owner.as_deref(), Some(holder.as_str()));

    // Once the tiny lease is over, another owner takes the first job over.
    let_leases_expire();
    let second = outbox::new_owner("worker-b");
    assert_ne!(first, second, "each claim has its own owner token");
    let taken = outbox::claim(&mut conn, job.id, &second, long_lease())
        .unwrap()
        .expect("an expired lease can be taken over");
    assert_eq!(taken.attempts, 2);
    assert_eq!(taken.lease_owner.as_deref(), Some(second.as_str()));
    assert_eq!(
        outbox::claim(&mut conn, job.id, &first, long_lease()).unwrap(),
        None,
        "the previous owner cannot claim it back while the new lease holds"
    );
}

#[test]
fn unknown_finished_and_not_yet_due_jobs_are_not_claimed() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "unclaimable");
    let owner = outbox::new_owner("w");
    assert_eq!(
        outbox::claim(&mut conn, JobId::new(), &owner, long_lease()).unwrap(),
        None
    );

    let later = enqueue(&mut conn, &ctx, 1);
    set_due(&mut conn, later.id, now() + Duration::hours(1));
    assert_eq!(
        outbox::claim(&mut conn, later.id, &owner, long_lease()).unwrap(),
        None
    );
    assert_eq!(stored(&mut conn, later.id).attempts, 0);

    for outcome in [
        Outcome::Succeeded { result: json!({}) },
        Outcome::Failed {
            error: "refused".into(),
        },
    ] {
        let job = enqueue(&mut conn, &ctx, 2);
        let owner = outbox::new_owner("w");
        let claimed = outbox::claim(&mut conn, job.id, &owner, tiny_lease())
            .unwrap()
            .unwrap();
        assert!(
            finish_noting(&mut conn, &claimed, &owner, &outcome)
                .0
                .unwrap()
        );
        let_leases_expire();
        let again = outbox::new_owner("w");
        assert_eq!(
            outbox::claim(&mut conn, job.id, &again, long_lease()).unwrap(),
            None,
            "a finished job is never claimed again ({outcome:?})"
        );
        assert_eq!(stored(&mut conn, job.id).attempts, 1);
    }
}

#[test]
fn a_job_of_a_kind_this_version_does_not_know_is_left_to_those_that_do() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "unknown-kind");
    let known = enqueue(&mut conn, &ctx, 1);
    let newer = enqueue(&mut conn, &ctx, 2);
    // As a newer version, with a kind this one has no provider call for, would write it.
    diesel::sql_query(format!(
        "UPDATE outbox_jobs SET kind = 'imaging.from_a_newer_version' WHERE id = '{}'",
        newer.id
    ))
    .execute(&mut conn)
    .unwrap();

    let owner = outbox::new_owner("w");
    assert_eq!(
        outbox::claim(&mut conn, newer.id, &owner, long_lease()).unwrap(),
        None
    );
    let claimed = outbox::claim_due(&mut conn, "w", long_lease(), 10).unwrap();
    let ids: Vec<JobId> = claimed.iter().map(|(_, j)| j.id).collect();
    assert_eq!(
        ids,
        vec![known.id],
        "only the job of a known kind is claimed"
    );
    assert_eq!(
        outbox::pending_count(&mut conn).unwrap(),
        2,
        "the other job stays pending, untouched"
    );
}

// ---------------------------------------------------------------------------------------
// finish

#[test]
fn finish_succeeded_records_the_result_and_runs_the_effect_once() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "succeeded");
    let job = enqueue(&mut conn, &ctx, 1);
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, job.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let before = now();
    let outcome = Outcome::Succeeded {
        result: json!({"id": "EXU-1", "n": 7}),
    };
    let (finished, ran) = finish_noting(&mut conn, &claimed, &owner, &outcome);
    assert!(finished.unwrap());
    assert_eq!(ran, 1, "the effect runs for a final outcome");

    let row = stored(&mut conn, job.id);
    assert_eq!(row.status, JobStatus::Succeeded);
    let result: Value = serde_json::from_str(row.result.as_deref().unwrap()).unwrap();
    assert_eq!(result, json!({"id": "EXU-1", "n": 7}));
    assert_eq!(row.leased_until, None, "the lease is released");
    assert!(row.finished_at.is_some_and(|at| at >= before));
    assert_eq!(row.attempts, 1);
    assert_eq!(row.last_error, None);
    assert_eq!(row.version, claimed.version + 1);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 0);

    // Finishing twice (a duplicate delivery of the same outcome) changes nothing.
    let (again, ran) = finish_noting(&mut conn, &claimed, &owner, &outcome);
    assert!(!again.unwrap());
    assert_eq!(ran, 0);
    assert_eq!(stored(&mut conn, job.id), row);
}

#[test]
fn finish_failed_records_the_error_and_runs_the_effect_once() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "failed");
    let job = enqueue(&mut conn, &ctx, 1);
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, job.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let before = now();
    let outcome = Outcome::Failed {
        error: "invalid_name: too long".into(),
    };
    let (finished, ran) = finish_noting(&mut conn, &claimed, &owner, &outcome);
    assert!(finished.unwrap());
    assert_eq!(ran, 1);

    let row = stored(&mut conn, job.id);
    assert_eq!(row.status, JobStatus::Failed);
    assert_eq!(row.last_error.as_deref(), Some("invalid_name: too long"));
    assert_eq!(row.result, None);
    assert_eq!(row.leased_until, None);
    assert!(row.finished_at.is_some_and(|at| at >= before));
    assert_eq!(row.attempts, 1);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 0);
}

#[test]
fn finish_retry_at_reschedules_without_running_the_effect() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "retry");
    let job = enqueue(&mut conn, &ctx, 1);
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, job.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let retry_at = now() + Duration::hours(1);
    let outcome = Outcome::RetryAt {
        at: retry_at,
        error: "503 simulated_failure".into(),
    };
    let (finished, ran) = finish_noting(&mut conn, &claimed, &owner, &outcome);
    assert!(finished.unwrap());
    assert_eq!(ran, 0, "a retry is not final: no effect");

    let row = stored(&mut conn, job.id);
    assert_eq!(row.status, JobStatus::Pending);
    assert_eq!(row.next_attempt_at, retry_at);
    assert_eq!(row.last_error.as_deref(), Some("503 simulated_failure"));
    assert_eq!(row.leased_until, None, "the lease is released");
    assert_eq!(row.finished_at, None);
    assert_eq!(row.result, None);
    assert_eq!(row.attempts, 1);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 1);

    // Not due before its time, by id or in a batch…
    let other = outbox::new_owner("w2");
    assert_eq!(
        outbox::claim(&mut conn, job.id, &other, long_lease()).unwrap(),
        None
    );
    assert!(
        outbox::claim_due(&mut conn, "w2", long_lease(), 10)
            .unwrap()
            .is_empty()
    );
    // …and due again once its time has come: the next attempt is the second.
    set_due(&mut conn, job.id, now() - Duration::seconds(1));
    let retried = outbox::claim(&mut conn, job.id, &other, long_lease())
        .unwrap()
        .expect("due again");
    assert_eq!(retried.attempts, 2);
    assert_eq!(retried.last_error.as_deref(), Some("503 simulated_failure"));
    let (finished, ran) = finish_noting(
        &mut conn,
        &retried,
        &other,
        &Outcome::Succeeded { result: json!({}) },
    );
    assert_eq!((finished.unwrap(), ran), (true, 1));
    assert_eq!(stored(&mut conn, job.id).status, JobStatus::Succeeded);
}

#[test]
fn a_stale_owner_cannot_finish_a_job_taken_over_and_its_effect_never_runs() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "stale");
    let outcomes = [
        Outcome::Succeeded {
            result: json!({"id": "EXU-stale"}),
        },
        Outcome::Failed {
            error: "stale failure".into(),
        },
        Outcome::RetryAt {
            at: now() + Duration::hours(1),
            error: "stale retry".into(),
        },
    ];
    for (n, outcome) in outcomes.iter().enumerate() {
        let job = enqueue(&mut conn, &ctx, n);
        let stale = outbox::new_owner("slow-worker");
        let stale_job = outbox::claim(&mut conn, job.id, &stale, tiny_lease())
            .unwrap()
            .unwrap();
        let_leases_expire();
        let fresh = outbox::new_owner("fast-worker");
        let fresh_job = outbox::claim(&mut conn, job.id, &fresh, long_lease())
            .unwrap()
            .expect("the expired lease is taken over");
        let before = stored(&mut conn, job.id);

        let (finished, ran) = finish_noting(&mut conn, &stale_job, &stale, outcome);
        assert!(!finished.unwrap(), "{outcome:?}: the lease was lost");
        assert_eq!(ran, 0, "{outcome:?}: a stale owner's effect must not run");
        assert_eq!(
            stored(&mut conn, job.id),
            before,
            "{outcome:?}: a stale owner changes nothing"
        );

        // The owner that took it over still can, and does so once.
        let (finished, ran) = finish_noting(
            &mut conn,
            &fresh_job,
            &fresh,
            &Outcome::Succeeded {
                result: json!({"by": "fresh"}),
            },
        );
        assert_eq!((finished.unwrap(), ran), (true, 1));
        let row = stored(&mut conn, job.id);
        assert_eq!(row.status, JobStatus::Succeeded);
        assert_eq!(row.result.as_deref(), Some(r#"{"by":"fresh"}"#));
        assert_eq!(row.attempts, 2);

        // And once it is finished, the stale owner is still refused.
        let (finished, ran) = finish_noting(&mut conn, &stale_job, &stale, outcome);
        assert_eq!((finished.unwrap(), ran), (false, 0));
        assert_eq!(stored(&mut conn, job.id), row);
    }
}

#[test]
fn an_effect_that_fails_rolls_the_outcome_back() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "effect-fails");
    let job = enqueue(&mut conn, &ctx, 1);
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, job.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let before = stored(&mut conn, job.id);
    let result = outbox::finish(
        &mut conn,
        &claimed,
        &owner,
        &Outcome::Succeeded { result: json!({}) },
        |conn, _, _| {
            // A write of the effect that must be rolled back with the outcome.
            enqueue(conn, &ctx, 99);
            Err(StoreError::NotFound)
        },
    );
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(stored(&mut conn, job.id), before, "the job is unchanged");
    assert_eq!(job_count(&mut conn), 1, "the effect's write is gone");
    // Still owned: the worker can record the outcome again.
    let (finished, ran) = finish_noting(
        &mut conn,
        &claimed,
        &owner,
        &Outcome::Succeeded { result: json!({}) },
    );
    assert_eq!((finished.unwrap(), ran), (true, 1));
}

// ---------------------------------------------------------------------------------------
// claim_due, list, get

#[test]
fn claim_due_takes_only_due_jobs_oldest_first_up_to_the_limit() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "due");
    let base = now() - Duration::minutes(10);
    // Five due jobs whose due times are not in creation order, and two not yet due.
    let due: Vec<JobRow> = (0..5).map(|n| enqueue(&mut conn, &ctx, n)).collect();
    let order = [3, 0, 4, 1, 2];
    for (rank, index) in order.iter().enumerate() {
        let rank = i64::try_from(rank).unwrap();
        set_due(&mut conn, due[*index].id, base + Duration::seconds(rank));
    }
    let future: Vec<JobRow> = (5..7).map(|n| enqueue(&mut conn, &ctx, n)).collect();
    for job in &future {
        set_due(&mut conn, job.id, now() + Duration::hours(1));
    }
    // And one due job held under another worker's lease.
    let held = enqueue(&mut conn, &ctx, 7);
    set_due(&mut conn, held.id, base - Duration::minutes(1));
    let holder = outbox::new_owner("holder");
    outbox::claim(&mut conn, held.id, &holder, long_lease())
        .unwrap()
        .unwrap();

    let first = outbox::claim_due(&mut conn, "w", long_lease(), 3).unwrap();
    let ids: Vec<JobId> = first.iter().map(|(_, j)| j.id).collect();
    let expected: Vec<JobId> = order[..3].iter().map(|i| due[*i].id).collect();
    assert_eq!(ids, expected, "the three oldest due jobs, oldest first");
    let owners: BTreeSet<&str> = first.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(owners.len(), 3, "one owner token per claimed job");
    for (owner, job) in &first {
        assert!(owner.starts_with("w/"), "{owner}");
        assert_eq!(job.lease_owner.as_deref(), Some(owner.as_str()));
        assert_eq!(job.attempts, 1);
        assert_eq!(stored(&mut conn, job.id).lease_owner.as_ref(), Some(owner));
    }

    let rest = outbox::claim_due(&mut conn, "w", long_lease(), 10).unwrap();
    let ids: Vec<JobId> = rest.iter().map(|(_, j)| j.id).collect();
    let expected: Vec<JobId> = order[3..].iter().map(|i| due[*i].id).collect();
    assert_eq!(ids, expected, "then the rest; never a future or leased job");
    assert!(
        outbox::claim_due(&mut conn, "w", long_lease(), 10)
            .unwrap()
            .is_empty()
    );
    for job in &future {
        assert_eq!(stored(&mut conn, job.id).attempts, 0);
    }
    assert_eq!(stored(&mut conn, held.id).attempts, 1);
    assert_eq!(
        outbox::pending_count(&mut conn).unwrap(),
        8,
        "leased and future jobs are pending"
    );
}

#[test]
fn claim_due_takes_over_expired_leases() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "expired");
    let jobs: Vec<JobRow> = (0..3).map(|n| enqueue(&mut conn, &ctx, n)).collect();
    let first = outbox::claim_due(&mut conn, "crashed", tiny_lease(), 10).unwrap();
    assert_eq!(first.len(), 3);
    let_leases_expire();
    let second = outbox::claim_due(&mut conn, "rescuer", long_lease(), 10).unwrap();
    let ids: BTreeSet<JobId> = second.iter().map(|(_, j)| j.id).collect();
    let all: BTreeSet<JobId> = jobs.iter().map(|j| j.id).collect();
    assert_eq!(ids, all);
    for (owner, job) in &second {
        assert!(owner.starts_with("rescuer/"));
        assert_eq!(job.attempts, 2);
    }
}

#[test]
fn list_filters_and_get_is_scoped_to_the_site() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, ctx) = new_site(&mut conn, "listing");
    let (other_site, other_ctx) = new_site(&mut conn, "listing-other");
    let (kind_a, kind_b) = (JobKind::ExerciseCreateUser, JobKind::EmailSend);
    let (u1, u2) = (Some(subject(1)), Some(subject(2)));
    let a = outbox::enqueue(&mut conn, &ctx, kind_a, u1, &json!({})).unwrap();
    let b = outbox::enqueue(&mut conn, &ctx, kind_b, u1, &json!({})).unwrap();
    let c = outbox::enqueue(&mut conn, &ctx, kind_a, u2, &json!({})).unwrap();
    let foreign = outbox::enqueue(&mut conn, &other_ctx, kind_a, None, &json!({})).unwrap();
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, b.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let failed = Outcome::Failed { error: "no".into() };
    assert!(
        finish_noting(&mut conn, &claimed, &owner, &failed)
            .0
            .unwrap()
    );

    let ids = |q: &JobQuery, conn: &mut DbConnection| -> Vec<JobId> {
        outbox::list(conn, site, q)
            .unwrap()
            .items
            .into_iter()
            .map(|j| j.id)
            .collect()
    };
    assert_eq!(
        ids(&query(None, None), &mut conn),
        vec![c.id, b.id, a.id],
        "the site's jobs, newest first"
    );
    assert_eq!(ids(&query(Some(kind_a), None), &mut conn), vec![c.id, a.id]);
    assert_eq!(ids(&query(Some(kind_a), u1), &mut conn), vec![a.id]);
    let failed_only = JobQuery {
        status: Some(JobStatus::Failed),
        ..query(None, None)
    };
    assert_eq!(ids(&failed_only, &mut conn), vec![b.id]);

    assert_eq!(outbox::get(&mut conn, site, a.id).unwrap().id, a.id);
    let hidden = outbox::get(&mut conn, site, foreign.id);
    assert!(matches!(hidden, Err(StoreError::NotFound)), "{hidden:?}");
    assert_eq!(
        outbox::get(&mut conn, other_site, foreign.id).unwrap().id,
        foreign.id
    );
}

// ---------------------------------------------------------------------------------------
// Races

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

// ---------------------------------------------------------------------------------------
// exercise::start + settle

struct ExerciseSite {
    site: SiteId,
    ctx: AuditContext,
}

fn exercise_site(conn: &mut DbConnection, name: &str) -> ExerciseSite {
    let (site, ctx) = new_site(conn, name);
    exercise::connect(conn, &ctx, "CLM-42", "Clinic CLM-42", None).unwrap();
    ExerciseSite { site, ctx }
}

fn names(first: &str, last: &str) -> ExerciseNames {
    ExerciseNames {
        first_name: person(first),
        last_name: person(last),
    }
}

/// Claims `job` and records `outcome` with `exercise::settle` as the effect.
fn work(conn: &mut DbConnection, job: &JobRow, outcome: &Outcome) {
    let owner = outbox::new_owner("exercise-worker");
    let claimed = outbox::claim(conn, job.id, &owner, long_lease())
        .unwrap()
        .expect("the job is claimable");
    assert!(outbox::finish(conn, &claimed, &owner, outcome, exercise::settle).unwrap());
}

fn email_jobs(conn: &mut DbConnection, site: SiteId, user: UserId) -> Vec<JobRow> {
    outbox::list(conn, site, &query(Some(JobKind::EmailSend), Some(user)))
        .unwrap()
        .items
}

#[test]
fn starting_an_add_makes_the_user_pending_with_its_job() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-start");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (view, job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Janet", "Doe")),
    )
    .unwrap();
    assert_eq!(view.state, ExerciseState::Pending);
    assert_eq!(view.pending_action, Some(ExerciseAction::Add));
    assert_eq!(view.job_id, Some(job.id));
    assert!(view.names_locked);
    assert_eq!(view.names, names("Janet", "Doe"));

    assert_eq!(job.kind, JobKind::ExerciseCreateUser);
    assert_eq!(job.subject_id, Some(user.id));
    assert_eq!(job.status, JobStatus::Pending);
    let payload: JobPayload = serde_json::from_value(job.payload().unwrap()).unwrap();
    assert_eq!(
        payload,
        JobPayload {
            user_id: user.id,
            action: ExerciseAction::Add,
            clm_id: "CLM-42".into(),
            first_name: "Janet".into(),
            last_name: "Doe".into(),
            provider_user_id: None,
        }
    );
    assert_eq!(
        stored(&mut conn, job.id),
        job,
        "the job is committed with the state"
    );
    // While pending, nothing else starts.
    let again = exercise::start(&mut conn, &ex.ctx, user.id, ExerciseAction::Add, None);
    assert!(
        matches!(
            again,
            Err(Failure::Refused(ExerciseRefusal::OperationPending))
        ),
        "{again:?}"
    );
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 1);
}

#[test]
fn a_succeeded_add_makes_the_user_active_and_queues_a_notice() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-ok");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (_, job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    work(
        &mut conn,
        &job,
        &Outcome::Succeeded {
            result: json!({"id": "EXU-1", "clm_id": "CLM-42"}),
        },
    );

    let view = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(view.state, ExerciseState::Active);
    assert_eq!(view.pending_action, None);
    assert_eq!(view.provider_user_id.as_deref(), Some("EXU-1"));
    assert_eq!(view.last_error, None);
    assert!(view.names_locked);
    assert_eq!(
        exercise::launch_target(&mut conn, ex.site, user.id).unwrap(),
        Some(("CLM-42".to_owned(), "EXU-1".to_owned()))
    );

    let notices = email_jobs(&mut conn, ex.site, user.id);
    assert_eq!(notices.len(), 1, "one notice: {notices:#?}");
    let notice = &notices[0];
    assert_eq!(notice.status, JobStatus::Pending);
    let mail: MailPayload = serde_json::from_value(notice.payload().unwrap()).unwrap();
    assert_eq!(mail.to, "jane@example.com");
    assert!(!mail.subject.is_empty());
    assert!(mail.body.contains("Jane"), "{}", mail.body);
    // The notice is the only job left to run, and due now.
    let due = outbox::claim_due(&mut conn, "w", long_lease(), 10).unwrap();
    let due_ids: Vec<JobId> = due.iter().map(|(_, j)| j.id).collect();
    assert_eq!(due_ids, vec![notice.id]);
}

#[test]
fn a_failed_add_moves_the_user_back_to_not_added_with_the_reason() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-failed");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (_, job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    work(
        &mut conn,
        &job,
        &Outcome::Failed {
            error: "invalid_name: first_name too long".into(),
        },
    );
    let view = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(view.state, ExerciseState::NotAdded);
    assert_eq!(view.pending_action, None);
    assert_eq!(
        view.last_error.as_deref(),
        Some("invalid_name: first_name too long")
    );
    assert_eq!(view.provider_user_id, None);
    assert!(!view.names_locked, "a refused add unlocks the names");
    assert!(email_jobs(&mut conn, ex.site, user.id).is_empty());
    assert_eq!(
        exercise::launch_target(&mut conn, ex.site, user.id).unwrap(),
        None
    );
}

#[test]
fn a_retry_leaves_the_user_pending() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-retry");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (_, job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    work(
        &mut conn,
        &job,
        &Outcome::RetryAt {
            at: now() + Duration::hours(1),
            error: "503".into(),
        },
    );
    let view = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(view.state, ExerciseState::Pending);
    assert_eq!(view.pending_action, Some(ExerciseAction::Add));
    assert_eq!(view.job_id, Some(job.id));
}

#[test]
fn a_settle_for_a_job_that_is_not_the_users_latest_changes_nothing() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-stale");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (_, old_job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    work(
        &mut conn,
        &old_job,
        &Outcome::Failed {
            error: "refused".into(),
        },
    );
    let (_, new_job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    let before = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(before.job_id, Some(new_job.id));
    let jobs_before = job_count(&mut conn);

    for outcome in [
        Outcome::Succeeded {
            result: json!({"id": "EXU-old"}),
        },
        Outcome::Failed {
            error: "old failure".into(),
        },
    ] {
        write_transaction(&mut conn, |c| exercise::settle(c, &old_job, &outcome)).unwrap();
        let after = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
        assert_eq!(after, before, "{outcome:?}");
        assert_eq!(
            job_count(&mut conn),
            jobs_before,
            "no notice for a stale job"
        );
    }

    // The latest job still settles.
    work(
        &mut conn,
        &new_job,
        &Outcome::Succeeded {
            result: json!({"id": "EXU-2"}),
        },
    );
    let view = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(view.state, ExerciseState::Active);
    assert_eq!(view.provider_user_id.as_deref(), Some("EXU-2"));
}

// ---------------------------------------------------------------------------------------
// mail

fn message(to: &str, subject: &str) -> MailPayload {
    MailPayload {
        to: to.into(),
        subject: subject.into(),
        body: format!("Body of {subject}"),
    }
}

#[test]
fn mail_store_keeps_one_message_per_idempotency_key() {
    let db = Db::new();
    let mut conn = db.conn();
    let first = mail::store(&mut conn, "key-1", &message("a@example.com", "One")).unwrap();
    // A retry of the same send, even with another body, returns the first message.
    let again = mail::store(&mut conn, "key-1", &message("a@example.com", "Other")).unwrap();
    assert_eq!(again, first);
    assert_eq!(first.to_address, "a@example.com");
    assert_eq!(first.subject, "One");
    assert_eq!(first.body, "Body of One");
    let rows: i64 = sent_mail::table.count().get_result(&mut conn).unwrap();
    assert_eq!(rows, 1);
    let other = mail::store(&mut conn, "key-2", &message("a@example.com", "Two")).unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(mail::list(&mut conn, None).unwrap().len(), 2);
}

#[test]
fn mail_list_filters_by_recipient_case_insensitively_oldest_first() {
    let db = Db::new();
    let mut conn = db.conn();
    let a1 = mail::store(&mut conn, "k1", &message("Jane.Doe@Example.com", "A1")).unwrap();
    let b = mail::store(&mut conn, "k2", &message("bob@example.com", "B")).unwrap();
    let a2 = mail::store(&mut conn, "k3", &message("jane.doe@example.com", "A2")).unwrap();

    let subjects = |rows: Vec<mail::SentMailRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.subject).collect()
    };
    assert_eq!(
        subjects(mail::list(&mut conn, None).unwrap()),
        vec![a1.subject.clone(), b.subject.clone(), a2.subject.clone()]
    );
    for query in ["jane.doe@example.com", "JANE.DOE@EXAMPLE.COM"] {
        assert_eq!(
            subjects(mail::list(&mut conn, Some(query)).unwrap()),
            vec!["A1".to_owned(), "A2".to_owned()],
            "{query}"
        );
    }
    assert_eq!(
        subjects(mail::list(&mut conn, Some("Bob@Example.com")).unwrap()),
        vec!["B".to_owned()]
    );
    assert!(
        mail::list(&mut conn, Some("nobody@example.com"))
            .unwrap()
            .is_empty()
    );
    // What `staffroom mail list` prints for one message.
    let line = serde_json::to_value(&a1).unwrap();
    assert_eq!(line["to"], "Jane.Doe@Example.com");
    assert_eq!(line["subject"], "A1");
    assert_eq!(line["body"], "Body of A1");
    assert!(line["sent_at"].as_str().unwrap().ends_with('Z'), "{line}");
    assert!(line.get("idempotency_key").is_none(), "{line}");
}
