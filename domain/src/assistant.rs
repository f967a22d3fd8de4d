//! Assistants invited by clinicians (SPEC §7): who may have assistants, the status machine
//! of one assistant record, when an invitation is a duplicate, and who may act on a
//! clinician's behalf.
//!
//! ```text
//!            accept                 revoke
//! pending ──────────▶ accepted ──────────▶ revoked
//!    │ ▲ resend                                ▲
//!    │ └─┘                                     │
//!    └─────────────── revoke ──────────────────┘
//! ```
//!
//! Deleting removes the record in any status; inviting the same email again then makes a
//! new record. Resending replaces the invitation's token, so the earlier link stops working.

use chrono::NaiveDateTime;

use crate::string_enum::string_enum;
use crate::{AcceptanceRefusal, UserStatus, UserType};

string_enum! {
    /// Where one clinician's assistant stands.
    pub enum AssistantStatus {
        /// Invited; the invitation link is live.
        Pending => "pending",
        /// Accepted the invitation and set a password.
        Accepted => "accepted",
        /// Disabled by the clinician; their tokens and any invitation link are dead.
        Revoked => "revoked",
    }
}

/// Why an assistant operation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssistantRefusal {
    /// Only an active clinical user has assistants (`403`).
    NotAClinician,
    /// The email is already a pending or accepted assistant of this clinician (`409`).
    AssistantExists,
    /// Resending and accepting need a pending invitation (`409`; accepting a dead link is
    /// `410`, which the invitation's own rules answer first).
    NotPending,
    /// The assistant is revoked already (`409`).
    AlreadyRevoked,
}

/// Whether a user of this type and status is a clinician, who may have assistants.
pub fn may_have_assistants(
    user_type: UserType,
    status: UserStatus,
) -> Result<(), AssistantRefusal> {
    if user_type == UserType::Clinical && status == UserStatus::Active {
        Ok(())
    } else {
        Err(AssistantRefusal::NotAClinician)
    }
}

/// Whether the clinician may invite an email whose existing records with this clinician
/// have `existing` statuses: a revoked record does not stand in the way (giving access
/// again needs a new invitation).
pub fn decide_invite(
    existing: impl IntoIterator<Item = AssistantStatus>,
) -> Result<(), AssistantRefusal> {
    if existing
        .into_iter()
        .any(|status| status != AssistantStatus::Revoked)
    {
        Err(AssistantRefusal::AssistantExists)
    } else {
        Ok(())
    }
}

/// Whether a fresh invitation may be sent: pending only.
pub fn decide_resend(status: AssistantStatus) -> Result<(), AssistantRefusal> {
    match status {
        AssistantStatus::Pending => Ok(()),
        AssistantStatus::Accepted | AssistantStatus::Revoked => Err(AssistantRefusal::NotPending),
    }
}

/// The status after accepting: pending only.
pub fn decide_accept(status: AssistantStatus) -> Result<AssistantStatus, AssistantRefusal> {
    match status {
        AssistantStatus::Pending => Ok(AssistantStatus::Accepted),
        AssistantStatus::Accepted | AssistantStatus::Revoked => Err(AssistantRefusal::NotPending),
    }
}

/// The status after revoking (the screen's *Disable*): from pending or accepted.
pub fn decide_revoke(status: AssistantStatus) -> Result<AssistantStatus, AssistantRefusal> {
    match status {
        AssistantStatus::Pending | AssistantStatus::Accepted => Ok(AssistantStatus::Revoked),
        AssistantStatus::Revoked => Err(AssistantRefusal::AlreadyRevoked),
    }
}

/// What a clinician does to one of their assistant records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssistantChange {
    Resend,
    Revoke,
    Delete,
}

/// Decides a clinician's change of one of their records: only an active clinician changes
/// their assistants; resending needs a pending record, revoking one not revoked yet;
/// deleting is allowed in any status.
pub fn decide_change(
    change: AssistantChange,
    status: AssistantStatus,
    (clinician_type, clinician_status): (UserType, UserStatus),
) -> Result<(), AssistantRefusal> {
    may_have_assistants(clinician_type, clinician_status)?;
    match change {
        AssistantChange::Resend => decide_resend(status),
        AssistantChange::Revoke => decide_revoke(status).map(|_| ()),
        AssistantChange::Delete => Ok(()),
    }
}

/// What accepting an assistant's invitation reads, after the site lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssistantAcceptanceSnapshot {
    /// The link was used already.
    pub accepted: bool,
    /// A resend replaced the link.
    pub superseded: bool,
    pub expires_at: NaiveDateTime,
    pub now: NaiveDateTime,
    /// The status of the assistant record the link invites to; `None` when it was deleted.
    pub status: Option<AssistantStatus>,
    /// The inviting clinician's type and status.
    pub clinician: (UserType, UserStatus),
}

/// Decides accepting an assistant's invitation, in this order: a used or replaced link
/// works no more (`Unusable`, as if it never had); a revoked or deleted record, or a
/// clinician no longer active and clinical, withdraws it (`Withdrawn`); then the expiry.
/// The answer is the record's new status.
pub fn decide_assistant_acceptance(
    link: &AssistantAcceptanceSnapshot,
) -> Result<AssistantStatus, AcceptanceRefusal> {
    if link.accepted || link.superseded {
        return Err(AcceptanceRefusal::Unusable);
    }
    let (user_type, user_status) = link.clinician;
    let Some(status) = link.status else {
        return Err(AcceptanceRefusal::Withdrawn);
    };
    if may_have_assistants(user_type, user_status).is_err() {
        return Err(AcceptanceRefusal::Withdrawn);
    }
    let accepted = decide_accept(status).map_err(|_| AcceptanceRefusal::Withdrawn)?;
    if link.expires_at <= link.now {
        return Err(AcceptanceRefusal::Expired);
    }
    Ok(accepted)
}

/// Who asks to act for a clinician's patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The clinician themself.
    TheClinician,
    /// An assistant, with the status of their record with this clinician (`None` when they
    /// do not assist this clinician).
    Assistant(Option<AssistantStatus>),
    /// Anyone else (another user, a service account).
    Other,
}

/// In whose name an allowed act is audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActingFor {
    /// The clinician acts for themself.
    Themself,
    /// The assistant is the actor, the clinician is `on_behalf_of`.
    OnBehalfOf,
}

/// Why an act for a clinician is refused: answered `404`, so nobody learns who is a
/// clinician or whom an assistant does not assist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotTheirClinician;

/// Whether `actor` may act for a clinician's patients: the clinician (while active and
/// clinical) and their accepted assistants only.
pub fn may_act_for(
    actor: Actor,
    clinician_type: UserType,
    clinician_status: UserStatus,
) -> Result<ActingFor, NotTheirClinician> {
    if may_have_assistants(clinician_type, clinician_status).is_err() {
        return Err(NotTheirClinician);
    }
    match actor {
        Actor::TheClinician => Ok(ActingFor::Themself),
        Actor::Assistant(Some(AssistantStatus::Accepted)) => Ok(ActingFor::OnBehalfOf),
        Actor::Assistant(_) | Actor::Other => Err(NotTheirClinician),
    }
}

/// Whether an assistant may hold a working token at all: while at least one of their records
/// is accepted by an active clinical user (`links` are the statuses of their records, each
/// with its clinician's type and status). Revoking or deleting one record also retires every
/// token issued before it (the account's token generation moves; the assistant logs in
/// again for the clinicians they still assist), so each of these takes effect on the next
/// request; a clinician's deactivation ends the access through that clinician at once, and
/// the token with it when it was the last.
pub fn token_is_live(
    links: impl IntoIterator<Item = (AssistantStatus, UserType, UserStatus)>,
) -> bool {
    links.into_iter().any(|(status, user_type, user_status)| {
        status == AssistantStatus::Accepted && may_have_assistants(user_type, user_status).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssistantStatus as S;

    #[test]
    fn only_active_clinical_users_have_assistants() {
        assert_eq!(
            may_have_assistants(UserType::Clinical, UserStatus::Active),
            Ok(())
        );
        for (user_type, status) in [
            (UserType::Clinical, UserStatus::Inactive),
            (UserType::NonClinical, UserStatus::Active),
            (UserType::NonClinical, UserStatus::Inactive),
        ] {
            assert_eq!(
                may_have_assistants(user_type, status),
                Err(AssistantRefusal::NotAClinician)
            );
        }
    }

    #[test]
    fn a_pending_or_accepted_assistant_of_the_same_clinician_is_a_duplicate() {
        assert_eq!(decide_invite([]), Ok(()));
        assert_eq!(decide_invite([S::Revoked]), Ok(()));
        assert_eq!(decide_invite([S::Revoked, S::Revoked]), Ok(()));
        assert_eq!(
            decide_invite([S::Pending]),
            Err(AssistantRefusal::AssistantExists)
        );
        assert_eq!(
            decide_invite([S::Revoked, S::Accepted]),
            Err(AssistantRefusal::AssistantExists)
        );
    }

    /// Every status against every change: the whole machine.
    #[test]
    fn every_transition() {
        assert_eq!(decide_resend(S::Pending), Ok(()));
        assert_eq!(
            decide_resend(S::Accepted),
            Err(AssistantRefusal::NotPending)
        );
        assert_eq!(decide_resend(S::Revoked), Err(AssistantRefusal::NotPending));

        assert_eq!(decide_accept(S::Pending), Ok(S::Accepted));
        assert_eq!(
            decide_accept(S::Accepted),
            Err(AssistantRefusal::NotPending)
        );
        assert_eq!(decide_accept(S::Revoked), Err(AssistantRefusal::NotPending));

        assert_eq!(decide_revoke(S::Pending), Ok(S::Revoked));
        assert_eq!(decide_revoke(S::Accepted), Ok(S::Revoked));
        assert_eq!(
            decide_revoke(S::Revoked),
            Err(AssistantRefusal::AlreadyRevoked)
        );
    }

    #[test]
    fn a_change_needs_an_active_clinician_and_a_status_that_allows_it() {
        let active = (UserType::Clinical, UserStatus::Active);
        let gone = (UserType::Clinical, UserStatus::Inactive);
        use AssistantChange as C;
        assert_eq!(decide_change(C::Resend, S::Pending, active), Ok(()));
        assert_eq!(
            decide_change(C::Resend, S::Accepted, active),
            Err(AssistantRefusal::NotPending)
        );
        assert_eq!(decide_change(C::Revoke, S::Accepted, active), Ok(()));
        assert_eq!(
            decide_change(C::Revoke, S::Revoked, active),
            Err(AssistantRefusal::AlreadyRevoked)
        );
        for status in AssistantStatus::ALL {
            assert_eq!(decide_change(C::Delete, *status, active), Ok(()));
            for change in [C::Resend, C::Revoke, C::Delete] {
                assert_eq!(
                    decide_change(change, *status, gone),
                    Err(AssistantRefusal::NotAClinician)
                );
            }
        }
    }

    fn link() -> AssistantAcceptanceSnapshot {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        AssistantAcceptanceSnapshot {
            accepted: false,
            superseded: false,
            expires_at: now + chrono::Duration::hours(1),
            now,
            status: Some(S::Pending),
            clinician: (UserType::Clinical, UserStatus::Active),
        }
    }

    #[test]
    fn a_live_link_of_a_pending_assistant_is_accepted() {
        assert_eq!(decide_assistant_acceptance(&link()), Ok(S::Accepted));
    }

    #[test]
    fn a_used_or_replaced_link_is_unusable_before_anything_else() {
        for dead in [
            AssistantAcceptanceSnapshot {
                accepted: true,
                status: Some(S::Accepted),
                ..link()
            },
            AssistantAcceptanceSnapshot {
                superseded: true,
                status: None,
                ..link()
            },
        ] {
            assert_eq!(
                decide_assistant_acceptance(&dead),
                Err(AcceptanceRefusal::Unusable)
            );
        }
    }

    #[test]
    fn revoking_deleting_or_the_clinicians_deactivation_withdraws_the_link() {
        let mut expired = link();
        expired.now = expired.expires_at;
        for withdrawn in [
            AssistantAcceptanceSnapshot {
                status: Some(S::Revoked),
                ..link()
            },
            AssistantAcceptanceSnapshot {
                status: None,
                ..link()
            },
            AssistantAcceptanceSnapshot {
                clinician: (UserType::Clinical, UserStatus::Inactive),
                ..link()
            },
            AssistantAcceptanceSnapshot {
                clinician: (UserType::NonClinical, UserStatus::Active),
                ..link()
            },
            AssistantAcceptanceSnapshot {
                status: Some(S::Revoked),
                ..expired
            },
        ] {
            assert_eq!(
                decide_assistant_acceptance(&withdrawn),
                Err(AcceptanceRefusal::Withdrawn),
                "{withdrawn:?}"
            );
        }
    }

    #[test]
    fn a_link_expires_at_its_expiry() {
        let mut late = link();
        late.now = late.expires_at;
        assert_eq!(
            decide_assistant_acceptance(&late),
            Err(AcceptanceRefusal::Expired)
        );
    }

    #[test]
    fn only_the_clinician_and_their_accepted_assistants_act_for_them() {
        let active = (UserType::Clinical, UserStatus::Active);
        let allowed = |actor| may_act_for(actor, active.0, active.1);
        assert_eq!(allowed(Actor::TheClinician), Ok(ActingFor::Themself));
        assert_eq!(
            allowed(Actor::Assistant(Some(S::Accepted))),
            Ok(ActingFor::OnBehalfOf)
        );
        for actor in [
            Actor::Assistant(Some(S::Pending)),
            Actor::Assistant(Some(S::Revoked)),
            Actor::Assistant(None),
            Actor::Other,
        ] {
            assert_eq!(allowed(actor), Err(NotTheirClinician), "{actor:?}");
        }
        // A deactivated clinician, or a non-clinical user, is nobody's clinician.
        for (user_type, status) in [
            (UserType::Clinical, UserStatus::Inactive),
            (UserType::NonClinical, UserStatus::Active),
        ] {
            assert_eq!(
                may_act_for(Actor::TheClinician, user_type, status),
                Err(NotTheirClinician)
            );
            assert_eq!(
                may_act_for(Actor::Assistant(Some(S::Accepted)), user_type, status),
                Err(NotTheirClinician)
            );
        }
    }

    #[test]
    fn a_token_lives_while_one_accepted_link_to_an_active_clinician_remains() {
        let clinician = (UserType::Clinical, UserStatus::Active);
        let gone = (UserType::Clinical, UserStatus::Inactive);
        assert!(token_is_live([(S::Accepted, clinician.0, clinician.1)]));
        assert!(token_is_live([
            (S::Revoked, clinician.0, clinician.1),
            (S::Accepted, clinician.0, clinician.1),
        ]));
        assert!(!token_is_live([]));
        assert!(!token_is_live([(S::Revoked, clinician.0, clinician.1)]));
        assert!(!token_is_live([(S::Pending, clinician.0, clinician.1)]));
        assert!(!token_is_live([(S::Accepted, gone.0, gone.1)]));
    }
}
