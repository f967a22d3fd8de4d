//! The outbox (SPEC §9, DESIGN.md): provider operations stored as jobs in the transaction of
//! the state change they carry out, then worked outside any transaction.
//!
//! * [`enqueue`] writes a job inside the caller's transaction.
//! * A worker takes a job with a **lease**: one guarded `UPDATE … WHERE id = ? AND status =
//!   'pending' AND (leased_until IS NULL OR leased_until < now)` ([`claim`], [`claim_due`]).
//!   Only one process's update can match, on either backend, so a job is worked by one
//!   process at a time. Each claim has its own owner token.
//! * [`finish`] records the outcome in one transaction whose first statement is the same
//!   kind of guarded update on the owner token, and only then applies the job's effect. A
//!   worker whose lease ran out and was taken over finds its update matching nothing and
//!   applies nothing; since every attempt carries the job's idempotency key, the provider
//!   did the work at most once either way.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use staffroom_domain::{ActorKind, JobId, JobKind, JobStatus, SiteId, UserId};

use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::outbox_jobs;
use crate::tx::{AuditContext, now, write_transaction};
use crate::{DbConnection, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox_jobs)]
pub struct JobRow {
    pub id: JobId,
    pub site_id: SiteId,
    pub kind: JobKind,
    /// The user the job is about, if any.
    pub subject_id: Option<UserId>,
    pub payload: String,
    pub idempotency_key: String,
    pub status: JobStatus,
    pub attempts: i64,
    pub next_attempt_at: NaiveDateTime,
    pub leased_until: Option<NaiveDateTime>,
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
    pub result: Option<String>,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    pub request_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub version: i64,
}

impl JobRow {
    /// The payload as JSON (it is always written from a JSON value).
    pub fn payload(&self) -> StoreResult<serde_json::Value> {
        serde_json::from_str(&self.payload).map_err(StoreError::corrupt)
    }

    /// Who asked for the job, for the audit events written when it finishes.
    pub fn audit_context(&self) -> AuditContext {
        AuditContext {
            site_id: self.site_id,
            actor_kind: self.actor_kind,
            actor_id: self.actor_id.clone(),
            on_behalf_of: None,
            request_id: self.request_id.clone(),
        }
    }
}

/// Writes a job due at once, inside the caller's transaction.
pub fn enqueue(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    kind: JobKind,
    subject_id: Option<UserId>,
    payload: &serde_json::Value,
) -> StoreResult<JobRow> {
    let id = JobId::new();
    let at = now();
    let row = JobRow {
        idempotency_key: format!("staffroom-job-{id}"),
        id,
        site_id: ctx.site_id,
        kind,
        subject_id,
        payload: payload.to_string(),
        status: JobStatus::Pending,
        attempts: 0,
        next_attempt_at: at,
        leased_until: None,
        lease_owner: None,
        last_error: None,
        result: None,
        actor_kind: ctx.actor_kind,
        actor_id: ctx.actor_id.clone(),
        request_id: ctx.request_id.clone(),
        created_at: at,
        updated_at: at,
        finished_at: None,
        version: 1,
    };
    diesel::insert_into(outbox_jobs::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// A fresh owner token for one claim.
pub fn new_owner(worker: &str) -> String {
    format!("{worker}/{}", uuid::Uuid::new_v4())
}

/// Whether a job may be claimed at `at`: pending, due, and not leased (or its lease ran out),
/// and of a kind this process knows; a kind only a newer version writes is left to the
/// processes that run it.
#[diesel::dsl::auto_type]
fn claimable(at: NaiveDateTime) -> _ {
    let pending: JobStatus = JobStatus::Pending;
    let known: &'static [JobKind] = JobKind::ALL;
    outbox_jobs::status
        .eq(pending)
        .and(outbox_jobs::kind.eq_any(known))
        .and(outbox_jobs::next_attempt_at.le(at))
        .and(
            outbox_jobs::leased_until
                .is_null()
                .or(outbox_jobs::leased_until.lt(at)),
        )
}

/// Leases the job `id` to `owner` for `lease` if it is pending, due and not leased; counts
/// the attempt. `None` when another worker holds it, it is finished, or it is not due.
pub fn claim(
    conn: &mut DbConnection,
    id: JobId,
    owner: &str,
    lease: Duration,
) -> StoreResult<Option<JobRow>> {
    let at = now();
    let claimed = diesel::update(
        outbox_jobs::table
            .filter(outbox_jobs::id.eq(id))
            .filter(claimable(at)),
    )
    .set((
        outbox_jobs::leased_until.eq(at + lease),
        outbox_jobs::lease_owner.eq(owner),
        outbox_jobs::attempts.eq(outbox_jobs::attempts + 1),
        outbox_jobs::updated_at.eq(at),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    Ok(outbox_jobs::table
        .filter(outbox_jobs::id.eq(id))
        .filter(outbox_jobs::lease_owner.eq(owner))
        .select(JobRow::as_select())
        .first(conn)
        .optional()?)
}

/// Leases up to `limit` due jobs, oldest due first, each under its own owner token made
/// from `worker`. Jobs another process takes in between are skipped.
pub fn claim_due(
    conn: &mut DbConnection,
    worker: &str,
    lease: Duration,
    limit: i64,
) -> StoreResult<Vec<(String, JobRow)>> {
    let at = now();
    let candidates: Vec<JobId> = outbox_jobs::table
        .filter(claimable(at))
        .order((outbox_jobs::next_attempt_at.asc(), outbox_jobs::id.asc()))
        .limit(limit)
        .select(outbox_jobs::id)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let owner = new_owner(worker);
        if let Some(job) = claim(conn, id, &owner, lease)? {
            claimed.push((owner, job));
        }
    }
    Ok(claimed)
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The provider did it; `result` is its answer.
    Succeeded { result: serde_json::Value },
    /// A transient failure: try again at `at`.
    RetryAt { at: NaiveDateTime, error: String },
    /// A permanent failure, or out of attempts: the effect must be undone.
    Failed { error: String },
}

/// Records `outcome` for a job leased to `owner` and, for a final outcome, applies `effect`
/// in the same transaction. Returns `false`, changing nothing, if the lease was lost.
pub fn finish(
    conn: &mut DbConnection,
    job: &JobRow,
    owner: &str,
    outcome: &Outcome,
    effect: impl FnOnce(&mut DbConnection, &JobRow, &Outcome) -> StoreResult<()>,
) -> StoreResult<bool> {
    write_transaction(conn, |conn| {
        let at = now();
        let owned = outbox_jobs::table
            .filter(outbox_jobs::id.eq(job.id))
            .filter(outbox_jobs::lease_owner.eq(owner))
            .filter(outbox_jobs::status.eq(JobStatus::Pending));
        let updated = match outcome {
            Outcome::Succeeded { result } => diesel::update(owned)
                .set((
                    outbox_jobs::status.eq(JobStatus::Succeeded),
                    outbox_jobs::result.eq(Some(result.to_string())),
                    outbox_jobs::leased_until.eq(None::<NaiveDateTime>),
                    outbox_jobs::finished_at.eq(Some(at)),
                    outbox_jobs::updated_at.eq(at),
                    outbox_jobs::version.eq(outbox_jobs::version + 1),
                ))
                .execute(conn)?,
            Outcome::RetryAt { at: retry, error } => diesel::update(owned)
                .set((
                    outbox_jobs::next_attempt_at.eq(*retry),
                    outbox_jobs::last_error.eq(Some(error)),
                    outbox_jobs::leased_until.eq(None::<NaiveDateTime>),
                    outbox_jobs::updated_at.eq(at),
                    outbox_jobs::version.eq(outbox_jobs::version + 1),
                ))
                .execute(conn)?,
            Outcome::Failed { error } => diesel::update(owned)
                .set((
                    outbox_jobs::status.eq(JobStatus::Failed),
                    outbox_jobs::last_error.eq(Some(error)),
                    outbox_jobs::leased_until.eq(None::<NaiveDateTime>),
                    outbox_jobs::finished_at.eq(Some(at)),
                    outbox_jobs::updated_at.eq(at),
                    outbox_jobs::version.eq(outbox_jobs::version + 1),
                ))
                .execute(conn)?,
        };
        if updated == 0 {
            return Ok(false);
        }
        if !matches!(outcome, Outcome::RetryAt { .. }) {
            effect(conn, job, outcome)?;
        }
        Ok(true)
    })
}

/// One job of the site, for its administrators.
/// A job's outcome, to be recorded under its lease by [`finish_all`].
#[derive(Debug, Clone)]
pub struct Finished {
    pub job: JobRow,
    pub owner: String,
    pub outcome: Outcome,
}

/// Records the outcomes of a worker's batch in one transaction, each as [`finish`] records
/// one (inside it, each job's own savepoint): one commit for the batch instead of one per
/// job. A job whose recording fails is left as it was, to come back when its lease runs
/// out, and the others are kept. Returns, in order, whether each job was recorded (`false`:
/// its lease was lost).
pub fn finish_all(
    conn: &mut DbConnection,
    batch: &[Finished],
    effect: impl Fn(&mut DbConnection, &JobRow, &Outcome) -> StoreResult<()>,
) -> StoreResult<Vec<StoreResult<bool>>> {
    write_transaction(conn, |conn| {
        Ok(batch
            .iter()
            .map(|done| finish(conn, &done.job, &done.owner, &done.outcome, &effect))
            .collect())
    })
}

pub fn get(conn: &mut DbConnection, site: SiteId, id: JobId) -> StoreResult<JobRow> {
    outbox_jobs::table
        .filter(outbox_jobs::site_id.eq(site))
        .filter(outbox_jobs::id.eq(id))
        .select(JobRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Filters of the job list; all optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    pub status: Option<JobStatus>,
    pub kind: Option<JobKind>,
    pub subject_id: Option<UserId>,
    pub limit: i64,
    pub cursor: Option<String>,
}

/// The site's jobs, newest first.
pub fn list(conn: &mut DbConnection, site: SiteId, q: &JobQuery) -> StoreResult<Page<JobRow>> {
    let mut query = outbox_jobs::table
        .filter(outbox_jobs::site_id.eq(site))
        .select(JobRow::as_select())
        .order(outbox_jobs::id.desc())
        .limit(q.limit + 1)
        .into_boxed();
    if let Some(status) = q.status {
        query = query.filter(outbox_jobs::status.eq(status));
    }
    if let Some(kind) = q.kind {
        query = query.filter(outbox_jobs::kind.eq(kind));
    }
    if let Some(subject) = q.subject_id {
        query = query.filter(outbox_jobs::subject_id.eq(subject));
    }
    if let Some(cursor) = &q.cursor {
        let after: JobId = decode_cursor(cursor)?;
        query = query.filter(outbox_jobs::id.lt(after));
    }
    let rows = query.load(conn)?;
    Ok(page_from_rows(rows, q.limit, |r| r.id))
}

/// Pending jobs whose next attempt is due, across all sites (for metrics and tests).
pub fn pending_count(conn: &mut DbConnection) -> StoreResult<i64> {
    Ok(outbox_jobs::table
        .filter(outbox_jobs::status.eq(JobStatus::Pending))
        .count()
        .get_result(conn)?)
}
