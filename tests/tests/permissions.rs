//! SPEC §4: permissions, professions and clinic access — every rule through the single-user
//! endpoints (`PUT /v1/users/{id}/permissions`, `PUT /v1/users/{id}/clinics`, `PATCH
//! /v1/users/{id}` for professions) and through `POST /v1/users/bulk-update`; the last site
//! and clinic administrators; what a clinic administrator may and may not do; `If-Match`,
//! versions and audit events of the single-user endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, PASSWORD, TestApp, add_clinic, id_of, read_user, set, strings};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Sends a request with an optional `If-Match` header and JSON body.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    TestApp::answer(request.send().await.unwrap()).await
}

async fn put_permissions(app: &TestApp, token: &str, id: &str, permissions: Value) -> Answer {
    put_permissions_if(app, token, id, None, permissions).await
}

async fn put_permissions_if(
    app: &TestApp,
    token: &str,
    id: &str,
    if_match: Option<&str>,
    permissions: Value,
) -> Answer {
    send(
        app,
        Method::PUT,
        &format!("/v1/users/{id}/permissions"),
        token,
        if_match,
        Some(json!({ "permissions": permissions })),
    )
    .await
}

async fn put_clinics(
    app: &TestApp,
    token: &str,
    id: &str,
    clinics: &[&str],
    default: &str,
) -> Answer {
    put_clinics_if(app, token, id, None, clinics, default).await
}

async fn put_clinics_if(
    app: &TestApp,
    token: &str,
    id: &str,
    if_match: Option<&str>,
    clinics: &[&str],
    default: &str,
) -> Answer {
    send(
        app,
        Method::PUT,
        &format!("/v1/users/{id}/clinics"),
        token,
        if_match,
        Some(json!({ "clinic_ids": clinics, "default_clinic_id": default })),
    )
    .await
}

async fn bulk(app: &TestApp, token: &str, body: Value) -> Answer {
    app.post(token, "/v1/users/bulk-update", body).await
}

fn new_user(first: &str, email: &str, user_type: &str, profession: &str) -> Value {
    json!({
        "first_name": first,
        "last_name": "Staff",
        "email": email,
        "user_type": user_type,
        "profession": profession,
    })
}

/// Creates a user with the given profession, permissions and clinics (the first clinic is
/// the default) and returns its id.
async fn user(
    app: &TestApp,
    token: &str,
    email: &str,
    profession: &str,
    permissions: Value,
    clinics: &[&str],
) -> String {
    let user_type = if matches!(profession, "CLERICAL" | "BILLING" | "OTHER") {
        "non_clinical"
    } else {
        "clinical"
    };
    let mut body = new_user("Some", email, user_type, profession);
    body["permissions"] = permissions;
    if !clinics.is_empty() {
        body["clinic_ids"] = json!(clinics);
        body["default_clinic_id"] = json!(clinics[0]);
    }
    id_of(&app.create_user(token, body).await)
}

async fn permissions_of(app: &TestApp, token: &str, id: &str) -> BTreeSet<String> {
    strings(&read_user(app, token, id).await["permissions"])
}

async fn clinics_of(app: &TestApp, token: &str, id: &str) -> BTreeSet<String> {
    strings(&read_user(app, token, id).await["clinic_ids"])
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

/// Asserts a `422 validation_failed` whose errors carry `code` (on `field`) and nothing else.
#[track_caller]
fn expect_refusal(answer: Answer, field: &str, code: &str) {
    let answer = answer.expect_problem(422, "validation_failed");
    let errors = field_errors(&answer);
    assert!(!errors.is_empty(), "{:#}", answer.body);
    for (f, c) in &errors {
        assert_eq!(f, field, "{:#}", answer.body);
        assert_eq!(c, code, "{:#}", answer.body);
    }
}

/// The refusal group of `reason` and `kind` of a bulk report: `(count, user ids)`.
fn group(report: &Value, reason: &str, kind: &str) -> Option<(u64, BTreeSet<String>)> {
    report["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["reason"] == reason && g["kind"] == kind)
        .map(|g| (g["count"].as_u64().unwrap(), strings(&g["user_ids"])))
}

fn reasons(report: &Value) -> BTreeSet<(String, String)> {
    report["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["reason"].as_str().unwrap().to_owned(),
                g["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn counts(report: &Value, kind: &str) -> (u64, u64, u64) {
    let c = &report[kind];
    (
        c["applied"].as_u64().unwrap(),
        c["refused"].as_u64().unwrap(),
        c["no_op"].as_u64().unwrap(),
    )
}

/// Every audit event of a query (newest first).
async fn events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    app.get(token, &format!("/v1/audit-events?{query}&limit=200"))
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

// ---------------------------------------------------------------------------------------
// Rule 1: no SOAP-note permission for CLERICAL or BILLING users
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rule_1_clerical_and_billing_hold_no_soap_permission_single() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let clerk = user(
        &app,
        &admin,
        "clerk@example.test",
        "CLERICAL",
        json!([]),
        &[],
    )
    .await;
    let biller = user(
        &app,
        &admin,
        "biller@example.test",
        "BILLING",
        json!(["view_reports"]),
        &[],
    )
    .await;

    for (id, soap) in [
        (&clerk, "start_soap_notes"),
        (&clerk, "forward_soap_notes"),
        (&clerk, "finish_soap_notes"),
        (&biller, "start_soap_notes"),
        (&biller, "forward_soap_notes"),
        (&biller, "finish_soap_notes"),
    ] {
        let answer = put_permissions(&app, &admin, id, json!(["view_reports", soap])).await;
        expect_refusal(answer, "permissions", "soap_not_allowed_for_profession");
    }
    // Every refused change is named, and nothing is applied (all-or-nothing).
    let answer = put_permissions(
        &app,
        &admin,
        &clerk,
        json!(["start_soap_notes", "forward_soap_notes", "manage_schedule"]),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_eq!(field_errors(&answer).len(), 2, "{:#}", answer.body);
    let clerk_now = read_user(&app, &admin, &clerk).await;
    assert_eq!(clerk_now["permissions"], json!([]));
    assert_eq!(clerk_now["version"], 1);
    assert_eq!(
        permissions_of(&app, &admin, &biller).await,
        set(&["view_reports"])
    );
    assert_eq!(read_user(&app, &admin, &biller).await["version"], 1);

    // What rule 1 allows.
    let ok = put_permissions(
        &app,
        &admin,
        &clerk,
        json!(["manage_billing", "manage_schedule"]),
    )
    .await
    .expect(200);
    assert_eq!(
        strings(&ok.body["permissions"]),
        set(&["manage_billing", "manage_schedule"])
    );
}

#[tokio::test]
async fn rule_1_clerical_and_billing_hold_no_soap_permission_bulk() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let clerk = user(
        &app,
        &admin,
        "clerk@example.test",
        "CLERICAL",
        json!([]),
        &[],
    )
    .await;
    let biller = user(
        &app,
        &admin,
        "biller@example.test",
        "BILLING",
        json!([]),
        &[],
    )
    .await;
    let pt = user(&app, &admin, "pt@example.test", "PT", json!([]), &[]).await;

    let report = bulk(
        &app,
        &admin,
        json!({
            "user_ids": [clerk, biller, pt],
            "add_permissions": ["start_soap_notes", "forward_soap_notes", "view_reports"],
        }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["selected"], 3);
    assert_eq!(report["users_updated"], 3);
    // PT: 3 applied; clerk and biller: view_reports applied, two SOAP refused each.
    assert_eq!(counts(&report, "permissions"), (5, 4, 0));
    assert_eq!(counts(&report, "clinics"), (0, 0, 0));
    assert_eq!(
        group(&report, "soap_not_allowed_for_profession", "permission"),
        Some((4, set(&[&clerk, &biller])))
    );
    assert_eq!(reasons(&report).len(), 1);

    assert_eq!(
        permissions_of(&app, &admin, &clerk).await,
        set(&["view_reports"])
    );
    assert_eq!(
        permissions_of(&app, &admin, &biller).await,
        set(&["view_reports"])
    );
    assert_eq!(
        permissions_of(&app, &admin, &pt).await,
        set(&["start_soap_notes", "forward_soap_notes", "view_reports"])
    );
}

// ---------------------------------------------------------------------------------------
// Rule 2: finish_soap_notes never for assistant or student professions
// ---------------------------------------------------------------------------------------

const ASSISTANTS_AND_STUDENTS: [&str; 7] = ["PTA", "COTA", "SLPA", "RTT", "SPT", "SOT", "SSLP"];

/// Turns `assistants_may_finish_notes` on for a clinic.
async fn allow_assistants_to_finish(app: &TestApp, token: &str, clinic: &str) {
    let answer = app
        .patch(
            token,
            &format!("/v1/clinics/{clinic}"),
            json!({ "assistants_may_finish_notes": true }),
        )
        .await
        .expect(200);
    assert_eq!(answer.body["assistants_may_finish_notes"], true);
}

#[tokio::test]
async fn rule_2_assistants_and_students_never_finish_notes_single() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let north = add_clinic(&app, &admin, "North").await;
    // The setting is on for every clinic the users have: it changes nothing.
    allow_assistants_to_finish(&app, &admin, &app.site.clinic_id).await;
    allow_assistants_to_finish(&app, &admin, &north).await;

    for (n, profession) in ASSISTANTS_AND_STUDENTS.iter().enumerate() {
        let id = user(
            &app,
            &admin,
            &format!("assistant{n}@example.test"),
            profession,
            json!(["start_soap_notes"]),
            &[&app.site.clinic_id, &north],
        )
        .await;
        let answer = put_permissions(
            &app,
            &admin,
            &id,
            json!(["start_soap_notes", "finish_soap_notes"]),
        )
        .await;
        expect_refusal(
            answer,
            "permissions",
            "finish_notes_not_allowed_for_profession",
        );
        assert_eq!(
            permissions_of(&app, &admin, &id).await,
            set(&["start_soap_notes"])
        );
        // Starting and forwarding are fine.
        put_permissions(
            &app,
            &admin,
            &id,
            json!(["start_soap_notes", "forward_soap_notes"]),
        )
        .await
        .expect(200);
    }
    // A licensed profession may finish notes.
    let pt = user(&app, &admin, "pt@example.test", "PT", json!([]), &[]).await;
    put_permissions(&app, &admin, &pt, json!(["finish_soap_notes"]))
        .await
        .expect(200);
}

#[tokio::test]
async fn rule_2_assistants_and_students_never_finish_notes_bulk() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    allow_assistants_to_finish(&app, &admin, &app.site.clinic_id).await;
    let mut assistants = BTreeSet::new();
    for (n, profession) in ASSISTANTS_AND_STUDENTS.iter().enumerate() {
        assistants.insert(
            user(
                &app,
                &admin,
                &format!("a{n}@example.test"),
                profession,
                json!([]),
                &[],
            )
            .await,
        );
    }
    let pt = user(&app, &admin, "pt@example.test", "PT", json!([]), &[]).await;
    let clerk = user(
        &app,
        &admin,
        "clerk@example.test",
        "CLERICAL",
        json!([]),
        &[],
    )
    .await;
    let mut ids: Vec<&String> = assistants.iter().collect();
    ids.push(&pt);
    ids.push(&clerk);

    let report = bulk(
        &app,
        &admin,
        json!({ "user_ids": ids, "add_permissions": ["finish_soap_notes"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["selected"], 9);
    assert_eq!(report["users_updated"], 1);
    assert_eq!(counts(&report, "permissions"), (1, 8, 0));
    assert_eq!(
        group(
            &report,
            "finish_notes_not_allowed_for_profession",
            "permission"
        ),
        Some((7, assistants.clone()))
    );
    // Rule 1 names the clerk's refusal.
    assert_eq!(
        group(&report, "soap_not_allowed_for_profession", "permission"),
        Some((1, set(&[&clerk])))
    );
    for id in &assistants {
        assert!(permissions_of(&app, &admin, id).await.is_empty());
    }
    assert_eq!(
        permissions_of(&app, &admin, &pt).await,
        set(&["finish_soap_notes"])
    );
}

// ---------------------------------------------------------------------------------------
// Rule 3: access only to clinics the actor has access to
// ---------------------------------------------------------------------------------------

/// A site with clinics Main and North; Clara administers Main only.
struct Scoped {
    main: String,
    north: String,
    clara_id: String,
    clara: String,
    /// In Main only.
    in_main: String,
    /// In North only.
    in_north: String,
    /// In Main and North, default Main.
    in_both: String,
}

async fn scoped(app: &TestApp, admin: &str) -> Scoped {
    let main = app.site.clinic_id.clone();
    let north = add_clinic(app, admin, "North").await;
    let clara_id = user(
        app,
        admin,
        "clara@example.test",
        "OTHER",
        json!(["clinic_admin"]),
        &[&main],
    )
    .await;
    let clara = app.login("clara@example.test", PASSWORD).await;
    let in_main = user(app, admin, "mo@example.test", "PT", json!([]), &[&main]).await;
    let in_north = user(app, admin, "ned@example.test", "PT", json!([]), &[&north]).await;
    let in_both = user(
        app,
        admin,
        "bo@example.test",
        "PT",
        json!([]),
        &[&main, &north],
    )
    .await;
    Scoped {
        main,
        north,
        clara_id,
        clara,
        in_main,
        in_north,
        in_both,
    }
}

#[tokio::test]
async fn rule_3_clinic_admins_grant_and_remove_only_their_clinics_single() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;

    // Granting North, which Clara lacks.
    let answer = put_clinics(&app, &s.clara, &s.in_main, &[&s.main, &s.north], &s.main).await;
    expect_refusal(answer, "clinic_ids", "clinic_not_accessible");
    assert_eq!(clinics_of(&app, &admin, &s.in_main).await, set(&[&s.main]));
    // Removing North from a user they share Main with.
    let answer = put_clinics(&app, &s.clara, &s.in_both, &[&s.main], &s.main).await;
    expect_refusal(answer, "clinic_ids", "clinic_not_accessible");
    assert_eq!(
        clinics_of(&app, &admin, &s.in_both).await,
        set(&[&s.main, &s.north])
    );

    // A site admin has every clinic of the site.
    let granted = put_clinics(&app, &admin, &s.in_main, &[&s.main, &s.north], &s.main)
        .await
        .expect(200);
    assert_eq!(
        strings(&granted.body["clinic_ids"]),
        set(&[&s.main, &s.north])
    );
    put_clinics(&app, &admin, &s.in_both, &[&s.main], &s.main)
        .await
        .expect(200);

    // Within her clinics Clara may: remove Main from a user whose default is East.
    let east = add_clinic(&app, &admin, "East").await;
    let in_main_east = user(
        &app,
        &admin,
        "me@example.test",
        "PT",
        json!([]),
        &[&east, &s.main],
    )
    .await;
    let moved = put_clinics(&app, &s.clara, &in_main_east, &[&east], &east)
        .await
        .expect(200);
    assert_eq!(strings(&moved.body["clinic_ids"]), set(&[&east]));
}

#[tokio::test]
async fn rule_3_clinic_admins_grant_and_remove_only_their_clinics_bulk() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;

    let report = bulk(
        &app,
        &s.clara,
        json!({ "user_ids": [s.in_main, s.in_both], "add_clinic_ids": [s.north] }),
    )
    .await
    .expect(200)
    .body;
    // in_both already has North: a no-op, not a refusal.
    assert_eq!(report["outcome"], "failed");
    assert_eq!(counts(&report, "clinics"), (0, 1, 1));
    assert_eq!(
        group(&report, "clinic_not_accessible", "clinic"),
        Some((1, set(&[&s.in_main])))
    );
    let report = bulk(
        &app,
        &s.clara,
        json!({ "user_ids": [s.in_main, s.in_both], "remove_clinic_ids": [s.north] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "failed");
    assert_eq!(counts(&report, "clinics"), (0, 1, 1));
    assert_eq!(
        group(&report, "clinic_not_accessible", "clinic"),
        Some((1, set(&[&s.in_both])))
    );
    assert_eq!(clinics_of(&app, &admin, &s.in_main).await, set(&[&s.main]));
    assert_eq!(
        clinics_of(&app, &admin, &s.in_both).await,
        set(&[&s.main, &s.north])
    );

    // The site admin may.
    let report = bulk(
        &app,
        &admin,
        json!({ "user_ids": [s.in_main], "add_clinic_ids": [s.north] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "success");
    assert_eq!(counts(&report, "clinics"), (1, 0, 0));
    assert_eq!(
        clinics_of(&app, &admin, &s.in_main).await,
        set(&[&s.main, &s.north])
    );
}

// ---------------------------------------------------------------------------------------
// Rule 4: the default clinic cannot be removed
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rule_4_the_default_clinic_cannot_be_removed_single() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    // Default North.
    let id = user(
        &app,
        &admin,
        "u@example.test",
        "PT",
        json!([]),
        &[&north, &main],
    )
    .await;

    // Removing North while it stays the default.
    let answer = put_clinics(&app, &admin, &id, &[&main], &north).await;
    let answer = answer.expect_problem(422, "validation_failed");
    let codes: Vec<String> = field_errors(&answer).into_iter().map(|(_, c)| c).collect();
    assert!(
        codes.iter().any(|c| c == "default_clinic_protected"),
        "removing the default clinic should be refused as default_clinic_protected: {:#}",
        answer.body
    );
    let now = read_user(&app, &admin, &id).await;
    assert_eq!(strings(&now["clinic_ids"]), set(&[&main, &north]));
    assert_eq!(now["default_clinic_id"], north.as_str());
    assert_eq!(now["version"], 1);
}

#[tokio::test]
async fn moving_the_default_and_removing_the_old_one_in_one_put_works() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    let id = user(
        &app,
        &admin,
        "u@example.test",
        "PT",
        json!([]),
        &[&north, &main],
    )
    .await;

    let moved = put_clinics(&app, &admin, &id, &[&main], &main)
        .await
        .expect(200);
    assert_eq!(moved.body["clinic_ids"], json!([main]));
    assert_eq!(moved.body["default_clinic_id"], main.as_str());
    assert_eq!(moved.body["version"], 2);
    assert_eq!(moved.header("etag"), Some(etag(2).as_str()));

    // Only moving the default (same clinics) is a change too.
    put_clinics(&app, &admin, &id, &[&main, &north], &main)
        .await
        .expect(200);
    let moved = put_clinics(&app, &admin, &id, &[&main, &north], &north)
        .await
        .expect(200);
    assert_eq!(moved.body["default_clinic_id"], north.as_str());
    assert_eq!(moved.body["version"], 4);
}

#[tokio::test]
async fn rule_4_the_default_clinic_cannot_be_removed_bulk() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    let default_north = user(
        &app,
        &admin,
        "dn@example.test",
        "PT",
        json!([]),
        &[&north, &main],
    )
    .await;
    let default_north_2 = user(&app, &admin, "dn2@example.test", "PT", json!([]), &[&north]).await;
    let default_main = user(
        &app,
        &admin,
        "dm@example.test",
        "PT",
        json!([]),
        &[&main, &north],
    )
    .await;
    let only_main = user(&app, &admin, "om@example.test", "PT", json!([]), &[&main]).await;

    let report = bulk(
        &app,
        &admin,
        json!({
            "user_ids": [default_north, default_north_2, default_main, only_main],
            "remove_clinic_ids": [north],
        }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(counts(&report, "clinics"), (1, 2, 1));
    assert_eq!(report["users_updated"], 1);
    assert_eq!(
        group(&report, "default_clinic_protected", "clinic"),
        Some((2, set(&[&default_north, &default_north_2])))
    );
    assert_eq!(clinics_of(&app, &admin, &default_main).await, set(&[&main]));
    assert_eq!(
        clinics_of(&app, &admin, &default_north).await,
        set(&[&main, &north])
    );
    assert_eq!(
        clinics_of(&app, &admin, &default_north_2).await,
        set(&[&north])
    );
}

// ---------------------------------------------------------------------------------------
// Rule 5: admin permissions; the last site admin and the last clinic admin of a clinic
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rule_5_bulk_never_removes_admin_permissions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let site_admin_2 = user(
        &app,
        &admin,
        "sa2@example.test",
        "OTHER",
        json!(["site_admin"]),
        &[],
    )
    .await;
    let clinic_admin = user(
        &app,
        &admin,
        "ca@example.test",
        "OTHER",
        json!(["clinic_admin", "view_reports"]),
        &[],
    )
    .await;
    let plain = user(
        &app,
        &admin,
        "plain@example.test",
        "PT",
        json!(["view_reports"]),
        &[],
    )
    .await;

    let report = bulk(
        &app,
        &admin,
        json!({
            "user_ids": [site_admin_2, clinic_admin, plain],
            "remove_permissions": ["site_admin", "clinic_admin"],
        }),
    )
    .await
    .expect(200)
    .body;
    // Each holder refuses its own; removing what a user lacks is a no-op.
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["users_updated"], 0);
    assert_eq!(counts(&report, "permissions"), (0, 2, 4));
    assert_eq!(
        group(&report, "admin_permission_protected", "permission"),
        Some((2, set(&[&site_admin_2, &clinic_admin])))
    );
    assert_eq!(
        permissions_of(&app, &admin, &site_admin_2).await,
        set(&["site_admin"])
    );
    assert_eq!(
        permissions_of(&app, &admin, &clinic_admin).await,
        set(&["clinic_admin", "view_reports"])
    );

    // Together with an allowed change: partial, and the allowed one is applied.
    let report = bulk(
        &app,
        &admin,
        json!({
            "user_ids": [clinic_admin, plain],
            "remove_permissions": ["clinic_admin", "view_reports"],
        }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(counts(&report, "permissions"), (2, 1, 1));
    assert_eq!(
        permissions_of(&app, &admin, &clinic_admin).await,
        set(&["clinic_admin"])
    );
    assert!(permissions_of(&app, &admin, &plain).await.is_empty());

    // One by one site_admin can be removed (another site admin exists).
    put_permissions(&app, &admin, &site_admin_2, json!([]))
        .await
        .expect(200);
}

#[tokio::test]
async fn rule_5_the_last_site_admin_keeps_site_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = app.site.admin_id.to_string();

    put_permissions(&app, &admin, &me, json!([]))
        .await
        .expect_problem(409, "last_admin");
    put_permissions(&app, &admin, &me, json!(["clinic_admin", "view_reports"]))
        .await
        .expect_problem(409, "last_admin");
    let now = read_user(&app, &admin, &me).await;
    assert_eq!(strings(&now["permissions"]), set(&["site_admin"]));
    assert_eq!(now["version"], 1);

    // An inactive site admin does not count.
    let sleeper = user(
        &app,
        &admin,
        "sleeper@example.test",
        "OTHER",
        json!(["site_admin"]),
        &[],
    )
    .await;
    app.call(
        Method::POST,
        &format!("/v1/users/{sleeper}/deactivate"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    put_permissions(&app, &admin, &me, json!([]))
        .await
        .expect_problem(409, "last_admin");

    // Once another active site admin exists, it works — and then that one is the last.
    let other = user(
        &app,
        &admin,
        "other@example.test",
        "OTHER",
        json!(["site_admin"]),
        &[],
    )
    .await;
    let other_token = app.login("other@example.test", PASSWORD).await;
    let demoted = put_permissions(&app, &admin, &me, json!(["view_reports"]))
        .await
        .expect(200);
    assert_eq!(demoted.body["permissions"], json!(["view_reports"]));
    put_permissions(&app, &other_token, &other, json!([]))
        .await
        .expect_problem(409, "last_admin");
    assert_eq!(
        permissions_of(&app, &other_token, &other).await,
        set(&["site_admin"])
    );
}

#[tokio::test]
async fn rule_5_the_last_clinic_admin_of_a_clinic_keeps_the_permission() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    // Clara administers Main and North; Nora only North.
    let clara = user(
        &app,
        &admin,
        "clara@example.test",
        "OTHER",
        json!(["clinic_admin"]),
        &[&main, &north],
    )
    .await;
    let nora = user(
        &app,
        &admin,
        "nora@example.test",
        "OTHER",
        json!(["clinic_admin"]),
        &[&north],
    )
    .await;

    // Clara is the last clinic admin of Main.
    put_permissions(&app, &admin, &clara, json!([]))
        .await
        .expect_problem(409, "last_admin");
    assert_eq!(
        permissions_of(&app, &admin, &clara).await,
        set(&["clinic_admin"])
    );
    // Nora is not the last of North (Clara has it too).
    put_permissions(&app, &admin, &nora, json!([]))
        .await
        .expect(200);
    // Now Clara is the last of North as well; with another admin of Main she still is.
    let max = user(
        &app,
        &admin,
        "max@example.test",
        "OTHER",
        json!(["clinic_admin"]),
        &[&main],
    )
    .await;
    put_permissions(&app, &admin, &clara, json!([]))
        .await
        .expect_problem(409, "last_admin");
    // Another admin of North: now Clara's permission can go.
    put_permissions(&app, &admin, &nora, json!(["clinic_admin"]))
        .await
        .expect(200);
    let demoted = put_permissions(&app, &admin, &clara, json!(["view_reports"]))
        .await
        .expect(200);
    assert_eq!(demoted.body["permissions"], json!(["view_reports"]));
    assert_eq!(demoted.body["version"], 2);
    // And Max is the last of Main.
    put_permissions(&app, &admin, &max, json!([]))
        .await
        .expect_problem(409, "last_admin");
}

#[tokio::test]
async fn rule_5_the_last_clinic_admin_of_a_clinic_keeps_that_clinic() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    // Clara: clinic admin of Main (default) and North, the only one of North.
    let clara = user(
        &app,
        &admin,
        "clara@example.test",
        "OTHER",
        json!(["clinic_admin"]),
        &[&main, &north],
    )
    .await;

    put_clinics(&app, &admin, &clara, &[&main], &main)
        .await
        .expect_problem(409, "last_admin");
    assert_eq!(
        clinics_of(&app, &admin, &clara).await,
        set(&[&main, &north])
    );

    // A non-admin of North does not help; a clinic admin of North does.
    user(
        &app,
        &admin,
        "plain@example.test",
        "PT",
        json!(["view_reports"]),
        &[&north],
    )
    .await;
    put_clinics(&app, &admin, &clara, &[&main], &main)
        .await
        .expect_problem(409, "last_admin");
    user(
        &app,
        &admin,
        "nora@example.test",
        "OTHER",
        json!(["clinic_admin"]),
        &[&north],
    )
    .await;
    let moved = put_clinics(&app, &admin, &clara, &[&main], &main)
        .await
        .expect(200);
    assert_eq!(moved.body["clinic_ids"], json!([main]));
}

#[tokio::test]
async fn rule_5_bulk_clinic_removal_never_leaves_a_clinic_without_its_clinic_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    // Clara is the only clinic admin of North (her default is Main).
    let clara = user(
        &app,
        &admin,
        "clara@example.test",
        "OTHER",
        json!(["clinic_admin"]),
        &[&main, &north],
    )
    .await;
    let plain = user(
        &app,
        &admin,
        "plain@example.test",
        "PT",
        json!([]),
        &[&main, &north],
    )
    .await;

    let answer = bulk(
        &app,
        &admin,
        json!({ "user_ids": [clara, plain], "remove_clinic_ids": [north] }),
    )
    .await;
    // Either the whole request is refused (409 last_admin) or Clara's pair is refused;
    // what must not happen is North losing its last clinic admin.
    if answer.status.as_u16() == 200 {
        let report = answer.body;
        assert_eq!(counts(&report, "clinics").1, 1, "{report:#}");
        let refused_users: BTreeSet<String> = report["refusals"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| strings(&g["user_ids"]))
            .collect();
        assert_eq!(refused_users, set(&[&clara]), "{report:#}");
    } else {
        answer.expect_problem(409, "last_admin");
    }
    assert_eq!(
        clinics_of(&app, &admin, &clara).await,
        set(&[&main, &north]),
        "the last clinic admin of North lost North in a bulk update"
    );
}

// ---------------------------------------------------------------------------------------
// Rule 6: a profession change re-checks the permissions held
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rule_6_a_profession_change_rechecks_the_permissions_held() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let finisher = user(
        &app,
        &admin,
        "fin@example.test",
        "PT",
        json!(["finish_soap_notes"]),
        &[],
    )
    .await;
    let starter = user(
        &app,
        &admin,
        "sta@example.test",
        "OT",
        json!(["start_soap_notes"]),
        &[],
    )
    .await;
    let forwarder = user(
        &app,
        &admin,
        "fwd@example.test",
        "SLP",
        json!(["forward_soap_notes"]),
        &[],
    )
    .await;

    for (id, profession, code) in [
        (&finisher, "PTA", "finish_notes_not_allowed_for_profession"),
        (&finisher, "SSLP", "finish_notes_not_allowed_for_profession"),
        (&finisher, "CLERICAL", "soap_not_allowed_for_profession"),
        (&starter, "CLERICAL", "soap_not_allowed_for_profession"),
        (&forwarder, "BILLING", "soap_not_allowed_for_profession"),
    ] {
        let path = format!("/v1/users/{id}");
        let refused = app
            .patch(&admin, &path, json!({ "profession": profession }))
            .await;
        expect_refusal(refused, "profession", code);
        let now = read_user(&app, &admin, id).await;
        assert_eq!(now["version"], 1, "{profession}: the user changed");
        assert_ne!(now["profession"], profession);
    }
    // Assistants may start notes.
    let moved = app
        .patch(
            &admin,
            &format!("/v1/users/{starter}"),
            json!({ "profession": "COTA" }),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["profession"], "COTA");
    assert_eq!(moved.body["version"], 2);
    // Once the permission is gone, the change is allowed.
    put_permissions(&app, &admin, &finisher, json!(["view_reports"]))
        .await
        .expect(200);
    let moved = app
        .patch(
            &admin,
            &format!("/v1/users/{finisher}"),
            json!({ "profession": "CLERICAL" }),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["profession"], "CLERICAL");
}

#[tokio::test]
async fn rule_6_bulk_judges_the_current_profession() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = user(&app, &admin, "a@example.test", "PT", json!([]), &[]).await;
    let b = user(&app, &admin, "b@example.test", "PT", json!([]), &[]).await;
    // After these changes, a bulk grant judges the new professions.
    app.patch(
        &admin,
        &format!("/v1/users/{a}"),
        json!({ "profession": "BILLING" }),
    )
    .await
    .expect(200);
    app.patch(
        &admin,
        &format!("/v1/users/{b}"),
        json!({ "profession": "SPT" }),
    )
    .await
    .expect(200);

    let report = bulk(
        &app,
        &admin,
        json!({ "user_ids": [a, b], "add_permissions": ["finish_soap_notes", "start_soap_notes"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(counts(&report, "permissions"), (1, 3, 0));
    assert_eq!(
        group(&report, "soap_not_allowed_for_profession", "permission"),
        Some((2, set(&[&a])))
    );
    assert_eq!(
        group(
            &report,
            "finish_notes_not_allowed_for_profession",
            "permission"
        ),
        Some((1, set(&[&b])))
    );
    assert!(permissions_of(&app, &admin, &a).await.is_empty());
    assert_eq!(
        permissions_of(&app, &admin, &b).await,
        set(&["start_soap_notes"])
    );
}

// ---------------------------------------------------------------------------------------
// What a clinic administrator may do
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn clinic_admins_administer_only_users_sharing_a_clinic_and_no_site_admins_single() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;
    let me = app.site.admin_id.to_string();

    for id in [&s.in_main, &s.in_both] {
        put_permissions(&app, &s.clara, id, json!(["view_reports"]))
            .await
            .expect(200);
    }
    put_permissions(&app, &s.clara, &s.in_north, json!(["view_reports"]))
        .await
        .expect_problem(403, "forbidden");
    put_clinics(&app, &s.clara, &s.in_north, &[&s.north, &s.main], &s.north)
        .await
        .expect_problem(403, "forbidden");
    // The site admin shares Main with Clara, but is not hers to administer.
    put_permissions(&app, &s.clara, &me, json!(["site_admin", "view_reports"]))
        .await
        .expect_problem(403, "forbidden");
    put_permissions(&app, &s.clara, &me, json!([]))
        .await
        .expect_problem(403, "forbidden");
    put_clinics(&app, &s.clara, &me, &[&s.main], &s.main)
        .await
        .expect_problem(403, "forbidden");
    assert!(permissions_of(&app, &admin, &s.in_north).await.is_empty());
    assert_eq!(
        permissions_of(&app, &admin, &me).await,
        set(&["site_admin"])
    );

    // Users of another site are not found, never forbidden.
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let foreign = other.admin_id.to_string();
    put_permissions(&app, &s.clara, &foreign, json!([]))
        .await
        .expect_problem(404, "not_found");
    put_permissions(&app, &admin, &foreign, json!([]))
        .await
        .expect_problem(404, "not_found");
    put_clinics(&app, &admin, &foreign, &[&s.main], &s.main)
        .await
        .expect_problem(404, "not_found");

    // Plain users administer nobody.
    user(
        &app,
        &admin,
        "plain@example.test",
        "PT",
        json!(["view_reports"]),
        &[&s.main],
    )
    .await;
    let plain = app.login("plain@example.test", PASSWORD).await;
    put_permissions(&app, &plain, &s.in_main, json!([]))
        .await
        .expect_problem(403, "forbidden");
    bulk(
        &app,
        &plain,
        json!({ "user_ids": [s.in_main], "add_permissions": ["view_reports"] }),
    )
    .await
    .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn clinic_admins_never_grant_site_admin_and_may_grant_clinic_admin_in_their_clinics() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;

    let answer = put_permissions(&app, &s.clara, &s.in_main, json!(["site_admin"])).await;
    expect_refusal(answer, "permissions", "permission_not_grantable");
    assert!(permissions_of(&app, &admin, &s.in_main).await.is_empty());

    let report = bulk(
        &app,
        &s.clara,
        json!({ "user_ids": [s.in_main, s.in_both], "add_permissions": ["site_admin"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "failed");
    assert_eq!(counts(&report, "permissions"), (0, 2, 0));
    assert_eq!(
        group(&report, "permission_not_grantable", "permission"),
        Some((2, set(&[&s.in_main, &s.in_both])))
    );
    // Removing site_admin from users who lack it is a no-op.
    let report = bulk(
        &app,
        &s.clara,
        json!({ "user_ids": [s.in_main], "remove_permissions": ["site_admin"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "success");
    assert_eq!(counts(&report, "permissions"), (0, 0, 1));

    // clinic_admin within their clinics is theirs to give.
    let granted = put_permissions(&app, &s.clara, &s.in_main, json!(["clinic_admin"]))
        .await
        .expect(200);
    assert_eq!(granted.body["permissions"], json!(["clinic_admin"]));
    assert!(
        permissions_of(&app, &admin, &s.in_main)
            .await
            .contains("clinic_admin")
    );
    // The site admin may grant site_admin.
    put_permissions(&app, &admin, &s.in_both, json!(["site_admin"]))
        .await
        .expect(200);
}

#[tokio::test]
async fn clinic_admins_bulk_only_their_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;
    let me = app.site.admin_id.to_string();

    // Explicit ids outside their scope are refused per user.
    let report = bulk(
        &app,
        &s.clara,
        json!({
            "user_ids": [s.in_main, s.in_north, me, s.in_both],
            "add_permissions": ["view_reports"],
        }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["selected"], 4);
    assert_eq!(report["users_updated"], 2);
    assert_eq!(counts(&report, "permissions"), (2, 2, 0));
    assert_eq!(
        group(&report, "not_administered", "permission"),
        Some((2, set(&[&s.in_north, &me])))
    );
    assert_eq!(reasons(&report).len(), 1);
    assert!(permissions_of(&app, &admin, &s.in_north).await.is_empty());
    assert_eq!(
        permissions_of(&app, &admin, &me).await,
        set(&["site_admin"])
    );

    // A filter selects only their users, silently: Clara herself, in_main, in_both.
    let report = bulk(
        &app,
        &s.clara,
        json!({ "filter": {}, "select_all": true, "add_permissions": ["manage_schedule"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "success", "{report:#}");
    assert_eq!(report["selected"], 3);
    assert_eq!(report["users_updated"], 3);
    assert_eq!(counts(&report, "permissions"), (3, 0, 0));
    assert_eq!(report["refusals"], json!([]));
    for id in [&s.clara_id, &s.in_main, &s.in_both] {
        assert!(
            permissions_of(&app, &admin, id)
                .await
                .contains("manage_schedule")
        );
    }
    for id in [&s.in_north, &me] {
        assert!(
            !permissions_of(&app, &admin, id)
                .await
                .contains("manage_schedule")
        );
    }
    // Filtering by a clinic that is not theirs selects only their users in it.
    let report = bulk(
        &app,
        &s.clara,
        json!({
            "filter": { "clinic_id": s.north },
            "select_all": true,
            "add_permissions": ["manage_billing"],
        }),
    )
    .await
    .expect(200)
    .body;
    // in_both is in North and shares Main with Clara.
    assert_eq!(report["selected"], 1);
    assert_eq!(counts(&report, "permissions"), (1, 0, 0));
    assert!(
        permissions_of(&app, &admin, &s.in_both)
            .await
            .contains("manage_billing")
    );
    assert!(
        !permissions_of(&app, &admin, &s.in_north)
            .await
            .contains("manage_billing")
    );
}

// ---------------------------------------------------------------------------------------
// Validation, If-Match, versions and audit of the single-user endpoints
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_and_foreign_clinics_are_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let id = user(&app, &admin, "u@example.test", "PT", json!([]), &[&main]).await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let unknown = "00000000-0000-4000-8000-000000000001";

    for clinic in [unknown, other.clinic_id.as_str()] {
        let answer = put_clinics(&app, &admin, &id, &[&main, clinic], &main)
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            field_errors(&answer).iter().any(|(f, _)| f == "clinic_ids"),
            "{:#}",
            answer.body
        );
        let answer = put_clinics(&app, &admin, &id, &[clinic], clinic)
            .await
            .expect_problem(422, "validation_failed");
        assert!(!field_errors(&answer).is_empty());
    }
    // The default must be one of the clinics; an empty list is invalid.
    let north = add_clinic(&app, &admin, "North").await;
    put_clinics(&app, &admin, &id, &[&main], &north)
        .await
        .expect_problem(422, "validation_failed");
    put_clinics(&app, &admin, &id, &[], &main)
        .await
        .expect_problem(422, "validation_failed");
    // Unknown permissions are invalid.
    put_permissions(&app, &admin, &id, json!(["fly_helicopters"]))
        .await
        .expect_problem(422, "validation_failed");

    let now = read_user(&app, &admin, &id).await;
    assert_eq!(now["clinic_ids"], json!([main]));
    assert_eq!(now["version"], 1);
}

#[tokio::test]
async fn puts_honour_if_match_and_bump_the_version_once_per_change() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    let id = user(&app, &admin, "u@example.test", "PT", json!([]), &[&main]).await;

    // Stale tag: 412, nothing changes.
    let stale = put_permissions_if(&app, &admin, &id, Some(&etag(7)), json!(["view_reports"]))
        .await
        .expect_problem(412, "precondition_failed");
    assert_eq!(stale.body["current_etag"], etag(1));
    put_clinics_if(&app, &admin, &id, Some(&etag(7)), &[&main, &north], &main)
        .await
        .expect_problem(412, "precondition_failed");
    assert_eq!(read_user(&app, &admin, &id).await["version"], 1);

    // Matching tag: applied, version and ETag bumped.
    let changed = put_permissions_if(
        &app,
        &admin,
        &id,
        Some(&etag(1)),
        json!(["view_reports", "manage_schedule"]),
    )
    .await
    .expect(200);
    assert_eq!(changed.body["version"], 2);
    assert_eq!(changed.header("etag"), Some(etag(2).as_str()));
    // The old tag is now stale.
    put_permissions_if(&app, &admin, &id, Some(&etag(1)), json!([]))
        .await
        .expect_problem(412, "precondition_failed");
    let changed = put_clinics_if(&app, &admin, &id, Some(&etag(2)), &[&main, &north], &main)
        .await
        .expect(200);
    assert_eq!(changed.body["version"], 3);
    assert_eq!(changed.header("etag"), Some(etag(3).as_str()));
    assert_eq!(strings(&changed.body["clinic_ids"]), set(&[&main, &north]));

    // The same sets again change nothing and keep the version.
    let same = put_permissions(
        &app,
        &admin,
        &id,
        json!(["manage_schedule", "view_reports"]),
    )
    .await
    .expect(200);
    assert_eq!(same.body["version"], 3);
    let same = put_clinics(&app, &admin, &id, &[&north, &main], &main)
        .await
        .expect(200);
    assert_eq!(same.body["version"], 3);

    // Refused changes keep the version too.
    put_permissions(&app, &admin, &id, json!(["finish_soap_notes"]))
        .await
        .expect(200);
    let refused = app
        .patch(
            &admin,
            &format!("/v1/users/{id}"),
            json!({ "profession": "PTA" }),
        )
        .await;
    expect_refusal(
        refused,
        "profession",
        "finish_notes_not_allowed_for_profession",
    );
    let now = read_user(&app, &admin, &id).await;
    assert_eq!(now["version"], 4);
    assert_eq!(now["profession"], "PT");
}

#[tokio::test]
async fn single_changes_write_audit_events_with_before_and_after() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    let id = user(
        &app,
        &admin,
        "u@example.test",
        "PT",
        json!(["view_reports"]),
        &[&main],
    )
    .await;

    put_permissions(&app, &admin, &id, json!(["manage_schedule"]))
        .await
        .expect(200);
    put_clinics(&app, &admin, &id, &[&main, &north], &north)
        .await
        .expect(200);
    // Refused and no-op requests write nothing.
    put_permissions(&app, &admin, &id, json!(["manage_schedule"]))
        .await
        .expect(200);
    put_permissions(&app, &admin, &id, json!(["manage_schedule", "nope"]))
        .await
        .expect_problem(422, "validation_failed");
    put_clinics(&app, &admin, &id, &[&north], &main)
        .await
        .expect_problem(422, "validation_failed");

    let changed = events(
        &app,
        &admin,
        &format!("action=user.permissions_changed&target_id={id}"),
    )
    .await;
    assert_eq!(changed.len(), 1, "{changed:#?}");
    let event = &changed[0];
    assert_eq!(event["target_type"], "user");
    assert_eq!(event["actor_id"], app.site.admin_id.to_string());
    assert_eq!(
        strings(&event["before"]["permissions"]),
        set(&["view_reports"])
    );
    assert_eq!(
        strings(&event["after"]["permissions"]),
        set(&["manage_schedule"])
    );
    assert!(event["request_id"].is_string());

    let changed = events(
        &app,
        &admin,
        &format!("action=user.clinics_changed&target_id={id}"),
    )
    .await;
    assert_eq!(changed.len(), 1, "{changed:#?}");
    let event = &changed[0];
    assert_eq!(strings(&event["before"]["clinic_ids"]), set(&[&main]));
    assert_eq!(event["before"]["default_clinic_id"], main.as_str());
    assert_eq!(
        strings(&event["after"]["clinic_ids"]),
        set(&[&main, &north])
    );
    assert_eq!(event["after"]["default_clinic_id"], north.as_str());

    // Every event of the user: created, permissions, clinics — nothing for the refusals.
    let all = events(&app, &admin, &format!("target_id={id}")).await;
    let actions: Vec<&str> = all.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "user.clinics_changed",
            "user.permissions_changed",
            "user.created"
        ]
    );
}
