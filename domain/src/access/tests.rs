//! One test per rule and per refusal code.

use super::*;
use crate::ClinicId;

struct World {
    a: ClinicId,
    b: ClinicId,
    c: ClinicId,
}

fn world() -> World {
    World {
        a: ClinicId::new(),
        b: ClinicId::new(),
        c: ClinicId::new(),
    }
}

const SITE_ADMIN: Actor<'static> = Actor {
    site_admin: true,
    clinic_ids: &[],
};

fn subject<'a>(
    profession: Profession,
    permissions: &'a [Permission],
    clinics: &'a [ClinicId],
) -> Subject<'a> {
    Subject {
        profession,
        permissions,
        clinic_ids: clinics,
        default_clinic_id: clinics[0],
    }
}

fn refused(v: Verdict) -> &'static str {
    match v {
        Verdict::Refused(r) => r.code(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn rule_1_no_soap_permission_for_clerical_or_billing() {
    let w = world();
    let clinics = [w.a];
    for profession in [Profession::Clerical, Profession::Billing] {
        let user = subject(profession, &[], &clinics);
        for p in [
            Permission::StartSoapNotes,
            Permission::ForwardSoapNotes,
            Permission::FinishSoapNotes,
        ] {
            let v = judge(
                &SITE_ADMIN,
                &user,
                &AccessChange::AddPermission(p),
                Mode::Bulk,
            );
            assert_eq!(refused(v), "soap_not_allowed_for_profession");
        }
        let v = judge(
            &SITE_ADMIN,
            &user,
            &AccessChange::AddPermission(Permission::ViewReports),
            Mode::Bulk,
        );
        assert_eq!(v, Verdict::Accepted);
    }
}

#[test]
fn rule_2_assistants_and_students_never_finish_notes() {
    let w = world();
    let clinics = [w.a];
    for profession in Profession::ALL
        .iter()
        .filter(|p| p.is_assistant_or_student())
    {
        let user = subject(*profession, &[], &clinics);
        let v = judge(
            &SITE_ADMIN,
            &user,
            &AccessChange::AddPermission(Permission::FinishSoapNotes),
            Mode::Single,
        );
        assert_eq!(refused(v), "finish_notes_not_allowed_for_profession");
        let v = judge(
            &SITE_ADMIN,
            &user,
            &AccessChange::AddPermission(Permission::StartSoapNotes),
            Mode::Single,
        );
        assert_eq!(v, Verdict::Accepted);
    }
}

#[test]
fn rule_3_only_clinics_the_actor_has() {
    let w = world();
    let mine = [w.a, w.b];
    let actor = Actor {
        site_admin: false,
        clinic_ids: &mine,
    };
    let clinics = [w.a];
    let user = subject(Profession::Pt, &[], &clinics);
    assert_eq!(
        judge(&actor, &user, &AccessChange::AddClinic(w.b), Mode::Bulk),
        Verdict::Accepted
    );
    assert_eq!(
        refused(judge(
            &actor,
            &user,
            &AccessChange::AddClinic(w.c),
            Mode::Bulk
        )),
        "clinic_not_accessible"
    );
    let theirs = [w.a, w.c];
    let user = subject(Profession::Pt, &[], &theirs);
    assert_eq!(
        refused(judge(
            &actor,
            &user,
            &AccessChange::RemoveClinic(w.c),
            Mode::Bulk
        )),
        "clinic_not_accessible"
    );
    assert_eq!(
        judge(
            &SITE_ADMIN,
            &user,
            &AccessChange::AddClinic(w.b),
            Mode::Bulk
        ),
        Verdict::Accepted
    );
}

#[test]
fn rule_4_the_default_clinic_stays() {
    let w = world();
    let clinics = [w.a, w.b];
    let user = subject(Profession::Pt, &[], &clinics);
    assert_eq!(
        refused(judge(
            &SITE_ADMIN,
            &user,
            &AccessChange::RemoveClinic(w.a),
            Mode::Single
        )),
        "default_clinic_protected"
    );
    assert_eq!(
        judge(
            &SITE_ADMIN,
            &user,
            &AccessChange::RemoveClinic(w.b),
            Mode::Single
        ),
        Verdict::Accepted
    );
}

#[test]
fn rule_5_bulk_never_removes_admin_permissions() {
    let w = world();
    let clinics = [w.a];
    let held = [Permission::SiteAdmin, Permission::ClinicAdmin];
    let user = subject(Profession::Other, &held, &clinics);
    for p in held {
        let change = AccessChange::RemovePermission(p);
        assert_eq!(
            refused(judge(&SITE_ADMIN, &user, &change, Mode::Bulk)),
            "admin_permission_protected"
        );
        assert_eq!(
            judge(&SITE_ADMIN, &user, &change, Mode::Single),
            Verdict::Accepted
        );
    }
    let none = subject(Profession::Other, &[], &clinics);
    let change = AccessChange::RemovePermission(Permission::SiteAdmin);
    assert_eq!(
        judge(&SITE_ADMIN, &none, &change, Mode::Bulk),
        Verdict::NoOp,
        "removing what they lack"
    );
}

#[test]
fn only_site_admins_grant_or_remove_site_admin() {
    let w = world();
    let mine = [w.a];
    let clinic_admin = Actor {
        site_admin: false,
        clinic_ids: &mine,
    };
    let user = subject(Profession::Other, &[], &mine);
    let grant = AccessChange::AddPermission(Permission::SiteAdmin);
    assert_eq!(
        refused(judge(&clinic_admin, &user, &grant, Mode::Single)),
        "permission_not_grantable"
    );
    assert_eq!(
        judge(&SITE_ADMIN, &user, &grant, Mode::Single),
        Verdict::Accepted
    );
    let held = [Permission::SiteAdmin];
    let admin = subject(Profession::Other, &held, &mine);
    let revoke = AccessChange::RemovePermission(Permission::SiteAdmin);
    assert_eq!(
        refused(judge(&clinic_admin, &admin, &revoke, Mode::Single)),
        "permission_not_grantable"
    );
}

#[test]
fn no_ops_are_neither_applied_nor_refused() {
    let w = world();
    let clinics = [w.a];
    let held = [Permission::StartSoapNotes];
    // Even a change the rules would refuse is a no-op when it changes nothing.
    let billing = subject(Profession::Billing, &held, &clinics);
    let add = AccessChange::AddPermission(Permission::StartSoapNotes);
    assert_eq!(
        judge(&SITE_ADMIN, &billing, &add, Mode::Bulk),
        Verdict::NoOp
    );
    assert_eq!(
        judge(
            &SITE_ADMIN,
            &billing,
            &AccessChange::AddClinic(w.a),
            Mode::Bulk
        ),
        Verdict::NoOp
    );
    assert_eq!(
        judge(
            &SITE_ADMIN,
            &billing,
            &AccessChange::RemoveClinic(w.b),
            Mode::Bulk
        ),
        Verdict::NoOp
    );
}

#[test]
fn every_refusal_has_a_distinct_code() {
    let all = Refusal::ALL;
    let codes: std::collections::HashSet<_> = all.iter().map(Refusal::code).collect();
    assert_eq!(codes.len(), all.len());
    for r in all {
        assert_eq!(serde_json::to_value(r).unwrap(), r.code());
    }
}

#[test]
fn a_new_user_gets_only_what_the_actor_may_grant_and_each_refusal_names_its_field() {
    let w = world();
    let mine = [w.a];
    let clinic_admin = Actor {
        site_admin: false,
        clinic_ids: &mine,
    };
    let refused = judge_new_user(
        &clinic_admin,
        Profession::Clerical,
        &[
            Permission::SiteAdmin,
            Permission::StartSoapNotes,
            Permission::ViewReports,
        ],
        &[w.a, w.b],
        Some(w.c),
    );
    let fields: Vec<(&str, &str)> = refused
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("permissions[0]", "permission_not_grantable"),
            ("permissions[1]", "soap_not_allowed_for_profession"),
            ("clinic_ids[1]", "clinic_not_accessible"),
            ("default_clinic_id", "clinic_not_accessible"),
        ]
    );
    // A default among the clinics is judged once, under clinic_ids.
    let once = judge_new_user(&clinic_admin, Profession::Pt, &[], &[w.b], Some(w.b));
    assert_eq!(once.len(), 1);
    assert_eq!(once[0].field, "clinic_ids[0]");
    assert!(
        judge_new_user(
            &SITE_ADMIN,
            Profession::Pt,
            &[Permission::SiteAdmin],
            &[w.c],
            Some(w.c)
        )
        .is_empty()
    );
}

/// One status per rule code on every single-user path: the whole table, so a change is a
/// visible decision.
#[test]
fn every_rule_code_has_its_one_single_user_status() {
    let table: Vec<(&str, u16)> = Refusal::ALL
        .iter()
        .map(|r| (r.code(), r.single_user_status()))
        .collect();
    assert_eq!(
        table,
        [
            ("admin_permission_protected", 422),
            ("permission_not_grantable", 422),
            ("soap_not_allowed_for_profession", 422),
            ("finish_notes_not_allowed_for_profession", 422),
            ("clinic_not_accessible", 422),
            ("default_clinic_protected", 422),
            ("not_administered", 403),
            ("user_not_found", 404),
            ("last_admin", 409),
        ]
    );
    assert_eq!(
        crate::ProblemCode::LastAdmin.status(),
        Refusal::LastAdmin.single_user_status()
    );
}
