//! Handlers of `/v1/users`: extract, validate, call one use-case, answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use staffroom_domain::{AccessReplacement, UserId, UserStatus};
use staffroom_persistence::access::ReplaceAccess;
use staffroom_persistence::users::{
    self, ChangeType, CreateUser, SetStatus, UpdateProfile, UserPatch,
};

use super::types::*;
use crate::answer::Answer;
use crate::auth::{Principal, Requester, Trip};
use crate::db;
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::read_cache::read_key;
use crate::responses::{ActionIfMatch, Create, List, ReadOne, Update};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::{page_limit, query_text};

/// List the site's users, filtered, sorted and a page at a time.
#[utoipa::path(
    tag = "users",
    params(ListUsersQuery),
    responses(
        (status = 200, body = UserPage, description = "A page of users."),
        List,
    ),
    security(("bearer" = []))
)]
#[get("/v1/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    requester: Requester,
    query: ValidQuery<ListUsersQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let limit = page_limit(q.limit)?;
    query_text("q", q.q.as_deref(), 200)?;
    let query = q.into_user_query(limit);
    let trip = Trip::short_if(query.is_bounded());
    requester
        .answer(&state, trip, &read_key(&req), move |c, site| {
            let page = UserPage::from_page(users::list(c, site, &query)?);
            Ok(Answer::json(StatusCode::OK, &page))
        })
        .await
}

/// Create a user.
///
/// Without `initial_password` the user is emailed an invitation and cannot log in until
/// they accept it (`POST /v1/invitations/{token}/accept`). The new user is active and needs
/// a licence under the site's plan (`409 licence_limit_reached` or `solo_slot_taken`).
/// A permission or clinic the access rules refuse — one the profession may not hold
/// (`soap_not_allowed_for_profession`, `finish_notes_not_allowed_for_profession`),
/// `site_admin` granted by a clinic administrator (`permission_not_grantable`), a clinic
/// the caller has no access to (`clinic_not_accessible`) — answers `422
/// validation_failed` listing each under its field (`permissions[0]`, `clinic_ids[1]`,
/// `default_clinic_id`) with the rule's code, and creates nothing.
///
/// With `initial_password`, while too many passwords are being hashed at once, answers
/// `503 hashing_busy` with `Retry-After`.
#[utoipa::path(
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserView, description = "Created; `Location` names the new user.", headers(("ETag" = String), ("Location" = String))),
        Create,
    ),
    security(("bearer" = []))
)]
#[post("/v1/users")]
pub async fn create_user(
    act: Act,
    principal: Principal,
    body: ValidJson<CreateUserRequest>,
) -> Result<Answer, ApiError> {
    let body = body.0;
    let password_hash = act
        .state()
        .hashing
        .hash_optional(body.initial_password.clone())
        .await?;
    let invitation = password_hash
        .is_none()
        .then(|| crate::invitation_messages::new_invitation(act.state(), body.first_name.as_str()));
    let create = CreateUser {
        creator: principal.creator(),
        new: body.into_new_user(password_hash),
        invitation,
    };
    act.run(principal.audit(), create, |user| {
        let location = format!("/v1/users/{}", user.id);
        Answer::created(location, user.version, &UserView::from(user))
    })
    .await
}

/// Read one user.
#[utoipa::path(
    tag = "users",
    params(("id" = UserId, Path, description = "User id")),
    responses(
        (status = 200, body = UserView, description = "The user.", headers(("ETag" = String))),
        ReadOne,
    ),
    security(("bearer" = []))
)]
#[get("/v1/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    requester: Requester,
    id: web::Path<UserId>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    requester
        .answer(&state, Trip::Short, &read_key(&req), move |c, site| {
            let user = users::get(c, site, id)?;
            Ok(Answer::with_etag(user.version, &UserView::from(user)))
        })
        .await
}

/// Loads a user the principal administers (`404` outside the site, `403` outside scope).
async fn administered(
    state: &AppState,
    principal: &Principal,
    id: UserId,
) -> Result<users::User, ApiError> {
    let site = principal.site_id;
    let user = db::run(state, move |c| users::get(c, site, id)).await?;
    principal.require_administers(&user)?;
    Ok(user)
}

/// Update a user's profile: title, names, email and profession.
///
/// Absent fields stay as they are. Send `If-Match` with the user's `ETag` so that a
/// concurrent change is not overwritten (`412 precondition_failed` when there was one).
#[utoipa::path(
    tag = "users",
    params(
        ("id" = UserId, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = UserView, description = "The changed user.", headers(("ETag" = String))),
        Update,
    ),
    security(("bearer" = []))
)]
#[patch("/v1/users/{id}")]
pub async fn update_user(
    act: Act,
    principal: Principal,
    id: web::Path<UserId>,
    if_match: IfMatch,
    body: ValidJson<UpdateUserRequest>,
) -> Result<Answer, ApiError> {
    let (body, id) = (body.0, id.into_inner());
    administered(act.state(), &principal, id).await?;
    let patch = UserPatch {
        title: body.title,
        first_name: body.first_name,
        last_name: body.last_name,
        email: body.email,
        profession: body.profession,
    };
    let update = UpdateProfile::profile(id, if_match.0, patch);
    act.run(principal.audit(), update, user_answer).await
}

async fn set_status(
    act: Act,
    principal: Principal,
    id: UserId,
    if_match: IfMatch,
    status: UserStatus,
) -> Result<Answer, ApiError> {
    administered(act.state(), &principal, id).await?;
    let set = SetStatus {
        id,
        expected_version: if_match.0,
        status,
    };
    act.run(principal.audit(), set, user_answer).await
}

/// `200` with the user and their `ETag`.
fn user_answer(user: users::User) -> Answer {
    Answer::with_etag(user.version, &UserView::from(user))
}

/// Deactivate a user.
///
/// The record stays (history, reports), the licence is freed and the user's tokens stop
/// working. Deactivating an inactive user changes nothing and answers `200`.
#[utoipa::path(
    tag = "users",
    params(
        ("id" = UserId, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    responses(
        (status = 200, body = UserView, description = "The user, now inactive.", headers(("ETag" = String))),
        ActionIfMatch,
    ),
    security(("bearer" = []))
)]
#[post("/v1/users/{id}/deactivate")]
pub async fn deactivate_user(
    act: Act,
    principal: Principal,
    id: web::Path<UserId>,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    set_status(
        act,
        principal,
        id.into_inner(),
        if_match,
        UserStatus::Inactive,
    )
    .await
}

/// Reactivate a user.
///
/// Needs a free licence under the site's plan (`409 licence_limit_reached` or
/// `solo_slot_taken`). Reactivating an active user changes nothing and answers `200`.
#[utoipa::path(
    tag = "users",
    params(
        ("id" = UserId, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    responses(
        (status = 200, body = UserView, description = "The user, now active.", headers(("ETag" = String))),
        ActionIfMatch,
    ),
    security(("bearer" = []))
)]
#[post("/v1/users/{id}/reactivate")]
pub async fn reactivate_user(
    act: Act,
    principal: Principal,
    id: web::Path<UserId>,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    set_status(
        act,
        principal,
        id.into_inner(),
        if_match,
        UserStatus::Active,
    )
    .await
}

/// Change a user's type, clinical or non-clinical (site administrators).
///
/// The type, and so the lists and filters, change at once; `diary_enabled` follows at the
/// user's next login. An active user's switch must fit the plan (`409
/// licence_limit_reached` or `solo_slot_taken`).
#[utoipa::path(
    tag = "users",
    params(
        ("id" = UserId, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = ChangeTypeRequest,
    responses(
        (status = 200, body = UserView, description = "The changed user.", headers(("ETag" = String))),
        Update,
    ),
    security(("bearer" = []))
)]
#[put("/v1/users/{id}/type")]
pub async fn change_user_type(
    act: Act,
    principal: Principal,
    id: web::Path<UserId>,
    if_match: IfMatch,
    body: ValidJson<ChangeTypeRequest>,
) -> Result<Answer, ApiError> {
    let change = ChangeType {
        id: id.into_inner(),
        expected_version: if_match.0,
        user_type: body.0.user_type,
    };
    act.run(principal.audit(), change, user_answer).await
}

/// Replace a user's permissions (site and clinic administrators).
///
/// All or nothing: a permission the user's profession may not hold, or that the caller may
/// not grant or remove, answers `422 validation_failed` with one entry per refused
/// permission and the rule's code (`soap_not_allowed_for_profession`,
/// `permission_not_grantable`, …). The last site administrator, and the last clinic
/// administrator of a clinic, keep theirs (`409 last_admin`).
#[utoipa::path(
    tag = "users",
    params(
        ("id" = UserId, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = SetPermissionsRequest,
    responses(
        (status = 200, body = UserView, description = "The changed user.", headers(("ETag" = String))),
        Update,
    ),
    security(("bearer" = []))
)]
#[put("/v1/users/{id}/permissions")]
pub async fn set_user_permissions(
    act: Act,
    principal: Principal,
    id: web::Path<UserId>,
    if_match: IfMatch,
    body: ValidJson<SetPermissionsRequest>,
) -> Result<Answer, ApiError> {
    let wanted = AccessReplacement::Permissions(body.0.permissions);
    replace_access(act, principal, id.into_inner(), if_match, wanted).await
}

/// Replace a user's clinics and default clinic (site and clinic administrators).
///
/// Clinic administrators grant and remove only their own clinics; the default clinic
/// cannot be removed (move the default first, or in the same request). A refused change
/// answers `422 validation_failed` with the rule's code and changes nothing.
#[utoipa::path(
    tag = "users",
    params(
        ("id" = UserId, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = SetClinicsRequest,
    responses(
        (status = 200, body = UserView, description = "The changed user.", headers(("ETag" = String))),
        Update,
    ),
    security(("bearer" = []))
)]
#[put("/v1/users/{id}/clinics")]
pub async fn set_user_clinics(
    act: Act,
    principal: Principal,
    id: web::Path<UserId>,
    if_match: IfMatch,
    body: ValidJson<SetClinicsRequest>,
) -> Result<Answer, ApiError> {
    let wanted = AccessReplacement::Clinics {
        clinic_ids: body.0.clinic_ids,
        default_clinic_id: body.0.default_clinic_id,
    };
    replace_access(act, principal, id.into_inner(), if_match, wanted).await
}

/// Runs [`ReplaceAccess`] for a user the principal administers.
async fn replace_access(
    act: Act,
    principal: Principal,
    id: UserId,
    if_match: IfMatch,
    wanted: AccessReplacement,
) -> Result<Answer, ApiError> {
    administered(act.state(), &principal, id).await?;
    let replace = ReplaceAccess {
        actor: principal.actor_scope(),
        id,
        expected_version: if_match.0,
        wanted,
    };
    act.run(principal.audit(), replace, user_answer).await
}
