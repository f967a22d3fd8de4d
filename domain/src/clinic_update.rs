//! Changing a clinic (`PATCH /v1/clinics/{id}`): a pure decision over who asks and the
//! clinic as stored.

use crate::{ClinicId, EntityName};

/// Fields of `PATCH /v1/clinics/{id}`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClinicPatch {
    pub name: Option<EntityName>,
    pub assistants_may_finish_notes: Option<bool>,
}

/// A clinic's name and settings as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicProfile {
    pub name: String,
    pub assistants_may_finish_notes: bool,
}

/// Why the clinic is not changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClinicUpdateRefusal {
    /// A clinic administrator changes only the clinics they have access to.
    NotAccessible,
}

/// Decides a clinic patch asked by someone with access to `scope` (`None`: every clinic,
/// as for site administrators): the profile to write, or `None` when it changes nothing.
pub fn decide_clinic_update(
    scope: Option<&[ClinicId]>,
    clinic: ClinicId,
    current: &ClinicProfile,
    patch: &ClinicPatch,
) -> Result<Option<ClinicProfile>, ClinicUpdateRefusal> {
    if scope.is_some_and(|mine| !mine.contains(&clinic)) {
        return Err(ClinicUpdateRefusal::NotAccessible);
    }
    let wanted = ClinicProfile {
        name: patch
            .name
            .as_ref()
            .map_or_else(|| current.name.clone(), |n| n.as_str().to_owned()),
        assistants_may_finish_notes: patch
            .assistants_may_finish_notes
            .unwrap_or(current.assistants_may_finish_notes),
    };
    Ok((wanted != *current).then_some(wanted))
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn north() -> ClinicProfile {
        ClinicProfile {
            name: "North".to_owned(),
            assistants_may_finish_notes: false,
        }
    }

    fn clinic(n: u128) -> ClinicId {
        ClinicId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn a_clinic_administrator_changes_only_their_clinics() {
        let patch = ClinicPatch {
            assistants_may_finish_notes: Some(true),
            ..ClinicPatch::default()
        };
        let mine = [clinic(1)];
        assert_eq!(
            decide_clinic_update(Some(&mine), clinic(2), &north(), &patch),
            Err(ClinicUpdateRefusal::NotAccessible)
        );
        let changed = decide_clinic_update(Some(&mine), clinic(1), &north(), &patch).unwrap();
        assert_eq!(changed.map(|c| c.assistants_may_finish_notes), Some(true));
        assert!(
            decide_clinic_update(None, clinic(2), &north(), &patch)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_patch_to_the_same_values_changes_nothing() {
        let patch = ClinicPatch {
            name: Some(EntityName::parse("North").unwrap()),
            assistants_may_finish_notes: Some(false),
        };
        assert_eq!(
            decide_clinic_update(None, clinic(1), &north(), &patch),
            Ok(None)
        );
    }
}
