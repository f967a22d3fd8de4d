//! Database connections: one `DbConnection` enum over PostgreSQL and SQLite, built from the
//! URL scheme, and the r2d2 pool that hands them out; and how typed ids bind through it.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
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

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Pg)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"))
                    .map_err(r2d2::Error::QueryError)?;
                enter_wal(&mut conn).map_err(r2d2::Error::QueryError)?;
                conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
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
}
