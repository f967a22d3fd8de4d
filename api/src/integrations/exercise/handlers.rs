//! The exercise integration's handlers: each parses its input, calls one query or use-case,
//! and maps the answer.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use staffroom_domain::{ClmId, ExerciseAction, ProblemCode, UserId};
use staffroom_persistence::exercise::{self, DisconnectSite, ExerciseUserView, RenameUser};

use super::types::{
    ConnectExerciseRequest, ExerciseIntegrationView, ExerciseNamesRequest, ExerciseUserPage,
    ExerciseUserStateView, LaunchLinkView, ListExerciseUsersQuery,
};
use super::use_cases;
use crate::answer::Answer;
use crate::auth::{Principal, Requester, Trip};
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::responses::{
    Action, ActionWithBody, AdminList, AdminRead, AdminReadOne, Conflict, Delete, Forbidden, Read,
    Unprocessable, Update, UpdateSite,
};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::page_limit;
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
    requester: Requester,
) -> Result<HttpResponse, ApiError> {
    let row = requester
        .run_as(&state, Trip::Short, exercise::integration)
        .await?;
    Ok(use_cases::integration_answer(row).into_response())
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
    act: Act,
    principal: Principal,
    if_match: IfMatch,
    body: ValidJson<ConnectExerciseRequest>,
) -> Result<Answer, ApiError> {
    let clm_id = ClmId::parse(&body.0.clm_id)
        .map_err(|e| ApiError::validation(vec![e.for_field("clm_id")]))?;
    use_cases::connect(act, principal.audit(), clm_id, if_match.0).await
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
    act: Act,
    principal: Principal,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    let disconnect = DisconnectSite {
        expected_version: if_match.0,
    };
    act.run(principal.audit(), disconnect, |()| Answer::no_content())
        .await
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
    requester: Requester,
    query: ValidQuery<ListExerciseUsersQuery>,
) -> Result<web::Json<ExerciseUserPage>, ApiError> {
    let limit = page_limit(query.0.limit)?;
    let cursor = query.0.cursor;
    let page = requester
        .run(&state, move |c, site| {
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
    requester: Requester,
    user_id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let user = user_id.into_inner();
    let view = requester
        .run_as(&state, Trip::Short, move |c, site| {
            exercise::get_user(c, site, user)
        })
        .await?;
    Ok(user_answer(view).into_response())
}

/// A user's state with the ETag of their provider record (`"0"` while nothing is stored).
fn user_answer(view: ExerciseUserView) -> Answer {
    Answer::with_etag(view.version, &ExerciseUserStateView::from(view))
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
    act: Act,
    principal: Principal,
    user_id: web::Path<UserId>,
    if_match: IfMatch,
    body: ValidJson<ExerciseNamesRequest>,
) -> Result<Answer, ApiError> {
    let rename = RenameUser {
        user: user_id.into_inner(),
        names: body.0.names(),
        expected_version: if_match.0,
    };
    act.run(principal.audit(), rename, user_answer).await
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
    act: Act,
    principal: Principal,
    user_id: web::Path<UserId>,
    body: ValidJson<ExerciseNamesRequest>,
) -> Result<Answer, ApiError> {
    let (ctx, user, names) = (principal.audit(), user_id.into_inner(), body.0.names());
    use_cases::act(act, ctx, user, ExerciseAction::Add, Some(names)).await
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
    act: Act,
    principal: Principal,
    user_id: web::Path<UserId>,
) -> Result<Answer, ApiError> {
    let (ctx, user) = (principal.audit(), user_id.into_inner());
    use_cases::act(act, ctx, user, ExerciseAction::Deactivate, None).await
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
    act: Act,
    principal: Principal,
    user_id: web::Path<UserId>,
) -> Result<Answer, ApiError> {
    let (ctx, user) = (principal.audit(), user_id.into_inner());
    use_cases::act(act, ctx, user, ExerciseAction::Reactivate, None).await
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
    let user = principal.user.as_ref().ok_or_else(not_provisioned)?.id;
    let link = use_cases::launch(&state, principal.site_id, user)
        .await?
        .ok_or_else(not_provisioned)?;
    Ok(web::Json(LaunchLinkView {
        url: link.url,
        expires_at: link.expires_at,
    }))
}
