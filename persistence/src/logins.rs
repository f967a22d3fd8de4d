//! Sign-ins as use-cases. The credentials are checked before (a password hash is slow and
//! never runs under the site lock); these record what a sign-in changes, checked again
//! under the lock: [`RecordLogin`] (`last_login_at`, and a pending diary change) and
//! [`IssueToken`] (a service account that is still not revoked).

use diesel::prelude::*;
use staffroom_domain::{
    AuditAction, AuditTarget, LoginDecision, LoginSnapshot, ServiceAccountId, SignInRefusal,
    UserId, decide_login, decide_token,
};

use crate::audit::{self, Change};
use crate::schema::users;
use crate::service_accounts::{self, ServiceAccount};
use crate::tx::{AuditContext, now};
use crate::usecase::{self, Failure, UseCase};
use crate::user_rows::{self, User};
use crate::{DbConnection, StoreResult};

/// The use-case of `POST /v1/auth/login` once the password matched: records
/// `last_login_at`; a diary change pending since a type change takes effect (with its audit
/// event). The answer is the user as logged in.
#[derive(Debug, Clone, Copy)]
pub struct RecordLogin {
    pub id: UserId,
}

impl UseCase for RecordLogin {
    type Snapshot = User;
    type Decision = (User, LoginDecision);
    type Refusal = SignInRefusal;
    type Output = User;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<User> {
        user_rows::get(conn, ctx.site_id, self.id)
    }

    fn decide(&self, user: User) -> Result<(User, LoginDecision), SignInRefusal> {
        let decision = decide_login(LoginSnapshot {
            status: user.status,
            user_type: user.user_type,
            diary_enabled: user.diary_enabled,
        })?;
        Ok((user, decision))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (before, decision): (User, LoginDecision),
    ) -> StoreResult<User> {
        let at = now();
        let user = users::table.find(self.id);
        match decision.diary_enabled {
            None => {
                diesel::update(user)
                    .set(users::last_login_at.eq(Some(at)))
                    .execute(conn)?;
            }
            // The diary flipping changes the representation, so it moves the version; a
            // login alone does not (it would fail administrators' If-Match for no reason).
            Some(diary) => {
                diesel::update(user)
                    .set((
                        users::last_login_at.eq(Some(at)),
                        users::diary_enabled.eq(diary),
                        users::version.eq(users::version + 1),
                        users::updated_at.eq(at),
                    ))
                    .execute(conn)?;
            }
        }
        let after = user_rows::get(conn, ctx.site_id, self.id)?;
        if let Some(diary) = decision.diary_enabled {
            let action = if diary {
                AuditAction::UserDiaryEnabled
            } else {
                AuditAction::UserDiaryDisabled
            };
            let change = Change::edited(action, AuditTarget::User(after.id), &before, &after);
            audit::record(conn, ctx, change)?;
        }
        Ok(after)
    }
}

/// Records a login of `id` as the user themselves (for the operator's tools and tests).
pub fn record_login(
    conn: &mut DbConnection,
    site: staffroom_domain::SiteId,
    id: UserId,
) -> Result<User, Failure<SignInRefusal>> {
    let ctx = AuditContext::own_account(site, id, None);
    usecase::run(conn, &ctx, RecordLogin { id }, |user| user, None)
}

/// The use-case of `POST /v1/auth/token` once the secret matched: the account, if it is
/// still not revoked under the site lock, to issue its token. It writes nothing but the
/// idempotent answer.
#[derive(Debug, Clone, Copy)]
pub struct IssueToken {
    pub id: ServiceAccountId,
}

impl UseCase for IssueToken {
    type Snapshot = ServiceAccount;
    type Decision = ServiceAccount;
    type Refusal = SignInRefusal;
    type Output = ServiceAccount;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<ServiceAccount> {
        service_accounts::get(conn, ctx.site_id, self.id)
    }

    fn decide(&self, account: ServiceAccount) -> Result<ServiceAccount, SignInRefusal> {
        decide_token(!account.is_active())?;
        Ok(account)
    }

    fn write(
        self,
        _: &mut DbConnection,
        _: &AuditContext,
        account: ServiceAccount,
    ) -> StoreResult<ServiceAccount> {
        Ok(account)
    }
}
