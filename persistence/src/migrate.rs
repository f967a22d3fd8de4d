//! Embedded migrations, one folder per backend. On PostgreSQL they run under an advisory
//! lock, on SQLite in an immediate transaction, so that several instances starting together
//! migrate once.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::DbConnection;
use crate::error::StoreError;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Arbitrary but fixed key of the advisory lock held while migrating.
const MIGRATION_LOCK_KEY: i64 = 0x0053_7461_6666_526d;

/// Applies pending migrations and returns how many ran.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    match conn {
        DbConnection::Pg(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let applied = pg.run_pending_migrations(POSTGRES).map(|v| v.len());
            let unlocked =
                pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
            let applied = applied.map_err(failed)?;
            unlocked?;
            Ok(applied)
        }
        // An immediate transaction takes the write lock first, so a second process
        // starting on the same file waits, then finds nothing pending.
        DbConnection::Sqlite(sqlite) => sqlite.immediate_transaction(|c| {
            c.run_pending_migrations(SQLITE)
                .map(|v| v.len())
                .map_err(failed)
        }),
    }
}
