//! A typical Microsoft Entra ID sequence, as "Tutorial: Develop a SCIM endpoint" shows its
//! requests: capitalised ops, booleans as strings, dotted path-less keys, filters on
//! userName / externalId / work email, groups read without members.

use super::*;

fn enc(filter: &str) -> String {
    staffroom_tests::enc(filter)
}

#[tokio::test]
async fn entra_provisions_users_as_it_sends_them() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;

    let probe = get(
        &app,
        &token,
        &format!(
            "/scim/v2/Users?filter={}",
            enc(r#"userName eq "non-existent user""#)
        ),
    )
    .await
    .expect(200);
    assert_eq!(total(&probe), 0);

    let created = post(&app, &token, "/scim/v2/Users", json!({
        "schemas": [USER_URN, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "userName": "Test_User_ab6490ee@contoso.test",
        "active": true,
        "displayName": "Test User",
        "emails": [{"primary": true, "type": "work", "value": "Test_User_ab6490ee@contoso.test"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    }))
    .await
    .expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");

    for filter in [
        r#"userName eq "test_user_ab6490ee@contoso.test""#,
        r#"externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159""#,
        r#"emails[type eq "work"].value eq "Test_User_ab6490ee@contoso.test""#,
        r#"userName eq "Test_User_ab6490ee@contoso.test" and externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159""#,
    ] {
        let found = get(
            &app,
            &token,
            &format!("/scim/v2/Users?filter={}", enc(filter)),
        )
        .await
        .expect(200);
        assert_eq!(total(&found), 1, "{filter}");
    }

    let renamed = patch(&app, &token, &path, json!([
        {"op": "Replace", "value": {"name.givenName": "Grace", "name.familyName": "Hopper"}},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "grace@contoso.test"},
        {"op": "Add", "path": "title", "value": "Dr"}
    ]))
    .await
    .expect(200);
    assert_eq!(renamed.body["name"]["givenName"], "Grace");
    assert_eq!(renamed.body["name"]["familyName"], "Hopper");
    assert_eq!(renamed.body["userName"], "grace@contoso.test");
    assert_eq!(renamed.body["title"], "Dr");

    let disabled = patch(
        &app,
        &token,
        &path,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await
    .expect(200);
    assert_eq!(disabled.body["active"], false);
    let enabled = patch(
        &app,
        &token,
        &path,
        json!([{"op": "Replace", "value": {"active": "True"}}]),
    )
    .await
    .expect(200);
    assert_eq!(enabled.body["active"], true);
    scim(&app, Method::DELETE, &path, &token, None)
        .await
        .expect(204);
}

#[tokio::test]
async fn entra_reads_groups_without_members_and_patches_them() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let user_id = create_user(&app, &token, user("u@contoso.test", "U", "Ser")).await["id"].clone();
    let group = post(
        &app,
        &token,
        "/scim/v2/Groups",
        json!({
            "schemas": [GROUP_URN], "externalId": "60f7a7f3", "displayName": "Group1", "members": []
        }),
    )
    .await
    .expect(201);
    let id = group.body["id"].as_str().unwrap();
    let found = get(
        &app,
        &token,
        &format!(
            "/scim/v2/Groups?excludedAttributes=members&filter={}",
            enc(r#"displayName eq "Group1""#)
        ),
    )
    .await
    .expect(200);
    assert_eq!(total(&found), 1);
    assert!(resources(&found)[0].get("members").is_none());
    let path = format!("/scim/v2/Groups/{id}");
    let read = get(&app, &token, &format!("{path}?excludedAttributes=members"))
        .await
        .expect(200);
    assert!(read.body.get("members").is_none());

    let added = patch(
        &app,
        &token,
        &path,
        json!([{"op": "Add", "path": "members", "value": [{"value": user_id}]}]),
    )
    .await
    .expect(200);
    assert_eq!(added.body["members"][0]["value"], user_id);
    let removed = patch(
        &app,
        &token,
        &format!("{path}?excludedAttributes=members"),
        json!([
            {"op": "Remove", "path": "members", "value": [{"value": user_id}]}
        ]),
    )
    .await
    .expect(200);
    assert!(removed.body.get("members").is_none());
    let after = get(&app, &token, &path).await.expect(200);
    assert_eq!(after.body["members"], json!([]));
}
