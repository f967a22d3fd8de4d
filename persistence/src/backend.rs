//! The few statements `MultiConnection` cannot express: bulk inserts. Each function matches
//! on the backend and runs that backend's fastest form of the same statement:
//!
//! - PostgreSQL: `INSERT … SELECT … FROM unnest($1::text[], …)`, one array parameter per
//!   varying column;
//! - SQLite: `INSERT … SELECT … FROM json_each(?)`, the varying columns as one JSON array of
//!   rows.
//!
//! Either way a statement carries a handful of parameters whatever the row count, so
//! neither the bound-parameter limits (SQLite 32,766, PostgreSQL 65,535) nor the per-value
//! cost of building and binding a 10,000-row `VALUES` list applies. The constant columns
//! are bound once.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text, Timestamp};

use crate::{DbConnection, StoreResult};

/// Ids per `IN (…)` list, one parameter each.
pub const CHUNK: usize = 10_000;

/// SQLite's rows: a JSON array of arrays, one inner array per row.
fn json_rows<const N: usize>(rows: impl Iterator<Item = [Option<String>; N]>) -> String {
    serde_json::Value::Array(
        rows.map(|row| serde_json::Value::from(row.to_vec()))
            .collect(),
    )
    .to_string()
}

/// Column `i` of SQLite's `json_each` rows.
fn json_column(i: usize) -> String {
    format!("value ->> {i}")
}

/// Column `i` of PostgreSQL's arrays.
fn array_column(i: usize) -> String {
    format!("c{i}")
}

/// Grants `permission` rows: `(user_id, permission)` pairs of users of `site`.
pub fn insert_permissions(
    conn: &mut DbConnection,
    site: &str,
    rows: &[(String, &'static str)],
) -> StoreResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let written = match conn {
        DbConnection::Pg(c) => diesel::sql_query(
            "INSERT INTO user_permissions (user_id, site_id, permission) \
             SELECT u, $1, p FROM unnest($2::text[], $3::text[]) AS t (u, p)",
        )
        .bind::<Text, _>(site)
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.1).collect::<Vec<_>>())
        .execute(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO user_permissions (user_id, site_id, permission) \
             SELECT value ->> 0, ?, value ->> 1 FROM json_each(?)",
        )
        .bind::<Text, _>(site)
        .bind::<Text, _>(json_rows(
            rows.iter()
                .map(|(u, p)| [Some(u.clone()), Some((*p).to_owned())]),
        ))
        .execute(c)?,
    };
    Ok(written)
}

/// Grants clinic access: `(user_id, clinic_id)` pairs of users and clinics of `site`.
pub fn insert_clinics(
    conn: &mut DbConnection,
    site: &str,
    rows: &[(String, String)],
) -> StoreResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let written = match conn {
        DbConnection::Pg(c) => diesel::sql_query(
            "INSERT INTO user_clinics (user_id, clinic_id, site_id) \
             SELECT u, c, $1 FROM unnest($2::text[], $3::text[]) AS t (u, c)",
        )
        .bind::<Text, _>(site)
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>())
        .execute(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO user_clinics (user_id, clinic_id, site_id) \
             SELECT value ->> 0, value ->> 1, ? FROM json_each(?)",
        )
        .bind::<Text, _>(site)
        .bind::<Text, _>(json_rows(
            rows.iter().map(|(u, c)| [Some(u.clone()), Some(c.clone())]),
        ))
        .execute(c)?,
    };
    Ok(written)
}

/// What every audit event of one request shares.
pub struct AuditConstants<'a> {
    pub site_id: &'a str,
    pub occurred_at: NaiveDateTime,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub on_behalf_of: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

/// What differs between the audit events of one request, in column order: `id`, `action`,
/// `target_type`, `target_id`, `before_state`, `after_state`.
pub type AuditVarying = [Option<String>; 6];

const AUDIT_VARYING: [&str; 6] = [
    "id",
    "action",
    "target_type",
    "target_id",
    "before_state",
    "after_state",
];

/// Writes many audit events of one request with one statement.
pub fn insert_audit_events(
    conn: &mut DbConnection,
    shared: &AuditConstants<'_>,
    rows: Vec<AuditVarying>,
) -> StoreResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let insert = |values: &dyn Fn(usize) -> String, constants: [&str; 6], from: &str| {
        format!(
            "INSERT INTO audit_events (site_id, occurred_at, actor_kind, actor_id, \
             on_behalf_of, request_id, {}) SELECT {}, {} FROM {from}",
            AUDIT_VARYING.join(", "),
            constants.join(", "),
            (0..AUDIT_VARYING.len())
                .map(values)
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let written = match conn {
        DbConnection::Pg(c) => {
            let arrays = (0..AUDIT_VARYING.len())
                .map(|i| format!("${}::text[]", i + 7))
                .collect::<Vec<_>>()
                .join(", ");
            let names = (0..AUDIT_VARYING.len())
                .map(array_column)
                .collect::<Vec<_>>()
                .join(", ");
            let sql = insert(
                &array_column,
                ["$1", "$2", "$3", "$4", "$5", "$6"],
                &format!("unnest({arrays}) AS t ({names})"),
            );
            let column = |i: usize| rows.iter().map(|r| r[i].clone()).collect::<Vec<_>>();
            diesel::sql_query(sql)
                .bind::<Text, _>(shared.site_id)
                .bind::<Timestamp, _>(shared.occurred_at)
                .bind::<Text, _>(shared.actor_kind)
                .bind::<Nullable<Text>, _>(shared.actor_id)
                .bind::<Nullable<Text>, _>(shared.on_behalf_of)
                .bind::<Nullable<Text>, _>(shared.request_id)
                .bind::<Array<Nullable<Text>>, _>(column(0))
                .bind::<Array<Nullable<Text>>, _>(column(1))
                .bind::<Array<Nullable<Text>>, _>(column(2))
                .bind::<Array<Nullable<Text>>, _>(column(3))
                .bind::<Array<Nullable<Text>>, _>(column(4))
                .bind::<Array<Nullable<Text>>, _>(column(5))
                .execute(c)?
        }
        DbConnection::Sqlite(c) => {
            let sql = insert(&json_column, ["?"; 6], "json_each(?)");
            diesel::sql_query(sql)
                .bind::<Text, _>(shared.site_id)
                .bind::<Timestamp, _>(shared.occurred_at)
                .bind::<Text, _>(shared.actor_kind)
                .bind::<Nullable<Text>, _>(shared.actor_id)
                .bind::<Nullable<Text>, _>(shared.on_behalf_of)
                .bind::<Nullable<Text>, _>(shared.request_id)
                .bind::<Text, _>(json_rows(rows.into_iter()))
                .execute(c)?
        }
    };
    Ok(written)
}
