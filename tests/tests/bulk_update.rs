//! SPEC §5: `POST /v1/users/bulk-update` — selection by ids or by filter with `select_all`,
//! the report (outcome, counts, refusal groups), dry runs, validation of the request, the
//! 10,000-user limit, and the audit events. Atomicity on an infrastructure failure is tested
//! at the persistence level (`persistence/tests/bulk.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use serde_json::{Value, json};
use staffroom_tests::{Answer, Options, TestApp, add_clinic, id_of, read_user, set, strings};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

async fn bulk(app: &TestApp, token: &str, body: Value) -> Answer {
    app.post(token, "/v1/users/bulk-update", body).await
}

async fn bulk_ok(app: &TestApp, token: &str, body: Value) -> Value {
    bulk(app, token, body).await.expect(200).body
}

/// Creates a user and returns its id; the first clinic (if any) is the default.
async fn user(
    app: &TestApp,
    token: &str,
    name: &str,
    user_type: &str,
    profession: &str,
    permissions: Value,
    clinics: &[&str],
) -> String {
    let mut body = json!({
        "first_name": name,
        "last_name": "Bulk",
        "email": format!("{}@example.test", name.to_lowercase()),
        "user_type": user_type,
        "profession": profession,
        "permissions": permissions,
    });
    if !clinics.is_empty() {
        body["clinic_ids"] = json!(clinics);
        body["default_clinic_id"] = json!(clinics[0]);
    }
    id_of(&app.create_user(token, body).await)
}

fn counts(report: &Value, kind: &str) -> (u64, u64, u64) {
    let c = &report[kind];
    (
        c["applied"].as_u64().unwrap(),
        c["refused"].as_u64().unwrap(),
        c["no_op"].as_u64().unwrap(),
    )
}

/// The refusal groups as `(reason, kind) -> (count, user ids)`, checking each group's shape
/// and that no (reason, kind) appears twice.
fn groups(report: &Value) -> Vec<(String, String, u64, BTreeSet<String>)> {
    let mut out: Vec<(String, String, u64, BTreeSet<String>)> = report["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let ids = g["user_ids"].as_array().unwrap();
            let unique = strings(&g["user_ids"]);
            assert_eq!(ids.len(), unique.len(), "user ids listed twice: {g}");
            (
                g["reason"].as_str().unwrap().to_owned(),
                g["kind"].as_str().unwrap().to_owned(),
                g["count"].as_u64().unwrap(),
                unique,
            )
        })
        .collect();
    out.sort();
    let keys: BTreeSet<(String, String)> = out.iter().map(|g| (g.0.clone(), g.1.clone())).collect();
    assert_eq!(keys.len(), out.len(), "a reason and kind grouped twice");
    out
}

fn g(
    reason: &str,
    kind: &str,
    count: u64,
    ids: &[&str],
) -> (String, String, u64, BTreeSet<String>) {
    (reason.to_owned(), kind.to_owned(), count, set(ids))
}

fn expected(
    mut groups: Vec<(String, String, u64, BTreeSet<String>)>,
) -> Vec<(String, String, u64, BTreeSet<String>)> {
    groups.sort();
    groups
}

/// `(field, code)` of every error of a `422 validation_failed` answer.
fn field_errors(answer: &Answer) -> Vec<(String, String)> {
    answer.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {:#}", answer.body))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Every audit event of a query (newest first).
async fn events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let mut path = format!("/v1/audit-events?{query}{sep}limit=200");
        if let Some(c) = &cursor {
            path.push_str("&cursor=");
            path.push_str(&enc(c));
        }
        let page = app.get(token, &path).await.expect(200);
        all.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A fresh random (v4) UUID, which no stored user has.
fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What a user's access looks like: permissions, clinics, default, version.
async fn snapshot(app: &TestApp, token: &str, ids: &[&String]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        let u = read_user(app, token, id).await;
        out.push(json!({
            "permissions": strings(&u["permissions"]),
            "clinic_ids": strings(&u["clinic_ids"]),
            "default_clinic_id": u["default_clinic_id"],
            "version": u["version"],
        }));
    }
    out
}

/// A mixed site: Main and North; a PT, an OT in both (default North), a clerk, a PTA, and a
/// clinic admin of Main.
struct Mixed {
    main: String,
    north: String,
    pt: String,
    ot_both: String,
    clerk: String,
    pta: String,
    clinic_admin: String,
}

async fn mixed(app: &TestApp, admin: &str) -> Mixed {
    let main = app.site.clinic_id.clone();
    let north = add_clinic(app, admin, "North").await;
    let pt = user(app, admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;
    let ot_both = user(
        app,
        admin,
        "Otto",
        "clinical",
        "OT",
        json!(["view_reports"]),
        &[&north, &main],
    )
    .await;
    let clerk = user(
        app,
        admin,
        "Clem",
        "non_clinical",
        "CLERICAL",
        json!([]),
        &[&main],
    )
    .await;
    let pta = user(app, admin, "Tess", "clinical", "PTA", json!([]), &[&main]).await;
    let clinic_admin = user(
        app,
        admin,
        "Cara",
        "non_clinical",
        "OTHER",
        json!(["clinic_admin"]),
        &[&main],
    )
    .await;
    Mixed {
        main,
        north,
        pt,
        ot_both,
        clerk,
        pta,
        clinic_admin,
    }
}

// ---------------------------------------------------------------------------------------
// Outcomes and counts
// ---------------------------------------------------------------------------------------

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
                field_errors(&answer)
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

// ---------------------------------------------------------------------------------------
// Dry run
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_dry_run_reports_the_same_as_the_real_run_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let ghost = random_id();
    let ids = [&m.pt, &m.ot_both, &m.clerk, &m.pta, &m.clinic_admin];
    let mut body = json!({
        "user_ids": [m.pt, m.ot_both, m.clerk, m.pta, m.clinic_admin, ghost],
        "add_permissions": ["finish_soap_notes", "manage_schedule"],
        "remove_permissions": ["clinic_admin"],
        "add_clinic_ids": [m.north],
        "remove_clinic_ids": [m.main],
    });
    let before = snapshot(&app, &admin, &ids).await;
    let audit_before = events(&app, &admin, "").await.len();

    body["dry_run"] = json!(true);
    let dry = bulk_ok(&app, &admin, body.clone()).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["outcome"], "partial");
    assert!(dry["users_updated"].as_u64().unwrap() > 0);
    // Nothing written: users, versions, audit.
    assert_eq!(snapshot(&app, &admin, &ids).await, before);
    assert_eq!(events(&app, &admin, "").await.len(), audit_before);
    assert!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .is_empty()
    );
    assert!(
        events(&app, &admin, "action=user.access_changed")
            .await
            .is_empty()
    );
    // A second dry run says the same.
    assert_eq!(bulk_ok(&app, &admin, body.clone()).await, dry);

    body["dry_run"] = json!(false);
    let real = bulk_ok(&app, &admin, body).await;
    assert_eq!(real["dry_run"], false);
    let mut expected_report = dry.clone();
    expected_report["dry_run"] = json!(false);
    assert_eq!(real, expected_report);
    assert_ne!(snapshot(&app, &admin, &ids).await, before);
    assert_eq!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .len(),
        1
    );
}

// ---------------------------------------------------------------------------------------
// Filter selection
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn filter_with_select_all_selects_by_type_clinic_search_and_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let me = app.site.admin_id.to_string();
    let sleeper = user(
        &app,
        &admin,
        "Zed",
        "clinical",
        "SLP",
        json!([]),
        &[&m.main],
    )
    .await;
    app.call(
        reqwest::Method::POST,
        &format!("/v1/users/{sleeper}/deactivate"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    let has = |u: &Value, p: &str| strings(&u["permissions"]).contains(p);

    // user_type: the clinical tab (pt, ot_both, pta, sleeper).
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"user_type": "clinical"},
            "select_all": true,
            "add_permissions": ["manage_schedule"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 4, "{report:#}");
    assert_eq!(report["outcome"], "success");
    assert_eq!(counts(&report, "permissions"), (4, 0, 0));
    for id in [&m.pt, &m.ot_both, &m.pta, &sleeper] {
        assert!(has(&read_user(&app, &admin, id).await, "manage_schedule"));
    }
    for id in [&m.clerk, &m.clinic_admin, &me] {
        assert!(!has(&read_user(&app, &admin, id).await, "manage_schedule"));
    }

    // clinic_id: only ot_both is in North.
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"clinic_id": m.north},
            "select_all": true,
            "add_permissions": ["manage_billing"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 1);
    assert_eq!(report["users_updated"], 1);
    assert!(has(
        &read_user(&app, &admin, &m.ot_both).await,
        "manage_billing"
    ));
    assert!(!has(
        &read_user(&app, &admin, &m.pt).await,
        "manage_billing"
    ));

    // q: name or email, case-insensitively.
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"q": "TESS"},
            "select_all": true,
            "add_permissions": ["view_reports"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 1);
    assert!(has(&read_user(&app, &admin, &m.pta).await, "view_reports"));
    assert!(!has(&read_user(&app, &admin, &m.pt).await, "view_reports"));

    // Combined: active clinical users named "bulk" (pt, ot_both, pta; not the sleeper).
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"user_type": "clinical", "status": "active", "q": "bulk"},
            "select_all": true,
            "add_permissions": ["start_soap_notes"],
            "dry_run": true,
        }),
    )
    .await;
    assert_eq!(report["selected"], 3, "{report:#}");
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"status": "inactive"},
            "select_all": true,
            "add_permissions": ["start_soap_notes"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 1);
    assert!(has(
        &read_user(&app, &admin, &sleeper).await,
        "start_soap_notes"
    ));

    // A filter matching nobody: nothing selected, a success.
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"q": "no such person"},
            "select_all": true,
            "add_permissions": ["start_soap_notes"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 0);
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["users_updated"], 0);
}

#[tokio::test]
async fn the_selection_must_be_ids_or_filter_with_select_all() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let pt = user(&app, &admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;

    let names_field = |answer: Answer, fields: &[&str]| {
        let answer = answer.expect_problem(422, "validation_failed");
        let errors = field_errors(&answer);
        assert!(
            errors.iter().any(|(f, _)| fields.contains(&f.as_str())),
            "expected an error on {fields:?}: {:#}",
            answer.body
        );
    };
    // filter without select_all (absent or false).
    names_field(
        bulk(
            &app,
            &admin,
            json!({"filter": {"user_type": "clinical"}, "add_permissions": ["view_reports"]}),
        )
        .await,
        &["select_all"],
    );
    names_field(
        bulk(
            &app,
            &admin,
            json!({"filter": {}, "select_all": false, "add_permissions": ["view_reports"]}),
        )
        .await,
        &["select_all"],
    );
    // Both user_ids and filter.
    names_field(
        bulk(
            &app,
            &admin,
            json!({"user_ids": [pt], "filter": {}, "select_all": true, "add_permissions": ["view_reports"]}),
        )
        .await,
        &["user_ids", "filter"],
    );
    // Neither.
    names_field(
        bulk(&app, &admin, json!({"add_permissions": ["view_reports"]})).await,
        &["user_ids"],
    );
    names_field(
        bulk(
            &app,
            &admin,
            json!({"select_all": true, "add_permissions": ["view_reports"]}),
        )
        .await,
        &["user_ids", "filter"],
    );
    // Adding and removing the same permission or clinic.
    names_field(
        bulk(
            &app,
            &admin,
            json!({"user_ids": [pt], "add_permissions": ["view_reports", "manage_schedule"], "remove_permissions": ["view_reports"]}),
        )
        .await,
        &["add_permissions", "remove_permissions"],
    );
    names_field(
        bulk(
            &app,
            &admin,
            json!({"user_ids": [pt], "add_clinic_ids": [main], "remove_clinic_ids": [main]}),
        )
        .await,
        &["add_clinic_ids", "remove_clinic_ids"],
    );
    // Malformed ids and unknown permissions are validation errors too.
    bulk(
        &app,
        &admin,
        json!({"user_ids": ["not-a-uuid"], "add_permissions": ["view_reports"]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    bulk(
        &app,
        &admin,
        json!({"user_ids": [pt], "add_permissions": ["fly"]}),
    )
    .await
    .expect_problem(422, "validation_failed");

    let u = read_user(&app, &admin, &pt).await;
    assert_eq!(u["permissions"], json!([]));
    assert_eq!(u["version"], 1);
    assert!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// Size limits
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn more_than_10000_ids_are_selection_too_large() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let pt = user(&app, &admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;
    let mut ids: Vec<String> = (0..10_000).map(|_| random_id()).collect();
    ids.push(pt.clone());
    assert_eq!(ids.len(), 10_001);

    let answer = bulk(
        &app,
        &admin,
        json!({ "user_ids": ids, "add_permissions": ["view_reports"] }),
    )
    .await;
    answer.expect_problem(422, "selection_too_large");
    let u = read_user(&app, &admin, &pt).await;
    assert_eq!(u["permissions"], json!([]));
    assert_eq!(u["version"], 1);
}

#[tokio::test]
async fn a_10000_id_body_fits_the_default_body_limit() {
    let app = TestApp::spawn_with(Options::default()).await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let pt = user(&app, &admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;
    let mut ids: Vec<String> = (0..9_999).map(|_| random_id()).collect();
    ids.push(pt.clone());
    let body = json!({
        "user_ids": ids,
        "add_permissions": ["view_reports"],
        "remove_permissions": ["manage_billing"],
        "add_clinic_ids": [main],
    });
    let size = serde_json::to_vec(&body).unwrap().len();
    assert!(size > 350_000 && size < 1024 * 1024, "body of {size} bytes");

    let report = bulk_ok(&app, &admin, body).await;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["selected"], 10_000);
    assert_eq!(report["users_updated"], 1);
    assert_eq!(counts(&report, "permissions"), (1, 19_998, 1));
    assert_eq!(counts(&report, "clinics"), (0, 9_999, 1));
    let gs = groups(&report);
    assert_eq!(gs.len(), 2);
    for (reason, _, _, users) in &gs {
        assert_eq!(reason, "user_not_found");
        assert_eq!(users.len(), 9_999);
        assert!(!users.contains(&pt));
    }
    let u = read_user(&app, &admin, &pt).await;
    assert_eq!(u["permissions"], json!(["view_reports"]));
    assert_eq!(u["version"], 2);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 64 * 1024,
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    let ids: Vec<String> = (0..5_000).map(|_| random_id()).collect();
    bulk(
        &app,
        &admin,
        json!({ "user_ids": ids, "add_permissions": ["view_reports"] }),
    )
    .await
    .expect_problem(413, "body_too_large");
}

// ---------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn one_bulk_event_per_request_and_one_access_event_per_updated_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let ghost = random_id();

    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "user_ids": [m.pt, m.ot_both, m.clerk, ghost],
            "add_permissions": ["start_soap_notes", "view_reports"],
            "add_clinic_ids": [m.north],
        }),
    )
    .await;
    // pt: 2 perms + North; ot_both: start only (has view_reports and North); clerk:
    // view_reports + North (start refused).
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["users_updated"], 3);

    let bulk_events = events(&app, &admin, "action=users.bulk_updated").await;
    assert_eq!(bulk_events.len(), 1, "{bulk_events:#?}");
    let event = &bulk_events[0];
    assert_eq!(event["actor_id"], app.site.admin_id.to_string());
    assert!(event["request_id"].is_string());
    // The event records the report.
    assert_eq!(event["after"]["users_updated"], 3);
    assert_eq!(event["after"]["outcome"], "partial");

    let access = events(&app, &admin, "action=user.access_changed").await;
    assert_eq!(access.len(), 3);
    let targets: BTreeSet<String> = access
        .iter()
        .map(|e| e["target_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(targets, set(&[&m.pt, &m.ot_both, &m.clerk]));
    for e in &access {
        assert_eq!(e["target_type"], "user");
        assert_eq!(e["request_id"], event["request_id"]);
        assert_eq!(e["actor_id"], event["actor_id"]);
        assert_eq!(e["actor_kind"], event["actor_kind"]);
        // One request's events share one instant.
        assert_eq!(e["occurred_at"], event["occurred_at"]);
    }

    // Per user, filtered by target: what was applied to that user.
    let mine = events(
        &app,
        &admin,
        &format!("action=user.access_changed&target_id={}", m.pt),
    )
    .await;
    assert_eq!(mine.len(), 1);
    let after = &mine[0]["after"];
    assert_eq!(
        strings(&after["added_permissions"]),
        set(&["start_soap_notes", "view_reports"])
    );
    assert_eq!(strings(&after["added_clinic_ids"]), set(&[&m.north]));
    let clerk = events(
        &app,
        &admin,
        &format!("action=user.access_changed&target_id={}", m.clerk),
    )
    .await;
    assert_eq!(
        strings(&clerk[0]["after"]["added_permissions"]),
        set(&["view_reports"])
    );
    for id in [&m.pta, &ghost] {
        assert!(
            events(
                &app,
                &admin,
                &format!("action=user.access_changed&target_id={id}")
            )
            .await
            .is_empty()
        );
    }

    // A second request: one more bulk event.
    bulk_ok(
        &app,
        &admin,
        json!({"user_ids": [m.pta], "add_permissions": ["view_reports"]}),
    )
    .await;
    assert_eq!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .len(),
        2
    );
    assert_eq!(
        events(&app, &admin, "action=user.access_changed")
            .await
            .len(),
        4
    );
}

#[tokio::test]
async fn a_large_bulk_update_writes_every_user_and_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    // A few dozen users through the API: every one updated, listed and audited.
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(
            user(
                &app,
                &admin,
                &format!("User{n}"),
                "non_clinical",
                "OTHER",
                json!([]),
                &[&main],
            )
            .await,
        );
    }
    let report = bulk_ok(
        &app,
        &admin,
        json!({"user_ids": ids, "add_permissions": ["view_reports"], "add_clinic_ids": [north]}),
    )
    .await;
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["users_updated"], 30);
    assert_eq!(counts(&report, "permissions"), (30, 0, 0));
    assert_eq!(counts(&report, "clinics"), (30, 0, 0));
    let listed = app
        .get(&admin, &format!("/v1/users?clinic_id={north}&limit=200"))
        .await
        .expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 30);
    assert_eq!(
        events(&app, &admin, "action=user.access_changed")
            .await
            .len(),
        30
    );
}

// ---------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------

async fn bulk_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> Answer {
    let request = app
        .client
        .post(app.url("/v1/users/bulk-update"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body);
    TestApp::answer(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_retry_with_its_idempotency_key_returns_the_first_report_and_acts_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let body = json!({
        "user_ids": [m.pt, m.clerk],
        "add_permissions": ["start_soap_notes"],
    });

    let first = bulk_with_key(&app, &admin, "bulk-1", &body)
        .await
        .expect(200);
    assert_eq!(first.body["outcome"], "partial");
    assert_eq!(counts(&first.body, "permissions"), (1, 1, 0));
    // A retry answers the first report (not "all no-op"), and writes nothing more.
    let retry = bulk_with_key(&app, &admin, "bulk-1", &body)
        .await
        .expect(200);
    assert_eq!(retry.body, first.body);
    assert_eq!(read_user(&app, &admin, &m.pt).await["version"], 2);
    assert_eq!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .len(),
        1
    );
    // The same key with another body is refused.
    let other = json!({ "user_ids": [m.pt], "add_permissions": ["view_reports"] });
    bulk_with_key(&app, &admin, "bulk-1", &other)
        .await
        .expect_problem(422, "idempotency_key_reused");
    assert!(
        !strings(&read_user(&app, &admin, &m.pt).await["permissions"]).contains("view_reports")
    );
}
