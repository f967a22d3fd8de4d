//! `/v1/me/integrations/imaging`: the caller's own connection to the imaging provider
//! (SPEC §6.2). Connecting, updating and reconnecting call the provider through the outbox
//! (`200` done, `202` with `pending`, or a problem with the connection as before);
//! disconnecting and forgetting change only Staffroom's record.

use actix_web::{HttpResponse, get, patch, post, web};
use staffroom_domain::imaging::ImagingAction;
use staffroom_domain::{FieldError, ProblemCode, UserId};
use staffroom_persistence::imaging::connections::{self, Leave, Wanted};

use super::types::{ConnectImagingRequest, ImagingConnectionView, UpdateImagingRequest};
use super::use_cases::{self, connection_answer};
use crate::answer::Answer;
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson};
use crate::responses::{ActionIfMatch, Forbidden, Read, Update};
use crate::state::AppState;
use crate::usecase::Act;

/// The calling user (a service account has no connection of its own).
fn me(principal: &Principal) -> Result<UserId, ApiError> {
    principal
        .user
        .as_ref()
        .map(|u| u.id)
        .ok_or_else(|| ApiError::forbidden("Only a user has an imaging connection."))
}

/// `422 immutable_field` naming each of `fields`.
fn immutable(fields: &[&str]) -> ApiError {
    let errors = fields
        .iter()
        .map(|f| {
            FieldError::new(
                *f,
                ProblemCode::ImmutableField.as_str(),
                format!("{f} cannot change."),
            )
        })
        .collect();
    ApiError::validation(errors).with_code(
        ProblemCode::ImmutableField,
        "Title and names never change; connect with another email instead.",
    )
}

/// The caller's connection to the imaging provider.
///
/// While not connected (or forgotten), the details are prefilled from the profile.
#[utoipa::path(
    tag = "integrations",
    responses(
        (status = 200, body = ImagingConnectionView, description = "The connection.", headers(("ETag" = String))),
        (status = 202, body = ImagingConnectionView, description = "A provider call is pending.", headers(("ETag" = String))),
        Read,
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
#[get("/v1/me/integrations/imaging")]
pub async fn get_my_imaging_connection(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let (site, user) = (principal.site_id, me(&principal)?);
    let view = db::run(&state, move |c| connections::connection(c, site, user)).await?;
    Ok(connection_answer(view).into_response())
}

/// Connect the caller to the imaging provider.
///
/// The same email as a connection the caller forgot re-links that provider account with its
/// original title and names (`relinked: true`); another email creates a new one. An email
/// another provider user holds answers `409 email_in_use` and nothing is made.
#[utoipa::path(
    tag = "integrations",
    params(("If-Match" = Option<String>, Header, description = "ETag of the connection")),
    request_body = ConnectImagingRequest,
    responses(
        (status = 200, body = ImagingConnectionView, description = "Connected.", headers(("ETag" = String))),
        (status = 202, body = ImagingConnectionView, description = "Pending: the provider has not answered yet.", headers(("ETag" = String))),
        Update,
    ),
    security(("bearer" = []))
)]
#[post("/v1/me/integrations/imaging/connect")]
pub async fn connect_my_imaging(
    act: Act,
    principal: Principal,
    if_match: IfMatch,
    body: ValidJson<ConnectImagingRequest>,
) -> Result<Answer, ApiError> {
    let (ctx, user) = (principal.audit(), me(&principal)?);
    let wanted = Wanted::Connect(body.0.details());
    use_cases::start(act, ctx, user, wanted, if_match.0).await
}

/// Change the connection's email or marketing choice.
///
/// `title`, `first_name` and `last_name` never change: each sent is a `422
/// immutable_field` and nothing changes.
#[utoipa::path(
    tag = "integrations",
    params(("If-Match" = Option<String>, Header, description = "ETag of the connection")),
    request_body = UpdateImagingRequest,
    responses(
        (status = 200, body = ImagingConnectionView, description = "Updated.", headers(("ETag" = String))),
        (status = 202, body = ImagingConnectionView, description = "Pending: the provider has not answered yet.", headers(("ETag" = String))),
        Update,
    ),
    security(("bearer" = []))
)]
#[patch("/v1/me/integrations/imaging")]
pub async fn update_my_imaging(
    act: Act,
    principal: Principal,
    if_match: IfMatch,
    body: ValidJson<UpdateImagingRequest>,
) -> Result<Answer, ApiError> {
    let (ctx, user, body) = (principal.audit(), me(&principal)?, body.0);
    let refused = body.immutable_sent();
    if !refused.is_empty() {
        return Err(immutable(&refused));
    }
    let (email, marketing_opt_in) = (body.email, body.marketing_opt_in);
    let wanted = Wanted::Update {
        email,
        marketing_opt_in,
    };
    use_cases::start(act, ctx, user, wanted, if_match.0).await
}

/// Refresh the connection, or reconnect a disconnected one with its remembered details.
#[utoipa::path(
    tag = "integrations",
    params(("If-Match" = Option<String>, Header, description = "ETag of the connection")),
    responses(
        (status = 200, body = ImagingConnectionView, description = "Connected.", headers(("ETag" = String))),
        (status = 202, body = ImagingConnectionView, description = "Pending: the provider has not answered yet.", headers(("ETag" = String))),
        ActionIfMatch,
    ),
    security(("bearer" = []))
)]
#[post("/v1/me/integrations/imaging/reconnect")]
pub async fn reconnect_my_imaging(
    act: Act,
    principal: Principal,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    let (ctx, user) = (principal.audit(), me(&principal)?);
    use_cases::start(act, ctx, user, Wanted::Reconnect, if_match.0).await
}

/// Disconnect: Staffroom stops using the provider account, which the provider keeps.
#[utoipa::path(
    tag = "integrations",
    params(("If-Match" = Option<String>, Header, description = "ETag of the connection")),
    responses(
        (status = 200, body = ImagingConnectionView, description = "Disconnected.", headers(("ETag" = String))),
        ActionIfMatch,
    ),
    security(("bearer" = []))
)]
#[post("/v1/me/integrations/imaging/disconnect")]
pub async fn disconnect_my_imaging(
    act: Act,
    principal: Principal,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    leave(act, &principal, ImagingAction::Disconnect, if_match.0).await
}

/// Forget a disconnected connection (`409 not_disconnected` otherwise).
///
/// Connecting again with the same email re-links the provider account.
#[utoipa::path(
    tag = "integrations",
    params(("If-Match" = Option<String>, Header, description = "ETag of the connection")),
    responses(
        (status = 200, body = ImagingConnectionView, description = "Forgotten.", headers(("ETag" = String))),
        ActionIfMatch,
    ),
    security(("bearer" = []))
)]
#[post("/v1/me/integrations/imaging/forget")]
pub async fn forget_my_imaging(
    act: Act,
    principal: Principal,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    leave(act, &principal, ImagingAction::Forget, if_match.0).await
}

async fn leave(
    act: Act,
    principal: &Principal,
    action: ImagingAction,
    expected_version: Option<i64>,
) -> Result<Answer, ApiError> {
    let leave = Leave {
        user: me(principal)?,
        action,
        expected_version,
    };
    act.run(principal.audit(), leave, connection_answer).await
}
