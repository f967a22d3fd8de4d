//! Every bearer-token operation of `/openapi.json` × a service account without and with
//! the permission the operation documents (`x-permissions`): without it the answer is `403
//! forbidden`, before the body is even read; with it, never `403`. A service account may do
//! exactly what its permissions grant; with none it can only ask `GET /v1/me`. The signed
//! webhook takes no token: any token, even a site administrator's, leaves it `401`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, TestApp, takes_bearer};

/// One authenticated operation of the document.
struct Operation {
    method: Method,
    /// The path with every parameter replaced by an id that exists nowhere.
    path: String,
    has_body: bool,
    permissions: Vec<String>,
    /// Its description says service accounts are refused whatever they hold.
    people_only: bool,
}

/// The `METHOD path` of every operation signed instead of taking a token.
fn signed_operations(document: &Value) -> Vec<(Method, String)> {
    let mut found = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation["security"] != json!([{}]) && !takes_bearer(operation) {
                found.push((method.to_uppercase().parse().unwrap(), template.clone()));
            }
        }
    }
    found
}

fn operations(document: &Value) -> Vec<Operation> {
    let nowhere = uuid::Uuid::now_v7().to_string();
    let mut found = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        // SCIM opens to SCIM tokens only (tests/tests/scim/tokens.rs refuses the rest).
        if template.starts_with("/scim/") {
            continue;
        }
        let path: String = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    nowhere.as_str()
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for (method, operation) in item.as_object().unwrap() {
            if !takes_bearer(operation) {
                continue;
            }
            let permissions = operation["x-permissions"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {template} has no x-permissions"))
                .iter()
                .map(|p| p.as_str().unwrap().to_owned())
                .collect();
            found.push(Operation {
                method: method.to_uppercase().parse().unwrap(),
                path: path.clone(),
                has_body: operation.get("requestBody").is_some(),
                permissions,
                people_only: operation["description"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("service accounts are refused"),
            });
        }
    }
    found
}

async fn send(app: &TestApp, token: &str, operation: &Operation) -> Answer {
    let body = operation.has_body.then(|| json!({}));
    app.call(operation.method.clone(), &operation.path, Some(token), body)
        .await
}

fn forbidden(answer: &Answer) -> bool {
    answer.status.as_u16() == 403 && answer.code() == "forbidden"
}

#[tokio::test]
async fn every_operation_refuses_a_service_account_without_its_permission_and_accepts_it_with() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let operations = operations(&app.document().await);
    assert!(operations.len() >= 40, "{} operations", operations.len());

    let nothing = app.service_token(&admin, &[]).await;
    let site_admin = app.service_token(&admin, &["site_admin"]).await;
    let mut holding: BTreeMap<String, String> = BTreeMap::new();
    let mut only_me = Vec::new();
    for operation in &operations {
        let name = format!("{} {}", operation.method, operation.path);
        let without = send(&app, &nothing, operation).await;
        if operation.permissions.is_empty() {
            // No permission is needed (who am I), or none is enough (a user's own link).
            let with = send(&app, &site_admin, operation).await;
            assert_eq!(
                forbidden(&without),
                operation.people_only,
                "{name}: {without:?}"
            );
            assert_eq!(forbidden(&with), operation.people_only, "{name}: {with:?}");
            if !operation.people_only {
                only_me.push(name);
            }
            continue;
        }
        assert!(
            forbidden(&without),
            "{name} without permission: {without:?}"
        );
        for permission in &operation.permissions {
            if !holding.contains_key(permission) {
                let token = app.service_token(&admin, &[permission.as_str()]).await;
                holding.insert(permission.clone(), token);
            }
            let with = send(&app, &holding[permission], operation).await;
            assert!(!forbidden(&with), "{name} with {permission}: {with:?}");
        }
    }
    assert_eq!(only_me, ["GET /v1/me"]);
}

#[tokio::test]
async fn no_token_stands_in_for_a_webhook_signature() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let site_admin = app.service_token(&admin, &["site_admin"]).await;
    let signed = signed_operations(&app.document().await);
    assert_eq!(signed, [(Method::POST, "/v1/webhooks/imaging".to_owned())]);
    for (method, path) in signed {
        for token in [&admin, &site_admin] {
            let body = json!({"type": "referral.report_ready", "referral_id": "x", "report": {}});
            app.call(method.clone(), &path, Some(token), Some(body))
                .await
                .expect_problem(401, "invalid_signature");
        }
    }
}

#[tokio::test]
async fn a_service_account_with_no_permissions_sees_no_user_or_clinic() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let nothing = app.service_token(&admin, &[]).await;
    for path in ["/v1/users", "/v1/clinics", "/v1/site", "/v1/audit-events"] {
        let answer = app
            .get(&nothing, path)
            .await
            .expect_problem(403, "forbidden");
        assert!(answer.body.get("items").is_none(), "{path}");
    }
    let me = app.get(&nothing, "/v1/me").await.expect(200);
    assert_eq!(me.body["kind"], "service");

    let reader = app.service_token(&admin, &["view_users"]).await;
    let users = app.get(&reader, "/v1/users").await.expect(200);
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1);
    app.get(&reader, "/v1/clinics")
        .await
        .expect_problem(403, "forbidden");
    app.post(&reader, "/v1/users", json!({}))
        .await
        .expect_problem(403, "forbidden");
}
