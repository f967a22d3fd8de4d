//! What every user has is `required` and a PATCH cannot remove it; composed sub-attributes
//! are returned on request; the kept email's `type` is `work` and its `primary` is kept.

use super::*;

#[tokio::test]
async fn removing_what_every_user_has_is_a_mutability_error_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let created = create_user(&app, &token, user("ada@example.test", "Ada", "L")).await;
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let before = get(&app, &token, &path).await.expect(200).body;
    for attribute in [
        "userType".to_owned(),
        "active".to_owned(),
        format!("{EXT_URN}:profession"),
        format!("{EXT_URN}:defaultClinic"),
        EXT_URN.to_owned(),
        "name.familyName".to_owned(),
    ] {
        let refused = patch(
            &app,
            &token,
            &path,
            json!([{"op": "remove", "path": attribute}]),
        )
        .await;
        expect_error(&refused, 400, Some("mutability"));
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("required"),
            "{attribute}: {:#}",
            refused.body
        );
        let after = get(&app, &token, &path).await.expect(200).body;
        assert_eq!(after, before, "{attribute} removed nothing");
    }
    let schemas = get(&app, &token, "/scim/v2/ResourceTypes/User")
        .await
        .expect(200)
        .body;
    assert_eq!(schemas["schemaExtensions"][0]["required"], true);
}

#[tokio::test]
async fn a_create_without_the_required_attributes_gets_the_defaults() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let body = json!({
        "schemas": [USER_URN],
        "userName": "okta@example.test",
        "name": {"givenName": "Ok", "familyName": "Ta"},
        EXT_URN: {"defaultClinic": {}},
    });
    let created = create_user(&app, &token, body).await;
    assert_eq!(created["userType"], "Non-Clinical");
    assert_eq!(created["active"], true);
    assert!(created[EXT_URN]["profession"].is_string(), "{created:#}");
    assert!(
        created[EXT_URN]["defaultClinic"]["value"].is_string(),
        "{created:#}"
    );
    assert_eq!(created[EXT_URN]["permissions"], json!([]), "none invented");
}

#[tokio::test]
async fn composed_sub_attributes_are_returned_when_asked_for() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let created = create_user(&app, &token, user("bo@example.test", "Bo", "Ng")).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        created["name"],
        json!({"givenName": "Bo", "familyName": "Ng"})
    );
    assert_eq!(created["displayName"], "Bo Ng");
    assert!(created[EXT_URN]["defaultClinic"].get("display").is_none());
    let asked = get(
        &app,
        &token,
        &format!("/scim/v2/Users/{id}?attributes=name.formatted,displayName"),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(asked["name"], json!({"formatted": "Bo Ng"}));
    assert_eq!(asked["displayName"], "Bo Ng");

    let group = json!({"schemas": [GROUP_URN], "displayName": "North", "members": [{"value": id}]});
    let group = post(&app, &token, "/scim/v2/Groups", group)
        .await
        .expect(201)
        .body;
    assert_eq!(group["members"][0]["value"], id);
    assert!(group["members"][0].get("display").is_none(), "{group:#}");
    let listed = get(
        &app,
        &token,
        "/scim/v2/Groups?filter=displayName%20eq%20%22North%22&attributes=members.display",
    )
    .await
    .expect(200);
    assert_eq!(resources(&listed)[0]["members"][0]["display"], "Bo Ng");
}

#[tokio::test]
async fn the_email_is_a_work_address_whose_primary_is_kept_as_sent() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let mut body = user("cy@example.test", "Cy", "D");
    body["emails"] = json!([{"value": "cy@example.test", "type": "home"}]);
    let refused = post(&app, &token, "/scim/v2/Users", body.clone()).await;
    expect_error(&refused, 400, Some("invalidValue"));
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("emails.type")
    );

    body["emails"] = json!([{"value": "cy@example.test", "type": "work", "primary": false}]);
    let created = create_user(&app, &token, body).await;
    let primary_false = json!([{"value": "cy@example.test", "type": "work", "primary": false}]);
    assert_eq!(created["emails"], primary_false);
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let replaced = json!([{"op": "replace", "path": "emails",
        "value": [{"value": "cy2@example.test", "type": "work", "primary": true}]}]);
    let answer = patch(&app, &token, &path, replaced).await.expect(200);
    assert_eq!(
        answer.body["emails"],
        json!([{"value": "cy2@example.test", "type": "work", "primary": true}])
    );
    let back = json!([{"op": "replace", "path": "emails",
        "value": [{"value": "cy2@example.test", "type": "work", "primary": false}]}]);
    let answer = patch(&app, &token, &path, back).await.expect(200);
    assert_eq!(answer.body["emails"][0]["primary"], false);
    let plain = user("dee@example.test", "Dee", "E");
    let mut plain = plain;
    plain["emails"] = json!([{"value": "dee@example.test"}]);
    let created = create_user(&app, &token, plain).await;
    assert_eq!(
        created["emails"],
        json!([{"value": "dee@example.test", "type": "work", "primary": true}]),
        "never sent: rendered work and primary"
    );
}
