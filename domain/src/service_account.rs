//! Service accounts (SPEC §3): which permissions a new one holds, or why not; whether one
//! can be revoked.

use crate::Permission;

/// Why a service account cannot be created as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAccountRefusal {
    /// A permission a service account cannot hold (`clinic_admin`: accounts have no
    /// clinics, so it would administer nobody).
    NotAllowed(Permission),
}

/// The permissions a new service account holds — each once, in catalogue order — or the
/// first one it may not hold.
pub fn decide_service_account(
    permissions: &[Permission],
) -> Result<Vec<Permission>, ServiceAccountRefusal> {
    if let Some(refused) = permissions.iter().find(|p| !p.service_account_may_hold()) {
        return Err(ServiceAccountRefusal::NotAllowed(*refused));
    }
    let mut held = permissions.to_vec();
    held.sort();
    held.dedup();
    Ok(held)
}

/// Why a service account cannot be revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationRefusal {
    /// It is revoked already: for the API it no longer exists.
    AlreadyRevoked,
}

/// Revokes an account that is not revoked yet.
pub const fn decide_revocation(revoked: bool) -> Result<(), RevocationRefusal> {
    if revoked {
        Err(RevocationRefusal::AlreadyRevoked)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_revoked_once() {
        assert_eq!(decide_revocation(false), Ok(()));
        assert_eq!(
            decide_revocation(true),
            Err(RevocationRefusal::AlreadyRevoked)
        );
    }

    #[test]
    fn permissions_are_held_once_in_catalogue_order() {
        let asked = [
            Permission::ViewUsers,
            Permission::SiteAdmin,
            Permission::ViewUsers,
        ];
        assert_eq!(
            decide_service_account(&asked),
            Ok(vec![Permission::SiteAdmin, Permission::ViewUsers])
        );
        assert_eq!(decide_service_account(&[]), Ok(Vec::new()));
    }

    #[test]
    fn clinic_admin_is_refused() {
        assert_eq!(
            decide_service_account(&[Permission::ViewClinics, Permission::ClinicAdmin]),
            Err(ServiceAccountRefusal::NotAllowed(Permission::ClinicAdmin))
        );
    }
}
