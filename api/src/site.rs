//! `/v1/site`: the caller's site, its name and settings.

use actix_web::{HttpResponse, get, patch, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{EntityName, LicencePlan, SiteId, SiteSettings};
use staffroom_persistence::sites::{self, Site, SitePatch};
use utoipa::ToSchema;

use crate::answer::Answer;
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson};
use crate::responses::{Read, UpdateSite};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::{utc, with_etag};

/// A practice account: the tenant every other resource belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteView {
    pub id: SiteId,
    pub name: String,
    pub plan: LicencePlan,
    pub settings: SiteSettings,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Site> for SiteView {
    fn from(s: Site) -> Self {
        Self {
            id: s.id,
            name: s.name,
            plan: s.plan,
            settings: s.settings,
            version: s.version,
            created_at: utc(s.created_at),
            updated_at: utc(s.updated_at),
        }
    }
}

/// Body of `PATCH /v1/site`; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSiteRequest {
    pub name: Option<EntityName>,
    pub settings: Option<SiteSettings>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_site).service(update_site);
}

/// The caller's site.
#[utoipa::path(
    tag = "site",
    responses(
        (status = 200, body = SiteView, description = "The site.", headers(("ETag" = String))),
        Read,
    ),
    security(("bearer" = []))
)]
#[get("/v1/site")]
pub async fn get_site(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let site = principal.site_id;
    let site = db::run(&state, move |c| sites::get(c, site)).await?;
    Ok(with_etag(site.version, &SiteView::from(site)))
}

/// Rename the site or change its settings (site administrators).
#[utoipa::path(
    tag = "site",
    params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body = UpdateSiteRequest,
    responses(
        (status = 200, body = SiteView, description = "The changed site.", headers(("ETag" = String))),
        UpdateSite,
    ),
    security(("bearer" = []))
)]
#[patch("/v1/site")]
pub async fn update_site(
    act: Act,
    principal: Principal,
    if_match: IfMatch,
    body: ValidJson<UpdateSiteRequest>,
) -> Result<Answer, ApiError> {
    let update = sites::UpdateSite {
        expected_version: if_match.0,
        patch: SitePatch {
            name: body.0.name,
            settings: body.0.settings,
        },
    };
    act.run(principal.audit(), update, site_answer).await
}

/// `200` with the site and its `ETag`.
pub fn site_answer(site: Site) -> Answer {
    Answer::with_etag(site.version, &SiteView::from(site))
}
