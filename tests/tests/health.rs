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
