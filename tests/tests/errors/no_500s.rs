//! No 500s

use super::*;

/// Asserts that no answer is a server error, naming every request that was one.
#[track_caller]
fn assert_no_server_error(answers: &[(String, Answer)]) {
    let failures: Vec<String> = answers
        .iter()
        .filter(|(_, a)| a.status.as_u16() >= 500)
        .map(|(label, a)| format!("{label} -> {} {}", a.status, a.body))
        .collect();
    assert!(
        failures.is_empty(),
        "client input caused server errors:\n{}",
        failures.join("\n")
    );
    for (_, answer) in answers {
        if answer.status.as_u16() >= 400 {
            assert_problem_shape(answer);
        }
    }
}

#[tokio::test]
async fn odd_bodies_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = format!("/v1/users/{}", app.site.admin_id);
    let bodies = [
        json!({"first_name": null, "last_name": null, "email": null, "user_type": null}),
        json!({"first_name": "\u{202e}x", "last_name": "\u{1F600}", "email": "a@b.co", "user_type": "clinical"}),
        json!({"first_name": "A", "last_name": "B", "email": "b@b.co", "user_type": "clinical",
               "clinic_ids": [uuid::Uuid::new_v4()]}),
        json!({"first_name": "A", "last_name": "B", "email": "c@b.co", "user_type": "clinical",
               "default_clinic_id": uuid::Uuid::new_v4()}),
        json!({"first_name": "A", "last_name": "B", "email": "d@b.co", "user_type": "clinical",
               "permissions": ["site_admin", "site_admin", "finish_soap_notes"], "profession": "CLERICAL"}),
        json!({"first_name": "A", "last_name": "B", "email": "e@b.co", "user_type": "clinical",
               "initial_password": "short"}),
        json!({"first_name": "A", "last_name": "B", "email": "f@b.co", "user_type": "clinical",
               "initial_password": "x".repeat(10_000)}),
        json!({"first_name": ["A"], "extra": {"deep": [[[[[]]]]]}}),
        json!({"first_name": 1e308, "last_name": -0, "email": {}, "user_type": []}),
        json!({"title": null}),
    ];
    let mut answers = Vec::new();
    for body in bodies {
        answers.push((
            format!("POST /v1/users {body}"),
            app.post(&admin, "/v1/users", body.clone()).await,
        ));
        answers.push((
            format!("PATCH {me} {body}"),
            app.patch(&admin, &me, body).await,
        ));
    }
    answers.push((
        "PATCH with a huge If-Match".to_owned(),
        with_headers(
            &app,
            Method::PATCH,
            &me,
            &admin,
            &[("if-match", "\"99999999999999999999999\"")],
            Some(json!({"first_name": "Ada"})),
        )
        .await,
    ));
    for body in [
        json!({"email": "x".repeat(5000), "password": "p", "site_id": "nope"}),
        json!({"email": "admin@example.test", "password": "x".repeat(100_000)}),
        json!({"email": "admin@example.test", "password": 5}),
    ] {
        answers.push((
            "POST /v1/auth/login (odd body)".to_owned(),
            app.call(Method::POST, "/v1/auth/login", None, Some(body))
                .await,
        ));
    }
    assert_no_server_error(&answers);
}

#[tokio::test]
async fn odd_query_parameters_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut answers = Vec::new();
    for path in [
        "/v1/users?q=%25%27%22%5C",
        "/v1/users?q=%E2%98%83",
        "/v1/users?limit=&cursor=",
        "/v1/users?limit=1&limit=2",
        "/v1/users?sort=",
        "/v1/users?sort=-email&limit=1",
        "/v1/clinics?q=%25_",
        "/v1/audit-events?request_id=%27%3B--",
        "/v1/audit-events?since=",
        "/v1/audit-events?since=9999-12-31T23:59:59Z",
    ] {
        answers.push((format!("GET {path}"), app.get(&admin, path).await));
    }
    assert_no_server_error(&answers);
}

#[tokio::test]
async fn nul_characters_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = format!("/v1/users/{}", app.site.admin_id);
    let mut answers = Vec::new();
    let body = json!({"first_name": "A\u{0}", "last_name": "B", "email": "nul@example.test",
                      "user_type": "clinical"});
    answers.push((
        format!("POST /v1/users {body}"),
        app.post(&admin, "/v1/users", body.clone()).await,
    ));
    answers.push((
        format!("PATCH {me} {body}"),
        app.patch(&admin, &me, json!({"last_name": "\u{0}"})).await,
    ));
    answers.push((
        "POST /v1/clinics name with NUL".to_owned(),
        app.post(&admin, "/v1/clinics", json!({"name": "Main\u{0}"}))
            .await,
    ));
    answers.push((
        "POST /v1/service-accounts name with NUL".to_owned(),
        app.post(&admin, "/v1/service-accounts", json!({"name": "\u{0}"}))
            .await,
    ));
    answers.push((
        "POST /v1/auth/login email with NUL".to_owned(),
        app.call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": "admin\u{0}@example.test", "password": "x"})),
        )
        .await,
    ));
    answers.push((
        "POST /v1/auth/token client_id with NUL".to_owned(),
        app.call(
            Method::POST,
            "/v1/auth/token",
            None,
            Some(
                json!({"grant_type": "client_credentials", "client_id": "sa_\u{0}",
                        "client_secret": "x"}),
            ),
        )
        .await,
    ));
    for path in [
        "/v1/users?q=%00",
        "/v1/clinics?q=%00",
        "/v1/audit-events?request_id=%00",
        "/v1/audit-events?action=%00",
        // Cursors that decode to keys holding a NUL character.
        "/v1/users?cursor=WyJcdTAwMDAiLCJhIl0",
        "/v1/clinics?cursor=Ilx1MDAwMCI",
        "/v1/service-accounts?cursor=Ilx1MDAwMCI",
        "/v1/audit-events?cursor=Ilx1MDAwMCI",
    ] {
        answers.push((format!("GET {path}"), app.get(&admin, path).await));
    }
    assert_no_server_error(&answers);
}
