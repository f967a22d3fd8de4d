//! Operations endpoints and the served contract.

use staffroom_tests::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::spawn().await;
    let health = app
        .call(reqwest::Method::GET, "/healthz", None, None)
        .await
        .expect(200);
    assert_eq!(health.body["status"], "ok");
    let ready = app
        .call(reqwest::Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    assert_eq!(ready.body["status"], "ok");
    assert!(ready.header("x-request-id").is_some());
}

#[tokio::test]
async fn served_document_equals_the_committed_contract() {
    let app = TestApp::spawn().await;
    let served = app
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await
        .expect(200);
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    assert_eq!(served.body["openapi"], "3.1.0");
    assert!(
        served.body == committed,
        "openapi/openapi.json is stale: run `cargo run -p staffroom-api --bin staffroom -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test]
async fn docs_work_offline() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external script or stylesheet"
    );
    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
}

#[tokio::test]
async fn unknown_routes_are_problem_documents() {
    let app = TestApp::spawn().await;
    app.call(reqwest::Method::GET, "/v1/nothing-here", None, None)
        .await
        .expect_problem(404, "not_found");
}

/// RFC 9110: a method a documented path does not take answers `405` with `Allow`.
#[tokio::test]
async fn an_undocumented_method_on_a_known_path_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bulk = app
        .call(
            reqwest::Method::TRACE,
            "/v1/users/bulk-update",
            Some(&token),
            None,
        )
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(bulk.header("allow"), Some("POST"));
    assert_eq!(bulk.body["allowed_methods"], serde_json::json!(["POST"]));
    let clinics = app
        .call(reqwest::Method::DELETE, "/v1/clinics", Some(&token), None)
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(clinics.header("allow"), Some("GET, POST"));
    let user = format!("/v1/users/{}", app.site.admin_id);
    let answer = app
        .call(reqwest::Method::PUT, &user, Some(&token), None)
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(answer.header("allow"), Some("GET, PATCH"));
    // `PATCH /v1/users/{id}` would take it, but `bulk-update` is no user id.
    let patched = app
        .call(
            reqwest::Method::PATCH,
            "/v1/users/bulk-update",
            Some(&token),
            None,
        )
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(patched.header("allow"), Some("POST"));
    // A user id that is no UUID is still a resource that cannot exist.
    app.call(
        reqwest::Method::GET,
        "/v1/users/not-a-uuid",
        Some(&token),
        None,
    )
    .await
    .expect_problem(404, "not_found");
}

#[tokio::test]
async fn metrics_count_requests_per_route() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for _ in 0..3 {
        app.get(&token, "/v1/users").await.expect(200);
    }
    // One provider call through the outbox.
    app.call(
        reqwest::Method::PUT,
        "/v1/integrations/exercise",
        Some(&token),
        Some(serde_json::json!({"clm_id": "CLM-9"})),
    )
    .await
    .expect(200);
    let admin = app.site.admin_id;
    app.post(
        &token,
        &format!("/v1/integrations/exercise/users/{admin}"),
        serde_json::json!({"first_name": "Ada", "last_name": "Admin"}),
    )
    .await
    .expect(200);
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(
            r#"staffroom_http_requests_total{method="GET",route="/v1/users",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(text.contains("staffroom_http_request_duration_seconds_bucket"));
    assert!(text.contains("staffroom_db_pool_connections"));
    let sqlite_heap: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("staffroom_sqlite_memory_bytes "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1);
    if app.backend() == "sqlite" {
        // The server's pool has SQLite connections open: their caches and schema.
        assert!(sqlite_heap > 0, "{text}");
    } else {
        assert!(sqlite_heap >= 0, "{text}");
    }
    assert!(text.contains("# TYPE staffroom_outbox_attempts_total counter"));
    assert!(
        text.contains(
            r#"staffroom_outbox_attempts_total{kind="exercise.create_user",outcome="succeeded"} 1"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_credential_over_its_rate_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(staffroom_tests::Options {
        rate_limit: (1, 3),
        ..Default::default()
    })
    .await;
    let token = app.admin_token().await;
    let mut limited = None;
    for _ in 0..6 {
        let answer = app.get(&token, "/v1/users").await;
        if answer.status == 429 {
            limited = Some(answer);
            break;
        }
        answer.expect(200);
    }
    let limited = limited
        .expect("the limit is reached")
        .expect_problem(429, "rate_limited");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    app.call(reqwest::Method::GET, "/healthz", None, None)
        .await
        .expect(200);
}
