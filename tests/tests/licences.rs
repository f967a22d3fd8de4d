#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Plans and licences (SPEC §1): every cell of the plan table — who needs a licence, the
//! limits and the type switches of `flex`, `solo` and `group` — `GET /v1/site/licences`
//! and `PUT /v1/site/plan`, with the `409` bodies a screen needs ("5 of 5 licences in use").

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_domain::LicencePlan;
use staffroom_tests::{Answer, Options, PASSWORD, TestApp, id_of, send};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

async fn spawn(plan: LicencePlan) -> TestApp {
    TestApp::spawn_with(Options {
        plan,
        ..Default::default()
    })
    .await
}

fn new_user(first: &str, email: &str, user_type: &str) -> Value {
    json!({
        "first_name": first,
        "last_name": "Licensed",
        "email": email,
        "user_type": user_type,
    })
}

/// Creates a user (with the harness password) and returns its id.
async fn user(app: &TestApp, token: &str, first: &str, user_type: &str) -> String {
    let email = format!("{}@example.test", first.to_lowercase());
    id_of(
        &app.create_user(token, new_user(first, &email, user_type))
            .await,
    )
}

/// A user with these permissions at the site's main clinic, and their token.
async fn user_with(
    app: &TestApp,
    admin: &str,
    first: &str,
    user_type: &str,
    permissions: Value,
) -> (String, String) {
    let email = format!("{}@example.test", first.to_lowercase());
    let mut body = new_user(first, &email, user_type);
    body["permissions"] = permissions;
    body["clinic_ids"] = json!([app.site.clinic_id]);
    let created = app.create_user(admin, body).await;
    let token = app.login(&email, PASSWORD).await;
    (id_of(&created), token)
}

async fn try_create(app: &TestApp, token: &str, first: &str, user_type: &str) -> Answer {
    let email = format!("{}@example.test", first.to_lowercase());
    let mut body = new_user(first, &email, user_type);
    body["initial_password"] = json!(PASSWORD);
    app.post(token, "/v1/users", body).await
}

async fn report(app: &TestApp, token: &str) -> Value {
    app.get(token, "/v1/site/licences").await.expect(200).body
}

async fn set_type(app: &TestApp, token: &str, id: &str, user_type: &str) -> Answer {
    send(
        app,
        Method::PUT,
        &format!("/v1/users/{id}/type"),
        token,
        None,
        Some(json!({"user_type": user_type})),
    )
    .await
}

async fn deactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    send(
        app,
        Method::POST,
        &format!("/v1/users/{id}/deactivate"),
        token,
        None,
        None,
    )
    .await
}

async fn reactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    send(
        app,
        Method::POST,
        &format!("/v1/users/{id}/reactivate"),
        token,
        None,
        None,
    )
    .await
}

async fn change_plan(app: &TestApp, token: &str, body: Value) -> Answer {
    send(app, Method::PUT, "/v1/site/plan", token, None, Some(body)).await
}

async fn get_user(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(token, &format!("/v1/users/{id}"))
        .await
        .expect(200)
        .body
}

async fn user_count(app: &TestApp, token: &str) -> usize {
    let page = app.get(token, "/v1/users?limit=200").await.expect(200);
    page.body["items"].as_array().unwrap().len()
}

/// Asserts that `body` has each member of `expected` with that value.
#[track_caller]
fn assert_members(body: &Value, expected: &Value) {
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&body[key], value, "member `{key}` of {body:#}");
    }
}

/// Asserts the numbers of a licence report: total, used, available, clinical, non-clinical.
#[track_caller]
fn assert_usage(body: &Value, plan: &str, numbers: [u64; 5]) {
    assert_members(
        body,
        &json!({
            "plan": plan,
            "licences_total": numbers[0],
            "licences_used": numbers[1],
            "licences_available": numbers[2],
            "clinical_active": numbers[3],
            "non_clinical_active": numbers[4],
        }),
    );
}

/// Asserts the four switches of a licence report: add clinical, add non-clinical, switch
/// to clinical, switch to non-clinical.
#[track_caller]
fn assert_can(body: &Value, can: [bool; 4]) {
    assert_members(
        body,
        &json!({
            "can_add_clinical": can[0],
            "can_add_non_clinical": can[1],
            "can_switch_to_clinical": can[2],
            "can_switch_to_non_clinical": can[3],
        }),
    );
}

/// Asserts a licence refusal: `409`, its code, and the usage the body reports.
#[track_caller]
fn assert_refused(answer: Answer, code: &str, plan: &str, numbers: [u64; 5], extra: &Value) {
    let answer = answer.expect_problem(409, code);
    assert_usage(&answer.body, plan, numbers);
    assert_members(&answer.body, extra);
    assert!(answer.body["detail"].is_string(), "{:#}", answer.body);
}

async fn plan_events(app: &TestApp, admin: &str) -> Vec<Value> {
    app.get(admin, "/v1/audit-events?action=site.plan_changed&limit=200")
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn site_version(site: &Value) -> i64 {
    site["version"].as_i64().unwrap()
}

// ---------------------------------------------------------------------------------------
// GET /v1/site/licences
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn licence_report_has_every_field_and_any_user_can_read_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = report(&app, &admin).await;
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "plan",
        "licences_total",
        "licences_used",
        "licences_available",
        "clinical_active",
        "non_clinical_active",
        "can_add_clinical",
        "can_add_non_clinical",
        "can_switch_to_clinical",
        "can_switch_to_non_clinical",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected, "{body:#}");
    // Default harness plan: group with 50 licences; the admin is non-clinical.
    assert_usage(&body, "group", [50, 0, 50, 0, 1]);
    assert_can(&body, [true, true, true, false]);

    // A user without any permission reads the same report.
    let (_, plain) = user_with(&app, &admin, "Plain", "clinical", json!([])).await;
    let seen_by_plain = report(&app, &plain).await;
    assert_usage(&seen_by_plain, "group", [50, 1, 49, 1, 1]);
    assert_can(&seen_by_plain, [true, true, true, true]);
    assert_eq!(seen_by_plain, report(&app, &admin).await);

    // A clinic administrator too.
    let (_, clinic_admin) = user_with(
        &app,
        &admin,
        "Clinicadmin",
        "non_clinical",
        json!(["clinic_admin"]),
    )
    .await;
    assert_usage(
        &report(&app, &clinic_admin).await,
        "group",
        [50, 1, 49, 1, 2],
    );

    app.call(Method::GET, "/v1/site/licences", None, None)
        .await
        .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn licence_report_is_per_site() {
    let app = spawn(LicencePlan::Flex { licences: 4 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let other_admin = app.login(&other.admin_email, PASSWORD).await;
    assert_usage(
        &report(&app, &other_admin).await,
        "group",
        [10, 0, 10, 0, 1],
    );
    assert_usage(&report(&app, &admin).await, "flex", [4, 2, 2, 1, 1]);
}

// ---------------------------------------------------------------------------------------
// Flex: every active user needs a licence; switching is free
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn flex_counts_every_active_user_and_refuses_the_next_one() {
    let app = spawn(LicencePlan::Flex { licences: 3 }).await;
    let admin = app.admin_token().await;
    // The non-clinical admin already uses one of the three licences.
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 1, 2, 0, 1]);
    assert_can(&r, [true, true, true, false]);

    user(&app, &admin, "Carla", "clinical").await;
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 2, 1, 1, 1]);
    assert_can(&r, [true, true, true, true]);

    user(&app, &admin, "Nina", "non_clinical").await;
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 3, 0, 1, 2]);
    assert_can(&r, [false, false, true, true]);

    // Full: neither type can be added, and the body says "3 of 3 in use, 1 needed".
    for (first, user_type) in [("Carl", "clinical"), ("Nora", "non_clinical")] {
        assert_refused(
            try_create(&app, &admin, first, user_type).await,
            "licence_limit_reached",
            "flex",
            [3, 3, 0, 1, 2],
            &json!({"needed": 1}),
        );
    }
    assert_eq!(user_count(&app, &admin).await, 3);
    assert_usage(&report(&app, &admin).await, "flex", [3, 3, 0, 1, 2]);
}

#[tokio::test]
async fn flex_switching_is_free_even_when_every_licence_is_used() {
    let app = spawn(LicencePlan::Flex { licences: 3 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    assert_usage(&report(&app, &admin).await, "flex", [3, 3, 0, 1, 2]);

    let switched = set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    assert_eq!(switched.body["user_type"], "non_clinical");
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 3, 0, 0, 3]);
    assert_can(&r, [false, false, true, false]);

    set_type(&app, &admin, &nina, "clinical").await.expect(200);
    set_type(&app, &admin, &carla, "clinical").await.expect(200);
    set_type(&app, &admin, &app.site.admin_id.to_string(), "clinical")
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 3, 0, 3, 0]);
    assert_can(&r, [false, false, false, true]);
}

#[tokio::test]
async fn flex_deactivation_frees_a_licence_and_reactivation_needs_one() {
    let app = spawn(LicencePlan::Flex { licences: 2 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    try_create(&app, &admin, "Nina", "non_clinical")
        .await
        .expect_problem(409, "licence_limit_reached");

    deactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [2, 1, 1, 0, 1]);
    assert_can(&r, [true, true, true, false]);

    // The freed licence lets a new user in.
    let nina = id_of(
        &try_create(&app, &admin, "Nina", "non_clinical")
            .await
            .expect(201)
            .body,
    );
    // Full, but flex switches are free: the non-clinical users could become clinical.
    assert_can(&report(&app, &admin).await, [false, false, true, false]);

    // Reactivating Carla now needs a licence there is none of.
    assert_refused(
        reactivate(&app, &admin, &carla).await,
        "licence_limit_reached",
        "flex",
        [2, 2, 0, 0, 2],
        &json!({"needed": 1}),
    );
    assert_eq!(get_user(&app, &admin, &carla).await["status"], "inactive");

    deactivate(&app, &admin, &nina).await.expect(200);
    let back = reactivate(&app, &admin, &carla).await.expect(200);
    assert_eq!(back.body["status"], "active");
    assert_usage(&report(&app, &admin).await, "flex", [2, 2, 0, 1, 1]);
}

// ---------------------------------------------------------------------------------------
// Solo: one clinical and one non-clinical user; switching only into a free slot
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn solo_allows_one_clinical_and_one_non_clinical_user() {
    let app = spawn(LicencePlan::Solo).await;
    let admin = app.admin_token().await;
    // The non-clinical admin holds the non-clinical slot and no licence.
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 0, 1, 0, 1]);
    assert_can(&r, [true, false, true, false]);

    assert_refused(
        try_create(&app, &admin, "Nina", "non_clinical").await,
        "solo_slot_taken",
        "solo",
        [1, 0, 1, 0, 1],
        &json!({"user_type": "non_clinical"}),
    );

    user(&app, &admin, "Carla", "clinical").await;
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 1, 0, 1, 1]);
    assert_can(&r, [false, false, false, false]);

    assert_refused(
        try_create(&app, &admin, "Carl", "clinical").await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 1],
        &json!({"user_type": "clinical"}),
    );
    assert_eq!(user_count(&app, &admin).await, 2);
}

#[tokio::test]
async fn solo_with_one_of_each_no_switch_is_possible() {
    let app = spawn(LicencePlan::Solo).await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let carla = user(&app, &admin, "Carla", "clinical").await;

    assert_refused(
        set_type(&app, &admin, &carla, "non_clinical").await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 1],
        &json!({"user_type": "non_clinical"}),
    );
    assert_refused(
        set_type(&app, &admin, &admin_id, "clinical").await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 1],
        &json!({"user_type": "clinical"}),
    );
    assert_eq!(
        get_user(&app, &admin, &carla).await["user_type"],
        "clinical"
    );
    assert_eq!(
        get_user(&app, &admin, &admin_id).await["user_type"],
        "non_clinical"
    );
}

#[tokio::test]
async fn solo_switching_into_a_free_slot_works() {
    let app = spawn(LicencePlan::Solo).await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let carla = user(&app, &admin, "Carla", "clinical").await;

    // Carla leaves: the clinical slot is free, so the admin can move into it.
    deactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 0, 1, 0, 1]);
    assert_can(&r, [true, false, true, false]);

    let switched = set_type(&app, &admin, &admin_id, "clinical")
        .await
        .expect(200);
    assert_eq!(switched.body["user_type"], "clinical");
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 1, 0, 1, 0]);
    assert_can(&r, [false, true, false, true]);

    // And back into the (free) non-clinical slot.
    set_type(&app, &admin, &admin_id, "non_clinical")
        .await
        .expect(200);
    assert_can(&report(&app, &admin).await, [true, false, true, false]);
    set_type(&app, &admin, &admin_id, "clinical")
        .await
        .expect(200);

    // Carla's clinical slot is now the admin's.
    assert_refused(
        reactivate(&app, &admin, &carla).await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 0],
        &json!({"user_type": "clinical"}),
    );
    // As an inactive user she may change type without a slot, and then comes back into
    // the free non-clinical one.
    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    assert_usage(&report(&app, &admin).await, "solo", [1, 1, 0, 1, 0]);
    reactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 1, 0, 1, 1]);
    assert_can(&r, [false, false, false, false]);
}

#[tokio::test]
async fn solo_inactive_user_switched_into_a_taken_slot_cannot_be_reactivated() {
    let app = spawn(LicencePlan::Solo).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    deactivate(&app, &admin, &carla).await.expect(200);
    let cleo = user(&app, &admin, "Cleo", "clinical").await;

    // Carla is inactive: switching her into the admin's non-clinical slot is allowed...
    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    // ...but reactivating her needs that slot.
    assert_refused(
        reactivate(&app, &admin, &carla).await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 1],
        &json!({"user_type": "non_clinical"}),
    );
    deactivate(&app, &admin, &cleo).await.expect(200);
    // The clinical slot is free now, but Carla is non-clinical: still refused.
    reactivate(&app, &admin, &carla)
        .await
        .expect_problem(409, "solo_slot_taken");
    assert_eq!(get_user(&app, &admin, &carla).await["status"], "inactive");
}

// ---------------------------------------------------------------------------------------
// Group: clinical users need a licence; non-clinical users are unlimited
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn group_limits_clinical_users_and_not_non_clinical_ones() {
    let app = spawn(LicencePlan::Group { licences: 2 }).await;
    let admin = app.admin_token().await;
    assert_usage(&report(&app, &admin).await, "group", [2, 0, 2, 0, 1]);
    user(&app, &admin, "Carla", "clinical").await;
    user(&app, &admin, "Cleo", "clinical").await;
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 2, 0, 2, 1]);
    assert_can(&r, [false, true, false, true]);

    assert_refused(
        try_create(&app, &admin, "Carl", "clinical").await,
        "licence_limit_reached",
        "group",
        [2, 2, 0, 2, 1],
        &json!({"needed": 1}),
    );

    for first in ["Nina", "Nora", "Ned", "Nell"] {
        user(&app, &admin, first, "non_clinical").await;
    }
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 2, 0, 2, 5]);
    assert_can(&r, [false, true, false, true]);
}

#[tokio::test]
async fn group_non_clinical_to_clinical_needs_a_free_licence() {
    let app = spawn(LicencePlan::Group { licences: 1 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    assert_can(&report(&app, &admin).await, [false, true, false, true]);

    assert_refused(
        set_type(&app, &admin, &nina, "clinical").await,
        "licence_limit_reached",
        "group",
        [1, 1, 0, 1, 2],
        &json!({"needed": 1}),
    );
    assert_eq!(
        get_user(&app, &admin, &nina).await["user_type"],
        "non_clinical"
    );

    deactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [1, 0, 1, 0, 2]);
    assert_can(&r, [true, true, true, false]);
    set_type(&app, &admin, &nina, "clinical").await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [1, 1, 0, 1, 1]);
    assert_can(&r, [false, true, false, true]);
}

#[tokio::test]
async fn group_clinical_to_non_clinical_is_allowed_even_when_full() {
    let app = spawn(LicencePlan::Group { licences: 1 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    assert_usage(&report(&app, &admin).await, "group", [1, 1, 0, 1, 1]);

    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [1, 0, 1, 0, 2]);
    assert_can(&r, [true, true, true, false]);
}

// ---------------------------------------------------------------------------------------
// Inactive users hold nothing; reactivation needs a licence of their (new) type
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn inactive_users_switch_without_a_licence_and_reactivate_with_one_of_the_new_type() {
    let app = spawn(LicencePlan::Group { licences: 1 }).await;
    let admin = app.admin_token().await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    let cleo = user(&app, &admin, "Cleo", "clinical").await;
    deactivate(&app, &admin, &nina).await.expect(200);
    deactivate(&app, &admin, &cleo).await.expect(200);
    user(&app, &admin, "Carla", "clinical").await;
    let before = report(&app, &admin).await;
    assert_usage(&before, "group", [1, 1, 0, 1, 1]);

    // The only licence is Carla's, yet inactive Nina may become clinical...
    let switched = set_type(&app, &admin, &nina, "clinical").await.expect(200);
    assert_eq!(switched.body["user_type"], "clinical");
    assert_eq!(switched.body["status"], "inactive");
    assert_eq!(report(&app, &admin).await, before);
    // ...and then needs a clinical licence to come back.
    assert_refused(
        reactivate(&app, &admin, &nina).await,
        "licence_limit_reached",
        "group",
        [1, 1, 0, 1, 1],
        &json!({"needed": 1}),
    );

    // Inactive Cleo, clinical, could not come back while full — as non-clinical she can.
    reactivate(&app, &admin, &cleo)
        .await
        .expect_problem(409, "licence_limit_reached");
    set_type(&app, &admin, &cleo, "non_clinical")
        .await
        .expect(200);
    reactivate(&app, &admin, &cleo).await.expect(200);
    assert_usage(&report(&app, &admin).await, "group", [1, 1, 0, 1, 2]);
}

#[tokio::test]
async fn report_follows_creation_deactivation_reactivation_and_switches() {
    let app = spawn(LicencePlan::Group { licences: 2 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    assert_can(&report(&app, &admin).await, [true, true, true, true]);
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    set_type(&app, &admin, &nina, "clinical").await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 2, 0, 2, 1]);
    assert_can(&r, [false, true, false, true]);
    deactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 1, 1, 1, 1]);
    assert_can(&r, [true, true, true, true]);
    reactivate(&app, &admin, &carla).await.expect(200);
    assert_can(&report(&app, &admin).await, [false, true, false, true]);
    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    set_type(&app, &admin, &nina, "non_clinical")
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 0, 2, 0, 3]);
    assert_can(&r, [true, true, true, false]);
}

// ---------------------------------------------------------------------------------------
// PUT /v1/site/plan
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn only_site_admins_change_the_plan() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, clinic_admin) = user_with(
        &app,
        &admin,
        "Clinicadmin",
        "non_clinical",
        json!(["clinic_admin"]),
    )
    .await;
    let (_, plain) = user_with(&app, &admin, "Plain", "clinical", json!(["manage_billing"])).await;
    let before = app.get(&admin, "/v1/site").await.expect(200).body;
    for token in [&clinic_admin, &plain] {
        change_plan(&app, token, json!({"plan": "group", "licences": 99}))
            .await
            .expect_problem(403, "forbidden");
    }
    assert_eq!(app.get(&admin, "/v1/site").await.expect(200).body, before);
    app.call(
        Method::PUT,
        "/v1/site/plan",
        None,
        Some(json!({"plan": "group", "licences": 99})),
    )
    .await
    .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn raising_and_lowering_the_licence_count() {
    let app = spawn(LicencePlan::Group { licences: 5 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    user(&app, &admin, "Cleo", "clinical").await;
    let site = app.get(&admin, "/v1/site").await.expect(200).body;
    assert_eq!(site["plan"], json!({"plan": "group", "licences": 5}));
    let v0 = site_version(&site);

    let raised = change_plan(&app, &admin, json!({"plan": "group", "licences": 10}))
        .await
        .expect(200);
    assert_eq!(
        raised.body["plan"],
        json!({"plan": "group", "licences": 10})
    );
    assert_eq!(site_version(&raised.body), v0 + 1);
    assert_eq!(
        raised.header("etag"),
        Some(format!("\"{}\"", v0 + 1).as_str())
    );
    assert_usage(&report(&app, &admin).await, "group", [10, 2, 8, 2, 1]);

    // Lowering to exactly the usage fits.
    change_plan(&app, &admin, json!({"plan": "group", "licences": 2}))
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 2, 0, 2, 1]);
    assert_can(&r, [false, true, false, true]);
    try_create(&app, &admin, "Carl", "clinical")
        .await
        .expect_problem(409, "licence_limit_reached");

    // Below the usage it does not.
    let refused = change_plan(&app, &admin, json!({"plan": "group", "licences": 1}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({
            "licences_total": 1,
            "licences_needed": 2,
            "clinical_active": 2,
            "non_clinical_active": 1,
            "licences_used": 2,
        }),
    );
    let site = app.get(&admin, "/v1/site").await.expect(200).body;
    assert_eq!(site["plan"], json!({"plan": "group", "licences": 2}));
    assert_eq!(site_version(&site), v0 + 2);
    assert_usage(&report(&app, &admin).await, "group", [2, 2, 0, 2, 1]);
}

#[tokio::test]
async fn flex_licence_count_counts_non_clinical_users_too() {
    let app = spawn(LicencePlan::Flex { licences: 5 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    user(&app, &admin, "Nina", "non_clinical").await;
    user(&app, &admin, "Nora", "non_clinical").await;
    // Four active users: 4 fits, 3 does not.
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 3}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({
            "licences_total": 3,
            "licences_needed": 4,
            "licences_used": 4,
            "clinical_active": 1,
            "non_clinical_active": 3,
        }),
    );
    change_plan(&app, &admin, json!({"plan": "flex", "licences": 4}))
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [4, 4, 0, 1, 3]);
    assert_can(&r, [false, false, true, true]);
}

#[tokio::test]
async fn changing_the_plan_kind_when_it_fits_and_when_it_does_not() {
    let app = spawn(LicencePlan::Flex { licences: 5 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    let nora = user(&app, &admin, "Nora", "non_clinical").await;

    // flex → group 1: only the one clinical user needs a licence.
    let group = change_plan(&app, &admin, json!({"plan": "group", "licences": 1}))
        .await
        .expect(200);
    assert_eq!(group.body["plan"], json!({"plan": "group", "licences": 1}));
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [1, 1, 0, 1, 3]);
    assert_can(&r, [false, true, false, true]);

    // group → flex 3: four active users do not fit three licences.
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 3}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({"licences_total": 3, "licences_needed": 4, "clinical_active": 1, "non_clinical_active": 3}),
    );

    // group → solo: three non-clinical users do not fit the one slot.
    let refused = change_plan(&app, &admin, json!({"plan": "solo"}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({"licences_total": 1, "clinical_active": 1, "non_clinical_active": 3}),
    );
    assert_eq!(
        app.get(&admin, "/v1/site").await.expect(200).body["plan"],
        json!({"plan": "group", "licences": 1})
    );

    // Two of them leave (the admin keeps the non-clinical slot): now solo fits.
    deactivate(&app, &admin, &nina).await.expect(200);
    deactivate(&app, &admin, &nora).await.expect(200);
    let solo = change_plan(&app, &admin, json!({"plan": "solo"}))
        .await
        .expect(200);
    assert_eq!(solo.body["plan"], json!({"plan": "solo"}));
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 1, 0, 1, 1]);
    assert_can(&r, [false, false, false, false]);
    reactivate(&app, &admin, &nina)
        .await
        .expect_problem(409, "solo_slot_taken");

    // solo → flex 1 does not fit two active users; flex 2 does.
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 1}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({"licences_total": 1, "licences_needed": 2}),
    );
    change_plan(&app, &admin, json!({"plan": "flex", "licences": 2}))
        .await
        .expect(200);
    assert_usage(&report(&app, &admin).await, "flex", [2, 2, 0, 1, 1]);
}

#[tokio::test]
async fn plan_body_is_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let before = app.get(&admin, "/v1/site").await.expect(200).body;
    let fields = |answer: &Answer| -> Vec<String> {
        answer.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for body in [
        json!({"plan": "flex"}),
        json!({"plan": "group"}),
        json!({"plan": "flex", "licences": 0}),
        json!({"plan": "group", "licences": 100_001}),
        json!({"plan": "group", "licences": -3}),
        json!({"plan": "solo", "licences": 2}),
    ] {
        let answer = change_plan(&app, &admin, body.clone())
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            fields(&answer).iter().any(|f| f == "licences"),
            "{body}: {:#}",
            answer.body
        );
    }
    for body in [
        json!({"plan": "platinum", "licences": 3}),
        json!({"licences": 3}),
    ] {
        let answer = change_plan(&app, &admin, body.clone())
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            fields(&answer).iter().any(|f| f == "plan"),
            "{body}: {:#}",
            answer.body
        );
    }
    assert_eq!(app.get(&admin, "/v1/site").await.expect(200).body, before);
    // Solo with its one licence spelled out is fine.
    change_plan(&app, &admin, json!({"plan": "solo", "licences": 1}))
        .await
        .expect(200);
}

#[tokio::test]
async fn plan_change_honours_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let site = app.get(&admin, "/v1/site").await.expect(200);
    let etag = site.header("etag").unwrap().to_owned();
    let v0 = site_version(&site.body);
    assert_eq!(etag, format!("\"{v0}\""));

    let body = json!({"plan": "group", "licences": 20});
    send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some("\"999\""),
        Some(body.clone()),
    )
    .await
    .expect_problem(412, "precondition_failed");
    assert_eq!(
        app.get(&admin, "/v1/site").await.expect(200).body["plan"],
        json!({"plan": "group", "licences": 50})
    );

    let changed = send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some(&etag),
        Some(body),
    )
    .await
    .expect(200);
    assert_eq!(site_version(&changed.body), v0 + 1);
    let new_etag = changed.header("etag").unwrap().to_owned();
    assert_eq!(new_etag, format!("\"{}\"", v0 + 1));

    // The old tag is stale now.
    send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some(&etag),
        Some(json!({"plan": "group", "licences": 30})),
    )
    .await
    .expect_problem(412, "precondition_failed");
    send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some("*"),
        Some(json!({"plan": "group", "licences": 30})),
    )
    .await
    .expect(200);
    let site = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(site.body["plan"], json!({"plan": "group", "licences": 30}));
    assert_eq!(
        site.header("etag"),
        Some(format!("\"{}\"", v0 + 2).as_str())
    );
}

#[tokio::test]
async fn plan_change_is_required_to_send_if_match_when_the_deployment_says_so() {
    let app = TestApp::spawn_with(Options {
        require_if_match: true,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    change_plan(&app, &admin, json!({"plan": "group", "licences": 20}))
        .await
        .expect_problem(428, "precondition_required");
    let etag = app
        .get(&admin, "/v1/site")
        .await
        .expect(200)
        .header("etag")
        .unwrap()
        .to_owned();
    send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some(&etag),
        Some(json!({"plan": "group", "licences": 20})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn plan_change_is_audited_and_refusals_and_no_ops_are_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let site_id = app.site.site_id.to_string();
    let admin_id = app.site.admin_id.to_string();
    assert!(plan_events(&app, &admin).await.is_empty());

    let changed = send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        None,
        Some(json!({"plan": "flex", "licences": 7})),
    )
    .await
    .expect(200);
    let version = site_version(&changed.body);
    let list = plan_events(&app, &admin).await;
    assert_eq!(list.len(), 1, "{list:#?}");
    let event = &list[0];
    assert_eq!(event["action"], "site.plan_changed");
    assert_eq!(event["target_type"], "site");
    assert_eq!(event["target_id"], site_id.as_str());
    assert_eq!(event["actor_kind"], "user");
    assert_eq!(event["actor_id"], admin_id.as_str());
    assert_eq!(event["before"], json!({"plan": "group", "licences": 50}));
    assert_eq!(event["after"], json!({"plan": "flex", "licences": 7}));

    // Same plan again: nothing changes, no event, same version.
    let same = change_plan(&app, &admin, json!({"plan": "flex", "licences": 7}))
        .await
        .expect(200);
    assert_eq!(site_version(&same.body), version);
    // Refused: no event either.
    change_plan(&app, &admin, json!({"plan": "flex", "licences": 0}))
        .await
        .expect(422);
    user(&app, &admin, "Carla", "clinical").await;
    change_plan(&app, &admin, json!({"plan": "flex", "licences": 1}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_eq!(plan_events(&app, &admin).await.len(), 1);
    assert_eq!(
        site_version(&app.get(&admin, "/v1/site").await.expect(200).body),
        version
    );
}

/// The numbers of one `409` body describe one situation: `licences_available` is what is
/// left of `licences_total` after `licences_used`.
#[tokio::test]
async fn plan_does_not_fit_body_numbers_agree_with_each_other() {
    let app = spawn(LicencePlan::Flex { licences: 5 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    user(&app, &admin, "Nina", "non_clinical").await;
    user(&app, &admin, "Nora", "non_clinical").await;

    // flex 5 → flex 3 with four active users: 3 licences, 4 needed — none available.
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 3}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_eq!(refused.body["licences_total"], 3, "{:#}", refused.body);
    assert_eq!(refused.body["licences_needed"], 4, "{:#}", refused.body);
    let mut contradictions = Vec::new();
    let mut check = |body: &Value| {
        let total = body["licences_total"].as_u64().unwrap();
        let used = body["licences_used"].as_u64().unwrap();
        let available = body["licences_available"].as_u64().unwrap();
        if available != total.saturating_sub(used) {
            contradictions.push(body.clone());
        }
    };
    check(&refused.body);

    // group 5 (one clinical licence used) → flex 3: four active users need 4.
    change_plan(&app, &admin, json!({"plan": "group", "licences": 5}))
        .await
        .expect(200);
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 3}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_eq!(refused.body["licences_total"], 3, "{:#}", refused.body);
    assert_eq!(refused.body["licences_needed"], 4, "{:#}", refused.body);
    check(&refused.body);
    assert!(
        contradictions.is_empty(),
        "licences_available contradicts licences_total and licences_used: {contradictions:#?}"
    );
}

#[tokio::test]
async fn every_licence_refusal_body_numbers_agree_with_each_other() {
    let app = spawn(LicencePlan::Group { licences: 1 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    for answer in [
        try_create(&app, &admin, "Carl", "clinical").await,
        set_type(&app, &admin, &nina, "clinical").await,
    ] {
        let answer = answer.expect_problem(409, "licence_limit_reached");
        let body = &answer.body;
        let total = body["licences_total"].as_u64().unwrap();
        let used = body["licences_used"].as_u64().unwrap();
        assert_eq!(
            body["licences_available"].as_u64().unwrap(),
            total.saturating_sub(used),
            "{body:#}"
        );
        assert_eq!(used, body["clinical_active"].as_u64().unwrap(), "{body:#}");
    }
}
