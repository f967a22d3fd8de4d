//! The SPEC §1 table cell by cell, then properties over random sequences of changes.

use proptest::prelude::*;

use super::*;
use crate::plan::LicencePlan::{Flex, Group, Solo};
use crate::plan::PlanKind;
use crate::user::UserType::{Clinical, NonClinical};

const fn usage(clinical_active: u32, non_clinical_active: u32) -> UsageSnapshot {
    UsageSnapshot {
        clinical_active,
        non_clinical_active,
    }
}

const fn switch(from: UserType, to: UserType) -> LicenceChange {
    LicenceChange::SwitchType { from, to }
}

use LicenceChange::{AddUser, ChangePlan, RemoveUser};

/// (what the row shows, plan, usage, change, expected refusal code or `None` for allowed).
type Row = (
    &'static str,
    LicencePlan,
    UsageSnapshot,
    LicenceChange,
    Option<&'static str>,
);

const LIMIT: &str = "licence_limit_reached";
const SLOT: &str = "solo_slot_taken";
const NOT_FIT: &str = "plan_does_not_fit";

#[rustfmt::skip]
const TABLE: &[Row] = &[
    // flex: every active user needs a licence; active users <= n; switching free.
    ("flex adds clinical below limit", Flex { licences: 3 }, usage(1, 1), AddUser(Clinical), None),
    ("flex adds non-clinical below limit", Flex { licences: 3 }, usage(1, 1), AddUser(NonClinical), None),
    ("flex refuses clinical at limit", Flex { licences: 3 }, usage(2, 1), AddUser(Clinical), Some(LIMIT)),
    ("flex refuses non-clinical at limit", Flex { licences: 3 }, usage(0, 3), AddUser(NonClinical), Some(LIMIT)),
    ("flex counts non-clinical users", Flex { licences: 1 }, usage(0, 1), AddUser(Clinical), Some(LIMIT)),
    ("flex switches c->nc at limit", Flex { licences: 2 }, usage(1, 1), switch(Clinical, NonClinical), None),
    ("flex switches nc->c at limit", Flex { licences: 2 }, usage(1, 1), switch(NonClinical, Clinical), None),
    ("flex always removes", Flex { licences: 2 }, usage(2, 0), RemoveUser(Clinical), None),
    // solo: at most 1 active clinical and 1 active non-clinical; switch only into a free slot.
    ("solo adds first clinical", Solo, usage(0, 0), AddUser(Clinical), None),
    ("solo adds first non-clinical", Solo, usage(0, 0), AddUser(NonClinical), None),
    ("solo adds clinical beside non-clinical", Solo, usage(0, 1), AddUser(Clinical), None),
    ("solo adds non-clinical beside clinical", Solo, usage(1, 0), AddUser(NonClinical), None),
    ("solo refuses second clinical", Solo, usage(1, 0), AddUser(Clinical), Some(SLOT)),
    ("solo refuses second non-clinical", Solo, usage(0, 1), AddUser(NonClinical), Some(SLOT)),
    ("solo refuses second clinical when full", Solo, usage(1, 1), AddUser(Clinical), Some(SLOT)),
    ("solo switches c->nc into free slot", Solo, usage(1, 0), switch(Clinical, NonClinical), None),
    ("solo switches nc->c into free slot", Solo, usage(0, 1), switch(NonClinical, Clinical), None),
    ("solo refuses c->nc with one of each", Solo, usage(1, 1), switch(Clinical, NonClinical), Some(SLOT)),
    ("solo refuses nc->c with one of each", Solo, usage(1, 1), switch(NonClinical, Clinical), Some(SLOT)),
    ("solo always removes", Solo, usage(1, 1), RemoveUser(NonClinical), None),
    // group: active clinical <= n; non-clinical unlimited; nc->c needs a free licence.
    ("group adds clinical below limit", Group { licences: 2 }, usage(1, 0), AddUser(Clinical), None),
    ("group refuses clinical at limit", Group { licences: 2 }, usage(2, 0), AddUser(Clinical), Some(LIMIT)),
    ("group adds non-clinical without limit", Group { licences: 1 }, usage(1, 5000), AddUser(NonClinical), None),
    ("group ignores non-clinical for clinical", Group { licences: 2 }, usage(1, 50), AddUser(Clinical), None),
    ("group switches nc->c with free licence", Group { licences: 2 }, usage(1, 1), switch(NonClinical, Clinical), None),
    ("group refuses nc->c without free licence", Group { licences: 2 }, usage(2, 1), switch(NonClinical, Clinical), Some(LIMIT)),
    ("group switches c->nc at limit", Group { licences: 2 }, usage(2, 0), switch(Clinical, NonClinical), None),
    ("group switches c->nc even over limit", Group { licences: 1 }, usage(3, 0), switch(Clinical, NonClinical), None),
    ("group always removes", Group { licences: 1 }, usage(1, 0), RemoveUser(Clinical), None),
    // same-type "switch" changes nothing.
    ("solo same-type switch is a no-op", Solo, usage(1, 1), switch(Clinical, Clinical), None),
    // plan changes are refused when the current active users would not fit.
    ("lower flex count that fits", Flex { licences: 5 }, usage(2, 1), ChangePlan(Flex { licences: 3 }), None),
    ("lower flex count that does not fit", Flex { licences: 5 }, usage(2, 2), ChangePlan(Flex { licences: 3 }), Some(NOT_FIT)),
    ("flex to group keeps non-clinical free", Flex { licences: 5 }, usage(2, 3), ChangePlan(Group { licences: 2 }), None),
    ("group to flex counts non-clinical", Group { licences: 5 }, usage(2, 4), ChangePlan(Flex { licences: 5 }), Some(NOT_FIT)),
    ("lower group count below clinical", Group { licences: 5 }, usage(3, 0), ChangePlan(Group { licences: 2 }), Some(NOT_FIT)),
    ("to solo with one of each", Group { licences: 5 }, usage(1, 1), ChangePlan(Solo), None),
    ("to solo with two clinical", Group { licences: 5 }, usage(2, 0), ChangePlan(Solo), Some(NOT_FIT)),
    ("to solo with two non-clinical", Flex { licences: 5 }, usage(0, 2), ChangePlan(Solo), Some(NOT_FIT)),
    ("solo to flex of one with one of each", Solo, usage(1, 1), ChangePlan(Flex { licences: 1 }), Some(NOT_FIT)),
    ("any plan change on an empty site", Solo, usage(0, 0), ChangePlan(Group { licences: 1 }), None),
];

/// Checks the rows of the table whose plan is of `kind` (plan changes are checked by the
/// plan they start from) and returns how many there were.
fn check_rows(kind: PlanKind, changes_plan: bool) -> usize {
    let rows: Vec<&Row> = TABLE
        .iter()
        .filter(|(_, plan, _, change, _)| {
            plan.kind() == kind && matches!(change, ChangePlan(_)) == changes_plan
        })
        .collect();
    for (name, plan, usage, change, expected) in &rows {
        let actual = plan.check(usage, change).map_err(|e| e.code().as_str());
        assert_eq!(actual.err(), *expected, "{name}");
    }
    rows.len()
}

#[test]
fn flex_cells() {
    assert_eq!(check_rows(PlanKind::Flex, false), 8);
}

#[test]
fn solo_cells() {
    assert_eq!(check_rows(PlanKind::Solo, false), 13);
}

#[test]
fn group_cells() {
    assert_eq!(check_rows(PlanKind::Group, false), 9);
}

#[test]
fn plan_change_cells() {
    let total: usize = [PlanKind::Flex, PlanKind::Solo, PlanKind::Group]
        .into_iter()
        .map(|kind| check_rows(kind, true))
        .sum();
    assert_eq!(total, 10);
}

#[test]
fn licences_used_counts_who_needs_a_licence() {
    let u = usage(2, 3);
    assert_eq!(Flex { licences: 9 }.licences_used(&u), 5);
    assert_eq!(Solo.licences_used(&usage(1, 1)), 1);
    assert_eq!(Solo.licences_used(&usage(0, 1)), 0);
    assert_eq!(Group { licences: 9 }.licences_used(&u), 2);
}

#[test]
fn licences_available_never_underflows() {
    assert_eq!(Flex { licences: 5 }.licences_available(&usage(2, 1)), 2);
    assert_eq!(Group { licences: 1 }.licences_available(&usage(3, 0)), 0);
    assert_eq!(Solo.licences_available(&usage(0, 1)), 1);
}

#[test]
fn limit_refusal_says_what_is_in_use() {
    let error = Flex { licences: 5 }
        .check(&usage(3, 2), &AddUser(Clinical))
        .unwrap_err();
    assert_eq!(
        error,
        LicenceError::LicenceLimitReached {
            licences_total: 5,
            licences_used: 5,
            needed: 1
        }
    );
    assert_eq!(
        error.to_string(),
        "all licences are in use: 5 of 5 used, 1 more needed"
    );
}

#[test]
fn solo_refusal_names_the_taken_slot() {
    let error = Solo
        .check(&usage(1, 1), &switch(Clinical, NonClinical))
        .unwrap_err();
    assert_eq!(
        error,
        LicenceError::SoloSlotTaken {
            user_type: NonClinical
        }
    );
    assert!(error.to_string().contains("non_clinical"));
}

#[test]
fn plan_refusal_reports_the_new_plan_and_current_usage() {
    let error = Flex { licences: 10 }
        .check(&usage(2, 4), &ChangePlan(Group { licences: 1 }))
        .unwrap_err();
    assert_eq!(
        error,
        LicenceError::PlanDoesNotFit {
            licences_total: 1,
            licences_needed: 2,
            clinical_active: 2,
            non_clinical_active: 4
        }
    );
}

#[test]
fn refusals_serialize_with_their_code_and_numbers() {
    let json = serde_json::to_value(LicenceError::LicenceLimitReached {
        licences_total: 5,
        licences_used: 5,
        needed: 1,
    })
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"code": "licence_limit_reached", "licences_total": 5, "licences_used": 5, "needed": 1})
    );
    let json = serde_json::to_value(LicenceError::SoloSlotTaken {
        user_type: Clinical,
    })
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"code": "solo_slot_taken", "user_type": "clinical"})
    );
}

#[test]
fn usage_snapshot_accessors() {
    let u = usage(2, 3);
    assert_eq!(u.active(Clinical), 2);
    assert_eq!(u.active(NonClinical), 3);
    assert_eq!(u.total_active(), 5);
    assert_eq!(usage(u32::MAX, 1).total_active(), u32::MAX);
}

/// The limits of the SPEC §1 table, written out independently of `LicencePlan::fits`.
fn within_limits(plan: &LicencePlan, usage: &UsageSnapshot) -> bool {
    match plan {
        Flex { licences } => usage.clinical_active + usage.non_clinical_active <= *licences,
        Solo => usage.clinical_active <= 1 && usage.non_clinical_active <= 1,
        Group { licences } => usage.clinical_active <= *licences,
    }
}

fn count_mut(usage: &mut UsageSnapshot, user_type: UserType) -> &mut u32 {
    match user_type {
        Clinical => &mut usage.clinical_active,
        NonClinical => &mut usage.non_clinical_active,
    }
}

/// A site as the property tests evolve it.
#[derive(Debug, Clone, Copy)]
struct Site {
    plan: LicencePlan,
    usage: UsageSnapshot,
}

impl Site {
    /// The site after `change`, or `None` when the change is meaningless here
    /// (removing or switching a user of a type that has no active user).
    fn after(&self, change: &LicenceChange) -> Option<Self> {
        let mut next = *self;
        match *change {
            AddUser(t) => *count_mut(&mut next.usage, t) += 1,
            RemoveUser(t) | LicenceChange::SwitchType { from: t, .. }
                if self.usage.active(t) == 0 =>
            {
                return None;
            }
            RemoveUser(t) => *count_mut(&mut next.usage, t) -= 1,
            LicenceChange::SwitchType { from, to } => {
                *count_mut(&mut next.usage, from) -= 1;
                *count_mut(&mut next.usage, to) += 1;
            }
            ChangePlan(plan) => next.plan = plan,
        }
        Some(next)
    }
}

fn user_type() -> impl Strategy<Value = UserType> {
    prop_oneof![Just(Clinical), Just(NonClinical)]
}

fn plan() -> impl Strategy<Value = LicencePlan> {
    prop_oneof![
        (1..=6_u32).prop_map(|licences| Flex { licences }),
        Just(Solo),
        (1..=6_u32).prop_map(|licences| Group { licences }),
    ]
}

fn change() -> impl Strategy<Value = LicenceChange> {
    prop_oneof![
        4 => user_type().prop_map(AddUser),
        2 => user_type().prop_map(RemoveUser),
        2 => (user_type(), user_type()).prop_map(|(from, to)| switch(from, to)),
        1 => plan().prop_map(ChangePlan),
    ]
}

fn fitting_site() -> impl Strategy<Value = Site> {
    (plan(), 0..=8_u32, 0..=8_u32)
        .prop_map(|(plan, c, nc)| Site {
            plan,
            usage: usage(c, nc),
        })
        .prop_filter("usage must fit the plan", |site| {
            within_limits(&site.plan, &site.usage)
        })
}

proptest! {
    #[test]
    fn accepted_changes_never_exceed_the_plan(
        start in plan(),
        changes in prop::collection::vec(change(), 0..80),
    ) {
        let mut site = Site { plan: start, usage: UsageSnapshot::default() };
        for change in &changes {
            let Some(next) = site.after(change) else { continue };
            if site.plan.check(&site.usage, change).is_ok() {
                site = next;
            }
            prop_assert!(within_limits(&site.plan, &site.usage), "{site:?} after {change:?}");
        }
    }

    #[test]
    fn every_refusal_has_one_of_the_three_codes(
        plan in plan(),
        c in 0..10_u32,
        nc in 0..10_u32,
        change in change(),
    ) {
        if let Err(error) = plan.check(&usage(c, nc), &change) {
            prop_assert!(
                ["licence_limit_reached", "solo_slot_taken", "plan_does_not_fit"]
                    .contains(&error.code().as_str())
            );
            let json = serde_json::to_value(error).unwrap();
            prop_assert_eq!(&json["code"], error.code().as_str());
        }
    }

    #[test]
    fn a_fitting_site_accepts_exactly_the_changes_that_keep_it_fitting(
        site in fitting_site(),
        change in change(),
    ) {
        let Some(next) = site.after(&change) else { return Ok(()) };
        let accepted = site.plan.check(&site.usage, &change).is_ok();
        prop_assert_eq!(accepted, within_limits(&next.plan, &next.usage), "{:?} {:?}", site, change);
    }

    #[test]
    fn removing_a_user_is_always_allowed(
        plan in plan(),
        c in 0..10_u32,
        nc in 0..10_u32,
        t in user_type(),
    ) {
        prop_assert!(plan.check(&usage(c, nc), &RemoveUser(t)).is_ok());
    }

    #[test]
    fn fits_agrees_with_the_spec_limits(plan in plan(), c in 0..10_u32, nc in 0..10_u32) {
        prop_assert_eq!(plan.fits(&usage(c, nc)), within_limits(&plan, &usage(c, nc)));
    }
}
