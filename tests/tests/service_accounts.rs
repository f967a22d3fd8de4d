//! `GET /v1/service-accounts/{id}`: the account a creation's `Location` names, as the list
//! shows it, with its `ETag`; site administrators only; `404` once revoked or unknown
//! (another site's account: `tenancy.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use staffroom_tests::{PASSWORD, TestApp};

#[tokio::test]
async fn the_created_location_reads_the_account_as_listed_with_its_etag() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .create_service_account(&admin, json!(["view_users", "view_clinics"]))
        .await;
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(
        location,
        format!(
            "/v1/service-accounts/{}",
            created.body["id"].as_str().unwrap()
        )
    );

    let read = app.get(&admin, &location).await.expect(200);
    let list = app.get(&admin, "/v1/service-accounts").await.expect(200);
    assert_eq!(list.body["items"], json!([read.body.clone()]));
    assert_eq!(read.body.get("client_secret"), None, "{:#}", read.body);
    assert_eq!(
        read.body["permissions"],
        json!(["view_users", "view_clinics"])
    );
    let etag = read.header("etag").unwrap();
    assert!(etag.starts_with('"'), "{etag}");
    assert_eq!(created.header("etag"), Some(etag), "the creation's ETag");

    app.delete(&admin, &location).await.expect(204);
    app.get(&admin, &location)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn an_unknown_account_is_not_found_and_a_non_admin_is_forbidden() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unknown = format!("/v1/service-accounts/{}", uuid::Uuid::new_v4());
    app.get(&admin, &unknown)
        .await
        .expect_problem(404, "not_found");
    app.get(&admin, "/v1/service-accounts/not-a-uuid")
        .await
        .expect_problem(404, "not_found");

    let created = app.create_service_account(&admin, json!([])).await;
    let location = created.header("location").unwrap().to_owned();
    app.create_user(
        &admin,
        json!({
            "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.test",
            "user_type": "clinical", "permissions": ["view_reports"],
        }),
    )
    .await;
    let user = app.login("grace@example.test", PASSWORD).await;
    app.get(&user, &location)
        .await
        .expect_problem(403, "forbidden");
    // A service account, even one holding every read permission, is no site administrator.
    let reader = app
        .service_token(&admin, &["view_users", "view_clinics", "view_audit"])
        .await;
    let refused = app.get(&reader, &location).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_ne!(refused.body, Value::Null);
}

#[tokio::test]
async fn a_revocation_honours_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .create_service_account(&admin, json!(["view_users"]))
        .await;
    let location = created.header("location").unwrap().to_owned();
    let etag = created.header("etag").unwrap().to_owned();
    let revoke = |if_match: String| {
        app.client
            .delete(app.url(&location))
            .bearer_auth(&admin)
            .header("If-Match", if_match)
            .send()
    };
    let stale = TestApp::answer(revoke("\"999\"".to_owned()).await.unwrap())
        .await
        .expect_problem(412, "precondition_failed");
    assert_eq!(stale.body["current_etag"], etag.as_str());
    app.get(&admin, &location).await.expect(200);

    TestApp::answer(revoke(etag).await.unwrap())
        .await
        .expect(204);
    app.get(&admin, &location)
        .await
        .expect_problem(404, "not_found");
}
