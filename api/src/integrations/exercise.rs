//! `/v1/integrations/exercise`: the exercise-prescription integration (SPEC §6.1). Site
//! administrators connect the site's clinic (`clm_id`, confirmed with the provider) and
//! add, deactivate and reactivate users at the provider; users get a launch link.
//!
//! Adding, deactivating and reactivating write the user's `pending` state and an outbox job
//! in one transaction, then run the job at once: the answer is `200` with the new state when
//! the provider answered within the budget, `202` with `pending` when it did not (a worker
//! retries until it does), and a problem document when the provider refused (the state
//! moved back).

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_connectors::ProviderError;
use staffroom_domain::{
    ActionAnswer, AfterRun, ExerciseAction, ExerciseNames, ExerciseState, FieldError, JobFailure,
    JobId, Permission, PersonName, ProblemCode, UserId, UserStatus, action_answer,
};
use staffroom_persistence::exercise::{self, ExerciseUserView, IntegrationRow};
use utoipa::{IntoParams, ToSchema};

use super::{provider_problem, provider_refused, provider_unavailable};
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::responses::{
    Action, ActionWithBody, AdminList, AdminRead, AdminReadOne, Conflict, Delete, Forbidden, Read,
    Unprocessable, Update, UpdateSite,
};
use crate::state::AppState;
use crate::views::{page_limit, page_of, utc, with_etag};

/// The site's connection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExerciseIntegrationView {
    pub connected: bool,
    /// The provider clinic's id, e.g. `CLM-1234`.
    pub clm_id: Option<String>,
    /// The clinic's name at the provider.
    pub clinic_name: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
}

impl From<Option<IntegrationRow>> for ExerciseIntegrationView {
    fn from(row: Option<IntegrationRow>) -> Self {
        match row {
            Some(r) => Self {
                connected: true,
                clm_id: Some(r.clm_id),
                clinic_name: Some(r.clinic_name),
                connected_at: Some(utc(r.connected_at)),
            },
            None => Self {
                connected: false,
                clm_id: None,
                clinic_name: None,
                connected_at: None,
            },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectExerciseRequest {
    /// The clinic id the provider gave the site (`CLM-` and digits).
    #[schema(min_length = 1, max_length = 64, example = "CLM-1234")]
    pub clm_id: String,
}

/// A site user with their state at the provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExerciseUserStateView {
    pub user_id: UserId,
    pub email: String,
    /// The user's status in Staffroom.
    pub user_status: UserStatus,
    pub state: ExerciseState,
    /// While `pending`: what the provider call in flight will do.
    pub pending_action: Option<ExerciseAction>,
    /// The names to send (guessed from the profile until edited), or the names sent.
    pub first_name: PersonName,
    pub last_name: PersonName,
    /// Names cannot change once the user is added.
    pub names_locked: bool,
    /// The provider's reason when the last call was refused (while a call is retried, its
    /// job shows the last error).
    pub last_error: Option<String>,
    /// The outbox job of the last action (`GET /v1/outbox-jobs/{id}`).
    pub job_id: Option<JobId>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<ExerciseUserView> for ExerciseUserStateView {
    fn from(v: ExerciseUserView) -> Self {
        Self {
            user_id: v.user_id,
            email: v.email,
            user_status: v.user_status,
            state: v.state,
            pending_action: v.pending_action,
            first_name: v.names.first_name,
            last_name: v.names.last_name,
            names_locked: v.names_locked,
            last_error: v.last_error,
            job_id: v.job_id,
            updated_at: v.updated_at.map(utc),
        }
    }
}

page_of!(ExerciseUserPage, ExerciseUserStateView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListExerciseUsersQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The names to send to the provider.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExerciseNamesRequest {
    pub first_name: PersonName,
    pub last_name: PersonName,
}

impl ExerciseNamesRequest {
    fn names(self) -> ExerciseNames {
        ExerciseNames {
            first_name: self.first_name,
            last_name: self.last_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LaunchLinkView {
    /// Opens the exercise tool signed in as the user.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_exercise_integration)
        .service(connect_exercise_integration)
        .service(disconnect_exercise_integration)
        .service(list_exercise_users)
        .service(get_exercise_user)
        .service(rename_exercise_user)
        .service(add_exercise_user)
        .service(deactivate_exercise_user)
        .service(reactivate_exercise_user)
        .service(launch_exercise);
}

/// The site's connection to the exercise provider.
///
/// Its `ETag` is `"0"` while the site is not connected.
#[utoipa::path(
    tag = "integrations",
    responses(
        (status = 200, body = ExerciseIntegrationView, description = "The connection.", headers(("ETag" = String))),
        AdminRead,
    ),
    security(("bearer" = []))
)]
#[get("/v1/integrations/exercise")]
pub async fn get_exercise_integration(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::SiteAdmin)?;
    let site = principal.site_id;
    let row = db::run(&state, move |c| exercise::integration(c, site)).await?;
    Ok(integration_answer(row))
}

fn integration_answer(row: Option<IntegrationRow>) -> HttpResponse {
    let version = row.as_ref().map_or(0, |r| r.version);
    with_etag(version, &ExerciseIntegrationView::from(row))
}

/// Connect the site to the exercise provider.
///
/// The site's primary clinic is named by the `clm_id` the provider gave it; the provider
/// confirms it first: an unknown one answers `422 invalid_clinic_id` and stores nothing.
#[utoipa::path(
    tag = "integrations",
    params(
        ("If-Match" = Option<String>, Header, description = "ETag of the connection being replaced (`\"0\"`: none)"),
    ),
    request_body = ConnectExerciseRequest,
    responses(
        (status = 200, body = ExerciseIntegrationView, description = "Connected.", headers(("ETag" = String))),
        UpdateSite,
    ),
    security(("bearer" = []))
)]
#[put("/v1/integrations/exercise")]
pub async fn connect_exercise_integration(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    body: ValidJson<ConnectExerciseRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::SiteAdmin)?;
    let clm_id = body.0.clm_id.trim().to_owned();
    if clm_id.is_empty() || clm_id.chars().count() > 64 || clm_id.chars().any(char::is_control) {
        return Err(ApiError::field(
            "clm_id",
            "invalid_clinic_id",
            "clm_id must be 1 to 64 printable characters",
        ));
    }
    let clinic = match state.providers.exercise.find_clinic(&clm_id).await {
        Ok(clinic) => clinic,
        Err(ProviderError::Permanent {
            code: Some(code), ..
        }) if code == "unknown_clinic" => {
            let message = format!("The provider does not know the clinic {clm_id}.");
            return Err(ApiError::validation(vec![FieldError::new(
                "clm_id",
                "invalid_clinic_id",
                message.clone(),
            )])
            .with_code(ProblemCode::InvalidClinicId, message));
        }
        Err(ProviderError::Permanent {
            code: Some(code), ..
        }) if code == "invalid_identifier" => {
            return Err(ApiError::field(
                "clm_id",
                "invalid_clinic_id",
                "clm_id cannot be a path segment such as . or ..",
            ));
        }
        Err(e) => return Err(provider_problem(&e)),
    };
    let ctx = principal.audit();
    let row = db::run(&state, move |c| {
        exercise::connect(c, &ctx, &clinic.clm_id, &clinic.name, if_match.0)
    })
    .await?;
    Ok(integration_answer(Some(row)))
}

/// Disconnect the site from the exercise provider.
///
/// Users keep their state; nothing is deleted at the provider.
#[utoipa::path(
    tag = "integrations",
    params(
        ("If-Match" = Option<String>, Header, description = "ETag of the connection being removed"),
    ),
    responses(
        (status = 204, description = "Disconnected."),
        Delete,
    ),
    security(("bearer" = []))
)]
#[delete("/v1/integrations/exercise")]
pub async fn disconnect_exercise_integration(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::SiteAdmin)?;
    let ctx = principal.audit();
    db::run(&state, move |c| exercise::disconnect(c, &ctx, if_match.0)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List the site's users with their state at the exercise provider.
///
/// Each comes with the names to send when added: guessed from the profile until edited.
#[utoipa::path(
    tag = "integrations",
    params(ListExerciseUsersQuery),
    responses(
        (status = 200, body = ExerciseUserPage, description = "A page of users with their provider state."),
        AdminList,
    ),
    security(("bearer" = []))
)]
#[get("/v1/integrations/exercise/users")]
pub async fn list_exercise_users(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ListExerciseUsersQuery>,
) -> Result<web::Json<ExerciseUserPage>, ApiError> {
    principal.require(Permission::SiteAdmin)?;
    let limit = page_limit(query.0.limit)?;
    let (site, cursor) = (principal.site_id, query.0.cursor);
    let page = db::run(&state, move |c| {
        exercise::list_users(c, site, limit, cursor.as_deref())
    })
    .await?;
    Ok(web::Json(ExerciseUserPage::from_page(page)))
}

/// One user's state at the exercise provider.
#[utoipa::path(
    tag = "integrations",
    params(("user_id" = UserId, Path, description = "User id")),
    responses(
        (status = 200, body = ExerciseUserStateView, description = "The user's state at the provider.", headers(("ETag" = String))),
        AdminReadOne,
    ),
    security(("bearer" = []))
)]
#[get("/v1/integrations/exercise/users/{user_id}")]
pub async fn get_exercise_user(
    state: web::Data<AppState>,
    principal: Principal,
    user_id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::SiteAdmin)?;
    let (site, user) = (principal.site_id, user_id.into_inner());
    let view = db::run(&state, move |c| exercise::get_user(c, site, user)).await?;
    Ok(user_answer(view))
}

/// A user's state with the ETag of their provider record (`"0"` while nothing is stored).
fn user_answer(view: ExerciseUserView) -> HttpResponse {
    with_etag(view.version, &ExerciseUserStateView::from(view))
}

/// Edit the names to send to the exercise provider.
///
/// Only until the user is added (`409 names_locked` afterwards).
#[utoipa::path(
    tag = "integrations",
    params(
        ("user_id" = UserId, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the user's provider record"),
    ),
    request_body = ExerciseNamesRequest,
    responses(
        (status = 200, body = ExerciseUserStateView, description = "The names were changed.", headers(("ETag" = String))),
        Update,
    ),
    security(("bearer" = []))
)]
#[patch("/v1/integrations/exercise/users/{user_id}")]
pub async fn rename_exercise_user(
    state: web::Data<AppState>,
    principal: Principal,
    user_id: web::Path<UserId>,
    if_match: IfMatch,
    body: ValidJson<ExerciseNamesRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::SiteAdmin)?;
    let (ctx, user, names) = (principal.audit(), user_id.into_inner(), body.0.names());
    let view = db::run(&state, move |c| {
        exercise::rename_user(c, &ctx, user, &names, if_match.0)
    })
    .await?;
    Ok(user_answer(view))
}

/// Starts `action`, runs its job at once, and answers with where the user stands.
async fn act(
    state: &AppState,
    principal: &Principal,
    user: UserId,
    action: ExerciseAction,
    names: Option<ExerciseNames>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::SiteAdmin)?;
    let ctx = principal.audit();
    let (_, job) = db::run(state, move |c| {
        exercise::start(c, &ctx, user, action, names.as_ref())
    })
    .await?;
    let progress = state.providers.jobs.run(&job).await;
    let site = principal.site_id;
    let view = db::run(state, move |c| exercise::get_user(c, site, user)).await?;
    // The state read now says how the job stands, whoever finished it: this request within
    // its budget, or the call it left running in the background.
    let after = AfterRun {
        latest_job: view.job_id == Some(job.id),
        state: view.state,
        last_error: view.last_error.clone(),
    };
    let failure = match action_answer(action, progress, &after) {
        ActionAnswer::Done => return Ok(HttpResponse::Ok().json(ExerciseUserStateView::from(view))),
        ActionAnswer::Pending => {
            return Ok(HttpResponse::Accepted().json(ExerciseUserStateView::from(view)));
        }
        ActionAnswer::Failed(failure) => failure,
    };
    let problem = match failure {
        JobFailure::GaveUp(error) => provider_unavailable(format!(
            "The provider stayed unavailable and the request was given up; the state \
             is as before ({error})."
        )),
        JobFailure::Refused(error) => provider_refused(&error),
    };
    Err(problem
        .with("state", view.state.as_str())
        .with("job_id", job.id.to_string()))
}

/// Add a user at the exercise provider.
///
/// With these names, which are then locked. Answers `200` with state `active`, or `202`
/// with `pending` while the provider is slow or down: the call is retried until it
/// answers, and the provider never gets the user twice.
#[utoipa::path(
    tag = "integrations",
    params(("user_id" = UserId, Path, description = "User id")),
    request_body = ExerciseNamesRequest,
    responses(
        (status = 200, body = ExerciseUserStateView, description = "Added."),
        (status = 202, body = ExerciseUserStateView, description = "Pending: the provider has not answered yet."),
        ActionWithBody,
    ),
    security(("bearer" = []))
)]
#[post("/v1/integrations/exercise/users/{user_id}")]
pub async fn add_exercise_user(
    state: web::Data<AppState>,
    principal: Principal,
    user_id: web::Path<UserId>,
    body: ValidJson<ExerciseNamesRequest>,
) -> Result<HttpResponse, ApiError> {
    let names = body.0.names();
    act(
        &state,
        &principal,
        user_id.into_inner(),
        ExerciseAction::Add,
        Some(names),
    )
    .await
}

/// Deactivate a user at the exercise provider.
///
/// Deletes them there. Answers `200` with state `deactivated`, or `202` with `pending`
/// while the provider is slow or down.
#[utoipa::path(
    tag = "integrations",
    params(("user_id" = UserId, Path, description = "User id")),
    responses(
        (status = 200, body = ExerciseUserStateView, description = "Deactivated."),
        (status = 202, body = ExerciseUserStateView, description = "Pending: the provider has not answered yet."),
        Action,
    ),
    security(("bearer" = []))
)]
#[post("/v1/integrations/exercise/users/{user_id}/deactivate")]
pub async fn deactivate_exercise_user(
    state: web::Data<AppState>,
    principal: Principal,
    user_id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    act(
        &state,
        &principal,
        user_id.into_inner(),
        ExerciseAction::Deactivate,
        None,
    )
    .await
}

/// Reactivate a user at the exercise provider.
///
/// Creates them there again with the stored names. Answers `200` with state `active`, or
/// `202` with `pending` while the provider is slow or down.
#[utoipa::path(
    tag = "integrations",
    params(("user_id" = UserId, Path, description = "User id")),
    responses(
        (status = 200, body = ExerciseUserStateView, description = "Reactivated."),
        (status = 202, body = ExerciseUserStateView, description = "Pending: the provider has not answered yet."),
        Action,
    ),
    security(("bearer" = []))
)]
#[post("/v1/integrations/exercise/users/{user_id}/reactivate")]
pub async fn reactivate_exercise_user(
    state: web::Data<AppState>,
    principal: Principal,
    user_id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    act(
        &state,
        &principal,
        user_id.into_inner(),
        ExerciseAction::Reactivate,
        None,
    )
    .await
}

/// A single-sign-on link into the exercise tool for the calling user.
///
/// Answers `403 not_provisioned` unless a site administrator added the user at the
/// provider, and `409 integration_not_connected` while the site is not connected.
#[utoipa::path(
    tag = "integrations",
    operation_id = "get_exercise_launch_link",
    responses(
        (status = 200, body = LaunchLinkView, description = "The link to open."),
        Read,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    ),
    security(("bearer" = []))
)]
#[get("/v1/me/integrations/exercise/launch")]
pub async fn launch_exercise(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<LaunchLinkView>, ApiError> {
    let not_provisioned = || {
        ApiError::new(
            ProblemCode::NotProvisioned,
            "You have not been added to the exercise-prescription tool; ask a site administrator.",
        )
    };
    let user = principal
        .user
        .as_ref()
        .map(|u| u.id)
        .ok_or_else(not_provisioned)?;
    let site = principal.site_id;
    let (clm_id, provider_user) = db::run(&state, move |c| exercise::launch_target(c, site, user))
        .await?
        .ok_or_else(not_provisioned)?;
    let key = format!("staffroom-launch-{}", uuid::Uuid::new_v4());
    let link = state
        .providers
        .exercise
        .launch(&clm_id, &provider_user, &key)
        .await
        .map_err(|e| provider_problem(&e))?;
    Ok(web::Json(LaunchLinkView {
        url: link.url,
        expires_at: link.expires_at,
    }))
}
