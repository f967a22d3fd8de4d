//! SCIM tokens: issued and revoked by a site admin, shown once, of kind `scim`, opening
//! `/scim/v2` only; REST tokens are refused there; revocation is immediate.

use super::*;

fn claims(token: &str) -> Value {
    let keys = staffroom_api::auth::tokens::TokenKeys::hs256(staffroom_tests::JWT_SECRET);
    serde_json::to_value(keys.verify(token).unwrap()).unwrap()
}

#[tokio::test]
async fn a_site_admin_issues_a_token_shown_once_of_kind_scim() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post(&admin, "/v1/scim-tokens", json!({"name": "Okta"}))
        .await
        .expect(201);
    let token = created.body["token"].as_str().unwrap();
    assert_eq!(claims(token)["kind"], "scim");
    assert_eq!(claims(token)["site"], app.site.site_id.to_string());
    let id = created.body["id"].as_str().unwrap();
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(location, format!("/v1/scim-tokens/{id}"));

    let list = app.get(&admin, "/v1/scim-tokens").await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0]["name"], "Okta");
    assert!(!list.body.to_string().contains(token));
    let one = app.get(&admin, &location).await.expect(200);
    assert!(one.body.get("token").is_none());

    let events = app.audit_events(&admin, "scim_token.created").await;
    assert_eq!(events.len(), 1);
    assert!(!events[0].to_string().contains(token));
}

#[tokio::test]
async fn only_site_admins_manage_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let reader = app.service_token(&admin, &["view_users"]).await;
    app.post(&reader, "/v1/scim-tokens", json!({"name": "x"}))
        .await
        .expect_problem(403, "forbidden");
    app.get(&reader, "/v1/scim-tokens")
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn a_scim_token_opens_scim_only_and_rest_tokens_are_refused_there() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    get(&app, &token, "/scim/v2/Users").await.expect(200);
    for path in ["/v1/me", "/v1/users", "/v1/site", "/v1/scim-tokens"] {
        app.get(&token, path).await.expect_problem(403, "forbidden");
    }
    app.post(&token, "/v1/users", json!({}))
        .await
        .expect_problem(403, "forbidden");

    let service = app.service_token(&admin, &["site_admin"]).await;
    for rest in [&admin, &service] {
        let refused = get(&app, rest, "/scim/v2/Users").await;
        expect_error(&refused, 401, None);
    }
    expect_error(&get(&app, "not-a-token", "/scim/v2/Users").await, 401, None);
    let anonymous = app
        .client
        .get(app.url("/scim/v2/ServiceProviderConfig"))
        .send()
        .await
        .unwrap();
    expect_error(&TestApp::answer(anonymous).await, 401, None);
}

#[tokio::test]
async fn a_revoked_token_is_refused_on_its_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post(&admin, "/v1/scim-tokens", json!({"name": "Entra"}))
        .await
        .expect(201);
    let token = created.body["token"].as_str().unwrap().to_owned();
    let id = created.body["id"].as_str().unwrap().to_owned();
    get(&app, &token, "/scim/v2/Users").await.expect(200);

    app.delete(&admin, &format!("/v1/scim-tokens/{id}"))
        .await
        .expect(204);
    expect_error(&get(&app, &token, "/scim/v2/Users").await, 401, None);
    app.delete(&admin, &format!("/v1/scim-tokens/{id}"))
        .await
        .expect_problem(404, "not_found");
    let listed = app.get(&admin, "/v1/scim-tokens").await.expect(200);
    assert!(listed.body["items"].as_array().unwrap().is_empty());
    assert_eq!(
        app.audit_events(&admin, "scim_token.revoked").await.len(),
        1
    );
}

#[tokio::test]
async fn scim_writes_are_audited_with_the_token_as_actor() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post(&admin, "/v1/scim-tokens", json!({"name": "Okta"}))
        .await
        .expect(201);
    let token = created.body["token"].as_str().unwrap().to_owned();
    let token_id = created.body["id"].as_str().unwrap();
    create_user(&app, &token, user("ada@example.test", "Ada", "Lovelace")).await;
    let events = app.audit_events(&admin, "user.created").await;
    let by_scim: Vec<&Value> = events
        .iter()
        .filter(|e| e["actor_kind"] == "scim")
        .collect();
    assert_eq!(by_scim.len(), 1, "{events:#?}");
    assert_eq!(by_scim[0]["actor_id"], token_id);
}
