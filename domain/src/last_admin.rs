//! SPEC §4 rule 5: a site keeps an active site administrator and every clinic an active
//! clinic administrator, whatever removes them (a permission, a clinic, a deactivation).
//! Pure functions over how many other active holders there are.

use std::collections::BTreeMap;

use crate::{AccessChange, ClinicId, Permission};

/// The other active administrators of a user's site and clinics (the user excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminCover {
    /// Other active users holding `site_admin`.
    pub site_admins: u64,
    /// Per clinic of the user, other active users there holding `clinic_admin`.
    pub clinic_admins: BTreeMap<ClinicId, u64>,
}

/// The user whose access changes, as the rule needs them.
#[derive(Debug, Clone, Copy)]
pub struct AdminHolder<'a> {
    pub active: bool,
    pub permissions: &'a [Permission],
    pub clinic_ids: &'a [ClinicId],
}

/// The clinics whose clinic administrator the user stops being through `accepted`.
pub fn clinics_losing_admin(holder: &AdminHolder<'_>, accepted: &[AccessChange]) -> Vec<ClinicId> {
    if !holder.permissions.contains(&Permission::ClinicAdmin) {
        return Vec::new();
    }
    if accepted.contains(&AccessChange::RemovePermission(Permission::ClinicAdmin)) {
        return holder.clinic_ids.to_vec();
    }
    accepted
        .iter()
        .filter_map(|c| match c {
            AccessChange::RemoveClinic(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// Whether the accepted changes would leave the site without an active site administrator
/// or a clinic without an active clinic administrator. An inactive user covers nothing.
pub fn leaves_last_admin(
    holder: &AdminHolder<'_>,
    accepted: &[AccessChange],
    cover: &AdminCover,
) -> bool {
    if !holder.active {
        return false;
    }
    if accepted.contains(&AccessChange::RemovePermission(Permission::SiteAdmin))
        && cover.site_admins == 0
    {
        return true;
    }
    clinics_losing_admin(holder, accepted)
        .iter()
        .any(|c| cover.clinic_admins.get(c).copied().unwrap_or(0) == 0)
}

/// Whether deactivating a user would leave the site without an active site administrator.
pub fn deactivation_leaves_no_site_admin(holds_site_admin: bool, other_site_admins: u64) -> bool {
    holds_site_admin && other_site_admins == 0
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn clinic(n: u128) -> ClinicId {
        ClinicId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn the_last_site_admin_keeps_the_permission_unless_inactive() {
        let perms = [Permission::SiteAdmin];
        let mut holder = AdminHolder {
            active: true,
            permissions: &perms,
            clinic_ids: &[],
        };
        let remove = [AccessChange::RemovePermission(Permission::SiteAdmin)];
        assert!(leaves_last_admin(&holder, &remove, &AdminCover::default()));
        let covered = AdminCover {
            site_admins: 1,
            ..AdminCover::default()
        };
        assert!(!leaves_last_admin(&holder, &remove, &covered));
        holder.active = false;
        assert!(!leaves_last_admin(&holder, &remove, &AdminCover::default()));
    }

    #[test]
    fn a_clinic_keeps_a_clinic_admin_whether_the_permission_or_the_clinic_goes() {
        let perms = [Permission::ClinicAdmin];
        let clinics = [clinic(1), clinic(2)];
        let holder = AdminHolder {
            active: true,
            permissions: &perms,
            clinic_ids: &clinics,
        };
        let cover = AdminCover {
            site_admins: 1,
            clinic_admins: BTreeMap::from([(clinic(1), 1), (clinic(2), 0)]),
        };
        let drop_permission = [AccessChange::RemovePermission(Permission::ClinicAdmin)];
        assert_eq!(
            clinics_losing_admin(&holder, &drop_permission),
            vec![clinic(1), clinic(2)]
        );
        assert!(leaves_last_admin(&holder, &drop_permission, &cover));
        assert!(!leaves_last_admin(
            &holder,
            &[AccessChange::RemoveClinic(clinic(1))],
            &cover
        ));
        assert!(leaves_last_admin(
            &holder,
            &[AccessChange::RemoveClinic(clinic(2))],
            &cover
        ));
        let plain = AdminHolder {
            permissions: &[],
            ..holder
        };
        assert!(!leaves_last_admin(
            &plain,
            &[AccessChange::RemoveClinic(clinic(2))],
            &cover
        ));
    }

    #[test]
    fn deactivating_the_only_site_admin_is_refused() {
        assert!(deactivation_leaves_no_site_admin(true, 0));
        assert!(!deactivation_leaves_no_site_admin(true, 1));
        assert!(!deactivation_leaves_no_site_admin(false, 0));
    }
}
