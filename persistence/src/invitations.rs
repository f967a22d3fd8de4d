//! Invitations of users created without a password (SPEC §7, "users created by an
//! administrator are invited the same way and set their own password"). The token is
//! emailed through the outbox and stored only as its digest; it is single-use, expires, and
//! a resend supersedes the earlier one.

use diesel::prelude::*;
use serde_json::json;
use staffroom_domain::{
    AcceptanceRefusal, AcceptanceSnapshot, AuditAction, AuditTarget, InvitationRefusal, UserId,
    UserStatus, decide_acceptance, decide_invitation,
};

use crate::audit::{self, Change};
use crate::invitation_rows;
pub use crate::invitation_rows::{InvitationRow, Invitee, NewInvitation, invited_by};
use crate::schema::users;
use crate::tx::{AuditContext, now};
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

/// `POST /v1/invitations/{token}/accept` of a user's invitation: sets the user's password
/// and uses the invitation up (`staffroom_domain::decide_acceptance`), as the user acting
/// on their own account (`AuditContext::own_account`; [`invited_by`] says whom a token
/// invites).
#[derive(Debug, Clone)]
pub struct AcceptInvitation {
    pub token_hash: String,
    pub password_hash: String,
}

impl UseCase for AcceptInvitation {
    type Snapshot = (InvitationRow, AcceptanceSnapshot);
    type Decision = InvitationRow;
    type Refusal = AcceptanceRefusal;
    type Output = InvitationRow;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        let invitation = invitation_rows::by_token(conn, ctx.site_id, &self.token_hash)?;
        let Invitee::User(user) = invitation.invitee()? else {
            return Err(StoreError::NotFound);
        };
        let user_status: UserStatus = users::table.find(user).select(users::status).first(conn)?;
        let snapshot = AcceptanceSnapshot {
            accepted: invitation.accepted_at.is_some(),
            superseded: invitation.superseded_at.is_some(),
            expires_at: invitation.expires_at,
            now: now(),
            user_status,
        };
        Ok((invitation, snapshot))
    }

    fn decide(
        &self,
        (invitation, snapshot): Self::Snapshot,
    ) -> Result<InvitationRow, AcceptanceRefusal> {
        decide_acceptance(&snapshot).map(|()| invitation)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        mut invitation: InvitationRow,
    ) -> StoreResult<InvitationRow> {
        let at = invitation_rows::mark_accepted(conn, &mut invitation)?;
        let Invitee::User(user) = invitation.invitee()? else {
            return Err(StoreError::NotFound);
        };
        diesel::update(users::table.find(user))
            .set((
                users::password_hash.eq(Some(&self.password_hash)),
                users::version.eq(users::version + 1),
                users::updated_at.eq(at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::UserInvitationAccepted,
                target: AuditTarget::User(user),
                before: None,
                after: Some(json!({"invitation_id": invitation.id})),
            },
        )?;
        Ok(invitation)
    }
}
