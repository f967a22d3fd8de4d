//! `/v1/me/assistants`: the calling clinician's assistants — list, invite, read, resend,
//! revoke, delete. Only an active clinical user has assistants (others `403`); each
//! clinician sees and manages only their own (another's id answers `404`).

use actix_web::{delete, get, post, web};
use staffroom_domain::AssistantId;
use staffroom_domain::assistant::may_have_assistants;
use staffroom_persistence::assistants::{
    self, Assistant, Change, ChangeAssistant, InviteAssistant, Target,
};
use staffroom_persistence::invitations::NewInvitation;
use staffroom_persistence::users::User;

use super::types::{AssistantPage, AssistantView, InviteAssistantRequest, PageQuery};
use crate::answer::Answer;
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::invitation_messages::new_assistant_invitation;
use crate::responses::{ActionIfMatch, AdminList, AdminReadOne, Create, Revoke};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::page_limit;

/// The calling user, when they are a clinician (an active clinical user); `403` otherwise.
fn clinician(principal: &Principal) -> Result<&User, ApiError> {
    let user = principal
        .user
        .as_ref()
        .ok_or_else(|| ApiError::forbidden("Only an active clinical user has assistants."))?;
    may_have_assistants(user.user_type, user.status)?;
    Ok(user)
}

/// `200` with the assistant and its `ETag`.
fn assistant_answer(assistant: Assistant) -> Answer {
    Answer::with_etag(assistant.version, &AssistantView::from(assistant))
}

/// An invitation of `full_name` by the clinician `me`, naming them.
fn invitation_from(state: &AppState, me: &User, full_name: &str) -> NewInvitation {
    let name = format!("{} {}", me.first_name, me.last_name);
    new_assistant_invitation(state, full_name, &name)
}

/// `200` with the changed record and its `ETag`, or `204` once it is deleted.
fn changed_answer(assistant: Option<Assistant>) -> Answer {
    assistant.map_or_else(Answer::no_content, assistant_answer)
}

/// The change of the calling clinician's record `id` under `If-Match`.
fn change(
    principal: &Principal,
    id: AssistantId,
    if_match: IfMatch,
    change: Change,
) -> Result<ChangeAssistant, ApiError> {
    let target = Target {
        clinician: clinician(principal)?.id,
        id,
        expected_version: if_match.0,
    };
    Ok(ChangeAssistant { target, change })
}

/// The caller's assistants.
///
/// Every assistant the calling clinician invited and has not deleted, in invitation order,
/// with `status`, `invited_at`, `accepted_at` and `last_login_at`.
#[utoipa::path(
    tag = "assistants",
    params(PageQuery),
    responses(
        (status = 200, body = AssistantPage, description = "A page of the caller's assistants."),
        AdminList,
    ),
    security(("bearer" = []))
)]
#[get("/v1/me/assistants")]
pub async fn list_my_assistants(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<PageQuery>,
) -> Result<web::Json<AssistantPage>, ApiError> {
    let limit = page_limit(query.0.limit)?;
    let (site, me, cursor) = (principal.site_id, clinician(&principal)?.id, query.0.cursor);
    let page = db::run(&state, move |c| {
        assistants::list(c, site, me, limit, cursor.as_deref())
    })
    .await?;
    Ok(web::Json(AssistantPage::from_page(page)))
}

/// Invite an assistant.
///
/// Emails `email` an invitation link (single-use, expiring); the assistant is listed as
/// `pending` until they accept it with `POST /v1/invitations/{token}/accept`. An email that
/// is already a pending or accepted assistant of the caller answers `409
/// assistant_exists`; a revoked or deleted one may be invited again (a new record). The
/// same person may assist several clinicians of the site; they hold no licence and are
/// never a site user.
#[utoipa::path(
    tag = "assistants",
    request_body = InviteAssistantRequest,
    responses(
        (status = 201, body = AssistantView, description = "Invited; `Location` names the assistant.",
            headers(("ETag" = String), ("Location" = String))),
        Create,
    ),
    security(("bearer" = []))
)]
#[post("/v1/me/assistants")]
pub async fn invite_assistant(
    act: Act,
    principal: Principal,
    body: ValidJson<InviteAssistantRequest>,
) -> Result<Answer, ApiError> {
    let me = clinician(&principal)?;
    let invitation = invitation_from(act.state(), me, body.0.full_name.as_str());
    let (full_name, email) = (body.0.full_name, body.0.email);
    let clinician = me.id;
    let invite = InviteAssistant {
        clinician,
        full_name,
        email,
        invitation,
    };
    act.run(principal.audit(), invite, |assistant| {
        let location = format!("/v1/me/assistants/{}", assistant.id);
        Answer::created(location, assistant.version, &AssistantView::from(assistant))
    })
    .await
}

/// One of the caller's assistants.
///
/// The same view as an item of the list, with its `ETag`. Another clinician's assistant
/// answers `404`.
#[utoipa::path(
    tag = "assistants",
    params(("id" = AssistantId, Path, description = "Assistant id")),
    responses(
        (status = 200, body = AssistantView, description = "The assistant.", headers(("ETag" = String))),
        AdminReadOne,
    ),
    security(("bearer" = []))
)]
#[get("/v1/me/assistants/{id}")]
pub async fn get_my_assistant(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<AssistantId>,
) -> Result<Answer, ApiError> {
    let (site, me, id) = (
        principal.site_id,
        clinician(&principal)?.id,
        id.into_inner(),
    );
    let assistant = db::run(&state, move |c| assistants::get(c, site, me, id)).await?;
    Ok(assistant_answer(assistant))
}

/// Send a pending assistant a fresh invitation.
///
/// The earlier link stops working. Only a `pending` assistant (`409
/// assistant_not_pending` otherwise).
#[utoipa::path(
    tag = "assistants",
    params(
        ("id" = AssistantId, Path, description = "Assistant id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    responses(
        (status = 200, body = AssistantView, description = "Sent; the earlier link no longer works.", headers(("ETag" = String))),
        ActionIfMatch,
    ),
    security(("bearer" = []))
)]
#[post("/v1/me/assistants/{id}/resend")]
pub async fn resend_assistant_invitation(
    act: Act,
    principal: Principal,
    id: web::Path<AssistantId>,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    let (site, me, id) = (principal.site_id, clinician(&principal)?, id.into_inner());
    let clinician_id = me.id;
    let found = db::run(act.state(), move |c| {
        assistants::get(c, site, clinician_id, id)
    })
    .await?;
    let invitation = invitation_from(act.state(), me, &found.full_name);
    let resend = change(&principal, id, if_match, Change::Resend(invitation))?;
    act.run(principal.audit(), resend, changed_answer).await
}

/// Revoke an assistant (the screen's *Disable*).
///
/// The status becomes `revoked`: the assistant's tokens answer `401` on their next request
/// (they log in again for the clinicians they still assist) and a pending invitation link
/// answers `410 invitation_withdrawn`. Revoking again answers `409 assistant_revoked`.
#[utoipa::path(
    tag = "assistants",
    params(
        ("id" = AssistantId, Path, description = "Assistant id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    responses(
        (status = 200, body = AssistantView, description = "Revoked.", headers(("ETag" = String))),
        ActionIfMatch,
    ),
    security(("bearer" = []))
)]
#[post("/v1/me/assistants/{id}/revoke")]
pub async fn revoke_assistant(
    act: Act,
    principal: Principal,
    id: web::Path<AssistantId>,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    let revoke = change(&principal, id.into_inner(), if_match, Change::Revoke)?;
    act.run(principal.audit(), revoke, changed_answer).await
}

/// Delete an assistant, permanently.
///
/// The record is gone (`404` afterwards); giving access again needs a new invitation, which
/// creates a new record. As with revoking, the assistant's tokens answer `401` on their
/// next request and a pending link answers `410 invitation_withdrawn`.
#[utoipa::path(
    tag = "assistants",
    params(
        ("id" = AssistantId, Path, description = "Assistant id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being deleted"),
    ),
    responses(
        (status = 204, description = "Deleted."),
        Revoke,
    ),
    security(("bearer" = []))
)]
#[delete("/v1/me/assistants/{id}")]
pub async fn delete_assistant(
    act: Act,
    principal: Principal,
    id: web::Path<AssistantId>,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    let delete = change(&principal, id.into_inner(), if_match, Change::Delete)?;
    act.run(principal.audit(), delete, changed_answer).await
}
