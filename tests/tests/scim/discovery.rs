//! Discovery: ServiceProviderConfig, Schemas, ResourceTypes; read-only, SCIM media type.

use super::*;

#[tokio::test]
async fn discovery_documents_are_served_as_scim_json() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let config = get(&app, &token, "/scim/v2/ServiceProviderConfig")
        .await
        .expect(200);
    assert_eq!(config.header("content-type"), Some("application/scim+json"));
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.body["filter"]["supported"], true);
    assert_eq!(config.body["etag"]["supported"], true);

    let schemas = get(&app, &token, "/scim/v2/Schemas").await.expect(200);
    assert_eq!(total(&schemas), 3);
    let ids: Vec<&str> = schemas.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [USER_URN, EXT_URN, GROUP_URN]);
    let one = get(&app, &token, &format!("/scim/v2/Schemas/{USER_URN}"))
        .await
        .expect(200);
    assert_eq!(one.body["name"], "User");
    // The extension lists the professions and permissions the API takes, as
    // GET /v1/professions and GET /v1/permissions name them.
    let extension = get(&app, &token, &format!("/scim/v2/Schemas/{EXT_URN}"))
        .await
        .expect(200);
    let canonical = |name: &str| -> Vec<Value> {
        let attributes = extension.body["attributes"].as_array().unwrap();
        let attribute = attributes.iter().find(|a| a["name"] == name).unwrap();
        attribute["canonicalValues"].as_array().unwrap().clone()
    };
    assert!(canonical("profession").contains(&json!("PT")));
    assert!(canonical("profession").contains(&json!("OTHER")));
    assert!(canonical("permissions").contains(&json!("site_admin")));
    assert!(canonical("permissions").contains(&json!("start_soap_notes")));
    expect_error(
        &get(&app, &token, "/scim/v2/Schemas/urn:nope").await,
        404,
        None,
    );

    let types = get(&app, &token, "/scim/v2/ResourceTypes")
        .await
        .expect(200);
    assert_eq!(total(&types), 2);
    let user_type = get(&app, &token, "/scim/v2/ResourceTypes/User")
        .await
        .expect(200);
    assert_eq!(user_type.body["endpoint"], "/Users");
    assert_eq!(user_type.body["schemaExtensions"][0]["schema"], EXT_URN);
    let location = user_type.body["meta"]["location"].as_str().unwrap();
    assert!(
        location.ends_with("/scim/v2/ResourceTypes/User"),
        "{location}"
    );
    expect_error(
        &get(&app, &token, "/scim/v2/ResourceTypes/Robot").await,
        404,
        None,
    );
}

#[tokio::test]
async fn writes_to_discovery_documents_answer_405() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    for path in [
        "/scim/v2/ServiceProviderConfig",
        "/scim/v2/Schemas",
        "/scim/v2/ResourceTypes",
    ] {
        let answer = post(&app, &token, path, json!({})).await;
        expect_error(&answer, 405, None);
        assert_eq!(answer.header("allow"), Some("GET"));
    }
    let put = scim(
        &app,
        Method::PUT,
        "/scim/v2/ResourceTypes/User",
        &token,
        Some(json!({})),
    )
    .await;
    expect_error(&put, 405, None);
}

#[tokio::test]
async fn unknown_scim_paths_are_scim_404s() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    expect_error(&get(&app, &token, "/scim/v2/Nope").await, 404, None);
    expect_error(
        &get(&app, &token, "/scim/v2/Users/not-a-uuid").await,
        404,
        None,
    );
}
