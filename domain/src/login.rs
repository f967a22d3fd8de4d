//! Recording a sign-in (SPEC §3): a user's login, checked again under the site lock after
//! the password matched, and a service account's token request.

use crate::{UserStatus, UserType};

/// What a login is decided over: the user as stored when the login is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginSnapshot {
    pub status: UserStatus,
    pub user_type: UserType,
    pub diary_enabled: bool,
}

/// What recording a login changes beyond `last_login_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginDecision {
    /// The diary's new state when a type change was pending: a user's diary follows their
    /// type at their next login; `None` when it already does.
    pub diary_enabled: Option<bool>,
}

/// Why a sign-in whose credentials matched is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    /// The user was deactivated, or the service account revoked, after the credentials
    /// were checked and before the sign-in was recorded.
    NoLongerActive,
}

/// Records a login of an active user; the diary follows the user's type.
pub fn decide_login(user: LoginSnapshot) -> Result<LoginDecision, SignInRefusal> {
    if user.status != UserStatus::Active {
        return Err(SignInRefusal::NoLongerActive);
    }
    let diary = user.user_type.has_diary();
    Ok(LoginDecision {
        diary_enabled: (diary != user.diary_enabled).then_some(diary),
    })
}

/// A token for a service account that is not revoked.
pub const fn decide_token(revoked: bool) -> Result<(), SignInRefusal> {
    if revoked {
        Err(SignInRefusal::NoLongerActive)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(status: UserStatus, user_type: UserType, diary_enabled: bool) -> LoginSnapshot {
        LoginSnapshot {
            status,
            user_type,
            diary_enabled,
        }
    }

    #[test]
    fn the_diary_follows_the_type_at_login() {
        let pending = user(UserStatus::Active, UserType::Clinical, false);
        assert_eq!(
            decide_login(pending).map(|d| d.diary_enabled),
            Ok(Some(true))
        );
        let dropped = user(UserStatus::Active, UserType::NonClinical, true);
        assert_eq!(
            decide_login(dropped).map(|d| d.diary_enabled),
            Ok(Some(false))
        );
        let settled = user(UserStatus::Active, UserType::Clinical, true);
        assert_eq!(decide_login(settled).map(|d| d.diary_enabled), Ok(None));
    }

    #[test]
    fn a_user_deactivated_meanwhile_is_not_logged_in() {
        let gone = user(UserStatus::Inactive, UserType::Clinical, true);
        assert_eq!(decide_login(gone), Err(SignInRefusal::NoLongerActive));
    }

    #[test]
    fn a_revoked_account_gets_no_token() {
        assert_eq!(decide_token(true), Err(SignInRefusal::NoLongerActive));
        assert_eq!(decide_token(false), Ok(()));
    }
}
