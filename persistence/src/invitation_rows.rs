//! Invitation rows: writing a user's invitation (superseding earlier ones) with its email
//! and audit event. A record function, inside the caller's transaction; the use-cases are
//! in `users` (creation) and `invitations` (resend, accept).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;
use staffroom_domain::{AuditAction, AuditTarget, InvitationId, SiteId, UserId};

use crate::audit::{self, Change};
use crate::schema::invitations;
use crate::tx::{AuditContext, now};
use crate::user_rows::User;
use crate::{DbConnection, StoreResult, mail};

/// An invitation to write: the token's digest, its expiry, and the message that carries
/// the token (built by the caller, which knows the link).
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: InvitationId,
    pub site_id: SiteId,
    pub user_id: UserId,
    pub email: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub superseded_at: Option<NaiveDateTime>,
}

/// Writes the invitation of `user` and queues its email, superseding earlier ones; inside
/// the caller's transaction.
pub(crate) fn invite(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    user: &User,
    invitation: NewInvitation,
) -> StoreResult<InvitationRow> {
    let at = now();
    diesel::update(
        invitations::table
            .filter(invitations::user_id.eq(user.id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::superseded_at.is_null()),
    )
    .set(invitations::superseded_at.eq(Some(at)))
    .execute(conn)?;
    let row = InvitationRow {
        id: InvitationId::new(),
        site_id: ctx.site_id,
        user_id: user.id,
        email: user.email.clone(),
        token_hash: invitation.token_hash,
        created_at: at,
        expires_at: invitation.expires_at,
        accepted_at: None,
        superseded_at: None,
    };
    diesel::insert_into(invitations::table)
        .values(&row)
        .execute(conn)?;
    mail::queue(
        conn,
        ctx,
        Some(user.id),
        &user.email,
        &invitation.subject,
        &invitation.body,
    )?;
    audit::record(
        conn,
        ctx,
        Change {
            action: AuditAction::UserInvited,
            target: AuditTarget::User(user.id),
            before: None,
            after: Some(
                json!({"invitation_id": row.id, "email": row.email, "expires_at": row.expires_at}),
            ),
        },
    )?;
    Ok(row)
}
