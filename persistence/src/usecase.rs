//! The one shape of every state-changing operation (see `docs/architecture.md`).
//!
//! A use-case is a type implementing [`UseCase`]; [`run`] drives it inside the site-locked
//! write transaction:
//!
//! 1. `load` reads a **snapshot**: plain data, everything the rules need;
//! 2. `decide` asks `staffroom_domain` for a **decision**, a pure function over the snapshot
//!    that returns the change to write or a refusal enum (no English, no SQL);
//! 3. `write` writes the decision, its audit event and its outbox job;
//! 4. the caller's `render` turns the result into its answer, and when the request holds an
//!    idempotency key the answer is stored in the key's row, all before the commit.
//!
//! A refusal rolls the transaction back and comes out as [`Failure::Refused`]; the API's
//! error mapping gives it its problem code and words.

use crate::idempotency::{self, HeldKey, StoredResponse};
use crate::tx::{AuditContext, lock_site, write_transaction};
use crate::{DbConnection, StoreError};

/// A state-changing operation: snapshot, decision, write.
pub trait UseCase {
    /// What `decide` reads: plain data loaded after the site lock.
    type Snapshot;
    /// What to write, as the domain decided it.
    type Decision;
    /// Why the domain refused (an enum from `staffroom_domain` or this crate).
    type Refusal;
    /// What the write produced (the changed record).
    type Output;

    /// Reads the snapshot; `StoreError::NotFound` when the target does not exist.
    fn load(
        &self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
    ) -> Result<Self::Snapshot, StoreError>;

    /// Asks the domain; no I/O.
    fn decide(&self, snapshot: Self::Snapshot) -> Result<Self::Decision, Self::Refusal>;

    /// Writes the decision with its audit event (and outbox job, if any).
    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        decision: Self::Decision,
    ) -> Result<Self::Output, StoreError>;
}

/// Why a use-case did not change anything.
#[derive(Debug)]
pub enum Failure<R> {
    /// The domain refused; nothing was written.
    Refused(R),
    /// Reading or writing failed (not found, version mismatch, database).
    Store(StoreError),
}

impl<R: std::fmt::Debug> std::fmt::Display for Failure<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(refusal) => write!(f, "refused: {refusal:?}"),
            Self::Store(e) => e.fmt(f),
        }
    }
}

impl<R: std::fmt::Debug> std::error::Error for Failure<R> {}

impl<R> From<StoreError> for Failure<R> {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl<R> From<diesel::result::Error> for Failure<R> {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

/// How the answer of a use-case is kept for an idempotent retry.
pub struct Keep<'k, A> {
    /// The key the request reserved.
    pub key: &'k HeldKey,
    /// The answer as a retry replays it.
    pub stored: fn(&A) -> StoredResponse,
}

/// Runs `use_case` in one transaction holding the site lock of `ctx.site_id`: load, decide,
/// write, render the answer, and (with `keep`) store that answer under the request's
/// idempotency key, so the change and its answer commit together or not at all.
pub fn run<U: UseCase, A>(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    use_case: U,
    render: impl FnOnce(U::Output) -> A,
    keep: Option<Keep<'_, A>>,
) -> Result<A, Failure<U::Refusal>> {
    write_transaction(conn, |conn| {
        lock_site(conn, ctx.site_id)?;
        let snapshot = use_case.load(conn, ctx)?;
        let decision = use_case.decide(snapshot).map_err(Failure::Refused)?;
        let output = use_case.write(conn, ctx, decision)?;
        let answer = render(output);
        if let Some(keep) = keep {
            idempotency::complete(conn, keep.key, &(keep.stored)(&answer))?;
        }
        Ok(answer)
    })
}

/// Why a change made of several use-cases stopped: one of them (as the caller's error), or
/// the database at the commit.
enum Stopped<E> {
    Failed(E),
    Database(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for Stopped<E> {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e)
    }
}

/// Runs `change` in one write transaction holding the site lock of `ctx.site_id`, for one
/// request that runs several use-cases (a SCIM replace can change a profile, a type, the
/// access and the status): each runs with [`run`] inside it, and they all commit together
/// or none does.
pub fn together<T, E>(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    change: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    write_transaction(conn, |conn| {
        lock_site(conn, ctx.site_id).map_err(|e| Stopped::Failed(E::from(e)))?;
        change(conn).map_err(Stopped::Failed)
    })
    .map_err(|stopped| match stopped {
        Stopped::Failed(e) => e,
        Stopped::Database(e) => E::from(StoreError::from(e)),
    })
}
