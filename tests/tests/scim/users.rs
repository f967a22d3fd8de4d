//! `/scim/v2/Users`: create, read, replace, patch, delete; ETags, Location, projection,
//! uniqueness, write-only password.

use super::*;

#[tokio::test]
async fn create_answers_201_with_location_etag_and_no_password() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let mut body = user("Grace@Example.test", "Grace", "Hopper");
    body["password"] = json!("a long enough password");
    body["externalId"] = json!("ext-1");
    body["title"] = json!("Dr");
    body["userType"] = json!("Clinical");
    let created = post(&app, &token, "/scim/v2/Users", body).await.expect(201);
    let resource = &created.body;
    assert_eq!(
        created.header("location"),
        resource["meta"]["location"].as_str()
    );
    assert_eq!(created.header("etag"), resource["meta"]["version"].as_str());
    assert_eq!(resource["userName"], "Grace@Example.test");
    assert_eq!(resource["name"]["familyName"], "Hopper");
    assert_eq!(resource["externalId"], "ext-1");
    assert_eq!(resource["userType"], "Clinical");
    assert_eq!(resource["active"], true);
    assert_eq!(resource["meta"]["resourceType"], "User");
    assert_eq!(resource["schemas"], json!([USER_URN, EXT_URN]));
    assert_eq!(resource[EXT_URN]["profession"], "OTHER");
    assert!(!created.body.to_string().contains("a long enough password"));
    assert!(resource.get("password").is_none());
    // The password is the user's login password.
    app.login("grace@example.test", "a long enough password")
        .await;

    let id = resource["id"].as_str().unwrap();
    let read = get(&app, &token, &format!("/scim/v2/Users/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body, created.body);
    assert_eq!(read.header("etag"), created.header("etag"));
}

#[tokio::test]
async fn a_taken_user_name_in_any_case_is_a_uniqueness_conflict() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    create_user(&app, &token, user("ada@example.test", "Ada", "Lovelace")).await;
    let again = post(
        &app,
        &token,
        "/scim/v2/Users",
        user("ADA@example.TEST", "Ada", "L"),
    )
    .await;
    expect_error(&again, 409, Some("uniqueness"));
    let admin_email = post(
        &app,
        &token,
        "/scim/v2/Users",
        user("admin@example.test", "A", "B"),
    )
    .await;
    expect_error(&admin_email, 409, Some("uniqueness"));
}

#[tokio::test]
async fn bad_values_are_400_invalid_value_naming_the_attribute() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let mut robot = user("r@example.test", "R", "Bot");
    robot["userType"] = json!("Robot");
    let answer = post(&app, &token, "/scim/v2/Users", robot).await;
    expect_error(&answer, 400, Some("invalidValue"));
    assert!(answer.body["detail"].as_str().unwrap().contains("userType"));
    let answer = post(
        &app,
        &token,
        "/scim/v2/Users",
        user("not-an-email", "A", "B"),
    )
    .await;
    expect_error(&answer, 400, Some("invalidValue"));
    let answer = post(
        &app,
        &token,
        "/scim/v2/Users",
        json!({"userName": "x@example.test"}),
    )
    .await;
    expect_error(&answer, 400, Some("invalidValue"));
    let raw = app
        .client
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .header("Content-Type", "application/scim+json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_error(&TestApp::answer(raw).await, 400, Some("invalidSyntax"));
    let query = get(&app, &token, "/scim/v2/Users").await.expect(200);
    assert_eq!(total(&query), 1, "only the admin: nothing was half-written");
}

#[tokio::test]
async fn put_replaces_the_profile_and_honours_if_match() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let mut body = user("ada@example.test", "Ada", "Lovelace");
    body["title"] = json!("Dr");
    let created = create_user(&app, &token, body).await;
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let etag = created["meta"]["version"].as_str().unwrap().to_owned();

    let mut replacement = user("ada.king@example.test", "Augusta", "King");
    replacement["userType"] = json!("Clinical");
    replacement["externalId"] = json!("okta-7");
    let replaced = scim_with(
        &app,
        Method::PUT,
        &path,
        &token,
        Some(replacement.clone()),
        Some(&etag),
    )
    .await
    .expect(200);
    assert_eq!(replaced.body["userName"], "ada.king@example.test");
    assert_eq!(replaced.body["name"]["givenName"], "Augusta");
    assert_eq!(replaced.body["userType"], "Clinical");
    assert_eq!(replaced.body["externalId"], "okta-7");
    assert!(
        replaced.body.get("title").is_none(),
        "a left-out title is cleared"
    );
    assert_ne!(replaced.header("etag"), Some(etag.as_str()));

    let stale = scim_with(
        &app,
        Method::PUT,
        &path,
        &token,
        Some(replacement),
        Some(&etag),
    )
    .await;
    expect_error(&stale, 412, None);
}

#[tokio::test]
async fn patch_adds_replaces_and_removes_with_and_without_paths() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let created = create_user(&app, &token, user("ada@example.test", "Ada", "Lovelace")).await;
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());

    let patched = patch(
        &app,
        &token,
        &path,
        json!([
            {"op": "add", "path": "title", "value": "Dr"},
            {"op": "replace", "path": "name.familyName", "value": "King"},
            {"op": "replace", "value": {"externalId": "e-1", "userType": "Clinical"}},
        ]),
    )
    .await
    .expect(200);
    assert_eq!(patched.body["title"], "Dr");
    assert_eq!(patched.body["name"]["familyName"], "King");
    assert_eq!(patched.body["externalId"], "e-1");
    assert_eq!(patched.body["userType"], "Clinical");

    let removed = patch(
        &app,
        &token,
        &path,
        json!([{"op": "remove", "path": "title"}]),
    )
    .await
    .expect(200);
    assert!(removed.body.get("title").is_none());

    let moved = patch(&app, &token, &path, json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada.king@example.test"}
    ]))
    .await
    .expect(200);
    assert_eq!(moved.body["userName"], "ada.king@example.test");
    assert_eq!(moved.body["emails"][0]["value"], "ada.king@example.test");

    let bad_path = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "path": "nope", "value": 1}]),
    )
    .await;
    expect_error(&bad_path, 400, Some("invalidPath"));
    let short = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "path": "password", "value": "x"}]),
    )
    .await;
    expect_error(&short, 400, Some("invalidValue"));
    patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "value": {"password": "a brand new password"}}]),
    )
    .await
    .expect(200);
    app.login("ada.king@example.test", "a brand new password")
        .await;
    let read_only = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "path": "id", "value": "x"}]),
    )
    .await;
    assert_eq!(read_only.status.as_u16(), 400, "{:#}", read_only.body);
}

#[tokio::test]
async fn patch_and_get_honour_attributes_and_excluded_attributes() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let created = create_user(&app, &token, user("ada@example.test", "Ada", "Lovelace")).await;
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let only = get(&app, &token, &format!("{path}?attributes=userName"))
        .await
        .expect(200);
    let keys: Vec<&String> = only.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "schemas", "userName"]);
    let patched = patch(
        &app,
        &token,
        &format!("{path}?excludedAttributes=groups,emails"),
        json!([{"op": "replace", "path": "name.givenName", "value": "Augusta"}]),
    )
    .await
    .expect(200);
    assert!(patched.body.get("groups").is_none() && patched.body.get("emails").is_none());
    assert_eq!(patched.body["name"]["givenName"], "Augusta");
}

#[tokio::test]
async fn a_deleted_user_is_gone_from_scim_and_inactive_in_rest() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let created = create_user(&app, &token, user("ada@example.test", "Ada", "Lovelace")).await;
    let kept = create_user(&app, &token, user("kay@example.test", "Kay", "Kept")).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/scim/v2/Users/{id}");
    scim(&app, Method::DELETE, &path, &token, None)
        .await
        .expect(204);

    // RFC 7644 §3.6: every operation on the deleted resource answers 404.
    expect_error(&get(&app, &token, &path).await, 404, None);
    let replace = scim(
        &app,
        Method::PUT,
        &path,
        &token,
        Some(user("ada@example.test", "Ada", "Again")),
    )
    .await;
    expect_error(&replace, 404, None);
    let patched = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "value": {"active": true}}]),
    )
    .await;
    expect_error(&patched, 404, None);
    expect_error(
        &scim(&app, Method::DELETE, &path, &token, None).await,
        404,
        None,
    );

    // No list or filter shows it; the site's other users (its admin, Kay) still are.
    let listed = get(&app, &token, "/scim/v2/Users").await.expect(200);
    let ids: Vec<&Value> = listed.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["id"])
        .collect();
    assert_eq!(listed.body["totalResults"], 2);
    assert!(
        ids.contains(&&kept["id"]) && !ids.iter().any(|i| *i == id),
        "{ids:?}"
    );
    let filter = "/scim/v2/Users?filter=userName%20eq%20%22ada%40example.test%22";
    let filtered = get(&app, &token, filter).await.expect(200);
    assert_eq!(filtered.body["totalResults"], 0);
    assert_eq!(filtered.body["Resources"], json!([]));
    let by_id = format!("/scim/v2/Users?filter=id%20eq%20%22{id}%22");
    assert_eq!(
        get(&app, &token, &by_id).await.expect(200).body["totalResults"],
        0
    );

    // REST keeps the record, inactive; the deletion is audited with the token as actor.
    let rest = app
        .get(&admin, &format!("/v1/users/{id}"))
        .await
        .expect(200);
    assert_eq!(rest.body["status"], "inactive");
    for action in ["user.deactivated", "user.scim_deleted"] {
        let events = app.audit_events(&admin, action).await;
        assert_eq!(events.len(), 1, "{action}");
        assert_eq!(events[0]["actor_kind"], "scim", "{action}");
        assert_eq!(events[0]["target_id"], id, "{action}");
    }
}

#[tokio::test]
async fn a_deleted_user_keeps_its_email_and_leaves_its_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let north = staffroom_tests::add_clinic(&app, &admin, "North").await;
    let mut body = user("ada@example.test", "Ada", "Lovelace");
    body["groups"] = json!([{"value": north}]);
    let created = create_user(&app, &token, body).await;
    let id = created["id"].as_str().unwrap();
    let group = format!("/scim/v2/Groups/{north}");
    let members = get(&app, &token, &group).await.expect(200).body["members"].clone();
    assert_eq!(members[0]["value"], id);
    scim(
        &app,
        Method::DELETE,
        &format!("/scim/v2/Users/{id}"),
        &token,
        None,
    )
    .await
    .expect(204);

    // SPEC §2 keeps the record, so its email stays the site's: the userName is taken.
    let again = post(
        &app,
        &token,
        "/scim/v2/Users",
        user("ada@example.test", "Ada", "Again"),
    )
    .await;
    expect_error(&again, 409, Some("uniqueness"));
    // It is no Group's member, and cannot be made one.
    let read = get(&app, &token, &group).await.expect(200);
    assert!(read.body.get("members").is_none_or(|m| m == &json!([])));
    let add = patch(
        &app,
        &token,
        &group,
        json!([{"op": "add", "path": "members", "value": [{"value": id}]}]),
    )
    .await;
    expect_error(&add, 400, Some("invalidValue"));
}

#[tokio::test]
async fn a_patch_may_name_the_extension_as_its_path() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let created = create_user(&app, &token, user("pt@example.test", "Pat", "Therapist")).await;
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let patched = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": EXT_URN, "value": {"profession": "OT"}}]),
    )
    .await
    .expect(200);
    assert_eq!(patched.body[EXT_URN]["profession"], "OT");
}

#[tokio::test]
async fn adding_a_new_primary_email_makes_it_the_user_name() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let created = create_user(&app, &token, user("old@example.test", "Ada", "Lovelace")).await;
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let added = json!([{"value": "new@example.test", "type": "work", "primary": true}]);
    let patched = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": "emails", "value": added}]),
    )
    .await
    .expect(200);
    assert_eq!(patched.body["userName"], "new@example.test");
    assert_eq!(patched.body["emails"], added);
    let rest = app
        .get(
            &app.admin_token().await,
            &format!("/v1/users/{}", created["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(rest.body["email"], "new@example.test");
}

#[tokio::test]
async fn the_staffroom_extension_sets_profession_permissions_and_default_clinic() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let north = staffroom_tests::add_clinic(&app, &admin, "North").await;
    let mut body = user("pt@example.test", "Pat", "Therapist");
    body["userType"] = json!("Clinical");
    body[EXT_URN] = json!({"profession": "PT", "permissions": ["start_soap_notes", "finish_soap_notes"], "defaultClinic": {"value": north}});
    let created = create_user(&app, &token, body).await;
    assert_eq!(created[EXT_URN]["profession"], "PT");
    assert_eq!(
        created[EXT_URN]["permissions"],
        json!(["start_soap_notes", "finish_soap_notes"])
    );
    assert_eq!(created[EXT_URN]["defaultClinic"]["value"], north);
    assert!(
        created[EXT_URN]["defaultClinic"].get("display").is_none(),
        "display comes on request"
    );
    let reference = created[EXT_URN]["defaultClinic"]["$ref"].as_str().unwrap();
    assert!(
        reference.ends_with(&format!("/scim/v2/Groups/{north}")),
        "{reference}"
    );
    assert_eq!(created["groups"][0]["value"], north);
    assert_eq!(created["groups"][0]["display"], "North");
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let patched = patch(&app, &token, &path, json!([
        {"op": "replace", "path": format!("{EXT_URN}:permissions"), "value": ["start_soap_notes"]}
    ]))
    .await
    .expect(200);
    assert_eq!(
        patched.body[EXT_URN]["permissions"],
        json!(["start_soap_notes"])
    );
}
