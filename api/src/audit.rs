//! `GET /v1/audit-events`: the audit feed of the site, newest first (site administrators).

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{ActorKind, AuditAction, AuditEventId};
use staffroom_persistence::audit::{self, AuditEventRow, AuditQuery};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::responses::AdminList;
use crate::state::AppState;
use crate::views::{page_limit, page_of, utc};

/// One change: who made it (and for whom), what, and the state before and after.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: AuditEventId,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    pub on_behalf_of: Option<String>,
    pub action: AuditAction,
    pub target_type: String,
    pub target_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

impl From<AuditEventRow> for AuditEventView {
    fn from(r: AuditEventRow) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Self {
            id: r.id,
            occurred_at: utc(r.occurred_at),
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            on_behalf_of: r.on_behalf_of,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            before: parse(r.before_state),
            after: parse(r.after_state),
            request_id: r.request_id,
        }
    }
}

page_of!(AuditEventPage, AuditEventView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListAuditEventsQuery {
    /// Only events of this action, e.g. `user.created`.
    pub action: Option<AuditAction>,
    /// Only events about this kind of resource, e.g. `user` or `clinic`.
    pub target_type: Option<String>,
    /// Only events about the resource with this id.
    pub target_id: Option<String>,
    /// Only events caused by this user, assistant or service account (its id).
    pub actor_id: Option<String>,
    /// Only events of the request with this `X-Request-Id`.
    pub request_id: Option<String>,
    /// Events at or after this instant (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Events before this instant (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit_events);
}

/// List the site's audit events, newest first (site administrators).
#[utoipa::path(
    tag = "audit",
    params(ListAuditEventsQuery),
    responses(
        (status = 200, body = AuditEventPage, description = "A page of audit events."),
        AdminList,
    ),
    security(("bearer" = []))
)]
#[get("/v1/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ListAuditEventsQuery>,
) -> Result<web::Json<AuditEventPage>, ApiError> {
    let q = query.0;
    let query = AuditQuery {
        action: q.action,
        target_type: q.target_type,
        target_id: q.target_id,
        actor_id: q.actor_id,
        request_id: q.request_id,
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
        limit: page_limit(q.limit)?,
        cursor: q.cursor,
    };
    let site = principal.site_id;
    let page = db::run(&state, move |c| audit::list(c, site, &query)).await?;
    Ok(web::Json(AuditEventPage::from_page(page)))
}
