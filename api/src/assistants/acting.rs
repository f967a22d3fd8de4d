//! What an assistant does: `GET /v1/me/clinicians` (whom they assist) and acting on a
//! clinician's behalf, `POST /v1/clinicians/{id}/patient-messages` (also open to the
//! clinician themself). Anyone else, and an assistant for a clinician they do not assist,
//! gets `404`.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use staffroom_domain::{AssistantAccountId, PrincipalKind, UserId};
use staffroom_persistence::assistants::{self, PatientMessage, SendPatientMessage, Sender};

use super::types::{ClinicianPage, PageQuery, PatientMessageRequest, PatientMessageView};
use crate::answer::Answer;
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::{ValidJson, ValidQuery};
use crate::responses::{ActionWithBody, AdminList};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::page_limit;

/// The calling assistant's account.
fn account(principal: &Principal) -> Result<AssistantAccountId, ApiError> {
    principal
        .assistant
        .as_ref()
        .map(|a| a.id)
        .ok_or_else(|| ApiError::forbidden("Only assistants can call this operation."))
}

/// Who sends a patient message: the calling user or assistant.
fn sender(principal: &Principal) -> Result<Sender, ApiError> {
    match (principal.kind, &principal.user) {
        (PrincipalKind::User, Some(user)) => Ok(Sender::User(user.id)),
        (PrincipalKind::Assistant, _) => account(principal).map(Sender::Assistant),
        _ => Err(ApiError::forbidden(
            "Only a clinician and their assistants can call this operation.",
        )),
    }
}

/// The clinicians the caller assists.
///
/// The active clinicians whose accepted assistant the caller is, in the order they invited
/// them. A revoked or deleted record, or a deactivated clinician, drops out at once.
#[utoipa::path(
    tag = "assistants",
    params(PageQuery),
    responses(
        (status = 200, body = ClinicianPage, description = "A page of the clinicians the caller assists."),
        AdminList,
    ),
    security(("bearer" = []))
)]
#[get("/v1/me/clinicians")]
pub async fn list_my_clinicians(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<PageQuery>,
) -> Result<web::Json<ClinicianPage>, ApiError> {
    let limit = page_limit(query.0.limit)?;
    let (site, me, cursor) = (principal.site_id, account(&principal)?, query.0.cursor);
    let page = db::run(&state, move |c| {
        assistants::clinicians(c, site, me, limit, cursor.as_deref())
    })
    .await?;
    Ok(web::Json(ClinicianPage::from_page(page)))
}

/// Send a patient a message, as the clinician or on their behalf.
///
/// Answers `202`: the message goes out through the email connector (an outbox job, retried
/// when the provider fails). Allowed to the clinician (an active clinical user) and to
/// their accepted assistants; anyone else gets `404`. The audit event
/// (`patient_message.sent`) names the assistant as actor and the clinician as
/// `on_behalf_of`; it keeps the recipient and subject, never the text.
#[utoipa::path(
    tag = "assistants",
    params(("id" = UserId, Path, description = "The clinician's user id")),
    request_body = PatientMessageRequest,
    responses(
        (status = 202, body = PatientMessageView, description = "Queued for sending."),
        ActionWithBody,
    ),
    security(("bearer" = []))
)]
#[post("/v1/clinicians/{id}/patient-messages")]
pub async fn send_patient_message(
    act: Act,
    principal: Principal,
    id: web::Path<UserId>,
    body: ValidJson<PatientMessageRequest>,
) -> Result<Answer, ApiError> {
    let body = body.0;
    let send = SendPatientMessage {
        clinician: id.into_inner(),
        sender: sender(&principal)?,
        message: PatientMessage {
            to: body.to,
            subject: body.subject,
            body: body.body,
        },
    };
    act.run(principal.audit(), send, |queued| {
        Answer::json(StatusCode::ACCEPTED, &PatientMessageView::from(queued))
    })
    .await
}
