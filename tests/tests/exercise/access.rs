//! Who may act: site administrators only, on their own site's active users, once the
//! site is connected.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn only_site_admins_act_on_their_own_sites_connected_active_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "plain@example.test";
    let (plain_id, plain) = signed_in_staff(&app, &admin, "Plain", "User", email).await;

    // Before the site is connected.
    add(&app, &admin, &plain_id, "Plain", "User")
        .await
        .expect_problem(409, "integration_not_connected");
    rename(&app, &admin, &plain_id, "Plainer", "User")
        .await
        .expect_problem(409, "integration_not_connected");

    // A user without site_admin gets 403 everywhere, and nothing reaches the provider.
    let user_path = format!("{USERS}/{plain_id}");
    let names = json!({"first_name": "Plain", "last_name": "User"});
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, INTEGRATION.to_owned(), None),
        (
            Method::PUT,
            INTEGRATION.to_owned(),
            Some(json!({"clm_id": "CLM-55"})),
        ),
        (Method::DELETE, INTEGRATION.to_owned(), None),
        (Method::GET, USERS.to_owned(), None),
        (Method::GET, user_path.clone(), None),
        (Method::PATCH, user_path.clone(), Some(names.clone())),
        (Method::POST, user_path.clone(), Some(names.clone())),
        (Method::POST, format!("{user_path}/deactivate"), None),
        (Method::POST, format!("{user_path}/reactivate"), None),
        (Method::GET, "/v1/outbox-jobs".to_owned(), None),
        (
            Method::GET,
            format!("/v1/outbox-jobs/{}", uuid::Uuid::new_v4()),
            None,
        ),
    ];
    for (method, path, body) in &calls {
        let answer = app
            .call(method.clone(), path, Some(&plain), body.clone())
            .await;
        assert_eq!(
            (answer.status.as_u16(), answer.code()),
            (403, "forbidden"),
            "{method} {path}: {:#}",
            answer.body
        );
        let anonymous = app.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(
            anonymous.status.as_u16(),
            401,
            "{method} {path}: {:#}",
            anonymous.body
        );
    }
    assert!(!sim_clinic_ids(&app).contains(&"CLM-55".to_owned()));
    assert_eq!(
        app.get(&admin, INTEGRATION).await.expect(200).body["connected"],
        false
    );

    connect(&app, &admin, "CLM-100").await.expect(200);

    // Malformed ids are not found either.
    app.get(&admin, &format!("{USERS}/not-a-uuid"))
        .await
        .expect_problem(404, "not_found");
    app.get(&admin, "/v1/outbox-jobs/not-a-uuid")
        .await
        .expect_problem(404, "not_found");

    // Another site's user, or no user at all: not found.
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    for stranger in [other.admin_id.to_string(), uuid::Uuid::new_v4().to_string()] {
        app.get(&admin, &format!("{USERS}/{stranger}"))
            .await
            .expect_problem(404, "not_found");
        rename(&app, &admin, &stranger, "Some", "One")
            .await
            .expect_problem(404, "not_found");
        add(&app, &admin, &stranger, "Some", "One")
            .await
            .expect_problem(404, "not_found");
        deactivate(&app, &admin, &stranger)
            .await
            .expect_problem(404, "not_found");
        reactivate(&app, &admin, &stranger)
            .await
            .expect_problem(404, "not_found");
        assert!(sim_users(&app, &stranger).is_empty());
    }

    // An inactive Staffroom user cannot be added.
    app.call(
        Method::POST,
        &format!("/v1/users/{plain_id}/deactivate"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    add(&app, &admin, &plain_id, "Plain", "User")
        .await
        .expect_problem(409, "user_inactive");
    let view = exercise_user(&app, &admin, &plain_id).await;
    assert_eq!(view["state"], "not_added", "{view:#}");
    assert_eq!(view["user_status"], "inactive", "{view:#}");
    assert!(sim_users(&app, &plain_id).is_empty());

    // An added user deactivated in Staffroom can still be removed from the provider, but
    // not reactivated there.
    let added_email = "added@example.test";
    let added_id = new_staff(&app, &admin, "Added", "User", added_email).await;
    settled(
        &app,
        &admin,
        &added_id,
        add(&app, &admin, &added_id, "Added", "User").await,
    )
    .await;
    app.call(
        Method::POST,
        &format!("/v1/users/{added_id}/deactivate"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    let off = settled(
        &app,
        &admin,
        &added_id,
        deactivate(&app, &admin, &added_id).await,
    )
    .await;
    assert_eq!(off["state"], "deactivated", "{off:#}");
    assert!(sim_users(&app, &added_id).is_empty());
    reactivate(&app, &admin, &added_id)
        .await
        .expect_problem(409, "user_inactive");
    assert_eq!(
        exercise_user(&app, &admin, &added_id).await["state"],
        "deactivated"
    );
    assert!(sim_users(&app, &added_id).is_empty());
}
