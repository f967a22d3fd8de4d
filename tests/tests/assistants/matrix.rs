//! Every operation of `/openapi.json` that takes a bearer token, called with an assistant's
//! token: `403 forbidden` on every administrative and user-management operation, before the
//! body is read (a SCIM `401` on `/scim/v2`, which takes SCIM tokens only); only who am I,
//! whom I assist and acting for a patient are let through.

use super::*;

#[tokio::test]
async fn an_assistant_is_refused_every_operation_but_its_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, doc) = clinician(&app, &admin, "doc@example.test").await;
    let (_, token) = onboard(&app, &doc, "ada@example.test", 1).await;
    let document = app.document().await;
    let nowhere = uuid::Uuid::now_v7().to_string();
    let mut let_through = Vec::new();
    let mut refused = 0;
    for (template, item) in document["paths"].as_object().unwrap() {
        let path: String = template
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    nowhere.as_str()
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for (method, operation) in item.as_object().unwrap() {
            if !takes_bearer(operation) {
                continue;
            }
            let body = operation.get("requestBody").map(|_| json!({}));
            let method: Method = method.to_uppercase().parse().unwrap();
            let answer = app.call(method.clone(), &path, Some(&token), body).await;
            let name = format!("{method} {template}");
            if template.starts_with("/scim/") {
                // `/scim/v2` takes SCIM tokens only: any other token is a SCIM `401`.
                assert_eq!(answer.status.as_u16(), 401, "{name}: {:#}", answer.body);
                assert_eq!(answer.body["status"], "401", "{name}");
                refused += 1;
            } else if answer.status.as_u16() == 403 {
                assert_eq!(answer.code(), "forbidden", "{name}: {:#}", answer.body);
                refused += 1;
            } else {
                let_through.push(name);
            }
        }
    }
    let_through.sort();
    assert_eq!(
        let_through,
        [
            "GET /v1/me",
            "GET /v1/me/clinicians",
            "POST /v1/clinicians/{id}/patient-messages",
        ]
    );
    assert!(refused >= 50, "{refused} operations refused");
    // The token still works after all those refusals.
    app.get(&token, "/v1/me").await.expect(200);
}
