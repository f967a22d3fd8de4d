//! Conditional requests

use super::*;

async fn etag_of(app: &TestApp, token: &str, path: &str) -> String {
    let answer = app.get(token, path).await.expect(200);
    answer.header("etag").unwrap().to_owned()
}

async fn patch_if_match(app: &TestApp, token: &str, path: &str, etag: &str, body: Value) -> Answer {
    with_headers(
        app,
        Method::PATCH,
        path,
        token,
        &[("if-match", etag)],
        Some(body),
    )
    .await
}

#[tokio::test]
async fn if_match_mismatch_is_precondition_failed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, valid_user("grace@example.test"))
        .await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    for etag in ["\"999\"", "\"abc\"", "999", "W/\"999\""] {
        patch_if_match(&app, &admin, &path, etag, json!({"first_name": "Amazing"}))
            .await
            .expect_problem(412, "precondition_failed");
    }
    let unchanged = app.get(&admin, &path).await.expect(200);
    assert_eq!(unchanged.body["first_name"], "Grace");
}

#[tokio::test]
async fn stale_etag_after_another_change_is_precondition_failed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, valid_user("grace@example.test"))
        .await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    let first = etag_of(&app, &admin, &path).await;

    let changed = patch_if_match(
        &app,
        &admin,
        &path,
        &first,
        json!({"first_name": "Amazing"}),
    )
    .await
    .expect(200);
    let second = changed.header("etag").unwrap().to_owned();
    assert_ne!(first, second, "a change gives a new ETag");
    assert_eq!(etag_of(&app, &admin, &path).await, second);

    patch_if_match(
        &app,
        &admin,
        &path,
        &first,
        json!({"last_name": "Lovelace"}),
    )
    .await
    .expect_problem(412, "precondition_failed");
    with_headers(
        &app,
        Method::POST,
        &format!("{path}/deactivate"),
        &admin,
        &[("if-match", &first)],
        None,
    )
    .await
    .expect_problem(412, "precondition_failed");

    let current = app.get(&admin, &path).await.expect(200);
    assert_eq!(current.body["last_name"], "Hopper");
    assert_eq!(current.body["status"], "active");
}

#[tokio::test]
async fn if_match_star_passes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, valid_user("grace@example.test"))
        .await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    app.patch(&admin, &path, json!({"first_name": "Changed"}))
        .await
        .expect(200);
    let answer = patch_if_match(&app, &admin, &path, "*", json!({"first_name": "Starred"}))
        .await
        .expect(200);
    assert_eq!(answer.body["first_name"], "Starred");
}

#[tokio::test]
async fn clinic_if_match_is_honoured() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let clinic = app
        .post(&admin, "/v1/clinics", json!({"name": "Harbour"}))
        .await
        .expect(201);
    let path = format!("/v1/clinics/{}", clinic.body["id"].as_str().unwrap());
    let etag = clinic.header("etag").unwrap().to_owned();
    patch_if_match(&app, &admin, &path, &etag, json!({"name": "Harbour North"}))
        .await
        .expect(200);
    patch_if_match(&app, &admin, &path, &etag, json!({"name": "Harbour South"}))
        .await
        .expect_problem(412, "precondition_failed");
    with_headers(
        &app,
        Method::DELETE,
        &path,
        &admin,
        &[("if-match", &etag)],
        None,
    )
    .await
    .expect_problem(412, "precondition_failed");
    let current = etag_of(&app, &admin, &path).await;
    with_headers(
        &app,
        Method::DELETE,
        &path,
        &admin,
        &[("if-match", &current)],
        None,
    )
    .await
    .expect(204);
}

#[tokio::test]
async fn required_if_match_refuses_changes_without_it() {
    let app = TestApp::spawn_with(Options {
        require_if_match: true,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, valid_user("grace@example.test"))
        .await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());

    let answer = app
        .patch(&admin, &path, json!({"first_name": "Amazing"}))
        .await
        .expect_problem(428, "precondition_required");
    assert_problem_shape(&answer);
    app.post(&admin, &format!("{path}/deactivate"), json!({}))
        .await
        .expect_problem(428, "precondition_required");

    let etag = etag_of(&app, &admin, &path).await;
    patch_if_match(&app, &admin, &path, &etag, json!({"first_name": "Amazing"}))
        .await
        .expect(200);

    let clinic = app
        .post(&admin, "/v1/clinics", json!({"name": "Harbour"}))
        .await
        .expect(201);
    let clinic_path = format!("/v1/clinics/{}", clinic.body["id"].as_str().unwrap());
    app.patch(&admin, &clinic_path, json!({"name": "Harbour North"}))
        .await
        .expect_problem(428, "precondition_required");
    app.delete(&admin, &clinic_path)
        .await
        .expect_problem(428, "precondition_required");
}
