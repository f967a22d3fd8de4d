//! The three outcomes, selection-level refusals, and properties of the report's counts.

use proptest::prelude::*;

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::{ClinicId, Permission, Profession};

const SITE_ADMIN: Actor<'static> = Actor {
    site_admin: true,
    clinic_ids: &[],
};

#[test]
fn all_applied_is_success_and_no_ops_do_not_count() {
    let clinic = ClinicId::new();
    let clinics = [clinic];
    let held = [Permission::ViewReports];
    let subject = Subject {
        profession: Profession::Pt,
        permissions: &held,
        clinic_ids: &clinics,
        default_clinic_id: clinic,
    };
    let (a, b) = (UserId::new(), UserId::new());
    let selection = [
        Selected::Found {
            id: a,
            subject,
            administered: true,
        },
        Selected::Found {
            id: b,
            subject,
            administered: true,
        },
    ];
    let changes = [
        AccessChange::AddPermission(Permission::ViewReports),
        AccessChange::AddPermission(Permission::ManageSchedule),
    ];
    let plan = plan_bulk(&SITE_ADMIN, &selection, &changes, &BTreeMap::new(), false);
    assert_eq!(plan.report.outcome, Outcome::Success);
    assert_eq!(
        plan.report.permissions,
        ChangeCounts {
            applied: 2,
            refused: 0,
            no_op: 2
        }
    );
    assert_eq!(plan.report.users_updated, 2);
    assert_eq!(plan.accepted.len(), 2);
}

#[test]
fn some_refused_is_partial_with_grouped_reasons() {
    let (home, other) = (ClinicId::new(), ClinicId::new());
    let clinics = [home, other];
    let pt = Subject {
        profession: Profession::Pt,
        permissions: &[],
        clinic_ids: &clinics,
        default_clinic_id: home,
    };
    let clerk = Subject {
        profession: Profession::Clerical,
        ..pt
    };
    let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
    let selection = [
        Selected::Found {
            id: a,
            subject: pt,
            administered: true,
        },
        Selected::Found {
            id: b,
            subject: clerk,
            administered: true,
        },
        Selected::Found {
            id: c,
            subject: clerk,
            administered: true,
        },
    ];
    let changes = [
        AccessChange::AddPermission(Permission::StartSoapNotes),
        AccessChange::RemoveClinic(home),
    ];
    let report = plan_bulk(&SITE_ADMIN, &selection, &changes, &BTreeMap::new(), true).report;
    assert_eq!(report.outcome, Outcome::Partial);
    assert!(report.dry_run);
    assert_eq!(
        report.permissions,
        ChangeCounts {
            applied: 1,
            refused: 2,
            no_op: 0
        }
    );
    assert_eq!(
        report.clinics,
        ChangeCounts {
            applied: 0,
            refused: 3,
            no_op: 0
        }
    );
    let soap = &report.refusals[report
        .refusals
        .iter()
        .position(|g| g.reason == Refusal::SoapNotAllowedForProfession)
        .unwrap()];
    assert_eq!((soap.kind, soap.count), (ChangeKind::Permission, 2));
    let mut expected = vec![b, c];
    expected.sort();
    assert_eq!(soap.user_ids, expected);
}

#[test]
fn nothing_applied_and_something_refused_is_failed() {
    let missing = UserId::new();
    let foreign = UserId::new();
    let clinic = ClinicId::new();
    let clinics = [clinic];
    let subject = Subject {
        profession: Profession::Pt,
        permissions: &[],
        clinic_ids: &clinics,
        default_clinic_id: clinic,
    };
    let selection = [
        Selected::Missing(missing),
        Selected::Found {
            id: foreign,
            subject,
            administered: false,
        },
    ];
    let report = plan_bulk(
        &SITE_ADMIN,
        &selection,
        &[AccessChange::AddPermission(Permission::ViewReports)],
        &BTreeMap::new(),
        false,
    )
    .report;
    assert_eq!(report.outcome, Outcome::Failed);
    let reasons: Vec<_> = report.refusals.iter().map(|g| g.reason.code()).collect();
    assert_eq!(reasons, vec!["not_administered", "user_not_found"]);
}

#[test]
fn an_empty_change_list_is_success() {
    let selection = [Selected::Missing(UserId::new())];
    let report = plan_bulk(&SITE_ADMIN, &selection, &[], &BTreeMap::new(), false).report;
    assert_eq!(report.outcome, Outcome::Success);
    assert_eq!(report.selected, 1);
}

#[test]
fn a_clinic_of_another_site_refuses_the_whole_update() {
    let (ours, theirs) = (ClinicId::new(), ClinicId::new());
    let site_clinics = BTreeSet::from([ours]);
    let changes = [
        AccessChange::AddPermission(Permission::ViewReports),
        AccessChange::AddClinic(ours),
        AccessChange::RemoveClinic(theirs),
    ];
    let selection = [Selected::Missing(UserId::new())];
    let refused = decide_bulk(
        &SITE_ADMIN,
        &selection,
        &changes,
        &site_clinics,
        &BTreeMap::new(),
        false,
    );
    assert_eq!(
        refused.err(),
        Some(BulkRefusal::UnknownClinics(vec![
            AccessChange::RemoveClinic(theirs)
        ]))
    );
    let allowed = decide_bulk(
        &SITE_ADMIN,
        &selection,
        &changes[..2],
        &site_clinics,
        &BTreeMap::new(),
        true,
    );
    assert_eq!(allowed.map(|plan| plan.report.selected), Ok(1));
}

#[test]
fn more_than_the_limit_of_users_is_refused_before_judging() {
    let selection: Vec<Selected<'_>> = (0..=MAX_BULK_SELECTION)
        .map(|_| Selected::Missing(UserId::new()))
        .collect();
    let refused = decide_bulk(
        &SITE_ADMIN,
        &selection,
        &[],
        &BTreeSet::new(),
        &BTreeMap::new(),
        false,
    );
    assert_eq!(
        refused.err(),
        Some(BulkRefusal::SelectionTooLarge {
            selected: MAX_BULK_SELECTION + 1,
            limit: MAX_BULK_SELECTION,
        })
    );
    let at_the_limit = decide_bulk(
        &SITE_ADMIN,
        &selection[1..],
        &[],
        &BTreeSet::new(),
        &BTreeMap::new(),
        false,
    );
    assert!(at_the_limit.is_ok());
}

#[test]
fn a_clinic_keeps_its_last_clinic_admin() {
    let (home, north) = (ClinicId::new(), ClinicId::new());
    let clinics = [home, north];
    let held = [Permission::ClinicAdmin];
    let admin = Subject {
        profession: Profession::Other,
        permissions: &held,
        clinic_ids: &clinics,
        default_clinic_id: home,
    };
    let plain = Subject {
        permissions: &[],
        ..admin
    };
    let (clara, dora, paul) = (UserId::new(), UserId::new(), UserId::new());
    let remove_north = [AccessChange::RemoveClinic(north)];
    let only_clara = BTreeMap::from([(north, BTreeSet::from([clara]))]);
    let selection = [
        Selected::Found {
            id: clara,
            subject: admin,
            administered: true,
        },
        Selected::Found {
            id: paul,
            subject: plain,
            administered: true,
        },
    ];
    let report = plan_bulk(&SITE_ADMIN, &selection, &remove_north, &only_clara, false).report;
    assert_eq!(report.outcome, Outcome::Partial);
    assert_eq!(
        report.clinics,
        ChangeCounts {
            applied: 1,
            refused: 1,
            no_op: 0
        }
    );
    assert_eq!(report.refusals[0].reason.code(), "last_admin");
    assert_eq!(report.refusals[0].user_ids, vec![clara]);

    // Two admins both losing the clinic in one request: neither may.
    let both = BTreeMap::from([(north, BTreeSet::from([clara, dora]))]);
    let selection = [
        Selected::Found {
            id: clara,
            subject: admin,
            administered: true,
        },
        Selected::Found {
            id: dora,
            subject: admin,
            administered: true,
        },
    ];
    let report = plan_bulk(&SITE_ADMIN, &selection, &remove_north, &both, false).report;
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(report.clinics.refused, 2);

    // One of two losing it is fine.
    let selection = [Selected::Found {
        id: clara,
        subject: admin,
        administered: true,
    }];
    let report = plan_bulk(&SITE_ADMIN, &selection, &remove_north, &both, false).report;
    assert_eq!(report.outcome, Outcome::Success);
}

fn arb_profession() -> impl Strategy<Value = Profession> {
    prop::sample::select(Profession::ALL.to_vec())
}

fn arb_permission() -> impl Strategy<Value = Permission> {
    prop::sample::select(Permission::ALL.to_vec())
}

proptest! {
    #[test]
    fn counts_add_up_and_the_outcome_matches(
        users in prop::collection::vec(
            (arb_profession(), prop::collection::vec(arb_permission(), 0..4),
             prop::collection::vec(0usize..4, 1..4), any::<bool>(), any::<bool>()),
            0..12),
        changes in prop::collection::vec((0u8..4, arb_permission(), 0usize..4), 0..6),
        actor_clinics in prop::collection::vec(0usize..4, 0..4),
        site_admin in any::<bool>(),
    ) {
        let pool: Vec<ClinicId> = (0..4).map(|_| ClinicId::new()).collect();
        let mine: Vec<ClinicId> = actor_clinics.iter().map(|i| pool[*i]).collect();
        let actor = Actor { site_admin, clinic_ids: &mine };
        let owned: Vec<(Vec<Permission>, Vec<ClinicId>)> = users
            .iter()
            .map(|(_, perms, clinics, _, _)| {
                (perms.clone(), clinics.iter().map(|i| pool[*i]).collect())
            })
            .collect();
        let selection: Vec<Selected<'_>> = users
            .iter()
            .zip(&owned)
            .map(|((profession, _, _, administered, exists), (perms, clinics))| {
                let id = UserId::new();
                if *exists {
                    Selected::Found {
                        id,
                        subject: Subject {
                            profession: *profession,
                            permissions: perms,
                            clinic_ids: clinics,
                            default_clinic_id: clinics[0],
                        },
                        administered: *administered,
                    }
                } else {
                    Selected::Missing(id)
                }
            })
            .collect();
        let changes: Vec<AccessChange> = changes
            .iter()
            .map(|(op, p, c)| match op {
                0 => AccessChange::AddPermission(*p),
                1 => AccessChange::RemovePermission(*p),
                2 => AccessChange::AddClinic(pool[*c]),
                _ => AccessChange::RemoveClinic(pool[*c]),
            })
            .collect();
        let distinct: HashSet<AccessChange> = changes.iter().copied().collect();
        let per_kind = |k: ChangeKind| distinct.iter().filter(|c| c.kind() == k).count() as u64;
        let plan = plan_bulk(&actor, &selection, &changes, &BTreeMap::new(), false);
        let r = &plan.report;
        let n = selection.len() as u64;
        prop_assert_eq!(r.selected, n);
        prop_assert_eq!(r.permissions.applied + r.permissions.refused + r.permissions.no_op, n * per_kind(ChangeKind::Permission));
        prop_assert_eq!(r.clinics.applied + r.clinics.refused + r.clinics.no_op, n * per_kind(ChangeKind::Clinic));
        let refused: u64 = r.refusals.iter().map(|g| g.count).sum();
        prop_assert_eq!(refused, r.permissions.refused + r.clinics.refused);
        let applied = r.permissions.applied + r.clinics.applied;
        prop_assert_eq!(applied, plan.accepted.len() as u64);
        let updated: HashSet<UserId> = plan.accepted.iter().map(|(u, _)| *u).collect();
        prop_assert_eq!(r.users_updated, updated.len() as u64);
        let expected = match (applied, refused) {
            (_, 0) => Outcome::Success,
            (0, _) => Outcome::Failed,
            _ => Outcome::Partial,
        };
        prop_assert_eq!(r.outcome, expected);
        for group in &r.refusals {
            prop_assert!(group.count >= group.user_ids.len() as u64);
            prop_assert!(!group.user_ids.is_empty());
        }
        // A refused or no-op pair is never applied: every accepted pair is one the judge accepts.
        for (user, change) in &plan.accepted {
            let found = selection.iter().find_map(|s| match s {
                Selected::Found { id, subject, administered: true } if id == user => Some(*subject),
                _ => None,
            });
            prop_assert!(found.is_some());
            if let Some(subject) = found {
                prop_assert_eq!(judge(&actor, &subject, change, Mode::Bulk), Verdict::Accepted);
            }
        }
    }
}
