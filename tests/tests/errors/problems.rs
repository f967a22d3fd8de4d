//! Problem documents

use super::*;

#[tokio::test]
async fn every_error_is_a_problem_document() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, valid_user("grace@example.test"))
        .await;
    let user_id = app.site.admin_id.to_string();
    let answers = vec![
        app.call(Method::GET, "/v1/me", None, None).await,
        app.call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": "x@example.test", "password": "nope"})),
        )
        .await,
        app.get(&admin, "/v1/nothing-here").await,
        app.get(&admin, &format!("/v1/users/{}", uuid::Uuid::new_v4()))
            .await,
        raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("application/json"),
            "{",
        )
        .await,
        raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("text/plain"),
            "{}",
        )
        .await,
        app.post(&admin, "/v1/users", json!({"first_name": ""}))
            .await,
        app.post(&admin, "/v1/users", valid_user("grace@example.test"))
            .await,
        app.get(&admin, "/v1/users?limit=0").await,
        with_headers(
            &app,
            Method::PATCH,
            &format!("/v1/users/{user_id}"),
            &admin,
            &[("if-match", "\"999\"")],
            Some(json!({"first_name": "Ada"})),
        )
        .await,
    ];
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(
        statuses,
        vec![401, 401, 404, 404, 400, 415, 422, 409, 422, 412]
    );
    for answer in &answers {
        assert_problem_shape(answer);
    }
}

#[tokio::test]
async fn forbidden_is_a_problem_document() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, valid_user("grace@example.test"))
        .await;
    let user = app
        .login("grace@example.test", staffroom_tests::PASSWORD)
        .await;
    let answer = app
        .post(&user, "/v1/users", valid_user("other@example.test"))
        .await
        .expect_problem(403, "forbidden");
    assert_problem_shape(&answer);
}
