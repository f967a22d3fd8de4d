//! The outbox (SPEC §9 "Outbound reliability", DESIGN.md "Outbox") on both backends: jobs
//! are written in the caller's transaction, leased by one guarded update so that a job is
//! worked by one owner at a time, finished under a fence on the owner token (the effect
//! runs only for a final outcome and only while the lease is still owned), and claimed by
//! racing workers exactly once. Also the exercise integration's `start`/`settle` and the
//! embedded mail sink that ride on it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod claim;
mod enqueue;
mod exercise_jobs;
mod finish;
mod listing;
mod mail_sink;
mod races;

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
