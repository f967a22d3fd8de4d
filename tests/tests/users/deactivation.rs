//! Deactivation and reactivation

use super::*;

#[tokio::test]
async fn deactivate_and_reactivate_change_status_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(
            &admin,
            new_user("Laurie", "Laurence", "laurie@example.test", "clinical"),
        )
        .await;
    let id = id_of(&user);
    let path = format!("/v1/users/{id}");
    let user_token = app.login("laurie@example.test", PASSWORD).await;
    app.get(&user_token, "/v1/users").await.expect(200);

    let off = deactivate(&app, &admin, &id).await.expect(200);
    assert_eq!(off.body["status"], "inactive");
    assert_eq!(off.body["version"], 2);
    assert_eq!(off.header("etag"), Some("\"2\""));
    // Repeating changes nothing.
    let again = deactivate(&app, &admin, &id).await.expect(200);
    assert_eq!(again.body["status"], "inactive");
    assert_eq!(again.body["version"], 2);

    // The record stays readable and listed.
    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["status"], "inactive");
    assert_eq!(read.body["email"], "laurie@example.test");
    assert_eq!(
        ids(&list_all(&app, &admin, "status=inactive").await),
        vec![id.clone()]
    );
    assert!(
        !ids(&list_all(&app, &admin, "status=active").await).contains(&id),
        "an inactive user is not in the active list"
    );
    // The user's token stops working.
    app.get(&user_token, "/v1/users")
        .await
        .expect_problem(401, "invalid_token");

    let on = reactivate(&app, &admin, &id).await.expect(200);
    assert_eq!(on.body["status"], "active");
    assert_eq!(on.body["version"], 3);
    let again = reactivate(&app, &admin, &id).await.expect(200);
    assert_eq!(again.body["version"], 3);
    assert!(list_all(&app, &admin, "status=inactive").await.is_empty());
    app.login("laurie@example.test", PASSWORD).await;
}

#[tokio::test]
async fn the_last_active_site_admin_cannot_be_deactivated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();

    let refused = deactivate(&app, &admin, &admin_id)
        .await
        .expect_problem(409, "last_admin");
    assert!(refused.body["detail"].is_string());
    let read = app
        .get(&admin, &format!("/v1/users/{admin_id}"))
        .await
        .expect(200);
    assert_eq!(read.body["status"], "active");
    assert_eq!(read.body["version"], 1);

    // An inactive second admin does not count.
    let mut body = new_user("Second", "Admin", "second@example.test", "non_clinical");
    body["permissions"] = json!(["site_admin"]);
    let second = id_of(&app.create_user(&admin, body).await);
    deactivate(&app, &admin, &second).await.expect(200);
    deactivate(&app, &admin, &admin_id)
        .await
        .expect_problem(409, "last_admin");

    // With another active site admin, the first can go.
    reactivate(&app, &admin, &second).await.expect(200);
    let off = deactivate(&app, &admin, &admin_id).await.expect(200);
    assert_eq!(off.body["status"], "inactive");

    // Now the second is the last one.
    let second_token = app.login("second@example.test", PASSWORD).await;
    deactivate(&app, &second_token, &second)
        .await
        .expect_problem(409, "last_admin");
}
