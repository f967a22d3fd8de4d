//! `/v1/outbox-jobs`: the provider calls the site's changes made, with their attempts and
//! last errors (site administrators).

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{JobId, JobKind, JobStatus, UserId};
use staffroom_persistence::outbox::{self, JobQuery, JobRow};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::responses::{AdminList, AdminReadOne};
use crate::state::AppState;
use crate::views::{page_limit, page_of, utc};

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxJobView {
    pub id: JobId,
    pub kind: JobKind,
    pub status: JobStatus,
    /// The user the job is about, if any.
    pub subject_id: Option<UserId>,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due (pending jobs).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure, transient or final.
    pub last_error: Option<String>,
    /// Whether a worker is running it right now.
    pub running: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The request that made the job.
    pub request_id: Option<String>,
}

impl From<JobRow> for OutboxJobView {
    fn from(j: JobRow) -> Self {
        let status = j.status;
        let now = staffroom_persistence::tx::now();
        Self {
            id: j.id,
            kind: j.kind,
            status,
            subject_id: j.subject_id,
            attempts: j.attempts,
            next_attempt_at: (status == JobStatus::Pending).then(|| utc(j.next_attempt_at)),
            last_error: j.last_error,
            running: status == JobStatus::Pending && j.leased_until.is_some_and(|l| l > now),
            created_at: utc(j.created_at),
            updated_at: utc(j.updated_at),
            finished_at: j.finished_at.map(utc),
            request_id: j.request_id,
        }
    }
}

page_of!(OutboxJobPage, OutboxJobView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListJobsQuery {
    /// Only jobs in this state.
    pub status: Option<JobStatus>,
    /// Only jobs of this kind, e.g. `exercise.create_user`.
    pub kind: Option<JobKind>,
    /// Jobs about this user.
    pub subject_id: Option<uuid::Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_outbox_jobs).service(get_outbox_job);
}

/// List the site's provider jobs, newest first.
///
/// Every call to a provider (the exercise tool, email) is a job, retried with backoff
/// while the provider fails for a reason that may pass.
#[utoipa::path(
    tag = "integrations",
    params(ListJobsQuery),
    responses(
        (status = 200, body = OutboxJobPage, description = "A page of jobs."),
        AdminList,
    ),
    security(("bearer" = []))
)]
#[get("/v1/outbox-jobs")]
pub async fn list_outbox_jobs(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ListJobsQuery>,
) -> Result<web::Json<OutboxJobPage>, ApiError> {
    let q = query.0;
    let query = JobQuery {
        status: q.status,
        kind: q.kind,
        subject_id: q.subject_id.map(UserId::from_uuid),
        limit: page_limit(q.limit)?,
        cursor: q.cursor,
    };
    let site = principal.site_id;
    let page = db::run(&state, move |c| outbox::list(c, site, &query)).await?;
    Ok(web::Json(OutboxJobPage::from_page(page)))
}

/// One provider job.
#[utoipa::path(
    tag = "integrations",
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    responses(
        (status = 200, body = OutboxJobView, description = "The job."),
        AdminReadOne,
    ),
    security(("bearer" = []))
)]
#[get("/v1/outbox-jobs/{id}")]
pub async fn get_outbox_job(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<OutboxJobView>, ApiError> {
    let (site, id) = (principal.site_id, JobId::from_uuid(id.into_inner()));
    let job = db::run(&state, move |c| outbox::get(c, site, id)).await?;
    Ok(web::Json(OutboxJobView::from(job)))
}
