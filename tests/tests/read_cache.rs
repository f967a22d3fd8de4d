#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Read answers are sent again from the read cache while their site is unchanged
//! (`api/src/read_cache.rs`): every change, made through the API or outside it, shows on the
//! very next read, and the cache answers only the principal and request it was rendered for.

use serde_json::json;
use staffroom_domain::{UserId, UserStatus};
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::usecase;
use staffroom_persistence::users::SetStatus;
use staffroom_tests::fixtures::staff;
use staffroom_tests::{PASSWORD, TestApp};

/// `(hits, misses)` as `GET /metrics` counts them.
async fn cache_counts(app: &TestApp) -> (u64, u64) {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    let count = |outcome: &str| {
        let line = format!("staffroom_read_cache_answers_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {line} in {text}"))
    };
    (count("hit"), count("miss"))
}

#[tokio::test]
async fn a_repeated_read_is_answered_from_the_cache_with_the_same_bytes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = staff(&app, &admin, "grace@example.test").create().await;
    let path = format!("/v1/users/{id}");
    let first = app.get(&admin, &path).await.expect(200);
    let (hits, misses) = cache_counts(&app).await;
    let second = app.get(&admin, &path).await.expect(200);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("etag"), first.header("etag"));
    assert_eq!(
        second.header("content-type"),
        Some("application/json"),
        "a kept answer keeps its headers"
    );
    assert_eq!(cache_counts(&app).await, (hits + 1, misses));
}

#[tokio::test]
async fn a_change_through_the_api_shows_on_the_next_read() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = staff(&app, &admin, "grace@example.test").create().await;
    let path = format!("/v1/users/{id}");
    app.get(&admin, &path).await.expect(200);
    let list = app.get(&admin, "/v1/users?limit=50").await.expect(200);
    let before = list.body["items"].as_array().map_or(0, Vec::len);
    app.get(&admin, "/v1/users?limit=50").await.expect(200);

    let patched = app
        .patch(&admin, &path, json!({"title": "Dr"}))
        .await
        .expect(200);
    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["title"], "Dr");
    assert_eq!(read.header("etag"), patched.header("etag"));
    let listed = app.get(&admin, "/v1/users?limit=50").await.expect(200);
    let grace = listed.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|u| u["id"] == id.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(grace["title"], "Dr", "{:#}", listed.body);

    staff(&app, &admin, "ada@example.test").create().await;
    let listed = app.get(&admin, "/v1/users?limit=50").await.expect(200);
    assert_eq!(
        listed.body["items"].as_array().map_or(0, Vec::len),
        before + 1
    );
}

/// Another process (the command line, another instance) changes the database without this
/// server knowing: the site's write count moves all the same.
#[tokio::test]
async fn a_change_made_outside_this_server_shows_on_the_next_read() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = staff(&app, &admin, "grace@example.test").create().await;
    let path = format!("/v1/users/{id}");
    app.get(&admin, &path).await.expect(200);
    let kept = app.get(&admin, &path).await.expect(200);
    assert_eq!(kept.body["status"], "active");

    let user: UserId = id.parse().expect("a user id");
    let mut conn = app.pool.get().expect("a connection");
    let change = SetStatus {
        id: user,
        expected_version: None,
        status: UserStatus::Inactive,
    };
    usecase::run(
        &mut conn,
        &AuditContext::system(app.site.site_id),
        change,
        |u| u,
        None,
    )
    .expect("deactivated");
    drop(conn);

    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["status"], "inactive", "{:#}", read.body);
}

/// Each principal has its own answers: one principal's reads never answer another's.
#[tokio::test]
async fn each_principal_is_answered_for_itself() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = staff(&app, &admin, "grace@example.test").create().await;
    let token = app.login("grace@example.test", PASSWORD).await;
    let path = format!("/v1/users/{id}");
    app.get(&admin, &path).await.expect(200);
    app.get(&admin, &path).await.expect(200);
    let (hits, _) = cache_counts(&app).await;
    // Her first read is checked by its admission (nothing kept then), her second renders
    // and keeps her own answer: neither is the administrator's.
    app.get(&token, &path).await.expect(200);
    app.get(&token, &path).await.expect(200);
    assert_eq!(
        cache_counts(&app).await.0,
        hits,
        "not the administrator's answer"
    );
    app.get(&token, &path).await.expect(200);
    assert_eq!(cache_counts(&app).await.0, hits + 1, "her own kept answer");
}

/// A refused or failed read is never kept: the next one is judged again.
#[tokio::test]
async fn only_successful_answers_are_kept() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let missing = format!("/v1/users/{}", UserId::new());
    app.get(&admin, &missing)
        .await
        .expect_problem(404, "not_found");
    let (hits, _) = cache_counts(&app).await;
    app.get(&admin, &missing)
        .await
        .expect_problem(404, "not_found");
    assert_eq!(cache_counts(&app).await.0, hits);
}
