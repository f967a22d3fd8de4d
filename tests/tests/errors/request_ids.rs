//! Request ids

use super::*;

#[tokio::test]
async fn request_id_is_echoed_when_sent() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = with_headers(
        &app,
        Method::GET,
        "/v1/me",
        &admin,
        &[("x-request-id", "trace-abc-123")],
        None,
    )
    .await
    .expect(200);
    assert_eq!(answer.header("x-request-id"), Some("trace-abc-123"));

    let error = with_headers(
        &app,
        Method::GET,
        "/v1/users/not-a-uuid",
        &admin,
        &[("x-request-id", "trace-def-456")],
        None,
    )
    .await
    .expect(404);
    assert_eq!(error.header("x-request-id"), Some("trace-def-456"));
}

#[tokio::test]
async fn request_id_is_generated_when_not_sent() {
    let app = TestApp::spawn().await;
    let first = app
        .call(Method::GET, "/v1/me", None, None)
        .await
        .expect(401);
    let second = app
        .call(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
    let a = first.header("x-request-id").unwrap_or("");
    let b = second.header("x-request-id").unwrap_or("");
    assert!(!a.is_empty() && !b.is_empty(), "every response has an id");
    assert_ne!(a, b, "each request gets its own id");
}

#[tokio::test]
async fn request_id_of_a_change_is_in_its_audit_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let request_id = format!("create-{}", uuid::Uuid::new_v4());
    let created = with_headers(
        &app,
        Method::POST,
        "/v1/users",
        &admin,
        &[("x-request-id", &request_id)],
        Some(valid_user("grace@example.test")),
    )
    .await
    .expect(201);
    assert_eq!(created.header("x-request-id"), Some(request_id.as_str()));
    let user_id = created.body["id"].as_str().unwrap();

    let events = app
        .get(&admin, &format!("/v1/audit-events?request_id={request_id}"))
        .await
        .expect(200);
    let items = events.body["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{:#}", events.body);
    for event in items {
        assert_eq!(event["request_id"], request_id.as_str());
    }
    assert!(
        items
            .iter()
            .any(|e| e["action"] == "user.created" && e["target_id"] == user_id),
        "{:#}",
        events.body
    );
}
