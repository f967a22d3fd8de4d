//! The audit log: one event per change, written in the change's transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use staffroom_domain::{AuditEventId, SiteId};

use crate::backend::{AuditConstants, insert_audit_events};
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::audit_events;
use crate::tx::{AuditContext, now};
use crate::{DbConnection, StoreResult};

/// What happened to which record, with its state before and after.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: String,
    pub site_id: String,
    pub occurred_at: NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub on_behalf_of: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub request_id: Option<String>,
}

/// Records one change made by `ctx`.
pub fn record(conn: &mut DbConnection, ctx: &AuditContext, change: Change<'_>) -> StoreResult<()> {
    let row = event(ctx, change);
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Records many changes made by `ctx` with a handful of statements: one per distinct
/// change (action, target type, before, after), whatever the number of targets.
pub fn record_all(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    changes: Vec<Change<'_>>,
) -> StoreResult<()> {
    type Key<'a> = (&'a str, &'a str, Option<String>, Option<String>);
    type Targets = Vec<(String, Option<String>)>;
    let mut groups: Vec<(Key<'_>, Targets)> = Vec::new();
    let mut index: std::collections::HashMap<Key<'_>, usize> = std::collections::HashMap::new();
    for c in changes {
        let key = (
            c.action,
            c.target_type,
            c.before.map(|v| v.to_string()),
            c.after.map(|v| v.to_string()),
        );
        let row = (AuditEventId::new().to_string(), c.target_id);
        match index.get(&key) {
            Some(&i) => groups[i].1.push(row),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![row]));
            }
        }
    }
    let (site, occurred_at) = (ctx.site_id.to_string(), now());
    for ((action, target_type, before, after), rows) in &groups {
        let shared = AuditConstants {
            site_id: &site,
            occurred_at,
            actor_kind: &ctx.actor_kind,
            actor_id: ctx.actor_id.as_deref(),
            on_behalf_of: ctx.on_behalf_of.as_deref(),
            request_id: ctx.request_id.as_deref(),
            action,
            target_type,
            before_state: before.as_deref(),
            after_state: after.as_deref(),
        };
        insert_audit_events(conn, &shared, rows)?;
    }
    Ok(())
}

fn event(ctx: &AuditContext, change: Change<'_>) -> AuditEventRow {
    AuditEventRow {
        id: AuditEventId::new().to_string(),
        site_id: ctx.site_id.to_string(),
        occurred_at: now(),
        actor_kind: ctx.actor_kind.clone(),
        actor_id: ctx.actor_id.clone(),
        on_behalf_of: ctx.on_behalf_of.clone(),
        action: change.action.to_owned(),
        target_type: change.target_type.to_owned(),
        target_id: change.target_id,
        before_state: change.before.map(|v| v.to_string()),
        after_state: change.after.map(|v| v.to_string()),
        request_id: ctx.request_id.clone(),
    }
}

/// Filters of the audit feed; all optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub actor_id: Option<String>,
    pub request_id: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    pub limit: i64,
    pub cursor: Option<String>,
}

/// The site's audit events, newest first.
pub fn list(
    conn: &mut DbConnection,
    site: SiteId,
    q: &AuditQuery,
) -> StoreResult<Page<AuditEventRow>> {
    let mut query = audit_events::table
        .filter(audit_events::site_id.eq(site.to_string()))
        .select(AuditEventRow::as_select())
        .order(audit_events::id.desc())
        .limit(q.limit + 1)
        .into_boxed();
    if let Some(v) = &q.action {
        query = query.filter(audit_events::action.eq(v.clone()));
    }
    if let Some(v) = &q.target_type {
        query = query.filter(audit_events::target_type.eq(v.clone()));
    }
    if let Some(v) = &q.target_id {
        query = query.filter(audit_events::target_id.eq(v.clone()));
    }
    if let Some(v) = &q.actor_id {
        query = query.filter(audit_events::actor_id.eq(v.clone()));
    }
    if let Some(v) = &q.request_id {
        query = query.filter(audit_events::request_id.eq(v.clone()));
    }
    if let Some(v) = q.since {
        query = query.filter(audit_events::occurred_at.ge(v));
    }
    if let Some(v) = q.until {
        query = query.filter(audit_events::occurred_at.lt(v));
    }
    if let Some(cursor) = &q.cursor {
        let after: String = decode_cursor(cursor)?;
        query = query.filter(audit_events::id.lt(after));
    }
    let rows = query.load(conn)?;
    Ok(page_from_rows(rows, q.limit, |r| r.id.clone()))
}
