//! Throwaway databases for tests: a SQLite file in a temporary directory, or — when
//! `STAFFROOM_TEST_DATABASE_URL` names a PostgreSQL server — a new database created on it
//! and dropped (with its connections) when the `TestDatabase` is dropped.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::{DatabaseUrl, Pool, StoreError, StoreResult};

/// The variable naming the PostgreSQL server tests should use.
pub const TEST_DATABASE_URL: &str = "STAFFROOM_TEST_DATABASE_URL";

pub struct TestDatabase {
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

/// The server URL from the environment, if tests should run on PostgreSQL.
pub fn postgres_server() -> Option<String> {
    std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

/// The test server URL without TLS unless it asks for it: test servers are on loopback,
/// and libpq's OpenSSL clean-up at process exit can crash while worker threads still hold
/// TLS connections.
fn without_tls(server: &str) -> String {
    if server.contains("sslmode=") {
        server.to_owned()
    } else if server.contains('?') {
        format!("{server}&sslmode=disable")
    } else {
        format!("{server}?sslmode=disable")
    }
}

/// `postgres://host/db?x` with the database name replaced.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server, None),
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

impl TestDatabase {
    /// A new empty database on the backend the environment selects.
    pub fn create() -> StoreResult<Self> {
        match postgres_server() {
            Some(server) => Self::postgres(&server),
            None => Self::sqlite(),
        }
    }

    pub fn sqlite() -> StoreResult<Self> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Pool(e.to_string()))?;
        Ok(Self {
            url: DatabaseUrl::Sqlite(dir.path().join("test.db")),
            _dir: Some(dir),
            postgres: None,
        })
    }

    pub fn postgres(server: &str) -> StoreResult<Self> {
        let server = without_tls(server);
        let name = format!("staffroom_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&server)
            .map_err(|e| StoreError::Pool(format!("cannot reach {TEST_DATABASE_URL}: {e}")))?;
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(Self {
            url: DatabaseUrl::Postgres(with_database(&server, &name)),
            _dir: None,
            postgres: Some((server, name)),
        })
    }

    /// A migrated pool on this database.
    pub fn pool(&self, size: u32) -> StoreResult<Pool> {
        let pool = crate::connect(&self.url, size)?;
        crate::run_migrations(&mut *pool.get()?)?;
        Ok(pool)
    }

    pub fn backend(&self) -> &'static str {
        if self.url.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(server)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
        assert_eq!(
            without_tls("postgres://h/db"),
            "postgres://h/db?sslmode=disable"
        );
        assert_eq!(
            without_tls("postgres://h/db?x=1"),
            "postgres://h/db?x=1&sslmode=disable"
        );
        assert_eq!(
            without_tls("postgres://h/db?sslmode=require"),
            "postgres://h/db?sslmode=require"
        );
    }
}
