//! SPEC §1 and §4 through SCIM: a refused change is a SCIM error and changes nothing.

use staffroom_domain::LicencePlan;
use staffroom_tests::Options;

use super::*;

fn clinical(email: &str) -> Value {
    let mut body = user(email, "Clin", "Ician");
    body["userType"] = json!("Clinical");
    body
}

async fn count(app: &TestApp, token: &str) -> i64 {
    total(&get(app, token, "/scim/v2/Users?count=0").await.expect(200))
}

#[tokio::test]
async fn licences_refuse_create_type_change_and_reactivation_with_409() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Group { licences: 1 },
        ..Options::default()
    })
    .await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let first = create_user(&app, &token, clinical("one@example.test")).await;
    let refused = post(&app, &token, "/scim/v2/Users", clinical("two@example.test")).await;
    expect_error(&refused, 409, None);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("licence_limit_reached")
    );
    assert_eq!(count(&app, &token).await, 2, "no user was created");

    let other = create_user(&app, &token, user("nc@example.test", "Non", "Clinical")).await;
    let path = format!("/scim/v2/Users/{}", other["id"].as_str().unwrap());
    let switch = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "path": "userType", "value": "Clinical"}]),
    )
    .await;
    expect_error(&switch, 409, None);
    assert_eq!(
        get(&app, &token, &path).await.expect(200).body["userType"],
        "Non-Clinical"
    );

    // Free the licence, take it with the other user, then try to reactivate the first.
    let first_path = format!("/scim/v2/Users/{}", first["id"].as_str().unwrap());
    patch(
        &app,
        &token,
        &first_path,
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .expect(200);
    patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "path": "userType", "value": "Clinical"}]),
    )
    .await
    .expect(200);
    let back = patch(
        &app,
        &token,
        &first_path,
        json!([{"op": "replace", "value": {"active": true}}]),
    )
    .await;
    expect_error(&back, 409, None);
    assert_eq!(
        get(&app, &token, &first_path).await.expect(200).body["active"],
        false
    );
}

#[tokio::test]
async fn a_refused_put_changes_nothing_at_all() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Group { licences: 1 },
        ..Options::default()
    })
    .await;
    let token = scim_token(&app, &app.admin_token().await).await;
    create_user(&app, &token, clinical("one@example.test")).await;
    let other = create_user(&app, &token, user("nc@example.test", "Non", "Clinical")).await;
    let path = format!("/scim/v2/Users/{}", other["id"].as_str().unwrap());
    let mut replacement = clinical("renamed@example.test");
    replacement["name"]["givenName"] = json!("Renamed");
    let refused = scim(&app, Method::PUT, &path, &token, Some(replacement)).await;
    expect_error(&refused, 409, None);
    let read = get(&app, &token, &path).await.expect(200);
    assert_eq!(
        read.body["userName"], "nc@example.test",
        "the profile step was rolled back"
    );
    assert_eq!(read.body["meta"]["version"], other["meta"]["version"]);
}

#[tokio::test]
async fn permission_rules_refuse_with_409_and_bad_permissions_with_400() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let mut clerk = user("clerk@example.test", "Clerk", "Kent");
    clerk[EXT_URN] = json!({"profession": "CLERICAL", "permissions": ["start_soap_notes"]});
    expect_error(
        &post(&app, &token, "/scim/v2/Users", clerk).await,
        409,
        None,
    );
    let mut assistant = clinical("pta@example.test");
    assistant[EXT_URN] = json!({"profession": "PTA", "permissions": ["finish_soap_notes"]});
    expect_error(
        &post(&app, &token, "/scim/v2/Users", assistant).await,
        409,
        None,
    );
    let mut unknown = user("u@example.test", "U", "Ser");
    unknown[EXT_URN] = json!({"permissions": ["fly"]});
    expect_error(
        &post(&app, &token, "/scim/v2/Users", unknown).await,
        400,
        Some("invalidValue"),
    );
    assert_eq!(count(&app, &token).await, 1);

    let mut pt = clinical("pt@example.test");
    pt[EXT_URN] = json!({"profession": "PT", "permissions": ["start_soap_notes"]});
    let pt = create_user(&app, &token, pt).await;
    let path = format!("/scim/v2/Users/{}", pt["id"].as_str().unwrap());
    let to_clerical = patch(
        &app,
        &token,
        &path,
        json!([
            {"op": "replace", "path": format!("{EXT_URN}:profession"), "value": "CLERICAL"}
        ]),
    )
    .await;
    expect_error(&to_clerical, 409, None);
}

#[tokio::test]
async fn the_last_site_admin_is_not_deactivated() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    let path = format!("/scim/v2/Users/{}", app.site.admin_id);
    let refused = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await;
    expect_error(&refused, 409, None);
    expect_error(
        &scim(&app, Method::DELETE, &path, &token, None).await,
        409,
        None,
    );
    assert_eq!(
        get(&app, &token, &path).await.expect(200).body["active"],
        true
    );
}
