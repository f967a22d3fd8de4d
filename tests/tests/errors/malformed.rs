//! Malformed bodies and media types

use super::*;

#[tokio::test]
async fn broken_json_is_malformed_body() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for body in [
        "{",
        "{\"first_name\": \"Grace\",}",
        "not json at all",
        "{\"first_name\": \"Gr",
        "\u{feff}",
    ] {
        let answer = raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("application/json"),
            body,
        )
        .await
        .expect_problem(400, "malformed_body");
        assert_problem_shape(&answer);
    }
}

#[tokio::test]
async fn empty_body_is_malformed_body() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    raw(
        &app,
        Method::POST,
        "/v1/users",
        &admin,
        Some("application/json"),
        "",
    )
    .await
    .expect_problem(400, "malformed_body");
    raw(&app, Method::POST, "/v1/users", &admin, None, "")
        .await
        .expect_problem(400, "malformed_body");
    let user = format!("/v1/users/{}", app.site.admin_id);
    raw(
        &app,
        Method::PATCH,
        &user,
        &admin,
        Some("application/json"),
        "",
    )
    .await
    .expect_problem(400, "malformed_body");
}

#[tokio::test]
async fn broken_json_login_is_malformed_body() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    TestApp::answer(response)
        .await
        .expect_problem(400, "malformed_body");
}

#[tokio::test]
async fn text_plain_is_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = valid_user("grace@example.test").to_string();
    let answer = raw(
        &app,
        Method::POST,
        "/v1/users",
        &admin,
        Some("text/plain"),
        body,
    )
    .await
    .expect_problem(415, "unsupported_media_type");
    assert_problem_shape(&answer);
    let users = app.get(&admin, "/v1/users").await.expect(200);
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn json_with_charset_is_accepted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = valid_user("grace@example.test").to_string();
    raw(
        &app,
        Method::POST,
        "/v1/users",
        &admin,
        Some("application/json; charset=utf-8"),
        body,
    )
    .await
    .expect(201);
}
