//! References: a Group member named by its `$ref` (this server's User URL), a default
//! clinic given as a reference to a Group, a Group's `externalId`.

use super::*;

/// The SCIM base URL the server renders (`meta.location` up to `/Users/…`).
fn base_of(resource: &Value) -> String {
    let location = resource["meta"]["location"].as_str().unwrap();
    location[..location.find("/Users/").unwrap()].to_owned()
}

#[tokio::test]
async fn a_member_is_named_by_value_or_by_its_ref_and_both_must_agree() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let ada = create_user(&app, &token, user("ada@example.test", "Ada", "L")).await;
    let bob = create_user(&app, &token, user("bob@example.test", "Bob", "M")).await;
    let base = base_of(&ada);
    let (ada_id, bob_id) = (ada["id"].as_str().unwrap(), bob["id"].as_str().unwrap());
    let group = json!({
        "schemas": [GROUP_URN], "displayName": "North", "externalId": "okta-north",
        "members": [{"$ref": format!("{base}/Users/{ada_id}"), "type": "User"}],
    });
    let created = post(&app, &token, "/scim/v2/Groups", group)
        .await
        .expect(201)
        .body;
    assert_eq!(created["members"][0]["value"], ada_id);
    assert_eq!(created["externalId"], "okta-north");
    let path = format!("/scim/v2/Groups/{}", created["id"].as_str().unwrap());

    let mismatched = json!([{"op": "add", "path": "members", "value": [
        {"value": bob_id, "$ref": format!("{base}/Users/{ada_id}")}
    ]}]);
    let refused = patch(&app, &token, &path, mismatched).await;
    expect_error(&refused, 400, Some("invalidValue"));
    let foreign = json!([{"op": "add", "path": "members", "value": [
        {"$ref": format!("https://elsewhere.test/scim/v2/Users/{bob_id}")}
    ]}]);
    expect_error(
        &patch(&app, &token, &path, foreign).await,
        400,
        Some("invalidValue"),
    );

    let filter = "/scim/v2/Groups?filter=externalId%20eq%20%22okta-north%22";
    assert_eq!(total(&get(&app, &token, filter).await.expect(200)), 1);
    let renamed = json!([{"op": "replace", "path": "externalId", "value": "okta-n2"}]);
    let answer = patch(&app, &token, &path, renamed).await.expect(200);
    assert_eq!(answer.body["externalId"], "okta-n2");
    let removed = json!([{"op": "remove", "path": "externalId"}]);
    let answer = patch(&app, &token, &path, removed).await.expect(200);
    assert!(answer.body.get("externalId").is_none(), "{:#}", answer.body);
    assert_eq!(total(&get(&app, &token, filter).await.expect(200)), 0);
}

#[tokio::test]
async fn a_default_clinic_the_user_lacks_gives_them_access_to_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let south = staffroom_tests::add_clinic(&app, &admin, "South").await;
    let created = create_user(&app, &token, user("cy@example.test", "Cy", "D")).await;
    assert!(
        !created["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["value"] == south)
    );
    let base = base_of(&created);
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let moved = json!([{"op": "replace", "path": format!("{EXT_URN}:defaultClinic"),
        "value": {"$ref": format!("{base}/Groups/{south}")}}]);
    let answer = patch(&app, &token, &path, moved).await.expect(200);
    assert_eq!(answer.body[EXT_URN]["defaultClinic"]["value"], south);
    assert!(
        answer.body[EXT_URN]["defaultClinic"]
            .get("display")
            .is_none(),
        "display is returned on request: {:#}",
        answer.body
    );
    let asked = get(
        &app,
        &token,
        &format!("{path}?attributes={EXT_URN}:defaultClinic.display"),
    )
    .await
    .expect(200);
    assert_eq!(asked.body[EXT_URN]["defaultClinic"]["display"], "South");
    assert!(
        answer.body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["value"] == south)
    );
    let unknown = json!([{"op": "replace", "path": format!("{EXT_URN}:defaultClinic.value"),
        "value": "01a24ffb-1752-71ec-8300-f86daf07e20e"}]);
    expect_error(
        &patch(&app, &token, &path, unknown).await,
        400,
        Some("invalidValue"),
    );
}
