//! The database every subcommand but `openapi` opens: its URL from the flags, and opening
//! it migrated.

use staffroom_persistence::{DatabaseUrl, Pool};

use super::args::Cli;
use crate::startup_error::StartupError;

/// `--database-url`, or the SQLite file in the data directory.
pub fn database_url(cli: &Cli) -> Result<DatabaseUrl, StartupError> {
    let url = cli
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", cli.data_dir.join("staffroom.db").display()));
    DatabaseUrl::parse(&url).map_err(|e| StartupError(format!("STAFFROOM_DATABASE_URL: {e}")))
}

/// Connects (one attempt first, so a wrong role, host or path fails at once) without
/// migrating.
pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Pool, StartupError> {
    staffroom_persistence::connect(url, pool_size)
        .map_err(|e| StartupError(format!("cannot open database {}: {e}", url.redacted())))
}

/// Connects and migrates (under an advisory lock on PostgreSQL).
pub fn open_database(url: &DatabaseUrl, pool_size: u32) -> Result<Pool, StartupError> {
    let pool = connect(url, pool_size)?;
    let mut conn = pool
        .get()
        .map_err(|e| StartupError(format!("cannot connect to {}: {e}", url.redacted())))?;
    let applied = staffroom_persistence::run_migrations(&mut conn)
        .map_err(|e| StartupError(format!("migrating {}: {e}", url.redacted())))?;
    tracing::info!(database = %url.redacted(), applied, "database ready");
    Ok(pool)
}
