//! Invitations of users created without a password (SPEC §7, "users created by an
//! administrator are invited the same way and set their own password"). The token is
//! emailed through the outbox and stored only as its digest; it is single-use, expires, and
//! a resend supersedes the earlier one.

use diesel::prelude::*;
use serde_json::json;
use staffroom_domain::{
    AuditAction, AuditTarget, InvitationRefusal, UserId, UserStatus, decide_invitation,
};

use crate::audit::{self, Change};
use crate::error::Conflict;
use crate::invitation_rows;
pub use crate::invitation_rows::{InvitationRow, NewInvitation};
use crate::schema::{invitations, users};
use crate::tx::{AuditContext, lock_site, now, write_transaction};
use crate::usecase::UseCase;
use crate::user_rows::{self as stored, User};
use crate::{DbConnection, StoreError, StoreResult};

/// `POST /v1/users/{id}/invitation`: sends a fresh invitation to a user who has not set a
/// password; the earlier link stops working (`staffroom_domain::decide_invitation`).
#[derive(Debug, Clone)]
pub struct ResendInvitation {
    pub user: UserId,
    pub invitation: NewInvitation,
}

impl UseCase for ResendInvitation {
    type Snapshot = User;
    type Decision = User;
    type Refusal = InvitationRefusal;
    type Output = InvitationRow;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<User> {
        stored::get(conn, ctx.site_id, self.user)
    }

    fn decide(&self, user: User) -> Result<User, InvitationRefusal> {
        decide_invitation(user.has_password, user.status).map(|()| user)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        user: User,
    ) -> StoreResult<InvitationRow> {
        invitation_rows::invite(conn, ctx, &user, self.invitation)
    }
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
        // The user's row changes, so the site's write count moves with it (readers that
        // cache what they read of the site compare that count).
        lock_site(conn, invitation.site_id)?;
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
