//! Database connections: one `DbConnection` enum over PostgreSQL and SQLite, built from the
//! URL scheme, and the r2d2 pool that hands them out; and how typed ids bind through it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{self, ManageConnection};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use staffroom_domain::{
    AppointmentId, AssistantAccountId, AssistantId, AuditEventId, ClinicId, InvitationId, JobId,
    ReferralId, ScimTokenId, SentMailId, ServiceAccountId, SiteId, UserId,
};

use crate::error::StoreError;

/// One connection to either backend; the same query code serves both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Binds ids through the `MultiBackend` the derive generates: the value goes to the inner
/// backend's own `ToSql` (feature `diesel` of `staffroom_domain`), so both store the same text.
/// String enums need nothing here: their `ToSql` is generic over the backend.
macro_rules! bind_as_inner_text {
    ($($id:ty),+ $(,)?) => {$(
        impl ToSql<Text, MultiBackend> for $id {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }
    )+};
}

bind_as_inner_text!(
    AppointmentId,
    AssistantAccountId,
    AssistantId,
    AuditEventId,
    ClinicId,
    InvitationId,
    JobId,
    ReferralId,
    ScimTokenId,
    SentMailId,
    ServiceAccountId,
    SiteId,
    UserId,
);

/// A pool of connections to one database.
pub type Pool = r2d2::Pool<ConnectionManager>;
/// A connection checked out of the pool.
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Where the data lives, parsed from `sqlite://PATH` or `postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a database URL; the error is one sentence fit for the command line.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                "the database URL must start with sqlite:// or postgres://".to_owned()
            })?;
        if path.is_empty() {
            return Err("the sqlite:// database URL needs a file path".to_owned());
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// True for PostgreSQL, the backend several instances can share.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The URL with libpq's `connect_timeout` added unless it names one (SQLite: as is).
    fn with_connect_timeout(&self, seconds: u32) -> Self {
        match self {
            Self::Postgres(url) if !url.contains("connect_timeout=") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                Self::Postgres(format!("{url}{separator}connect_timeout={seconds}"))
            }
            other => other.clone(),
        }
    }

    /// The URL with any password hidden, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Opens connections for the pool, setting up SQLite for concurrent use.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

/// How long a SQLite writer waits for another one before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 15_000;

/// The page cache of each SQLite connection, in KiB (SQLite's default is 2,000). A
/// connection in WAL mode empties its cache whenever another has written since its last
/// read, so under writes the pool's caches empty and refill all the time: with 16
/// connections at the default that moved the server's resident memory by up to 20 MB from
/// one second to the next. At 512 KiB a list, a get and a search read as fast (the pages
/// beyond come from the OS's file cache) and the swing is a quarter
/// (`docs/decisions.md`, "The read path").
const SQLITE_CACHE_KIB: u32 = 512;

/// The queue of one SQLite database's writers in this process, which
/// `tx::write_transaction` joins before `BEGIN IMMEDIATE`, and the one connection they
/// write with. SQLite admits one writer at a time and leaves the others to poll for its
/// lock, sleeping 1, 2, 5, 10, … 100 ms between tries (its default busy handler): the lock
/// sits idle while they sleep, and a writer that arrives when it is free overtakes those
/// asleep, so under a burst of writes throughput drops and the slowest writes wait hundreds
/// of milliseconds. Queued here, this process's writers take the lock in turn as it is
/// handed over (other processes still meet the busy timeout). And they all write through
/// the queue's own connection: SQLite empties a connection's page cache whenever another
/// connection has written since its last transaction, so a writer on a pooled connection
/// would read every page it touches again from the file; the one writing connection keeps
/// its cache. Every pooled connection to the database carries the queue as its Diesel
/// instrumentation, which is how a transaction finds it from the connection alone.
#[derive(Clone)]
pub(crate) struct WriterQueue(Arc<Writer>);

/// The turn and the connection of a database's writers.
struct Writer {
    path: PathBuf,
    /// `None` until the first write opens it, and again after a writer panicked with it.
    connection: parking_lot::Mutex<Option<SqliteConnection>>,
}

impl WriterQueue {
    /// The queue of the database at `path`, shared by every connection this process opens
    /// to it.
    fn of(path: &Path) -> Self {
        static QUEUES: OnceLock<parking_lot::Mutex<HashMap<PathBuf, Weak<Writer>>>> =
            OnceLock::new();
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let mut queues = QUEUES.get_or_init(Default::default).lock();
        if let Some(writer) = queues.get(&key).and_then(Weak::upgrade) {
            return Self(writer);
        }
        // Forget the queues of databases no connection holds any more (tests open many).
        queues.retain(|_, writer| writer.strong_count() > 0);
        let writer = Arc::new(Writer {
            path: key.clone(),
            connection: parking_lot::Mutex::new(None),
        });
        queues.insert(key, Arc::downgrade(&writer));
        Self(writer)
    }

    /// The queue `conn` belongs to; `None` on PostgreSQL, whose writers wait on the site
    /// row's lock without polling.
    pub(crate) fn of_connection(conn: &mut DbConnection) -> Option<Self> {
        match conn {
            DbConnection::Sqlite(sqlite) => {
                sqlite.instrumentation().downcast_ref::<Self>().cloned()
            }
            DbConnection::Pg(_) => None,
        }
    }

    /// Runs `f` when this writer's turn comes, with the queue's connection (or `conn` if it
    /// cannot be opened), handing the turn to the next writer in line after it. A writer
    /// that waits longer than the busy timeout (a transaction that opened another
    /// connection to write, which waits for its own) goes on with `conn` without its turn
    /// and meets SQLite's busy timeout as before.
    pub(crate) fn in_turn<T>(
        &self,
        conn: &mut DbConnection,
        f: impl FnOnce(&mut DbConnection) -> T,
    ) -> T {
        let wait = Duration::from_millis(u64::from(SQLITE_BUSY_TIMEOUT_MS));
        let Some(mut turn) = self.0.connection.try_lock_for(wait) else {
            return f(conn);
        };
        // Taken out while it writes: if `f` panics, the connection is dropped (SQLite rolls
        // its transaction back) and the next writer opens a fresh one.
        let writer = match turn.take() {
            Some(writer) => Some(writer),
            None => open_sqlite(&self.0.path.to_string_lossy(), None).ok(),
        };
        let value = match writer {
            Some(writer) => {
                let mut writer = DbConnection::Sqlite(writer);
                let value = f(&mut writer);
                if let DbConnection::Sqlite(writer) = writer {
                    *turn = Some(writer);
                }
                value
            }
            None => f(conn),
        };
        parking_lot::MutexGuard::unlock_fair(turn);
        value
    }
}

impl Instrumentation for WriterQueue {
    fn on_connection_event(&mut self, _event: InstrumentationEvent<'_>) {}
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Pg)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                open_sqlite(&path.to_string_lossy(), Some(WriterQueue::of(path)))
                    .map(DbConnection::Sqlite)
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map(|_| ())
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Opens a SQLite connection set up for concurrent use (busy timeout, WAL, foreign keys),
/// carrying the writer queue of its database when it is a pooled one.
fn open_sqlite(path: &str, queue: Option<WriterQueue>) -> Result<SqliteConnection, r2d2::Error> {
    let mut conn = SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
    if let Some(queue) = queue {
        conn.set_instrumentation(queue);
    }
    conn.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"))
        .map_err(r2d2::Error::QueryError)?;
    enter_wal(&mut conn).map_err(r2d2::Error::QueryError)?;
    conn.batch_execute(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
         PRAGMA cache_size = -{SQLITE_CACHE_KIB};"
    ))
    .map_err(r2d2::Error::QueryError)?;
    Ok(conn)
}

/// Switches a SQLite database to WAL. The switch needs the file to itself and SQLite does
/// not wait for it under the busy timeout, so processes opening a fresh database together
/// would see `database is locked`: retry for as long as the busy timeout allows.
fn enter_wal(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    let deadline =
        std::time::Instant::now() + Duration::from_millis(u64::from(SQLITE_BUSY_TIMEOUT_MS));
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL;") {
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("locked") && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// How long the first connection attempt may take to reach PostgreSQL (libpq's minimum is 2).
const PROBE_TIMEOUT_SECS: u32 = 2;

/// Builds a pool; fails fast when the database cannot be reached.
pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Pool, StoreError> {
    if let DatabaseUrl::Sqlite(path) = url
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Pool(format!("cannot create directory {}: {e}", dir.display()))
        })?;
    }
    // One attempt first: the pool retries a failing connection until its timeout, so a
    // wrong role, host or path would take that long to be reported.
    ConnectionManager::new(url.with_connect_timeout(PROBE_TIMEOUT_SECS))
        .connect()
        .map_err(|e| StoreError::Pool(e.to_string()))?;
    // A checkout tests the connection (`SELECT 1`) only on PostgreSQL, whose connections
    // can break with the network or a server restart; a SQLite connection is a file
    // handle, and the test would be one more statement prepared on every request.
    r2d2::Pool::builder()
        .max_size(max_size)
        .test_on_check_out(url.is_postgres())
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager::new(url.clone()))
        .map_err(|e| StoreError::Pool(e.to_string()))
}

/// Checks that the database answers a trivial query.
pub fn ping(conn: &mut DbConnection) -> Result<(), StoreError> {
    diesel::sql_query("SELECT 1").execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_schemes() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/x.db"))
        );
        assert!(
            DatabaseUrl::parse("postgres://u:p@h/db")
                .unwrap()
                .is_postgres()
        );
        assert!(
            DatabaseUrl::parse("postgresql://h/db")
                .unwrap()
                .is_postgres()
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn hides_the_password() {
        let url = DatabaseUrl::parse("postgres://app:secret@db:5432/x").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/x");
        assert!(!format!("{url:?}").contains("secret"));
    }

    #[test]
    fn a_pooled_sqlite_connection_is_set_up_for_a_server() {
        use diesel::sql_types::{BigInt, Text};
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = BigInt)]
            value: i64,
        }
        #[derive(diesel::QueryableByName)]
        struct Mode {
            #[diesel(sql_type = Text)]
            journal_mode: String,
        }
        let dir = tempfile::tempdir().unwrap();
        let pool = connect(&DatabaseUrl::Sqlite(dir.path().join("x.db")), 2).unwrap();
        let mut conn = pool.get().unwrap();
        let DbConnection::Sqlite(conn) = &mut *conn else {
            panic!("not SQLite");
        };
        let setting = |conn: &mut SqliteConnection, pragma: &str| {
            diesel::sql_query(format!("SELECT {pragma} AS value FROM pragma_{pragma}()"))
                .get_result::<Setting>(conn)
                .unwrap()
                .value
        };
        assert_eq!(setting(conn, "cache_size"), -i64::from(SQLITE_CACHE_KIB));
        assert_eq!(setting(conn, "foreign_keys"), 1);
        let mode = diesel::sql_query("PRAGMA journal_mode")
            .get_result::<Mode>(conn)
            .unwrap();
        assert_eq!(mode.journal_mode, "wal");
    }
}
