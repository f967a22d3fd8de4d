//! Changing a site's name and settings (`PATCH /v1/site`) and its licence plan
//! (`PUT /v1/site/plan`, SPEC §1): pure decisions over the stored site and its usage.

use crate::{EntityName, LicenceChange, LicencePlan, LicenceRefusal, SiteSettings, UsageSnapshot};

/// Fields of `PATCH /v1/site`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SitePatch {
    pub name: Option<EntityName>,
    pub settings: Option<SiteSettings>,
}

/// A site's name and settings as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteProfile {
    pub name: String,
    pub settings: SiteSettings,
}

/// Decides a site patch: the name and settings to write, or `None` when the patch changes
/// nothing. No rule refuses it.
pub fn decide_site_update(current: &SiteProfile, patch: &SitePatch) -> Option<SiteProfile> {
    let wanted = SiteProfile {
        name: patch
            .name
            .as_ref()
            .map_or_else(|| current.name.clone(), |n| n.as_str().to_owned()),
        settings: patch
            .settings
            .clone()
            .unwrap_or_else(|| current.settings.clone()),
    };
    (wanted != *current).then_some(wanted)
}

/// Decides changing the plan from `current` to `requested`: `Some(requested)` to write, or
/// `None` when it is the plan already. Refused when the active users would not fit; the
/// refusal is stated in terms of the requested plan ("3 licences, 4 needed").
pub fn decide_plan_change(
    current: LicencePlan,
    usage: &UsageSnapshot,
    requested: LicencePlan,
) -> Result<Option<LicencePlan>, LicenceRefusal> {
    if current == requested {
        return Ok(None);
    }
    current
        .check(usage, &LicenceChange::ChangePlan(requested))
        .map(|()| Some(requested))
        .map_err(|error| LicenceRefusal {
            error,
            plan: requested,
            usage: *usage,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LicenceError;

    fn harbour() -> SiteProfile {
        SiteProfile {
            name: "Harbour Physio".to_owned(),
            settings: SiteSettings::default(),
        }
    }

    #[test]
    fn a_site_patch_changes_only_what_it_names() {
        let dublin = SiteSettings {
            timezone: "Europe/Dublin".to_owned(),
        };
        let patch = SitePatch {
            settings: Some(dublin.clone()),
            ..SitePatch::default()
        };
        assert_eq!(
            decide_site_update(&harbour(), &patch),
            Some(SiteProfile {
                name: "Harbour Physio".to_owned(),
                settings: dublin,
            })
        );
    }

    #[test]
    fn a_site_patch_to_the_same_values_changes_nothing() {
        let patch = SitePatch {
            name: Some(EntityName::parse("Harbour Physio").unwrap()),
            settings: Some(SiteSettings::default()),
        };
        assert_eq!(decide_site_update(&harbour(), &patch), None);
    }

    fn usage(clinical_active: u32) -> UsageSnapshot {
        UsageSnapshot {
            clinical_active,
            non_clinical_active: 0,
        }
    }

    #[test]
    fn the_same_plan_changes_nothing() {
        let flex = LicencePlan::Flex { licences: 3 };
        assert_eq!(decide_plan_change(flex, &usage(3), flex), Ok(None));
    }

    #[test]
    fn a_plan_the_active_users_do_not_fit_is_refused_in_its_own_terms() {
        let current = LicencePlan::Flex { licences: 5 };
        let smaller = LicencePlan::Flex { licences: 3 };
        let refused = decide_plan_change(current, &usage(4), smaller).unwrap_err();
        assert!(matches!(refused.error, LicenceError::PlanDoesNotFit { .. }));
        assert_eq!(refused.plan, smaller);
        assert_eq!(refused.usage, usage(4));
        let larger = LicencePlan::Flex { licences: 4 };
        assert_eq!(
            decide_plan_change(current, &usage(4), larger),
            Ok(Some(larger))
        );
    }
}
