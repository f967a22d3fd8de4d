//! The few statements `MultiConnection` cannot express: multi-row inserts. Each function
//! matches on the backend and runs the same Diesel statement on the inner connection.

use diesel::prelude::*;

use crate::schema::{audit_events, user_clinics, user_permissions};
use crate::{DbConnection, StoreResult};

/// Bound parameters one statement may carry: under SQLite's 32,766 (PostgreSQL allows
/// 65,535).
const MAX_PARAMETERS: usize = 30_000;

/// Ids per `IN (…)` list, one parameter each.
pub const CHUNK: usize = 10_000;

/// Rows per multi-row insert of rows with `columns` values each.
const fn rows_per_insert(columns: usize) -> usize {
    MAX_PARAMETERS / columns
}

macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {{
        let mut written = 0;
        for chunk in $rows.chunks(rows_per_insert($columns)) {
            written += match $conn {
                DbConnection::Pg(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                DbConnection::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
        Ok(written)
    }};
}

/// Grants `(user_id, site_id, permission)` rows.
pub fn insert_permissions(
    conn: &mut DbConnection,
    rows: &[(String, String, String)],
) -> StoreResult<usize> {
    let rows: Vec<_> = rows
        .iter()
        .map(|(user, site, permission)| {
            (
                user_permissions::user_id.eq(user),
                user_permissions::site_id.eq(site),
                user_permissions::permission.eq(permission),
            )
        })
        .collect();
    insert_all!(conn, user_permissions::table, rows, 3)
}

/// Grants `(user_id, clinic_id, site_id)` rows.
pub fn insert_clinics(
    conn: &mut DbConnection,
    rows: &[(String, String, String)],
) -> StoreResult<usize> {
    let rows: Vec<_> = rows
        .iter()
        .map(|(user, clinic, site)| {
            (
                user_clinics::user_id.eq(user),
                user_clinics::clinic_id.eq(clinic),
                user_clinics::site_id.eq(site),
            )
        })
        .collect();
    insert_all!(conn, user_clinics::table, rows, 3)
}

/// Writes many audit events at once.
pub fn insert_audit_events(
    conn: &mut DbConnection,
    rows: &[crate::audit::AuditEventRow],
) -> StoreResult<usize> {
    insert_all!(conn, audit_events::table, rows, 12)
}
