//! `/scim/v2` over HTTP: SCIM tokens, discovery, Users and Groups, filters, the Okta and
//! Entra ID request sequences, the licence and permission rules through SCIM, what every
//! user has (required, never removed), and tenancy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, TestApp, conformance};

mod discovery;
mod entra;
mod filters;
mod groups;
mod okta;
mod references;
mod required;
mod rules;
mod tenancy;
mod tokens;
mod user_names;
mod users;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXT_URN: &str = "urn:ietf:params:scim:schemas:extension:staffroom:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Issues a SCIM token of the app's site through the API.
async fn scim_token(app: &TestApp, admin: &str) -> String {
    let answer = app
        .post(
            admin,
            "/v1/scim-tokens",
            json!({"name": "Identity provider"}),
        )
        .await
        .expect(201);
    answer.body["token"].as_str().unwrap().to_owned()
}

/// A SCIM request: `application/scim+json` both ways, optional `If-Match`.
async fn scim_with(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> Answer {
    let method_name = method.to_string();
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("Accept", "application/scim+json");
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/scim+json")
            .body(body.to_string());
    }
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    let answer = TestApp::answer(request.send().await.expect("request sent")).await;
    conformance::check_documented(&method_name, path, &answer);
    answer
}

async fn scim(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Answer {
    scim_with(app, method, path, token, body, None).await
}

async fn get(app: &TestApp, token: &str, path: &str) -> Answer {
    scim(app, Method::GET, path, token, None).await
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Answer {
    scim(app, Method::POST, path, token, Some(body)).await
}

async fn patch(app: &TestApp, token: &str, path: &str, operations: Value) -> Answer {
    let body = json!({"schemas": [PATCH_URN], "Operations": operations});
    scim(app, Method::PATCH, path, token, Some(body)).await
}

/// Asserts a SCIM error: status, media type, `scimType`.
#[track_caller]
fn expect_error(answer: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(answer.status.as_u16(), status, "{:#}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/scim+json"));
    assert_eq!(
        answer.body["schemas"],
        json!([ERROR_URN]),
        "{:#}",
        answer.body
    );
    assert_eq!(
        answer.body["status"],
        status.to_string(),
        "{:#}",
        answer.body
    );
    assert_eq!(
        answer.body["scimType"].as_str(),
        scim_type,
        "{:#}",
        answer.body
    );
}

/// A User body as a client sends it.
fn user(email: &str, given: &str, family: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": true,
    })
}

/// Creates a user through SCIM; answers its resource.
async fn create_user(app: &TestApp, token: &str, body: Value) -> Value {
    post(app, token, "/scim/v2/Users", body)
        .await
        .expect(201)
        .body
}

fn total(answer: &Answer) -> i64 {
    answer.body["totalResults"].as_i64().unwrap()
}

fn resources(answer: &Answer) -> Vec<Value> {
    answer.body["Resources"].as_array().unwrap().clone()
}
