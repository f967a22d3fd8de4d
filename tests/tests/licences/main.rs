#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Plans and licences (SPEC §1): every cell of the plan table — who needs a licence, the
//! limits and the type switches of `flex`, `solo` and `group` — `GET /v1/site/licences`
//! and `PUT /v1/site/plan`, with the `409` bodies a screen needs ("5 of 5 licences in use").

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_domain::LicencePlan;
use staffroom_tests::{Answer, Options, PASSWORD, TestApp, id_of, send};

mod flex;
mod group;
mod inactive;
mod plan_change;
mod report;
mod solo;

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
