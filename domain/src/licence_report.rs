//! What `GET /v1/site/licences` reports: usage against the plan, and which additions and
//! type switches the plan allows right now, so a screen can grey out what would be refused.

use serde::Serialize;

use crate::{LicenceChange, LicenceError, LicencePlan, PlanKind, UsageSnapshot, UserType};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenceReport {
    pub plan: PlanKind,
    /// Licences the plan provides (solo: 1).
    pub licences_total: u32,
    /// Licences held by active users (flex: every active user; solo and group: clinical ones).
    pub licences_used: u32,
    pub licences_available: u32,
    pub clinical_active: u32,
    pub non_clinical_active: u32,
    /// A clinical user can be created or reactivated now.
    pub can_add_clinical: bool,
    /// A non-clinical user can be created or reactivated now.
    pub can_add_non_clinical: bool,
    /// An active non-clinical user exists and could be made clinical now.
    pub can_switch_to_clinical: bool,
    /// An active clinical user exists and could be made non-clinical now.
    pub can_switch_to_non_clinical: bool,
}

impl LicencePlan {
    pub fn report(&self, usage: &UsageSnapshot) -> LicenceReport {
        let allowed = |change: LicenceChange| self.check(usage, &change).is_ok();
        let switch = |from: UserType, to: UserType| {
            usage.active(from) > 0 && allowed(LicenceChange::SwitchType { from, to })
        };
        LicenceReport {
            plan: self.kind(),
            licences_total: self.licences(),
            licences_used: self.licences_used(usage),
            licences_available: self.licences_available(usage),
            clinical_active: usage.clinical_active,
            non_clinical_active: usage.non_clinical_active,
            can_add_clinical: allowed(LicenceChange::AddUser(UserType::Clinical)),
            can_add_non_clinical: allowed(LicenceChange::AddUser(UserType::NonClinical)),
            can_switch_to_clinical: switch(UserType::NonClinical, UserType::Clinical),
            can_switch_to_non_clinical: switch(UserType::Clinical, UserType::NonClinical),
        }
    }
}

/// A change the licence rules refused, with the usage it was judged against, so the answer
/// can say "5 of 5 licences in use". For a plan change, `plan` is the requested plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceRefusal {
    pub error: LicenceError,
    pub plan: LicencePlan,
    pub usage: UsageSnapshot,
}

impl LicenceRefusal {
    pub fn report(&self) -> LicenceReport {
        self.plan.report(&self.usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(clinical_active: u32, non_clinical_active: u32) -> UsageSnapshot {
        UsageSnapshot {
            clinical_active,
            non_clinical_active,
        }
    }

    #[test]
    fn solo_with_one_of_each_allows_nothing_more() {
        let r = LicencePlan::Solo.report(&usage(1, 1));
        assert_eq!(
            (r.licences_total, r.licences_used, r.licences_available),
            (1, 1, 0)
        );
        assert!(!r.can_add_clinical && !r.can_add_non_clinical);
        assert!(!r.can_switch_to_clinical && !r.can_switch_to_non_clinical);
    }

    #[test]
    fn solo_with_a_free_slot_allows_switching_into_it() {
        let r = LicencePlan::Solo.report(&usage(0, 1));
        assert!(r.can_add_clinical && !r.can_add_non_clinical);
        assert!(r.can_switch_to_clinical);
        assert!(!r.can_switch_to_non_clinical, "no clinical user to switch");
    }

    #[test]
    fn group_full_still_allows_non_clinical_and_downgrades() {
        let r = LicencePlan::Group { licences: 2 }.report(&usage(2, 7));
        assert_eq!((r.licences_used, r.licences_available), (2, 0));
        assert!(!r.can_add_clinical && r.can_add_non_clinical);
        assert!(!r.can_switch_to_clinical && r.can_switch_to_non_clinical);
    }

    #[test]
    fn flex_counts_everyone_and_switches_freely() {
        let r = LicencePlan::Flex { licences: 3 }.report(&usage(1, 2));
        assert_eq!((r.licences_used, r.licences_available), (3, 0));
        assert!(!r.can_add_clinical && !r.can_add_non_clinical);
        assert!(r.can_switch_to_clinical && r.can_switch_to_non_clinical);
    }
}
