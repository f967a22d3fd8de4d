//! The audit log: one event per change, written in the change's transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use staffroom_domain::{ActorKind, AuditAction, AuditEventId, AuditTarget, SiteId};

use crate::backend::{AuditConstants, insert_audit_events};
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::audit_events;
use crate::tx::{AuditContext, now};
use crate::{DbConnection, StoreResult};

/// What happened to which record, with its state before and after.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: AuditAction,
    pub target: AuditTarget,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    /// A record came into being: no state before, `after` as it now is.
    pub fn created(
        action: AuditAction,
        target: AuditTarget,
        after: &impl serde::Serialize,
    ) -> Self {
        Self {
            action,
            target,
            before: None,
            after: serde_json::to_value(after).ok(),
        }
    }

    /// A record changed from `before` to `after` (both as the API shows them).
    pub fn edited(
        action: AuditAction,
        target: AuditTarget,
        before: &impl serde::Serialize,
        after: &impl serde::Serialize,
    ) -> Self {
        Self {
            action,
            target,
            before: serde_json::to_value(before).ok(),
            after: serde_json::to_value(after).ok(),
        }
    }
}

/// One stored event, as the audit feed reads it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: AuditEventId,
    pub site_id: SiteId,
    pub occurred_at: NaiveDateTime,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    pub on_behalf_of: Option<String>,
    pub action: AuditAction,
    pub target_type: String,
    pub target_id: Option<String>,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub request_id: Option<String>,
}

/// One event to write.
#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditEvent<'a> {
    id: AuditEventId,
    site_id: SiteId,
    occurred_at: NaiveDateTime,
    actor_kind: ActorKind,
    actor_id: Option<&'a str>,
    on_behalf_of: Option<&'a str>,
    action: AuditAction,
    target_type: &'static str,
    target_id: AuditTarget,
    before_state: Option<String>,
    after_state: Option<String>,
    request_id: Option<&'a str>,
}

/// Records one change made by `ctx`.
pub fn record(conn: &mut DbConnection, ctx: &AuditContext, change: Change) -> StoreResult<()> {
    let event = NewAuditEvent {
        id: AuditEventId::new(),
        site_id: ctx.site_id,
        occurred_at: now(),
        actor_kind: ctx.actor_kind,
        actor_id: ctx.actor_id.as_deref(),
        on_behalf_of: ctx.on_behalf_of.as_deref(),
        action: change.action,
        target_type: change.target.kind(),
        target_id: change.target,
        before_state: change.before.map(|v| v.to_string()),
        after_state: change.after.map(|v| v.to_string()),
        request_id: ctx.request_id.as_deref(),
    };
    diesel::insert_into(audit_events::table)
        .values(&event)
        .execute(conn)?;
    Ok(())
}

/// Records many changes made by `ctx` with a handful of statements: one per distinct
/// change (action, target type, before, after), whatever the number of targets.
pub fn record_all(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    changes: Vec<Change>,
) -> StoreResult<()> {
    type Key = (AuditAction, &'static str, Option<String>, Option<String>);
    type Targets = Vec<(AuditEventId, AuditTarget)>;
    let mut groups: Vec<(Key, Targets)> = Vec::new();
    let mut index: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    for c in changes {
        let key = (
            c.action,
            c.target.kind(),
            c.before.map(|v| v.to_string()),
            c.after.map(|v| v.to_string()),
        );
        let row = (AuditEventId::new(), c.target);
        match index.get(&key) {
            Some(&i) => groups[i].1.push(row),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![row]));
            }
        }
    }
    let occurred_at = now();
    for ((action, target_type, before, after), rows) in &groups {
        let shared = AuditConstants {
            site_id: ctx.site_id,
            occurred_at,
            actor_kind: ctx.actor_kind,
            actor_id: ctx.actor_id.as_deref(),
            on_behalf_of: ctx.on_behalf_of.as_deref(),
            request_id: ctx.request_id.as_deref(),
            action: *action,
            target_type,
            before_state: before.as_deref(),
            after_state: after.as_deref(),
        };
        insert_audit_events(conn, &shared, rows)?;
    }
    Ok(())
}

/// Filters of the audit feed; all optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<AuditAction>,
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
        .filter(audit_events::site_id.eq(site))
        .select(AuditEventRow::as_select())
        .order(audit_events::id.desc())
        .limit(q.limit + 1)
        .into_boxed();
    if let Some(v) = q.action {
        query = query.filter(audit_events::action.eq(v));
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
        let after: AuditEventId = decode_cursor(cursor)?;
        query = query.filter(audit_events::id.lt(after));
    }
    let rows = query.load(conn)?;
    Ok(page_from_rows(rows, q.limit, |r| r.id))
}
