//! Two sites' SCIM tokens: the token decides the site, and one site's client never sees
//! or changes another's users or clinics.

use staffroom_tests::PASSWORD;

use super::*;

#[tokio::test]
async fn each_token_sees_only_its_own_site() {
    let app = TestApp::spawn().await;
    let ours = scim_token(&app, &app.admin_token().await).await;
    let other = app.other_site("Other Practice", "other-admin@example.test");
    let their_admin = app.login("other-admin@example.test", PASSWORD).await;
    let theirs = scim_token(&app, &their_admin).await;

    let ada = create_user(&app, &ours, user("ada@example.test", "Ada", "Lovelace")).await;
    let path = format!("/scim/v2/Users/{}", ada["id"].as_str().unwrap());
    expect_error(&get(&app, &theirs, &path).await, 404, None);
    expect_error(
        &patch(
            &app,
            &theirs,
            &path,
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .await,
        404,
        None,
    );
    expect_error(
        &scim(&app, Method::DELETE, &path, &theirs, None).await,
        404,
        None,
    );
    let filtered = get(
        &app,
        &theirs,
        "/scim/v2/Users?filter=userName%20eq%20%22ada%40example.test%22",
    )
    .await
    .expect(200);
    assert_eq!(total(&filtered), 0);
    let all = get(&app, &theirs, "/scim/v2/Users").await.expect(200);
    assert_eq!(total(&all), 1);
    assert_eq!(resources(&all)[0]["id"], other.admin_id.to_string());

    // The same userName is free in the other site.
    create_user(&app, &theirs, user("ada@example.test", "Ada", "Other")).await;

    let groups = get(&app, &theirs, "/scim/v2/Groups").await.expect(200);
    assert_eq!(total(&groups), 1);
    assert_eq!(resources(&groups)[0]["id"], other.clinic_id);
    let ours_group = format!("/scim/v2/Groups/{}", app.site.clinic_id);
    expect_error(&get(&app, &theirs, &ours_group).await, 404, None);
    let foreign_member = patch(
        &app,
        &theirs,
        &format!("/scim/v2/Groups/{}", other.clinic_id),
        json!([
            {"op": "add", "path": "members", "value": [{"value": ada["id"]}]}
        ]),
    )
    .await;
    expect_error(&foreign_member, 400, Some("invalidValue"));
}
