//! Outcomes and counts

use super::*;

#[tokio::test]
async fn success_applies_everything_and_a_repeat_is_all_no_op_success() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let ids = [&m.pt, &m.ot_both, &m.pta];
    let body = json!({
        "user_ids": ids,
        "add_permissions": ["start_soap_notes", "manage_schedule"],
        "add_clinic_ids": [m.north],
    });

    let report = bulk_ok(&app, &admin, body.clone()).await;
    assert_eq!(
        report,
        json!({
            "outcome": "success",
            "dry_run": false,
            "selected": 3,
            "users_updated": 3,
            "permissions": {"applied": 6, "refused": 0, "no_op": 0},
            // ot_both already has North.
            "clinics": {"applied": 2, "refused": 0, "no_op": 1},
            "refusals": [],
        })
    );
    for id in ids {
        let u = read_user(&app, &admin, id).await;
        assert!(
            strings(&u["permissions"]).is_superset(&set(&["start_soap_notes", "manage_schedule"]))
        );
        assert!(strings(&u["clinic_ids"]).contains(&m.north));
        // One version bump per updated user, however many changes.
        assert_eq!(u["version"], 2);
    }

    // The same request again: every pair is a no-op, and that is a success.
    let report = bulk_ok(&app, &admin, body).await;
    assert_eq!(
        report,
        json!({
            "outcome": "success",
            "dry_run": false,
            "selected": 3,
            "users_updated": 0,
            "permissions": {"applied": 0, "refused": 0, "no_op": 6},
            "clinics": {"applied": 0, "refused": 0, "no_op": 3},
            "refusals": [],
        })
    );
    for id in ids {
        assert_eq!(read_user(&app, &admin, id).await["version"], 2);
    }
    // Removing what nobody has is a no-op success too.
    let report = bulk_ok(
        &app,
        &admin,
        json!({ "user_ids": [m.pt], "remove_permissions": ["manage_billing"] }),
    )
    .await;
    assert_eq!(report["outcome"], "success");
    assert_eq!(counts(&report, "permissions"), (0, 0, 1));
    assert_eq!(report["users_updated"], 0);
}

#[tokio::test]
async fn partial_applies_the_accepted_pairs_and_groups_the_refusals() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let foreign = other.admin_id.to_string();
    let ghost = random_id();

    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "user_ids": [m.pt, m.ot_both, m.clerk, m.pta, m.clinic_admin, foreign, ghost],
            "add_permissions": ["start_soap_notes", "finish_soap_notes"],
            "remove_permissions": ["clinic_admin", "view_reports"],
            "remove_clinic_ids": [m.north],
        }),
    )
    .await;
    // Per user (start, finish, -clinic_admin, -view_reports, -North):
    //   pt:           applied, applied, no-op,   no-op,   no-op
    //   ot_both:      applied, applied, no-op,   applied, refused (default North)
    //   clerk:        refused, refused, no-op,   no-op,   no-op      (rule 1)
    //   pta:          applied, refused, no-op,   no-op,   no-op      (rule 2)
    //   clinic_admin: applied, applied, refused, no-op,   no-op      (rule 5)
    //   foreign, ghost: every pair refused as user_not_found
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["selected"], 7);
    assert_eq!(report["users_updated"], 4);
    assert_eq!(counts(&report, "permissions"), (8, 12, 8));
    assert_eq!(counts(&report, "clinics"), (0, 3, 4));
    assert_eq!(
        groups(&report),
        expected(vec![
            g(
                "soap_not_allowed_for_profession",
                "permission",
                2,
                &[&m.clerk]
            ),
            g(
                "finish_notes_not_allowed_for_profession",
                "permission",
                1,
                &[&m.pta]
            ),
            g(
                "admin_permission_protected",
                "permission",
                1,
                &[&m.clinic_admin]
            ),
            g("default_clinic_protected", "clinic", 1, &[&m.ot_both]),
            g("user_not_found", "permission", 8, &[&foreign, &ghost]),
            g("user_not_found", "clinic", 2, &[&foreign, &ghost]),
        ])
    );

    let perms = |u: &Value| strings(&u["permissions"]);
    assert_eq!(
        perms(&read_user(&app, &admin, &m.pt).await),
        set(&["start_soap_notes", "finish_soap_notes"])
    );
    let ot = read_user(&app, &admin, &m.ot_both).await;
    assert_eq!(perms(&ot), set(&["start_soap_notes", "finish_soap_notes"]));
    assert_eq!(strings(&ot["clinic_ids"]), set(&[&m.main, &m.north]));
    let clerk = read_user(&app, &admin, &m.clerk).await;
    assert!(perms(&clerk).is_empty());
    assert_eq!(clerk["version"], 1);
    assert_eq!(
        perms(&read_user(&app, &admin, &m.pta).await),
        set(&["start_soap_notes"])
    );
    assert_eq!(
        perms(&read_user(&app, &admin, &m.clinic_admin).await),
        set(&["clinic_admin", "start_soap_notes", "finish_soap_notes"])
    );
    // The other site is untouched.
    let other_admin = app
        .login("boss@elsewhere.test", staffroom_tests::PASSWORD)
        .await;
    let theirs = read_user(&app, &other_admin, &foreign).await;
    assert_eq!(strings(&theirs["permissions"]), set(&["site_admin"]));
    assert_eq!(theirs["version"], 1);
}

#[tokio::test]
async fn failed_when_everything_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let biller = user(
        &app,
        &admin,
        "Bill",
        "non_clinical",
        "BILLING",
        json!([]),
        &[],
    )
    .await;
    let before = snapshot(&app, &admin, &[&m.clerk, &biller]).await;

    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "user_ids": [m.clerk, biller],
            "add_permissions": ["forward_soap_notes"],
        }),
    )
    .await;
    assert_eq!(
        report,
        json!({
            "outcome": "failed",
            "dry_run": false,
            "selected": 2,
            "users_updated": 0,
            "permissions": {"applied": 0, "refused": 2, "no_op": 0},
            "clinics": {"applied": 0, "refused": 0, "no_op": 0},
            "refusals": [{
                "reason": "soap_not_allowed_for_profession",
                "kind": "permission",
                "count": 2,
                "user_ids": report["refusals"][0]["user_ids"].clone(),
            }],
        })
    );
    assert_eq!(
        strings(&report["refusals"][0]["user_ids"]),
        set(&[&m.clerk, &biller])
    );
    // Refusals plus no-ops still fail: nothing was applied.
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "user_ids": [m.clerk, biller],
            "add_permissions": ["forward_soap_notes"],
            "remove_permissions": ["manage_billing"],
        }),
    )
    .await;
    assert_eq!(report["outcome"], "failed");
    assert_eq!(counts(&report, "permissions"), (0, 2, 2));
    assert_eq!(report["users_updated"], 0);
    // With one applied pair it is partial.
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "user_ids": [m.clerk, biller, m.pt],
            "add_permissions": ["forward_soap_notes"],
            "remove_permissions": ["manage_billing"],
        }),
    )
    .await;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(counts(&report, "permissions"), (1, 2, 3));
    assert_eq!(report["users_updated"], 1);
    assert_eq!(snapshot(&app, &admin, &[&m.clerk, &biller]).await, before);
}

#[tokio::test]
async fn ids_of_other_sites_and_random_ids_are_user_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let foreign = other.admin_id.to_string();
    let ghosts: Vec<String> = (0..3).map(|_| random_id()).collect();
    let mut ids = ghosts.clone();
    ids.push(foreign.clone());
    // A repeated id counts once.
    ids.push(foreign.clone());

    let report = bulk_ok(
        &app,
        &admin,
        json!({ "user_ids": ids, "add_permissions": ["view_reports"], "add_clinic_ids": [app.site.clinic_id] }),
    )
    .await;
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["selected"], 4);
    assert_eq!(report["users_updated"], 0);
    assert_eq!(counts(&report, "permissions"), (0, 4, 0));
    assert_eq!(counts(&report, "clinics"), (0, 4, 0));
    let all: Vec<&str> = ghosts
        .iter()
        .map(String::as_str)
        .chain([foreign.as_str()])
        .collect();
    assert_eq!(
        groups(&report),
        expected(vec![
            g("user_not_found", "permission", 4, &all),
            g("user_not_found", "clinic", 4, &all),
        ])
    );
    let other_admin = app
        .login("boss@elsewhere.test", staffroom_tests::PASSWORD)
        .await;
    let theirs = read_user(&app, &other_admin, &foreign).await;
    assert_eq!(strings(&theirs["permissions"]), set(&["site_admin"]));
    assert_eq!(strings(&theirs["clinic_ids"]), set(&[&other.clinic_id]));
}

/// Asserts that adding `clinic` to `pt` in bulk is refused — a `422` naming
/// `add_clinic_ids`, or a refused pair — never a `500`, and never applied.
async fn assert_clinic_not_granted(app: &TestApp, admin: &str, pt: &str, clinic: &str) {
    let main = app.site.clinic_id.clone();
    let answer = bulk(
        app,
        admin,
        json!({ "user_ids": [pt], "add_clinic_ids": [clinic] }),
    )
    .await;
    match answer.status.as_u16() {
        422 => {
            let answer = answer.expect_problem(422, "validation_failed");
            assert!(
                answer
                    .field_errors()
                    .iter()
                    .any(|(f, _)| f == "add_clinic_ids"),
                "{:#}",
                answer.body
            );
        }
        200 => {
            let report = answer.body;
            assert_eq!(counts(&report, "clinics"), (0, 1, 0), "{report:#}");
            assert_eq!(report["outcome"], "failed", "{report:#}");
        }
        _ => panic!(
            "adding clinic {clinic}: {} {:#}",
            answer.status, answer.body
        ),
    }
    let u = read_user(app, admin, pt).await;
    assert_eq!(strings(&u["clinic_ids"]), set(&[&main]), "clinic {clinic}");
    assert_eq!(u["version"], 1);
}

#[tokio::test]
async fn unknown_clinics_are_refused_not_a_500() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let pt = user(&app, &admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;
    assert_clinic_not_granted(&app, &admin, &pt, &random_id()).await;
}

#[tokio::test]
async fn clinics_of_another_site_are_never_granted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let pt = user(&app, &admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    assert_clinic_not_granted(&app, &admin, &pt, &other.clinic_id).await;
}
