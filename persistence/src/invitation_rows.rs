//! Invitation rows: writing an invitation (superseding earlier ones of the same invitee)
//! with its email, and finding whom a token invites. Record functions, inside the caller's
//! transaction; the use-cases are in `users` (creation), `invitations` (a user's resend and
//! acceptance) and `assistants` (a clinician's assistants).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;
use staffroom_domain::{AssistantId, AuditAction, AuditTarget, InvitationId, SiteId, UserId};

use crate::audit::{self, Change};
use crate::schema::invitations;
use crate::tx::{AuditContext, now};
use crate::user_rows::User;
use crate::{DbConnection, StoreError, StoreResult, mail};

/// An invitation to write: the token's digest, its expiry, and the message that carries
/// the token (built by the caller, which knows the link).
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub subject: String,
    pub body: String,
}

/// Whom an invitation invites: a user created without a password, or one clinician's
/// assistant record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invitee {
    User(UserId),
    Assistant(AssistantId),
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: InvitationId,
    pub site_id: SiteId,
    /// The invited user; `None` for an assistant's invitation.
    pub user_id: Option<UserId>,
    pub email: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub superseded_at: Option<NaiveDateTime>,
    /// The invited assistant record; `None` for a user's invitation. The record may have
    /// been deleted since.
    pub assistant_id: Option<AssistantId>,
}

impl InvitationRow {
    /// Whom the invitation invites.
    pub fn invitee(&self) -> StoreResult<Invitee> {
        match (self.user_id, self.assistant_id) {
            (Some(user), None) => Ok(Invitee::User(user)),
            (None, Some(assistant)) => Ok(Invitee::Assistant(assistant)),
            _ => Err(StoreError::corrupt(format!(
                "invitation {} names no single invitee",
                self.id
            ))),
        }
    }
}

/// Writes an invitation of `invitee` at `email` and queues its message, superseding the
/// invitee's earlier live ones (their links stop working); inside the caller's transaction.
/// The caller records the audit event.
pub(crate) fn issue(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    invitee: Invitee,
    email: &str,
    invitation: NewInvitation,
) -> StoreResult<InvitationRow> {
    let at = now();
    let live = invitations::table
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::superseded_at.is_null())
        .into_boxed();
    let live = match invitee {
        Invitee::User(id) => live.filter(invitations::user_id.eq(id)),
        Invitee::Assistant(id) => live.filter(invitations::assistant_id.eq(id)),
    };
    let ids: Vec<InvitationId> = live.select(invitations::id).load(conn)?;
    diesel::update(invitations::table.filter(invitations::id.eq_any(ids)))
        .set(invitations::superseded_at.eq(Some(at)))
        .execute(conn)?;
    let (user_id, assistant_id) = match invitee {
        Invitee::User(id) => (Some(id), None),
        Invitee::Assistant(id) => (None, Some(id)),
    };
    let row = InvitationRow {
        id: InvitationId::new(),
        site_id: ctx.site_id,
        user_id,
        email: email.to_owned(),
        token_hash: invitation.token_hash,
        created_at: at,
        expires_at: invitation.expires_at,
        accepted_at: None,
        superseded_at: None,
        assistant_id,
    };
    diesel::insert_into(invitations::table)
        .values(&row)
        .execute(conn)?;
    mail::queue(
        conn,
        ctx,
        user_id,
        email,
        &invitation.subject,
        &invitation.body,
    )?;
    Ok(row)
}

/// Writes the invitation of `user` with its email and audit event, superseding earlier
/// ones; inside the caller's transaction.
pub(crate) fn invite(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    user: &User,
    invitation: NewInvitation,
) -> StoreResult<InvitationRow> {
    let row = issue(conn, ctx, Invitee::User(user.id), &user.email, invitation)?;
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

/// The site and invitee of the invitation whose token has this digest; `NotFound` for a
/// token that was never issued.
pub fn invited_by(conn: &mut DbConnection, token_hash: &str) -> StoreResult<(SiteId, Invitee)> {
    let row = invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok((row.site_id, row.invitee()?))
}

/// The invitation of `site` whose token has this digest; `NotFound` otherwise.
pub(crate) fn by_token(
    conn: &mut DbConnection,
    site: SiteId,
    token_hash: &str,
) -> StoreResult<InvitationRow> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::site_id.eq(site))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Marks the invitation used; returns when.
pub(crate) fn mark_accepted(
    conn: &mut DbConnection,
    invitation: &mut InvitationRow,
) -> StoreResult<NaiveDateTime> {
    let at = now();
    diesel::update(invitations::table.find(invitation.id))
        .set(invitations::accepted_at.eq(Some(at)))
        .execute(conn)?;
    invitation.accepted_at = Some(at);
    Ok(at)
}
