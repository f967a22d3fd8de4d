//! SPEC §4: permissions, professions and clinic access — every rule through the single-user
//! endpoints (`PUT /v1/users/{id}/permissions`, `PUT /v1/users/{id}/clinics`, `PATCH
//! /v1/users/{id}` for professions) and through `POST /v1/users/bulk-update`; the last site
//! and clinic administrators; what a clinic administrator may and may not do; `If-Match`,
//! versions and audit events of the single-user endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::fixtures::{staff, two_clinics};
use staffroom_tests::{Answer, PASSWORD, TestApp, add_clinic, read_user, set, strings};

mod clinic_admin;
mod rule1_soap_by_type;
mod rule2_finish_by_profession;
mod rule3_clinic_scope;
mod rule4_default_clinic;
mod rule5_admins;
mod rule6_profession_change;
mod single_user_endpoints;

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

async fn permissions_of(app: &TestApp, token: &str, id: &str) -> BTreeSet<String> {
    strings(&read_user(app, token, id).await["permissions"])
}

async fn clinics_of(app: &TestApp, token: &str, id: &str) -> BTreeSet<String> {
    strings(&read_user(app, token, id).await["clinic_ids"])
}

/// Asserts a `422 validation_failed` whose errors carry `code` (on `field`) and nothing else.
#[track_caller]
fn expect_refusal(answer: Answer, field: &str, code: &str) {
    let answer = answer.expect_problem(422, "validation_failed");
    let errors = answer.field_errors();
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
    let clara_id = staff(app, admin, "clara@example.test")
        .profession("OTHER")
        .permissions(&["clinic_admin"])
        .clinics(&[&main])
        .create()
        .await;
    let clara = app.login("clara@example.test", PASSWORD).await;
    let in_main = staff(app, admin, "mo@example.test")
        .clinics(&[&main])
        .create()
        .await;
    let in_north = staff(app, admin, "ned@example.test")
        .clinics(&[&north])
        .create()
        .await;
    let in_both = staff(app, admin, "bo@example.test")
        .clinics(&[&main, &north])
        .create()
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
