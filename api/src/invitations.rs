//! Invitations (SPEC §7): users created without `initial_password` are emailed a link with
//! a single-use token; `POST /v1/invitations/{token}/accept` sets their password.
//! Administrators can send a fresh invitation, which makes the earlier link stop working.

use actix_web::http::StatusCode;
use actix_web::{post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{AssistantId, Password, UserId};
use staffroom_persistence::assistants::{self, AcceptAssistantInvitation};
use staffroom_persistence::invitations::{
    self, AcceptInvitation, InvitationRow, Invitee, ResendInvitation,
};
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::{DbConnection, StoreResult, users};
use utoipa::ToSchema;

use crate::answer::Answer;
use crate::auth::{Principal, password};
use crate::db;
use crate::error::ApiError;
use crate::extract::{RequestId, ValidJson};
use crate::invitation_messages::new_invitation;
use crate::responses::{Action, Redeem};
use crate::usecase::Act;
use crate::views::utc;

/// An invitation: of a user (`user_id`) or of a clinician's assistant (`assistant_id`).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    /// The invited user; absent for an assistant's invitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The invited assistant record; absent for a user's invitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assistant_id: Option<AssistantId>,
    pub email: String,
    pub created_at: DateTime<Utc>,
    /// The link stops working then.
    pub expires_at: DateTime<Utc>,
}

impl From<InvitationRow> for InvitationView {
    fn from(r: InvitationRow) -> Self {
        Self {
            user_id: r.user_id,
            assistant_id: r.assistant_id,
            email: r.email,
            created_at: utc(r.created_at),
            expires_at: utc(r.expires_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    /// The password the user will log in with.
    pub password: Password,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(accept_invitation).service(resend_invitation);
}

/// Accept an invitation and choose a password.
///
/// Uses the token from the invitation email, of a user or of a clinician's assistant;
/// afterwards they log in with `POST /v1/auth/login` (an assistant gets a token of kind
/// `assistant`). The token works once; a resent invitation replaces it (`404`); an expired
/// one answers `410 invitation_expired`; an assistant's link whose record was revoked or
/// deleted, or whose clinician is no longer an active clinician, answers `410
/// invitation_withdrawn`. While too many passwords are being hashed at once, answers `503
/// hashing_busy` with `Retry-After`.
#[utoipa::path(
    tag = "users",
    params(("token" = String, Path, description = "The token from the invitation link.")),
    request_body = AcceptInvitationRequest,
    responses(
        (status = 200, body = InvitationView, description = "Accepted: the user can log in."),
        Redeem,
    ),
    security(())
)]
#[post("/v1/invitations/{token}/accept")]
pub async fn accept_invitation(
    act: Act,
    token: web::Path<String>,
    request_id: RequestId,
    body: ValidJson<AcceptInvitationRequest>,
) -> Result<Answer, ApiError> {
    let token_hash = password::digest(&token.into_inner());
    let password_hash = act.state().hashing.hash(body.0.password).await?;
    let (hash, request) = (token_hash.clone(), Some(request_id.0));
    let ctx = db::run(act.state(), move |c| acceptance_context(c, &hash, request)).await?;
    accept_as(act, ctx, token_hash, password_hash).await
}

/// Runs the acceptance of the invitee's kind: a user's, or an assistant's.
async fn accept_as(
    act: Act,
    (ctx, invitee): (AuditContext, Invitee),
    token_hash: String,
    password_hash: String,
) -> Result<Answer, ApiError> {
    let answer = |row| Answer::json(StatusCode::OK, &InvitationView::from(row));
    match invitee {
        Invitee::User(_) => {
            let accept = AcceptInvitation {
                token_hash,
                password_hash,
            };
            act.run(ctx, accept, answer).await
        }
        Invitee::Assistant(_) => {
            let accept = AcceptAssistantInvitation {
                token_hash,
                password_hash,
            };
            act.run(ctx, accept, answer).await
        }
    }
}

/// Whom a token invites and the context its acceptance runs in: the invited user, or the
/// assistant's account, acting on their own record. `NotFound` for a token never issued.
fn acceptance_context(
    conn: &mut DbConnection,
    token_hash: &str,
    request_id: Option<String>,
) -> StoreResult<(AuditContext, Invitee)> {
    let (site, invitee) = invitations::invited_by(conn, token_hash)?;
    let ctx = match invitee {
        Invitee::User(user) => AuditContext::own_account(site, user, request_id),
        Invitee::Assistant(id) => assistants::acceptance_context(conn, site, id, request_id)?,
    };
    Ok((ctx, invitee))
}

/// Send a user a fresh invitation.
///
/// For users who have not set a password yet (`409 password_already_set` otherwise); the
/// earlier link stops working.
#[utoipa::path(
    tag = "users",
    params(("id" = UserId, Path, description = "User id")),
    responses(
        (status = 201, body = InvitationView, description = "Sent; the earlier link no longer works."),
        Action,
    ),
    security(("bearer" = []))
)]
#[post("/v1/users/{id}/invitation")]
pub async fn resend_invitation(
    act: Act,
    principal: Principal,
    id: web::Path<UserId>,
) -> Result<Answer, ApiError> {
    let (site, user_id) = (principal.site_id, id.into_inner());
    let user = db::run(act.state(), move |c| users::get(c, site, user_id)).await?;
    principal.require_administers(&user)?;
    let resend = ResendInvitation {
        user: user_id,
        invitation: new_invitation(act.state(), &user.first_name),
    };
    act.run(principal.audit(), resend, |row| {
        Answer::json(StatusCode::CREATED, &InvitationView::from(row))
    })
    .await
}
