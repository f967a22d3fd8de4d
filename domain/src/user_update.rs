//! Changing a user's profile (`PATCH /v1/users/{id}`) and type (`PUT /v1/users/{id}/type`):
//! pure decisions over the stored user and the site, read after the site lock.

use crate::{
    Email, LicenceChange, LicencePlan, LicenceRefusal, Permission, PersonName, Profession,
    ProfessionRefusal, UsageSnapshot, UserType,
};

/// Profile fields of `PATCH /v1/users/{id}`; `None` leaves a field as it is, and
/// `title: Some(None)` clears the title.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub title: Option<Option<PersonName>>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub email: Option<Email>,
    pub profession: Option<Profession>,
}

/// A user's profile as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub profession: Profession,
}

/// What the profile decision reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSnapshot {
    pub profile: Profile,
    /// The permissions the user holds, which the new profession must allow (rule 6).
    pub permissions: Vec<Permission>,
    /// Another user of the site has the requested email.
    pub email_taken: bool,
}

/// Why the profile is not changed, in the order the rules are asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileRefusal {
    /// Another user of the site has the requested email.
    EmailTaken,
    /// SPEC §4 rule 6: the new profession may not hold a permission the user holds (the
    /// first such permission's reason).
    ProfessionNotAllowed(ProfessionRefusal),
}

/// Decides a profile patch: the profile to write, or `None` when the patch changes nothing.
pub fn decide_profile_update(
    user: &ProfileSnapshot,
    patch: &UserPatch,
) -> Result<Option<Profile>, ProfileRefusal> {
    if patch.email.is_some() && user.email_taken {
        return Err(ProfileRefusal::EmailTaken);
    }
    let current = &user.profile;
    let name = |new: &Option<PersonName>, old: &String| {
        new.as_ref()
            .map_or_else(|| old.clone(), |n| n.as_str().to_owned())
    };
    let wanted = Profile {
        title: match &patch.title {
            Some(title) => title.as_ref().map(|t| t.as_str().to_owned()),
            None => current.title.clone(),
        },
        first_name: name(&patch.first_name, &current.first_name),
        last_name: name(&patch.last_name, &current.last_name),
        email: patch
            .email
            .as_ref()
            .map_or_else(|| current.email.clone(), |e| e.as_str().to_owned()),
        profession: patch.profession.unwrap_or(current.profession),
    };
    if let Some((_, refusal)) = wanted.profession.refusals(&user.permissions).first() {
        return Err(ProfileRefusal::ProfessionNotAllowed(*refusal));
    }
    Ok((wanted != *current).then_some(wanted))
}

/// What the type decision reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeChangeSnapshot {
    pub user_type: UserType,
    /// Only an active user holds a licence.
    pub active: bool,
    pub plan: LicencePlan,
    pub usage: UsageSnapshot,
}

/// Decides switching a user to `wanted` (SPEC §2): `Some(wanted)` to write, `None` when the
/// user has that type. An active user's switch must fit the plan; an inactive user holds no
/// licence, so any switch is allowed.
pub fn decide_type_change(
    user: &TypeChangeSnapshot,
    wanted: UserType,
) -> Result<Option<UserType>, LicenceRefusal> {
    if user.user_type == wanted {
        return Ok(None);
    }
    if user.active {
        let change = LicenceChange::SwitchType {
            from: user.user_type,
            to: wanted,
        };
        user.plan
            .check(&user.usage, &change)
            .map_err(|error| LicenceRefusal {
                error,
                plan: user.plan,
                usage: user.usage,
            })?;
    }
    Ok(Some(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LicenceError;

    fn person(name: &str) -> PersonName {
        PersonName::parse(name).unwrap()
    }

    fn ana(profession: Profession, permissions: &[Permission]) -> ProfileSnapshot {
        ProfileSnapshot {
            profile: Profile {
                title: Some("Dr".to_owned()),
                first_name: "Ana".to_owned(),
                last_name: "Lima".to_owned(),
                email: "ana@example.com".to_owned(),
                profession,
            },
            permissions: permissions.to_vec(),
            email_taken: false,
        }
    }

    #[test]
    fn a_patch_changes_only_the_fields_it_names() {
        let user = ana(Profession::Pt, &[]);
        let patch = UserPatch {
            title: Some(None),
            last_name: Some(person("Souza")),
            ..UserPatch::default()
        };
        let profile = decide_profile_update(&user, &patch).unwrap().unwrap();
        assert_eq!(profile.title, None);
        assert_eq!(profile.first_name, "Ana");
        assert_eq!(profile.last_name, "Souza");
        assert_eq!(profile.email, "ana@example.com");
    }

    #[test]
    fn a_patch_to_the_same_values_changes_nothing() {
        let user = ana(Profession::Pt, &[]);
        let patch = UserPatch {
            first_name: Some(person("Ana")),
            profession: Some(Profession::Pt),
            ..UserPatch::default()
        };
        assert_eq!(decide_profile_update(&user, &patch), Ok(None));
        assert_eq!(
            decide_profile_update(&user, &UserPatch::default()),
            Ok(None)
        );
    }

    #[test]
    fn a_taken_email_is_refused() {
        let user = ProfileSnapshot {
            email_taken: true,
            ..ana(Profession::Pt, &[])
        };
        let patch = UserPatch {
            email: Some(Email::parse("bea@example.com").unwrap()),
            ..UserPatch::default()
        };
        assert_eq!(
            decide_profile_update(&user, &patch),
            Err(ProfileRefusal::EmailTaken)
        );
    }

    #[test]
    fn the_new_profession_must_allow_the_held_permissions() {
        let user = ana(Profession::Pt, &[Permission::FinishSoapNotes]);
        let patch = UserPatch {
            profession: Some(Profession::Pta),
            ..UserPatch::default()
        };
        assert_eq!(
            decide_profile_update(&user, &patch),
            Err(ProfileRefusal::ProfessionNotAllowed(
                ProfessionRefusal::FinishNotesNotAllowedForProfession {
                    profession: Profession::Pta
                }
            ))
        );
    }

    fn clinician(active: bool) -> TypeChangeSnapshot {
        TypeChangeSnapshot {
            user_type: UserType::Clinical,
            active,
            plan: LicencePlan::Solo,
            usage: UsageSnapshot {
                clinical_active: 1,
                non_clinical_active: 1,
            },
        }
    }

    #[test]
    fn switching_to_the_same_type_changes_nothing() {
        assert_eq!(
            decide_type_change(&clinician(true), UserType::Clinical),
            Ok(None)
        );
    }

    #[test]
    fn an_active_users_switch_must_fit_the_plan() {
        let refused = decide_type_change(&clinician(true), UserType::NonClinical).unwrap_err();
        assert_eq!(
            refused.error,
            LicenceError::SoloSlotTaken {
                user_type: UserType::NonClinical
            }
        );
        assert_eq!(refused.plan, LicencePlan::Solo);
    }

    #[test]
    fn an_inactive_user_switches_freely() {
        assert_eq!(
            decide_type_change(&clinician(false), UserType::NonClinical),
            Ok(Some(UserType::NonClinical))
        );
    }
}
