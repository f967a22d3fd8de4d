//! Deactivating and reactivating a user (SPEC §1, §4 rule 5): a pure decision over the
//! user's state, the other site administrators and the licence usage.

use crate::{
    LicenceChange, LicenceError, LicencePlan, UsageSnapshot, UserStatus, UserType,
    deactivation_leaves_no_site_admin,
};

/// What the decision reads, after the site lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusSnapshot {
    pub status: UserStatus,
    pub user_type: UserType,
    /// The user holds `site_admin`.
    pub site_admin: bool,
    /// Other active site administrators.
    pub other_site_admins: u64,
    pub plan: LicencePlan,
    pub usage: UsageSnapshot,
}

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// The user already has the status: nothing to write.
    Unchanged,
    Deactivate,
    Reactivate,
}

/// Why the status is not changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRefusal {
    /// The last active site administrator stays active.
    LastAdmin,
    /// Reactivation needs a licence of the user's type.
    Licence {
        error: LicenceError,
        plan: LicencePlan,
        usage: UsageSnapshot,
    },
}

/// Decides setting a user's status to `wanted`.
pub fn decide_status(
    site: &StatusSnapshot,
    wanted: UserStatus,
) -> Result<StatusChange, StatusRefusal> {
    if site.status == wanted {
        return Ok(StatusChange::Unchanged);
    }
    match wanted {
        UserStatus::Inactive => {
            if deactivation_leaves_no_site_admin(site.site_admin, site.other_site_admins) {
                Err(StatusRefusal::LastAdmin)
            } else {
                Ok(StatusChange::Deactivate)
            }
        }
        UserStatus::Active => site
            .plan
            .check(&site.usage, &LicenceChange::AddUser(site.user_type))
            .map(|()| StatusChange::Reactivate)
            .map_err(|error| StatusRefusal::Licence {
                error,
                plan: site.plan,
                usage: site.usage,
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(status: UserStatus) -> StatusSnapshot {
        StatusSnapshot {
            status,
            user_type: UserType::Clinical,
            site_admin: false,
            other_site_admins: 0,
            plan: LicencePlan::Flex { licences: 2 },
            usage: UsageSnapshot {
                clinical_active: 1,
                non_clinical_active: 0,
            },
        }
    }

    #[test]
    fn setting_the_status_a_user_has_changes_nothing() {
        for status in [UserStatus::Active, UserStatus::Inactive] {
            assert_eq!(
                decide_status(&snapshot(status), status),
                Ok(StatusChange::Unchanged)
            );
        }
    }

    #[test]
    fn the_last_site_admin_is_not_deactivated() {
        let mut admin = StatusSnapshot {
            site_admin: true,
            ..snapshot(UserStatus::Active)
        };
        assert_eq!(
            decide_status(&admin, UserStatus::Inactive),
            Err(StatusRefusal::LastAdmin)
        );
        admin.other_site_admins = 1;
        assert_eq!(
            decide_status(&admin, UserStatus::Inactive),
            Ok(StatusChange::Deactivate)
        );
    }

    #[test]
    fn reactivation_needs_a_licence() {
        let mut sleeper = snapshot(UserStatus::Inactive);
        assert_eq!(
            decide_status(&sleeper, UserStatus::Active),
            Ok(StatusChange::Reactivate)
        );
        sleeper.usage.clinical_active = 2;
        assert!(matches!(
            decide_status(&sleeper, UserStatus::Active),
            Err(StatusRefusal::Licence {
                error: LicenceError::LicenceLimitReached { .. },
                ..
            })
        ));
    }
}
