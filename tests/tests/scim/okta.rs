//! A typical Okta provisioning sequence, as Okta's "SCIM 2.0 provisioning" documentation
//! shows its requests: connection test, look-up before create, create with password and
//! groups, profile update by PUT, deactivation by path-less PATCH, group push.

use super::*;

#[tokio::test]
async fn okta_provisions_updates_deactivates_and_pushes_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;

    // Test connection.
    let probe = get(&app, &token, "/scim/v2/Users?startIndex=1&count=2")
        .await
        .expect(200);
    assert_eq!(
        probe.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert!(probe.body["totalResults"].is_i64());

    // Look the user up before creating them.
    let lookup = get(&app, &token, "/scim/v2/Users?filter=userName%20eq%20%22isaac.brock%40example.test%22&startIndex=1&count=100").await.expect(200);
    assert_eq!(total(&lookup), 0);
    assert_eq!(resources(&lookup), Vec::<Value>::new());

    // Create.
    let created = post(
        &app,
        &token,
        "/scim/v2/Users",
        json!({
            "schemas": [USER_URN],
            "userName": "isaac.brock@example.test",
            "name": {"givenName": "Isaac", "familyName": "Brock"},
            "emails": [{"primary": true, "value": "isaac.brock@example.test", "type": "work"}],
            "displayName": "Isaac Brock",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq-Okta-pass",
            "active": true
        }),
    )
    .await
    .expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    app.login("isaac.brock@example.test", "1mz050nq-Okta-pass")
        .await;

    // Read back and look up by userName.
    get(&app, &token, &path).await.expect(200);
    let found = get(
        &app,
        &token,
        "/scim/v2/Users?filter=userName%20eq%20%22Isaac.Brock%40example.test%22",
    )
    .await
    .expect(200);
    assert_eq!(total(&found), 1);

    // Profile update: PUT of the whole resource.
    let mut resource = created.body.clone();
    resource["name"]["familyName"] = json!("Brock-Smith");
    resource["title"] = json!("Mr");
    let updated = scim(&app, Method::PUT, &path, &token, Some(resource))
        .await
        .expect(200);
    assert_eq!(updated.body["name"]["familyName"], "Brock-Smith");
    assert_eq!(updated.body["title"], "Mr");
    assert_eq!(updated.body["externalId"], "00ujl29u0le5T6Aj10h7");

    // Deactivate: path-less replace of active.
    let deactivated = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .expect(200);
    assert_eq!(deactivated.body["active"], false);
    let still = get(&app, &token, &path).await.expect(200);
    assert_eq!(still.body["active"], false);
    let reactivated = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "value": {"active": true}}]),
    )
    .await
    .expect(200);
    assert_eq!(reactivated.body["active"], true);

    // Group push: create, then remove and add members, then rename.
    let group = post(
        &app,
        &token,
        "/scim/v2/Groups",
        json!({
            "schemas": [GROUP_URN], "displayName": "Test SCIMv2", "members": []
        }),
    )
    .await
    .expect(201);
    let group_path = format!("/scim/v2/Groups/{}", group.body["id"].as_str().unwrap());
    patch(&app, &token, &group_path, json!([{"op": "add", "path": "members", "value": [{"value": id, "display": "isaac.brock@example.test"}]}]))
        .await
        .expect(200);
    let pushed = patch(&app, &token, &group_path, json!([
        {"op": "remove", "path": format!("members[value eq \"{id}\"]")},
        {"op": "add", "path": "members", "value": [{"value": app.site.admin_id.to_string(), "display": "admin"}]}
    ]))
    .await
    .expect(200);
    let members: Vec<&str> = pushed.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [app.site.admin_id.to_string()]);
    let renamed = patch(&app, &token, &group_path, json!([
        {"op": "replace", "value": {"id": group.body["id"], "displayName": "Test SCIMv2 renamed"}}
    ]))
    .await
    .expect(200);
    assert_eq!(renamed.body["displayName"], "Test SCIMv2 renamed");
}
