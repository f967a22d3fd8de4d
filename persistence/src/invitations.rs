//! Invitations of users created without a password (SPEC §7, "users created by an
//! administrator are invited the same way and set their own password"). The token is
//! emailed through the outbox and stored only as its digest; it is single-use, expires, and
//! a resend supersedes the earlier one.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;
use staffroom_domain::{AuditAction, AuditTarget, InvitationId, SiteId, UserId, UserStatus};

use crate::audit::{self, Change};
use crate::error::Conflict;
use crate::schema::{invitations, users};
use crate::tx::{AuditContext, now, write_transaction, write_tx};
use crate::user_rows::{self as stored, NewUser, User};
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
fn invite_locked(
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

/// Creates a user and, when they have no password, invites them — in one transaction.
pub fn create_invited(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    new: NewUser,
    invitation: Option<NewInvitation>,
) -> StoreResult<User> {
    write_tx(conn, ctx.site_id, |conn| {
        let user = stored::insert(conn, ctx.site_id, new)?;
        audit::record(conn, ctx, stored::created(&user))?;
        if let Some(invitation) = invitation.filter(|_| !user.has_password) {
            invite_locked(conn, ctx, &user, invitation)?;
        }
        Ok(user)
    })
}

/// Sends a fresh invitation to a user who has not set a password; the earlier link stops
/// working.
pub fn resend(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    user: UserId,
    invitation: NewInvitation,
) -> StoreResult<InvitationRow> {
    write_tx(conn, ctx.site_id, |conn| {
        let user = stored::get(conn, ctx.site_id, user)?;
        if user.has_password {
            return Err(StoreError::Conflict(Conflict::PasswordAlreadySet));
        }
        if user.status != UserStatus::Active {
            return Err(StoreError::Conflict(Conflict::UserInactive));
        }
        invite_locked(conn, ctx, &user, invitation)
    })
}

/// Accepts the invitation whose token has this digest: sets the user's password and uses
/// the invitation up. Unknown, used and superseded tokens are `NotFound`; expired ones
/// `InvitationExpired`.
pub fn accept(
    conn: &mut DbConnection,
    token_hash: &str,
    password_hash: &str,
    request_id: Option<String>,
) -> StoreResult<InvitationRow> {
    write_transaction(conn, |conn| {
        let at = now();
        // The first statement is the guarded update, so a racing accept of the same token
        // waits for this transaction and then finds the token used.
        let usable = invitations::table
            .filter(invitations::token_hash.eq(token_hash))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::superseded_at.is_null());
        let used = diesel::update(usable.filter(invitations::expires_at.gt(at)))
            .set(invitations::accepted_at.eq(Some(at)))
            .execute(conn)?;
        if used == 0 {
            let expired = usable.count().get_result::<i64>(conn)? > 0;
            return Err(if expired {
                StoreError::InvitationExpired
            } else {
                StoreError::NotFound
            });
        }
        let invitation = invitations::table
            .filter(invitations::token_hash.eq(token_hash))
            .select(InvitationRow::as_select())
            .first(conn)?;
        let status: UserStatus = users::table
            .find(invitation.user_id)
            .select(users::status)
            .first(conn)?;
        if status != UserStatus::Active {
            return Err(StoreError::Conflict(Conflict::UserInactive));
        }
        diesel::update(users::table.find(invitation.user_id))
            .set((
                users::password_hash.eq(Some(password_hash)),
                users::version.eq(users::version + 1),
                users::updated_at.eq(at),
            ))
            .execute(conn)?;
        let ctx = AuditContext::own_account(invitation.site_id, invitation.user_id, request_id);
        audit::record(
            conn,
            &ctx,
            Change {
                action: AuditAction::UserInvitationAccepted,
                target: AuditTarget::User(invitation.user_id),
                before: None,
                after: Some(json!({"invitation_id": invitation.id})),
            },
        )?;
        Ok(invitation)
    })
}
