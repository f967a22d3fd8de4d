//! Deleting a clinic: a pure decision over what still depends on it.

/// What the decision reads, after the site lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClinicDeletionSnapshot {
    /// Clinics the site has, this one included.
    pub site_clinics: u64,
    /// Users whose default clinic this is.
    pub default_of_users: u64,
    /// Appointments at the clinic.
    pub appointments: u64,
}

/// Why a clinic is not deleted, in the order the rules are asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClinicDeletionRefusal {
    /// A site keeps at least one clinic.
    LastClinic,
    /// The clinic is some user's default clinic; move their default first.
    InUse,
    /// Appointments at the clinic must stay reachable in reports.
    HasAppointments,
}

/// Decides whether a clinic may be deleted (its users' access to it goes with it).
pub fn decide_clinic_deletion(site: &ClinicDeletionSnapshot) -> Result<(), ClinicDeletionRefusal> {
    if site.site_clinics <= 1 {
        Err(ClinicDeletionRefusal::LastClinic)
    } else if site.default_of_users > 0 {
        Err(ClinicDeletionRefusal::InUse)
    } else if site.appointments > 0 {
        Err(ClinicDeletionRefusal::HasAppointments)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE: ClinicDeletionSnapshot = ClinicDeletionSnapshot {
        site_clinics: 2,
        default_of_users: 0,
        appointments: 0,
    };

    #[test]
    fn a_clinic_nothing_depends_on_is_deleted() {
        assert_eq!(decide_clinic_deletion(&FREE), Ok(()));
    }

    #[test]
    fn the_last_clinic_then_defaults_then_appointments_refuse() {
        let all = ClinicDeletionSnapshot {
            site_clinics: 1,
            default_of_users: 3,
            appointments: 2,
        };
        assert_eq!(
            decide_clinic_deletion(&all),
            Err(ClinicDeletionRefusal::LastClinic)
        );
        let in_use = ClinicDeletionSnapshot {
            site_clinics: 2,
            ..all
        };
        assert_eq!(
            decide_clinic_deletion(&in_use),
            Err(ClinicDeletionRefusal::InUse)
        );
        let booked = ClinicDeletionSnapshot {
            appointments: 1,
            ..FREE
        };
        assert_eq!(
            decide_clinic_deletion(&booked),
            Err(ClinicDeletionRefusal::HasAppointments)
        );
    }
}
