//! Invitations of users created without a password (SPEC §7, "users created by an
//! administrator are invited the same way and set their own password"). The token is
//! emailed through the outbox and stored only as its digest; it is single-use, expires, and
//! a resend supersedes the earlier one.

use diesel::prelude::*;
use serde_json::json;
use staffroom_domain::{AuditAction, AuditTarget, UserId, UserStatus};

use crate::audit::{self, Change};
use crate::error::Conflict;
use crate::invitation_rows;
pub use crate::invitation_rows::{InvitationRow, NewInvitation};
use crate::schema::{invitations, users};
use crate::tx::{AuditContext, now, write_transaction, write_tx};
use crate::user_rows as stored;
use crate::{DbConnection, StoreError, StoreResult};

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
        invitation_rows::invite(conn, ctx, &user, invitation)
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
