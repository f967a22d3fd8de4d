//! Inviting a user to choose their password (SPEC §7): a pure decision over their account.

use chrono::NaiveDateTime;

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

/// What accepting an invitation reads, after the site lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptanceSnapshot {
    /// The invitation was accepted already.
    pub accepted: bool,
    /// A newer invitation of the same user replaced it.
    pub superseded: bool,
    pub expires_at: NaiveDateTime,
    /// When the acceptance is asked.
    pub now: NaiveDateTime,
    /// The invited user's status.
    pub user_status: UserStatus,
}

/// Why an invitation is not accepted, in the order the rules are asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptanceRefusal {
    /// Accepted or superseded already: the token works no more, as if it never had.
    Unusable,
    /// The link is past its expiry.
    Expired,
    /// The user was deactivated since they were invited.
    UserInactive,
    /// An assistant's invitation whose record was revoked or deleted, or whose clinician is
    /// no longer an active clinician: the link is dead for good (`410`).
    Withdrawn,
}

/// Decides accepting an invitation: the token works once, until it expires or a resend
/// supersedes it, and only for an active user.
pub fn decide_acceptance(invitation: &AcceptanceSnapshot) -> Result<(), AcceptanceRefusal> {
    if invitation.accepted || invitation.superseded {
        Err(AcceptanceRefusal::Unusable)
    } else if invitation.expires_at <= invitation.now {
        Err(AcceptanceRefusal::Expired)
    } else if invitation.user_status != UserStatus::Active {
        Err(AcceptanceRefusal::UserInactive)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration};

    use super::*;

    fn fresh() -> AcceptanceSnapshot {
        let now = DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        AcceptanceSnapshot {
            accepted: false,
            superseded: false,
            expires_at: now + Duration::hours(1),
            now,
            user_status: UserStatus::Active,
        }
    }

    #[test]
    fn a_fresh_invitation_of_an_active_user_is_accepted() {
        assert_eq!(decide_acceptance(&fresh()), Ok(()));
    }

    #[test]
    fn a_used_or_superseded_token_works_no_more_even_when_expired() {
        let mut used = AcceptanceSnapshot {
            accepted: true,
            ..fresh()
        };
        used.now = used.expires_at;
        assert_eq!(decide_acceptance(&used), Err(AcceptanceRefusal::Unusable));
        let superseded = AcceptanceSnapshot {
            superseded: true,
            ..fresh()
        };
        assert_eq!(
            decide_acceptance(&superseded),
            Err(AcceptanceRefusal::Unusable)
        );
    }

    #[test]
    fn an_invitation_expires_at_its_expiry() {
        let mut late = fresh();
        late.now = late.expires_at;
        assert_eq!(decide_acceptance(&late), Err(AcceptanceRefusal::Expired));
    }

    #[test]
    fn a_deactivated_user_cannot_accept() {
        let inactive = AcceptanceSnapshot {
            user_status: UserStatus::Inactive,
            ..fresh()
        };
        assert_eq!(
            decide_acceptance(&inactive),
            Err(AcceptanceRefusal::UserInactive)
        );
    }

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
