//! Replacing one user's permissions or clinics (`PUT /v1/users/{id}/permissions` and
//! `PUT /v1/users/{id}/clinics`, SPEC §4): the clinic choice, the access judge over every
//! change the replacement makes, and the last-admin rule, as one pure decision over a
//! snapshot read after the site lock.

use crate::{
    AccessChange, Actor, AdminCover, AdminHolder, ClinicChoiceRefusal, ClinicId, Mode, Permission,
    Profession, Refusal, Subject, Verdict, judge, leaves_last_admin,
};

/// What the request replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessReplacement {
    /// The user's permissions become exactly these.
    Permissions(Vec<Permission>),
    /// The user's clinics become exactly these, with this default among them.
    Clinics {
        clinic_ids: Vec<ClinicId>,
        default_clinic_id: ClinicId,
    },
}

/// The user whose access is replaced, and what the rules read about the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSnapshot {
    pub active: bool,
    pub profession: Profession,
    pub permissions: Vec<Permission>,
    pub clinic_ids: Vec<ClinicId>,
    pub default_clinic_id: ClinicId,
    /// The other active administrators rule 5 counts: site administrators when the user
    /// holds `site_admin`, and the clinic administrators of each of the user's clinics
    /// when they hold `clinic_admin` (none are read for an inactive user).
    pub cover: AdminCover,
    /// Some requested clinic is not a clinic of the site (clinic replacements only).
    pub unknown_clinic: bool,
}

/// What to write: the accepted changes and, when it moves, the new default clinic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessDecision {
    /// Additions first, then removals, each in id order.
    pub accepted: Vec<AccessChange>,
    pub new_default_clinic: Option<ClinicId>,
}

impl AccessDecision {
    /// The replacement asks for what the user already has: nothing to write or audit.
    pub fn changes_nothing(&self) -> bool {
        self.accepted.is_empty() && self.new_default_clinic.is_none()
    }
}

/// Why the replacement is refused, in the order the rules are asked; nothing changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessRefusal {
    /// The clinic fields do not name the site's clinics consistently
    /// (`UnknownClinic` or `DefaultNotInClinics`).
    Clinics(ClinicChoiceRefusal),
    /// `clinic_ids` leaves out the user's default clinic, which the request keeps as the
    /// default (rule 4: move the default first, or in the same request).
    DefaultClinicRemoved,
    /// The access judge refused these changes, every one listed.
    Judged(Vec<(AccessChange, Refusal)>),
    /// Rule 5: the site or a clinic would be left without an active administrator.
    LastAdmin,
}

/// The changes that turn `held` into `desired`: additions, then removals.
fn replacement<T: Ord + Copy>(
    held: &[T],
    desired: &[T],
    add: fn(T) -> AccessChange,
    remove: fn(T) -> AccessChange,
) -> Vec<AccessChange> {
    let held: std::collections::BTreeSet<T> = held.iter().copied().collect();
    let desired: std::collections::BTreeSet<T> = desired.iter().copied().collect();
    desired
        .difference(&held)
        .map(|x| add(*x))
        .chain(held.difference(&desired).map(|x| remove(*x)))
        .collect()
}

/// Decides replacing `user`'s permissions or clinics as `actor` asks.
pub fn decide_access_replacement(
    actor: &Actor<'_>,
    user: &AccessSnapshot,
    wanted: &AccessReplacement,
) -> Result<AccessDecision, AccessRefusal> {
    let (changes, default_clinic_id) = match wanted {
        AccessReplacement::Permissions(desired) => (
            replacement(
                &user.permissions,
                desired,
                AccessChange::AddPermission,
                AccessChange::RemovePermission,
            ),
            user.default_clinic_id,
        ),
        AccessReplacement::Clinics {
            clinic_ids,
            default_clinic_id,
        } => {
            if user.unknown_clinic {
                return Err(AccessRefusal::Clinics(ClinicChoiceRefusal::UnknownClinic));
            }
            if !clinic_ids.contains(default_clinic_id) {
                return Err(if *default_clinic_id == user.default_clinic_id {
                    AccessRefusal::DefaultClinicRemoved
                } else {
                    AccessRefusal::Clinics(ClinicChoiceRefusal::DefaultNotInClinics)
                });
            }
            let changes = replacement(
                &user.clinic_ids,
                clinic_ids,
                AccessChange::AddClinic,
                AccessChange::RemoveClinic,
            );
            (changes, *default_clinic_id)
        }
    };
    // The default is judged as it will be: moving it away from a clinic lets that go.
    let subject = Subject {
        profession: user.profession,
        permissions: &user.permissions,
        clinic_ids: &user.clinic_ids,
        default_clinic_id,
    };
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for change in changes {
        match judge(actor, &subject, &change, Mode::Single) {
            Verdict::Accepted => accepted.push(change),
            Verdict::NoOp => {}
            Verdict::Refused(reason) => refused.push((change, reason)),
        }
    }
    if !refused.is_empty() {
        return Err(AccessRefusal::Judged(refused));
    }
    let holder = AdminHolder {
        active: user.active,
        permissions: &user.permissions,
        clinic_ids: &user.clinic_ids,
    };
    if leaves_last_admin(&holder, &accepted, &user.cover) {
        return Err(AccessRefusal::LastAdmin);
    }
    Ok(AccessDecision {
        accepted,
        new_default_clinic: (default_clinic_id != user.default_clinic_id)
            .then_some(default_clinic_id),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use uuid::Uuid;

    use super::*;

    fn clinic(n: u128) -> ClinicId {
        ClinicId::from_uuid(Uuid::from_u128(n))
    }

    const SITE_ADMIN: Actor<'static> = Actor {
        site_admin: true,
        clinic_ids: &[],
    };

    /// An active physiotherapist at clinics 1 and 2 (default 1), covered by other admins.
    fn physio(permissions: &[Permission]) -> AccessSnapshot {
        AccessSnapshot {
            active: true,
            profession: Profession::Pt,
            permissions: permissions.to_vec(),
            clinic_ids: vec![clinic(1), clinic(2)],
            default_clinic_id: clinic(1),
            cover: AdminCover {
                site_admins: 1,
                clinic_admins: BTreeMap::from([(clinic(1), 1), (clinic(2), 1)]),
            },
            unknown_clinic: false,
        }
    }

    fn clinics(ids: &[ClinicId], default_clinic_id: ClinicId) -> AccessReplacement {
        AccessReplacement::Clinics {
            clinic_ids: ids.to_vec(),
            default_clinic_id,
        }
    }

    #[test]
    fn permissions_are_replaced_by_additions_and_removals() {
        let user = physio(&[Permission::ViewUsers, Permission::StartSoapNotes]);
        let wanted =
            AccessReplacement::Permissions(vec![Permission::StartSoapNotes, Permission::ViewAudit]);
        let decision = decide_access_replacement(&SITE_ADMIN, &user, &wanted).unwrap();
        assert_eq!(
            decision.accepted,
            vec![
                AccessChange::AddPermission(Permission::ViewAudit),
                AccessChange::RemovePermission(Permission::ViewUsers),
            ]
        );
        assert_eq!(decision.new_default_clinic, None);
    }

    #[test]
    fn asking_for_what_the_user_has_changes_nothing() {
        let user = physio(&[Permission::ViewUsers]);
        let same = AccessReplacement::Permissions(vec![Permission::ViewUsers]);
        assert!(
            decide_access_replacement(&SITE_ADMIN, &user, &same)
                .unwrap()
                .changes_nothing()
        );
        let same = clinics(&[clinic(2), clinic(1)], clinic(1));
        assert!(
            decide_access_replacement(&SITE_ADMIN, &user, &same)
                .unwrap()
                .changes_nothing()
        );
    }

    #[test]
    fn every_refused_change_is_listed() {
        let user = AccessSnapshot {
            profession: Profession::Clerical,
            ..physio(&[])
        };
        let clinic_admin = Actor {
            site_admin: false,
            clinic_ids: &[],
        };
        let wanted = AccessReplacement::Permissions(vec![
            Permission::SiteAdmin,
            Permission::StartSoapNotes,
            Permission::ViewUsers,
        ]);
        assert_eq!(
            decide_access_replacement(&clinic_admin, &user, &wanted),
            Err(AccessRefusal::Judged(vec![
                (
                    AccessChange::AddPermission(Permission::SiteAdmin),
                    Refusal::PermissionNotGrantable
                ),
                (
                    AccessChange::AddPermission(Permission::StartSoapNotes),
                    Refusal::SoapNotAllowedForProfession
                ),
            ]))
        );
    }

    #[test]
    fn an_unknown_clinic_is_refused_before_anything_else() {
        let user = AccessSnapshot {
            unknown_clinic: true,
            ..physio(&[])
        };
        assert_eq!(
            decide_access_replacement(&SITE_ADMIN, &user, &clinics(&[clinic(9)], clinic(7))),
            Err(AccessRefusal::Clinics(ClinicChoiceRefusal::UnknownClinic))
        );
    }

    #[test]
    fn the_default_clinic_stays_among_the_clinics() {
        let user = physio(&[]);
        assert_eq!(
            decide_access_replacement(&SITE_ADMIN, &user, &clinics(&[clinic(2)], clinic(1))),
            Err(AccessRefusal::DefaultClinicRemoved)
        );
        assert_eq!(
            decide_access_replacement(&SITE_ADMIN, &user, &clinics(&[clinic(1)], clinic(2))),
            Err(AccessRefusal::Clinics(
                ClinicChoiceRefusal::DefaultNotInClinics
            ))
        );
    }

    #[test]
    fn the_default_moves_in_the_same_request_that_removes_it() {
        let user = physio(&[]);
        let decision =
            decide_access_replacement(&SITE_ADMIN, &user, &clinics(&[clinic(2)], clinic(2)))
                .unwrap();
        assert_eq!(
            decision.accepted,
            vec![AccessChange::RemoveClinic(clinic(1))]
        );
        assert_eq!(decision.new_default_clinic, Some(clinic(2)));
    }

    #[test]
    fn a_clinic_administrator_changes_only_their_clinics() {
        let user = physio(&[]);
        let mine = [clinic(1)];
        let clinic_admin = Actor {
            site_admin: false,
            clinic_ids: &mine,
        };
        let wanted = clinics(&[clinic(1), clinic(2), clinic(3)], clinic(1));
        assert_eq!(
            decide_access_replacement(&clinic_admin, &user, &wanted),
            Err(AccessRefusal::Judged(vec![(
                AccessChange::AddClinic(clinic(3)),
                Refusal::ClinicNotAccessible
            )]))
        );
    }

    #[test]
    fn the_last_admin_keeps_their_permission_and_clinic() {
        let mut admin = physio(&[Permission::SiteAdmin, Permission::ClinicAdmin]);
        admin.cover = AdminCover {
            site_admins: 0,
            clinic_admins: BTreeMap::from([(clinic(1), 1), (clinic(2), 0)]),
        };
        let drop_site_admin = AccessReplacement::Permissions(vec![Permission::ClinicAdmin]);
        assert_eq!(
            decide_access_replacement(&SITE_ADMIN, &admin, &drop_site_admin),
            Err(AccessRefusal::LastAdmin)
        );
        let leave_clinic_2 = clinics(&[clinic(1)], clinic(1));
        assert_eq!(
            decide_access_replacement(&SITE_ADMIN, &admin, &leave_clinic_2),
            Err(AccessRefusal::LastAdmin)
        );
        admin.active = false;
        assert!(decide_access_replacement(&SITE_ADMIN, &admin, &leave_clinic_2).is_ok());
    }
}
