//! Inviting a user to choose their password (SPEC §7): a pure decision over their account.

use crate::UserStatus;

/// Why a user is not (re)invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationRefusal {
    /// The user has a password already; an invitation would change nothing.
    PasswordAlreadySet,
    /// Only active users are invited.
    UserInactive,
}

/// Decides whether a user with this account state may be sent an invitation.
pub fn decide_invitation(has_password: bool, status: UserStatus) -> Result<(), InvitationRefusal> {
    if has_password {
        Err(InvitationRefusal::PasswordAlreadySet)
    } else if status != UserStatus::Active {
        Err(InvitationRefusal::UserInactive)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_users_without_a_password_are_invited() {
        assert_eq!(decide_invitation(false, UserStatus::Active), Ok(()));
        assert_eq!(
            decide_invitation(true, UserStatus::Inactive),
            Err(InvitationRefusal::PasswordAlreadySet)
        );
        assert_eq!(
            decide_invitation(false, UserStatus::Inactive),
            Err(InvitationRefusal::UserInactive)
        );
    }
}
