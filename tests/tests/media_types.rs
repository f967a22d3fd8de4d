//! Every operation that takes a body refuses a body of another media type with `415
//! unsupported_media_type`, and documents that it does (SPEC §9). A signed webhook checks
//! its signature first, so its delivery is signed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use serde_json::json;
use staffroom_tests::{TestApp, WEBHOOK_SECRET, conformance, unix_now, webhook_headers};

#[tokio::test]
async fn every_operation_with_a_body_answers_and_documents_415_for_text_plain() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let document = app.document().await;
    let created = app
        .post(
            &admin,
            "/v1/scim-tokens",
            serde_json::json!({"name": "IdP"}),
        )
        .await
        .expect(201);
    let scim_token = created.body["token"].as_str().unwrap().to_owned();

    let mut walked = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("requestBody").is_none() {
                continue;
            }
            let path: String = template
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        uuid::Uuid::new_v4().to_string()
                    } else {
                        segment.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let body = r#"{"plain": "text"}"#;
            let scim = template.starts_with("/scim/");
            let mut request = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&path))
                .bearer_auth(if scim { &scim_token } else { &admin })
                .header("content-type", "text/plain")
                .body(body);
            if operation["security"] == json!([{"webhook_signature": []}]) {
                let signed =
                    webhook_headers(WEBHOOK_SECRET, "msg_media", unix_now(), body.as_bytes());
                for (name, value) in signed {
                    request = request.header(name, value);
                }
            }
            let answer = TestApp::answer(request.send().await.unwrap()).await;
            if scim {
                // A SCIM error: `status` as a string, no problem `code`.
                assert_eq!(answer.status.as_u16(), 415, "{method} {template}");
                assert_eq!(answer.body["status"], "415", "{method} {template}");
                assert_eq!(answer.header("content-type"), Some("application/scim+json"));
            } else {
                assert_eq!(
                    (answer.status.as_u16(), answer.code()),
                    (415, "unsupported_media_type"),
                    "{method} {template}: {:#}",
                    answer.body
                );
            }
            conformance::check_documented(method, &path, &answer);
            assert!(
                operation["responses"].get("415").is_some(),
                "{method} {template} does not document 415"
            );
            walked.push(format!("{method} {template}"));
        }
    }
    for expected in [
        "post /v1/users",
        "patch /v1/users/{id}",
        "patch /v1/site",
        "post /v1/auth/login",
        "post /v1/auth/token",
        "post /v1/invitations/{token}/accept",
        "post /v1/webhooks/imaging",
        "post /scim/v2/Users",
        "patch /scim/v2/Groups/{id}",
    ] {
        assert!(
            walked.iter().any(|w| w == expected),
            "{expected} not walked: {walked:?}"
        );
    }
}
