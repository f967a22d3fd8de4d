//! `/v1/referrals`: scan referrals through the imaging integration (SPEC §6.2). A connected
//! user refers; every user of the site reads the site's referrals; the provider's reports
//! arrive through the webhook.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::imaging::ReferralStatus;
use staffroom_domain::{EntityName, JobFailure, JobProgress, PersonName, ReferralId, UserId};
use staffroom_persistence::imaging::referrals::{self, CreateReferral, ReferralQuery, ReferralRow};
use staffroom_persistence::outbox::JobRow;
use utoipa::{IntoParams, ToSchema};

use super::super::{provider_refused, provider_unavailable};
use crate::answer::Answer;
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::{ValidJson, ValidQuery};
use crate::responses::{Create, List, ReadOne};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::{page_limit, page_of, utc};

/// A scan referral.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralView {
    pub id: ReferralId,
    /// The referring user.
    pub user_id: UserId,
    pub patient_name: String,
    pub body_part: String,
    pub notes: Option<String>,
    /// `pending` until the provider takes it, then `sent` (or `failed`), `reported` once a
    /// report came back.
    pub status: ReferralStatus,
    pub provider_referral_id: Option<String>,
    pub last_error: Option<String>,
    pub report: Option<ReportView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The provider's report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub summary: Option<String>,
    /// Links to the images.
    pub images: Vec<String>,
    pub reported_at: Option<DateTime<Utc>>,
}

impl From<ReferralRow> for ReferralView {
    fn from(r: ReferralRow) -> Self {
        let report = r.reported_at.map(|at| ReportView {
            summary: r.report_summary.clone(),
            images: r.images(),
            reported_at: Some(utc(at)),
        });
        Self {
            id: r.id,
            user_id: r.user_id,
            patient_name: r.patient_name,
            body_part: r.body_part,
            notes: r.notes,
            status: r.status,
            provider_referral_id: r.provider_referral_id,
            last_error: r.last_error,
            report,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

page_of!(ReferralPage, ReferralView);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferralRequest {
    pub patient_name: PersonName,
    pub body_part: EntityName,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListReferralsQuery {
    /// Only referrals in this state.
    pub status: Option<ReferralStatus>,
    /// Only referrals made by this user.
    pub user_id: Option<uuid::Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// `201` with the referral (`202` while the provider has not taken it yet).
fn referral_answer(row: ReferralRow) -> Answer {
    let (id, version) = (row.id, row.version);
    let status = if row.status == ReferralStatus::Pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    Answer::json(status, &ReferralView::from(row))
        .header(header::LOCATION, format!("/v1/referrals/{id}"))
        .header(header::ETAG, crate::etag::format(version))
}

/// Writes the referral with its job (`CreateReferral`), runs the job up to the budget and
/// answers what it came to.
async fn refer(
    act: Act,
    principal: &Principal,
    body: CreateReferralRequest,
) -> Result<Answer, ApiError> {
    let user = principal
        .user
        .as_ref()
        .map(|u| u.id)
        .ok_or_else(|| ApiError::forbidden("Only a user makes referrals."))?;
    let notes = body.notes.filter(|n| !n.trim().is_empty());
    if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::field(
            "notes",
            "too_long",
            "notes is at most 2000 characters.",
        ));
    }
    let create = CreateReferral {
        user,
        patient_name: body.patient_name.to_string(),
        body_part: body.body_part.to_string(),
        notes,
        callback_url: format!("{}/v1/webhooks/imaging", act.state().public_url),
    };
    let site = principal.site_id;
    let pending = |(row, job): (ReferralRow, JobRow)| {
        let id = row.id;
        (referral_answer(row), (job, id))
    };
    let ((job, id), provisional) = act
        .run_provisional(principal.audit(), create, pending)
        .await?;
    let state = provisional.state();
    let progress = state.providers.jobs.run(&job).await;
    let answer = db::run(state, move |c| referrals::get(c, site, id))
        .await
        .and_then(|row| match (progress, row.status) {
            (JobProgress::Failed(JobFailure::GaveUp(error)), _) => Err(provider_unavailable(
                format!("The provider stayed unavailable; the referral failed ({error})."),
            )),
            (_, ReferralStatus::Failed) => Err(provider_refused(
                row.last_error.as_deref().unwrap_or("no reason given"),
            )
            .with("referral_id", id.to_string())),
            _ => Ok(referral_answer(row)),
        });
    provisional.settle(answer).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_referrals)
        .service(create_referral)
        .service(get_referral);
}

/// The site's referrals, newest first (every user of the site reads them).
#[utoipa::path(
    tag = "integrations",
    params(ListReferralsQuery),
    responses(
        (status = 200, body = ReferralPage, description = "A page of referrals."),
        List,
    ),
    security(("bearer" = []))
)]
#[get("/v1/referrals")]
pub async fn list_referrals(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ListReferralsQuery>,
) -> Result<web::Json<ReferralPage>, ApiError> {
    let q = query.0;
    let query = ReferralQuery {
        status: q.status,
        user_id: q.user_id.map(UserId::from_uuid),
        limit: page_limit(q.limit)?,
        cursor: q.cursor,
    };
    let site = principal.site_id;
    let page = db::run(&state, move |c| referrals::list(c, site, &query)).await?;
    Ok(web::Json(ReferralPage::from_page(page)))
}

/// Make a scan referral (a connected user; `403 not_connected` otherwise).
///
/// Sent to the provider through the outbox: `201` once the provider took it, `202` with
/// `pending` while it has not answered yet.
#[utoipa::path(
    tag = "integrations",
    request_body = CreateReferralRequest,
    responses(
        (status = 201, body = ReferralView, description = "Sent.", headers(("Location" = String), ("ETag" = String))),
        (status = 202, body = ReferralView, description = "Pending: the provider has not answered yet.", headers(("Location" = String), ("ETag" = String))),
        Create,
    ),
    security(("bearer" = []))
)]
#[post("/v1/referrals")]
pub async fn create_referral(
    act: Act,
    principal: Principal,
    body: ValidJson<CreateReferralRequest>,
) -> Result<Answer, ApiError> {
    refer(act, &principal, body.0).await
}

/// One referral of the site.
#[utoipa::path(
    tag = "integrations",
    params(("id" = ReferralId, Path, description = "Referral id")),
    responses(
        (status = 200, body = ReferralView, description = "The referral."),
        ReadOne,
    ),
    security(("bearer" = []))
)]
#[get("/v1/referrals/{id}")]
pub async fn get_referral(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (site, id) = (principal.site_id, ReferralId::from_uuid(id.into_inner()));
    let row = db::run(&state, move |c| referrals::get(c, site, id)).await?;
    let version = row.version;
    Ok(Answer::with_etag(version, &ReferralView::from(row)).into_response())
}
