//! Write transactions. Every transaction that writes opens through [`write_transaction`]:
//! on SQLite it is `BEGIN IMMEDIATE`, so it takes the database write lock before its first
//! read (waiting under the busy timeout). A deferred transaction would start as a reader
//! and, in WAL mode, fail with `database is locked` when it tries to become a writer after
//! another writer committed, without waiting: the busy timeout does not cover that upgrade.
//! `Connection::transaction` is refused by clippy (`clippy.toml`) so that no write opens a
//! deferred transaction by accident.
//!
//! Every change to a site's data runs in `write_tx`, whose first statement takes the
//! **site lock** (`UPDATE sites SET lock_version = lock_version + 1`): on PostgreSQL the row
//! lock serialises the site's writers until commit. The licence checks that need atomicity
//! read their snapshot after this lock.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use staffroom_domain::{ActorKind, SiteId, UserId};

use crate::connection::WriterQueue;
use crate::schema::sites;
use crate::{DbConnection, StoreError, StoreResult};

/// Who made a change, carried into its audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub site_id: SiteId,
    pub actor_kind: ActorKind,
    /// The principal's id (a user or service account), as its token names it.
    pub actor_id: Option<String>,
    pub on_behalf_of: Option<String>,
    pub request_id: Option<String>,
}

impl AuditContext {
    /// A change made by the operator from the command line.
    pub fn system(site_id: SiteId) -> Self {
        Self {
            site_id,
            actor_kind: ActorKind::System,
            actor_id: None,
            on_behalf_of: None,
            request_id: None,
        }
    }

    /// A change a provider makes through its signed webhook (`actor_id` names the
    /// provider, e.g. `imaging`).
    pub fn provider(site_id: SiteId, provider: &str, request_id: Option<String>) -> Self {
        Self {
            site_id,
            actor_kind: ActorKind::Provider,
            actor_id: Some(provider.to_owned()),
            on_behalf_of: None,
            request_id,
        }
    }

    /// A change users make to their own account (logging in, accepting an invitation): the
    /// actor is the user, named by the id their tokens carry as subject.
    pub fn own_account(site_id: SiteId, user: UserId, request_id: Option<String>) -> Self {
        Self {
            site_id,
            actor_kind: ActorKind::User,
            actor_id: Some(user.to_string()),
            on_behalf_of: None,
            request_id,
        }
    }
}

/// Runs `f` in a transaction that writes: on SQLite `BEGIN IMMEDIATE`, so the transaction is
/// a writer from its start, once the writers of this process before it are done, and on
/// the connection the database's writers share (see `connection::WriterQueue`: `f` may get
/// another connection than `conn`); on PostgreSQL an ordinary transaction. Inside another
/// transaction (already a writer) it is a savepoint. Commits when `f` succeeds and rolls
/// back when it fails, like `Connection::transaction`.
#[expect(
    clippy::disallowed_methods,
    reason = "the one place that opens a transaction: immediate on SQLite"
)]
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if in_transaction(conn) || !matches!(conn, DbConnection::Sqlite(_)) {
        return conn.transaction(f);
    }
    let immediate = |conn: &mut DbConnection| {
        if let DbConnection::Sqlite(sqlite) = &mut *conn {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        }
        let outcome = f(conn);
        end_transaction(conn, outcome)
    };
    match WriterQueue::of_connection(conn) {
        Some(queue) => queue.in_turn(conn, immediate),
        None => immediate(conn),
    }
}

/// Whether `conn` is inside a transaction already.
fn in_transaction(conn: &mut DbConnection) -> bool {
    matches!(
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(Some(_))
    )
}

/// Commits the transaction `outcome` came from when it succeeded, else rolls it back.
fn end_transaction<T, E>(conn: &mut DbConnection, outcome: Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    type Manager = <DbConnection as Connection>::TransactionManager;
    match outcome {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(failure) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(failure),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Runs `f` over one snapshot of the database, reading only: on SQLite a deferred `BEGIN`
/// (in WAL mode a reader never waits for a writer), on PostgreSQL `REPEATABLE READ, READ
/// ONLY`. It takes no lock, so it never queues behind the site lock of a write. Inside
/// another transaction `f` runs in that one.
pub fn read_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if in_transaction(conn) {
        return f(conn);
    }
    match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN DEFERRED")?;
        }
        DbConnection::Pg(pg) => AnsiTransactionManager::begin_transaction_sql(
            pg,
            "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        )?,
    }
    let outcome = f(conn);
    end_transaction(conn, outcome)
}

/// Runs `f` in a transaction that holds the site lock of `site`; `NotFound` if no such site.
pub fn write_tx<T>(
    conn: &mut DbConnection,
    site: SiteId,
    f: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
) -> StoreResult<T> {
    write_transaction(conn, |conn| {
        lock_site(conn, site)?;
        f(conn)
    })
}

pub(crate) fn lock_site(conn: &mut DbConnection, site: SiteId) -> StoreResult<()> {
    let locked = diesel::update(sites::table.find(site))
        .set(sites::lock_version.eq(sites::lock_version + 1))
        .execute(conn)?;
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The current time, truncated to microseconds so both backends store the same value.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    let micros = now.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.naive_utc())
        .unwrap_or(now)
}

/// Checks an optional expected version (from `If-Match`) against the stored one.
pub fn check_version(expected: Option<i64>, current: i64) -> StoreResult<()> {
    match expected {
        Some(v) if v != current => Err(StoreError::VersionMismatch { current }),
        _ => Ok(()),
    }
}
