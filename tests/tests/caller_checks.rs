//! The caller is checked on every request (SPEC §3), also when it is let in on its cached
//! entry: a deactivation or a changed permission counts on the very next request of a
//! token issued before.

use reqwest::Method;
use serde_json::json;
use staffroom_tests::fixtures::staff;
use staffroom_tests::{PASSWORD, TestApp};

/// A principal let in on its cached entry is checked by the request's own trip to the
/// database: a deactivation counts on the next read of a user, as on any other request,
/// also when the read's answer is kept (`api/src/read_cache.rs`: the third read is sent
/// from the cache).
#[tokio::test]
async fn deactivation_counts_on_the_next_read_of_a_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = staff(&app, &admin, "grace@example.test").create().await;
    let token = app.login("grace@example.test", PASSWORD).await;
    let path = format!("/v1/users/{id}");
    app.get(&token, &path).await.expect(200);
    app.get(&token, &path).await.expect(200);
    app.get(&token, &path).await.expect(200);

    app.post(&admin, &format!("/v1/users/{id}/deactivate"), json!({}))
        .await
        .expect(200);
    app.get(&token, &path).await.expect_invalid_token();
    app.get(&token, "/v1/users").await.expect_invalid_token();
    app.get(&admin, &path).await.expect(200);
}

/// The caller is checked on every request: a permission taken away or given back counts on
/// the very next request of a token issued before.
#[tokio::test]
async fn changed_permissions_count_on_the_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = staff(&app, &admin, "ada@example.test")
        .permissions(&["view_audit"])
        .create()
        .await;
    let token = app.login("ada@example.test", PASSWORD).await;
    app.get(&token, "/v1/audit-events").await.expect(200);
    app.get(&token, "/v1/audit-events").await.expect(200);

    let permissions = format!("/v1/users/{id}/permissions");
    app.call(
        Method::PUT,
        &permissions,
        Some(&admin),
        Some(json!({"permissions": []})),
    )
    .await
    .expect(200);
    app.get(&token, "/v1/audit-events")
        .await
        .expect_problem(403, "forbidden");
    let me = app.get(&token, "/v1/me").await.expect(200);
    assert_eq!(me.body["permissions"], json!([]), "{:#}", me.body);

    app.call(
        Method::PUT,
        &permissions,
        Some(&admin),
        Some(json!({"permissions": ["view_audit"]})),
    )
    .await
    .expect(200);
    app.get(&token, "/v1/audit-events").await.expect(200);
}
