//! Retries

use super::*;

async fn bulk_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> Answer {
    let request = app
        .client
        .post(app.url("/v1/users/bulk-update"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body);
    TestApp::answer(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_retry_with_its_idempotency_key_returns_the_first_report_and_acts_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let body = json!({
        "user_ids": [m.pt, m.clerk],
        "add_permissions": ["start_soap_notes"],
    });

    let first = bulk_with_key(&app, &admin, "bulk-1", &body)
        .await
        .expect(200);
    assert_eq!(first.body["outcome"], "partial");
    assert_eq!(counts(&first.body, "permissions"), (1, 1, 0));
    // A retry answers the first report (not "all no-op"), and writes nothing more.
    let retry = bulk_with_key(&app, &admin, "bulk-1", &body)
        .await
        .expect(200);
    assert_eq!(retry.body, first.body);
    assert_eq!(read_user(&app, &admin, &m.pt).await["version"], 2);
    assert_eq!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .len(),
        1
    );
    // The same key with another body is refused.
    let other = json!({ "user_ids": [m.pt], "add_permissions": ["view_reports"] });
    bulk_with_key(&app, &admin, "bulk-1", &other)
        .await
        .expect_problem(422, "idempotency_key_reused");
    assert!(
        !strings(&read_user(&app, &admin, &m.pt).await["permissions"]).contains("view_reports")
    );
}
