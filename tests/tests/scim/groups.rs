//! `/scim/v2/Groups` = clinics: membership is clinic access, with the default-clinic rule.

use super::*;

async fn clinics_of(app: &TestApp, admin: &str, user: &str) -> Vec<String> {
    let read = app
        .get(admin, &format!("/v1/users/{user}"))
        .await
        .expect(200);
    let mut ids: Vec<String> = read.body["clinic_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn groups_are_the_sites_clinics_with_their_members() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let list = get(&app, &token, "/scim/v2/Groups").await.expect(200);
    assert_eq!(total(&list), 1);
    let main = &resources(&list)[0];
    assert_eq!(main["id"], app.site.clinic_id);
    assert_eq!(main["schemas"], json!([GROUP_URN]));
    assert_eq!(main["members"][0]["value"], app.site.admin_id.to_string());
    let lean = get(&app, &token, "/scim/v2/Groups?excludedAttributes=members")
        .await
        .expect(200);
    assert!(resources(&lean)[0].get("members").is_none());
    let by_name = get(
        &app,
        &token,
        "/scim/v2/Groups?filter=displayName%20eq%20%22main%22",
    )
    .await
    .expect(200);
    assert_eq!(total(&by_name), 1);
    let one = get(
        &app,
        &token,
        &format!("/scim/v2/Groups/{}", app.site.clinic_id),
    )
    .await
    .expect(200);
    assert_eq!(one.header("etag"), one.body["meta"]["version"].as_str());
}

#[tokio::test]
async fn create_patch_members_rename_and_delete() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let ada = create_user(&app, &token, user("ada@example.test", "Ada", "Lovelace")).await;
    let alan = create_user(&app, &token, user("alan@example.test", "Alan", "Turing")).await;
    let (ada_id, alan_id) = (ada["id"].as_str().unwrap(), alan["id"].as_str().unwrap());

    let created = post(
        &app,
        &token,
        "/scim/v2/Groups",
        json!({
            "schemas": [GROUP_URN], "displayName": "North", "members": [{"value": ada_id}]
        }),
    )
    .await
    .expect(201);
    assert_eq!(
        created.header("location"),
        created.body["meta"]["location"].as_str()
    );
    let north = created.body["id"].as_str().unwrap().to_owned();
    assert!(clinics_of(&app, &admin, ada_id).await.contains(&north));
    let path = format!("/scim/v2/Groups/{north}");

    let added = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": alan_id}]}]),
    )
    .await
    .expect(200);
    assert_eq!(added.body["members"].as_array().unwrap().len(), 2);
    assert!(clinics_of(&app, &admin, alan_id).await.contains(&north));

    let removed = patch(
        &app,
        &token,
        &path,
        json!([
            {"op": "remove", "path": format!("members[value eq \"{ada_id}\"]")}
        ]),
    )
    .await
    .expect(200);
    assert_eq!(removed.body["members"].as_array().unwrap().len(), 1);
    assert!(!clinics_of(&app, &admin, ada_id).await.contains(&north));

    let renamed = patch(
        &app,
        &token,
        &format!("{path}?excludedAttributes=members"),
        json!([
            {"op": "replace", "value": {"id": north, "displayName": "North Wing"}}
        ]),
    )
    .await
    .expect(200);
    assert_eq!(renamed.body["displayName"], "North Wing");
    assert!(renamed.body.get("members").is_none());
    assert!(
        clinics_of(&app, &admin, alan_id).await.contains(&north),
        "a rename keeps members"
    );

    scim(&app, Method::DELETE, &path, &token, None)
        .await
        .expect(204);
    expect_error(&get(&app, &token, &path).await, 404, None);
    let rename = json!([{"op": "replace", "path": "displayName", "value": "Gone"}]);
    expect_error(&patch(&app, &token, &path, rename).await, 404, None);
    let replace = json!({"schemas": [GROUP_URN], "displayName": "Gone"});
    expect_error(
        &scim(&app, Method::PUT, &path, &token, Some(replace)).await,
        404,
        None,
    );
    expect_error(
        &scim(&app, Method::DELETE, &path, &token, None).await,
        404,
        None,
    );
    assert!(!clinics_of(&app, &admin, alan_id).await.contains(&north));
}

#[tokio::test]
async fn a_users_default_clinic_cannot_be_taken_away_through_a_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let ada = create_user(&app, &token, user("ada@example.test", "Ada", "Lovelace")).await;
    let ada_id = ada["id"].as_str().unwrap();
    let main = format!("/scim/v2/Groups/{}", app.site.clinic_id);
    let refused = patch(
        &app,
        &token,
        &main,
        json!([
            {"op": "remove", "path": format!("members[value eq \"{ada_id}\"]")}
        ]),
    )
    .await;
    expect_error(&refused, 409, None);
    assert!(
        clinics_of(&app, &admin, ada_id)
            .await
            .contains(&app.site.clinic_id)
    );
    let in_use = scim(&app, Method::DELETE, &main, &token, None).await;
    expect_error(&in_use, 409, None);
}
