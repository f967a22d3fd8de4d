//! The few statements `MultiConnection` cannot express: bulk inserts, and reads for a set of
//! ids. Each function matches on the backend and runs that backend's fastest form of the
//! same statement:
//!
//! - PostgreSQL: `INSERT … SELECT … FROM unnest($1::text[], …)`, one array parameter per
//!   varying column;
//! - SQLite: `INSERT … SELECT … FROM json_each(?)`, the varying columns as one JSON array of
//!   rows.
//!
//! Either way a statement carries a handful of parameters whatever the row count, so
//! neither the bound-parameter limits (SQLite 32,766, PostgreSQL 65,535) nor the per-value
//! cost of building and binding a 10,000-row `VALUES` list applies. The constant columns
//! are bound once. A set of ids is read the same way (`= ANY($1)`, `IN (SELECT value FROM
//! json_each(?))`): one statement text whatever the set's size, so each connection's
//! statement cache prepares it once, where an `IN (?, ?, …)` list is a new statement for
//! every length.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, Bool, HasSqlType, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use serde::Serialize;
use staffroom_domain::{
    ActorKind, AuditAction, AuditEventId, AuditTarget, ClinicId, Permission, SiteId, UserId,
};

use crate::connection::MultiBackend;
use crate::schema::{user_clinics, user_permissions, users};
use crate::search::{SUFFIX_MATCH_POSTGRES, SUFFIX_MATCH_SQLITE};
use crate::{DbConnection, StoreError, StoreResult};

/// Ids per `IN (…)` list, one parameter each.
pub const CHUNK: usize = 10_000;

/// SQLite's rows: a JSON array of arrays, one inner array per row, each value as its wire
/// text (ids and string enums serialise as the text they are stored as).
fn json_rows<T: Serialize>(rows: &[T]) -> StoreResult<String> {
    serde_json::to_string(rows).map_err(StoreError::corrupt)
}

/// Grants `permission` rows: `(user_id, permission)` pairs of users of `site`.
pub fn insert_permissions(
    conn: &mut DbConnection,
    site: SiteId,
    rows: &[(UserId, Permission)],
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
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.1).collect::<Vec<_>>())
        .execute(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO user_permissions (user_id, site_id, permission) \
             SELECT value ->> 0, ?, value ->> 1 FROM json_each(?)",
        )
        .bind::<Text, _>(site)
        .bind::<Text, _>(json_rows(rows)?)
        .execute(c)?,
    };
    Ok(written)
}

/// Grants clinic access: `(user_id, clinic_id)` pairs of users and clinics of `site`.
pub fn insert_clinics(
    conn: &mut DbConnection,
    site: SiteId,
    rows: &[(UserId, ClinicId)],
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
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.1).collect::<Vec<_>>())
        .execute(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO user_clinics (user_id, clinic_id, site_id) \
             SELECT value ->> 0, value ->> 1, ? FROM json_each(?)",
        )
        .bind::<Text, _>(site)
        .bind::<Text, _>(json_rows(rows)?)
        .execute(c)?,
    };
    Ok(written)
}

/// The filter `column IN (SELECT value FROM json_each(?))` of SQLite, the ids bound as one
/// JSON array. A type of its own rather than a `sql()` literal: Diesel never caches the
/// prepared statement of a query holding a literal, so every read of a user's grants was
/// parsed and planned again; this one has a fixed text and a static query id, and each
/// connection prepares it once.
#[derive(Debug, Clone, diesel::query_builder::QueryId)]
pub(crate) struct InJsonArray<C> {
    column: C,
    json: String,
}

pub(crate) fn in_json_array<C>(column: C, ids: &[UserId]) -> StoreResult<InJsonArray<C>> {
    Ok(InJsonArray {
        column,
        json: json_rows(ids)?,
    })
}

impl<C> Expression for InJsonArray<C> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for InJsonArray<C> {}

impl<C: ValidGrouping<()>> ValidGrouping<()> for InJsonArray<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for InJsonArray<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

/// The user search's condition: the site's users having a suffix in `low..high`
/// ([`SUFFIX_MATCH_SQLITE`], [`SUFFIX_MATCH_POSTGRES`]). A typed expression with a fixed
/// text per backend rather than a `sql()` literal, for the same reason as [`InJsonArray`]:
/// each connection prepares a search once instead of on every request.
#[derive(Debug, Clone, diesel::query_builder::QueryId)]
pub(crate) struct SuffixMatch {
    site: SiteId,
    low: String,
    high: String,
}

impl SuffixMatch {
    pub(crate) fn new(site: SiteId, low: String, high: String) -> Self {
        Self { site, low, high }
    }

    fn walk<'b, DB>(&'b self, pieces: &[&str; 5], mut out: AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: Backend + HasSqlType<Text>,
        SiteId: ToSql<Text, DB>,
        String: ToSql<Text, DB>,
    {
        out.push_sql(pieces[0]);
        out.push_bind_param::<Text, _>(&self.site)?;
        out.push_sql(pieces[1]);
        out.push_bind_param::<Text, _>(&self.site)?;
        out.push_sql(pieces[2]);
        out.push_bind_param::<Text, _>(&self.low)?;
        out.push_sql(pieces[3]);
        out.push_bind_param::<Text, _>(&self.high)?;
        out.push_sql(pieces[4]);
        Ok(())
    }
}

impl Expression for SuffixMatch {
    type SqlType = Bool;
}

impl AppearsOnTable<users::table> for SuffixMatch {}

impl ValidGrouping<()> for SuffixMatch {
    type IsAggregate = is_aggregate::Never;
}

impl QueryFragment<Sqlite> for SuffixMatch {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(&SUFFIX_MATCH_SQLITE, out)
    }
}

impl QueryFragment<Pg> for SuffixMatch {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(&SUFFIX_MATCH_POSTGRES, out)
    }
}

impl QueryFragment<MultiBackend> for SuffixMatch {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, out)
    }
}

/// The `(user, permission)` grants of `users`.
pub fn permissions_of(
    conn: &mut DbConnection,
    users: &[UserId],
) -> StoreResult<Vec<(UserId, Permission)>> {
    let grants =
        user_permissions::table.select((user_permissions::user_id, user_permissions::permission));
    Ok(match conn {
        DbConnection::Pg(c) => grants
            .filter(user_permissions::user_id.eq_any(users))
            .load(c)?,
        DbConnection::Sqlite(c) => grants
            .filter(in_json_array(user_permissions::user_id, users)?)
            .load(c)?,
    })
}

/// The `(user, clinic)` access of `users`, by clinic id.
pub fn clinics_of(
    conn: &mut DbConnection,
    users: &[UserId],
) -> StoreResult<Vec<(UserId, ClinicId)>> {
    let access = user_clinics::table
        .select((user_clinics::user_id, user_clinics::clinic_id))
        .order(user_clinics::clinic_id.asc());
    Ok(match conn {
        DbConnection::Pg(c) => access.filter(user_clinics::user_id.eq_any(users)).load(c)?,
        DbConnection::Sqlite(c) => access
            .filter(in_json_array(user_clinics::user_id, users)?)
            .load(c)?,
    })
}

/// What the audit events of one statement share: the request's who and when, and the
/// change (a bulk update records the same change for many users).
pub struct AuditConstants<'a> {
    pub site_id: SiteId,
    pub occurred_at: NaiveDateTime,
    pub actor_kind: ActorKind,
    pub actor_id: Option<&'a str>,
    pub on_behalf_of: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub action: AuditAction,
    pub target_type: &'a str,
    pub before_state: Option<&'a str>,
    pub after_state: Option<&'a str>,
}

/// Writes audit events that differ only in `(id, target_id)` with one statement.
pub fn insert_audit_events(
    conn: &mut DbConnection,
    shared: &AuditConstants<'_>,
    rows: &[(AuditEventId, AuditTarget)],
) -> StoreResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    const COLUMNS: &str = "INSERT INTO audit_events (site_id, occurred_at, actor_kind, \
        actor_id, on_behalf_of, request_id, action, target_type, before_state, after_state, \
        id, target_id)";
    macro_rules! bind_constants {
        ($query:expr) => {
            $query
                .bind::<Text, _>(shared.site_id)
                .bind::<Timestamp, _>(shared.occurred_at)
                .bind::<Text, _>(shared.actor_kind)
                .bind::<Nullable<Text>, _>(shared.actor_id)
                .bind::<Nullable<Text>, _>(shared.on_behalf_of)
                .bind::<Nullable<Text>, _>(shared.request_id)
                .bind::<Text, _>(shared.action)
                .bind::<Text, _>(shared.target_type)
                .bind::<Nullable<Text>, _>(shared.before_state)
                .bind::<Nullable<Text>, _>(shared.after_state)
        };
    }
    let written = match conn {
        DbConnection::Pg(c) => bind_constants!(diesel::sql_query(format!(
            "{COLUMNS} SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, i, t \
             FROM unnest($11::text[], $12::text[]) AS r (i, t)"
        )))
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.1).collect::<Vec<_>>())
        .execute(c)?,
        DbConnection::Sqlite(c) => bind_constants!(diesel::sql_query(format!(
            "{COLUMNS} SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, value ->> 0, value ->> 1 \
             FROM json_each(?)"
        )))
        .bind::<Text, _>(json_rows(rows)?)
        .execute(c)?,
    };
    Ok(written)
}
