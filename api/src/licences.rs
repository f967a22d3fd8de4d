//! `GET /v1/site/licences` and `PUT /v1/site/plan`: licence usage against the plan, and
//! changing the plan or its licence count.

use actix_web::{get, put, web};
use serde::Deserialize;
use staffroom_domain::{LicencePlan, LicenceReport, PlanKind};
use staffroom_persistence::sites::{self, ChangePlan};
use utoipa::ToSchema;

use crate::answer::Answer;
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson};
use crate::responses::{Read, UpdateSite};
use crate::site::{SiteView, site_answer};
use crate::state::AppState;
use crate::usecase::Act;

/// Body of `PUT /v1/site/plan`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePlanRequest {
    pub plan: PlanKind,
    /// Licences of a flex or group plan (1–100000); omitted or 1 for solo.
    #[schema(minimum = 1, maximum = 100_000)]
    pub licences: Option<u32>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_licences).service(change_plan);
}

/// The site's licence usage.
///
/// Also which additions and type switches the plan allows right now.
#[utoipa::path(
    tag = "licences",
    responses(
        (status = 200, body = LicenceReport, description = "The licence usage."),
        Read,
    ),
    security(("bearer" = []))
)]
#[get("/v1/site/licences")]
pub async fn get_licences(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<LicenceReport>, ApiError> {
    let site = principal.site_id;
    let report = db::run(&state, move |c| sites::licences(c, site)).await?;
    Ok(web::Json(report))
}

/// Change the plan or its licence count (site administrators).
///
/// Refused with `409 plan_does_not_fit` when the active users would not fit the new plan.
#[utoipa::path(
    tag = "licences",
    params(("If-Match" = Option<String>, Header, description = "ETag of the site")),
    request_body = ChangePlanRequest,
    responses(
        (status = 200, body = SiteView, description = "The site on its new plan.", headers(("ETag" = String))),
        UpdateSite,
    ),
    security(("bearer" = []))
)]
#[put("/v1/site/plan")]
pub async fn change_plan(
    act: Act,
    principal: Principal,
    if_match: IfMatch,
    body: ValidJson<ChangePlanRequest>,
) -> Result<Answer, ApiError> {
    let plan = LicencePlan::from_parts(body.0.plan, body.0.licences)
        .map_err(|e| ApiError::validation(vec![e.for_field("licences")]))?;
    let change = ChangePlan {
        expected_version: if_match.0,
        plan,
    };
    act.run(principal.audit(), change, site_answer).await
}
