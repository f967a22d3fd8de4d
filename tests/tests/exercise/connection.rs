//! Connecting the site to a provider clinic, `If-Match` on the connection and the names,
//! the users list with guessed names, and what moving or dropping the connection does to
//! users already added.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_site_connects_with_a_clinic_id_the_provider_confirms_and_disconnects() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;

    let before = app.get(&admin, INTEGRATION).await.expect(200).body;
    assert_eq!(before["connected"], false, "{before:#}");
    assert!(before["clm_id"].is_null(), "{before:#}");

    // An id the provider does not know: `422 invalid_clinic_id` naming the field, and
    // nothing stored.
    let unknown = connect(&app, &admin, "XYZ-1")
        .await
        .expect_problem(422, "invalid_clinic_id");
    assert_eq!(
        unknown.field_errors(),
        [("clm_id".to_owned(), "invalid_clinic_id".to_owned())]
    );
    // An id that cannot be a path segment never reaches the provider.
    for id in [".", ".."] {
        let dots = connect(&app, &admin, id)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(
            dots.field_errors(),
            [("clm_id".to_owned(), "invalid_clinic_id".to_owned())],
            "{id}"
        );
    }
    let empty = connect(&app, &admin, "   ")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        empty.field_errors(),
        [("clm_id".to_owned(), "invalid_clinic_id".to_owned())]
    );
    let still = app.get(&admin, INTEGRATION).await.expect(200).body;
    assert_eq!(still["connected"], false, "{still:#}");
    assert!(!sim_clinic_ids(&app).contains(&"XYZ-1".to_owned()));
    assert!(audit(&app, &admin, "exercise.connected").await.is_empty());

    let connected = connect(&app, &admin, "CLM-100").await.expect(200).body;
    assert_eq!(connected["connected"], true, "{connected:#}");
    assert_eq!(connected["clm_id"], "CLM-100");
    assert_eq!(connected["clinic_name"], "Clinic CLM-100");
    assert!(connected["connected_at"].is_string(), "{connected:#}");
    let read = app.get(&admin, INTEGRATION).await.expect(200).body;
    assert_eq!(read["connected"], true);
    assert_eq!(read["clm_id"], "CLM-100");
    assert_eq!(read["clinic_name"], "Clinic CLM-100");
    assert!(sim_clinic_ids(&app).contains(&"CLM-100".to_owned()));

    // A failed reconnect keeps the connection as it was.
    connect(&app, &admin, "CLM-")
        .await
        .expect_problem(422, "invalid_clinic_id");
    assert_eq!(
        app.get(&admin, INTEGRATION).await.expect(200).body["clm_id"],
        "CLM-100"
    );

    let events = audit(&app, &admin, "exercise.connected").await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["after"]["clm_id"], "CLM-100", "{:#}", events[0]);
    assert_eq!(events[0]["actor_id"], app.site.admin_id.to_string());

    app.delete(&admin, INTEGRATION).await.expect(204);
    let after = app.get(&admin, INTEGRATION).await.expect(200).body;
    assert_eq!(after["connected"], false, "{after:#}");
    assert!(after["clm_id"].is_null(), "{after:#}");
    assert!(after["clinic_name"].is_null(), "{after:#}");
    app.delete(&admin, INTEGRATION)
        .await
        .expect_problem(404, "not_found");

    let events = audit(&app, &admin, "exercise.disconnected").await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["before"]["clm_id"], "CLM-100", "{:#}", events[0]);
}

/// SPEC §9: the connection and a user's provider record carry ETags, and `PUT`, `DELETE`
/// and `PATCH` honour `If-Match` (`"0"` stands for "nothing stored yet"), or demand it when
/// the deployment requires it.
#[tokio::test(flavor = "multi_thread")]
async fn the_connection_and_the_names_honour_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unconnected = app.get(&admin, INTEGRATION).await.expect(200);
    assert_eq!(unconnected.header("etag"), Some("\"0\""));
    let put = |tag: &'static str, clm: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            send(
                app,
                Method::PUT,
                INTEGRATION,
                admin,
                Some(tag),
                Some(json!({"clm_id": clm})),
            )
            .await
        }
    };
    put("\"3\"", "CLM-1")
        .await
        .expect_problem(412, "precondition_failed");
    let first = put("\"0\"", "CLM-1").await.expect(200);
    assert_eq!(first.header("etag"), Some("\"1\""));
    put("\"0\"", "CLM-2")
        .await
        .expect_problem(412, "precondition_failed");
    let kept = app.get(&admin, INTEGRATION).await.expect(200);
    assert_eq!(kept.body["clm_id"], "CLM-1", "{:#}", kept.body);
    assert_eq!(kept.header("etag"), Some("\"1\""));

    let id = new_staff(&app, &admin, "Etta", "Tag", "etta@example.test").await;
    let path = format!("{USERS}/{id}");
    let fresh = app.get(&admin, &path).await.expect(200);
    assert_eq!(fresh.header("etag"), Some("\"0\""));
    let names = json!({"first_name": "Etta", "last_name": "Tagg"});
    send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"1\""),
        Some(names.clone()),
    )
    .await
    .expect_problem(412, "precondition_failed");
    let renamed = send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"0\""),
        Some(names),
    )
    .await
    .expect(200);
    assert_eq!(renamed.header("etag"), Some("\"1\""));
    assert_eq!(renamed.body["last_name"], "Tagg");
    let again = json!({"first_name": "Etta", "last_name": "Tague"});
    send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"0\""),
        Some(again),
    )
    .await
    .expect_problem(412, "precondition_failed");
    assert_eq!(exercise_user(&app, &admin, &id).await["last_name"], "Tagg");

    send(
        &app,
        Method::DELETE,
        INTEGRATION,
        &admin,
        Some("\"7\""),
        None,
    )
    .await
    .expect_problem(412, "precondition_failed");
    send(
        &app,
        Method::DELETE,
        INTEGRATION,
        &admin,
        Some("\"1\""),
        None,
    )
    .await
    .expect(204);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_requiring_if_match_requires_it_here_too() {
    let app = TestApp::spawn_with(Options {
        require_if_match: true,
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    connect(&app, &admin, "CLM-1")
        .await
        .expect_problem(428, "precondition_required");
    send(
        &app,
        Method::PUT,
        INTEGRATION,
        &admin,
        Some("\"0\""),
        Some(json!({"clm_id": "CLM-1"})),
    )
    .await
    .expect(200);
    let id = new_staff(&app, &admin, "Reqa", "Tag", "reqa@example.test").await;
    rename(&app, &admin, &id, "Reqa", "Tagg")
        .await
        .expect_problem(428, "precondition_required");
    app.delete(&admin, INTEGRATION)
        .await
        .expect_problem(428, "precondition_required");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_site_user_is_listed_not_added_with_names_guessed_from_the_profile() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let jane = new_staff(&app, &admin, "Dr. Jane", "Smith", "jane@example.test").await;
    let mary = new_staff(&app, &admin, "Mary Lee", "Lee", "mary@example.test").await;
    let ann = new_staff(&app, &admin, "Mary  Ann", "O'Brien", "ann@example.test").await;
    // Another site's users are never listed.
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");

    let expected: Vec<(String, &str, &str)> = vec![
        (app.site.admin_id.to_string(), "Ada", "Admin"),
        (jane.clone(), "Jane", "Smith"),
        (mary.clone(), "Mary", "Lee"),
        (ann.clone(), "Mary Ann", "O'Brien"),
    ];

    let page = app
        .get(&admin, &format!("{USERS}?limit=200"))
        .await
        .expect(200)
        .body;
    assert!(page["next_cursor"].is_null(), "{page:#}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), expected.len(), "{page:#}");
    for (id, first, last) in &expected {
        let item = items
            .iter()
            .find(|i| i["user_id"] == id.as_str())
            .unwrap_or_else(|| panic!("user {id} not listed: {page:#}"));
        assert_eq!(item["state"], "not_added", "{item:#}");
        assert_eq!(item["first_name"], *first, "{item:#}");
        assert_eq!(item["last_name"], *last, "{item:#}");
        assert_eq!(item["names_locked"], false, "{item:#}");
        assert!(item["pending_action"].is_null(), "{item:#}");
        assert!(item["job_id"].is_null(), "{item:#}");
    }
    assert!(
        items
            .iter()
            .all(|i| i["user_id"] != other.admin_id.to_string()),
        "another site's user is listed: {page:#}"
    );
    // One user reads the same.
    let one = exercise_user(&app, &admin, &jane).await;
    assert_eq!(one["first_name"], "Jane");
    assert_eq!(one["last_name"], "Smith");
    assert_eq!(one["email"], "jane@example.test");
    assert_eq!(one["state"], "not_added");

    // Pages of one walk every user exactly once.
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let path = match &cursor {
            Some(c) => format!("{USERS}?limit=1&cursor={}", enc(c)),
            None => format!("{USERS}?limit=1"),
        };
        let page = app.get(&admin, &path).await.expect(200).body;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1, "{page:#}");
        seen.extend(
            items
                .iter()
                .map(|i| i["user_id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), 1, "a short page with a next_cursor: {page:#}");
                cursor = Some(next.to_owned());
            }
            None => {
                cursor = None;
                break;
            }
        }
    }
    assert!(cursor.is_none(), "pagination does not end");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a user listed twice: {seen:?}");
    let wanted: HashSet<&String> = expected.iter().map(|(id, _, _)| id).collect();
    assert_eq!(unique, wanted);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_added_before_the_site_moved_clinics_is_removed_from_the_old_one() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let email = "mover@example.test";
    let (id, token) = signed_in_staff(&app, &admin, "Mover", "Shaker", email).await;
    settled(
        &app,
        &admin,
        &id,
        add(&app, &admin, &id, "Mover", "Shaker").await,
    )
    .await;
    assert_eq!(the_sim_user(&app, &id)["clm_id"], "CLM-100");

    connect(&app, &admin, "CLM-200").await.expect(200);
    let events = audit(&app, &admin, "exercise.connected").await;
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(events[0]["before"]["clm_id"], "CLM-100", "{:#}", events[0]);
    assert_eq!(events[0]["after"]["clm_id"], "CLM-200", "{:#}", events[0]);
    // The user keeps their state and their link.
    assert_eq!(exercise_user(&app, &admin, &id).await["state"], "active");
    app.get(&token, LAUNCH).await.expect(200);

    settled(&app, &admin, &id, deactivate(&app, &admin, &id).await).await;
    assert!(
        sim_users(&app, &id).is_empty(),
        "the user is left at the old clinic: {:#}",
        app.sim_state()
    );
    settled(&app, &admin, &id, reactivate(&app, &admin, &id).await).await;
    assert_eq!(the_sim_user(&app, &id)["clm_id"], "CLM-200");
    let landing = launch(&app, &token).await;
    assert_eq!(landing["clm_id"], "CLM-200", "{landing:#}");
    assert_eq!(landing["external_id"], id.as_str(), "{landing:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn disconnecting_keeps_users_stops_launches_and_still_lets_admins_deactivate() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let id = new_staff(&app, &admin, "Kept", "User", "kept@example.test").await;
    let other = new_staff(&app, &admin, "New", "Comer", "new@example.test").await;
    settled(
        &app,
        &admin,
        &id,
        add(&app, &admin, &id, "Kept", "User").await,
    )
    .await;

    app.delete(&admin, INTEGRATION).await.expect(204);
    let kept = exercise_user(&app, &admin, &id).await;
    assert_eq!(kept["state"], "active", "{kept:#}");
    assert_eq!(kept["names_locked"], true, "{kept:#}");
    the_sim_user(&app, &id);
    add(&app, &admin, &other, "New", "Comer")
        .await
        .expect_problem(409, "integration_not_connected");
    assert!(sim_users(&app, &other).is_empty());

    // Nobody launches while the site is disconnected.
    let kept_token = app
        .login("kept@example.test", staffroom_tests::PASSWORD)
        .await;
    app.get(&kept_token, LAUNCH)
        .await
        .expect_problem(409, "integration_not_connected");
    // An administrator can still remove the user at the clinic they were created at, but
    // not add them back until the site connects again.
    let gone = settled(&app, &admin, &id, deactivate(&app, &admin, &id).await).await;
    assert_eq!(gone["state"], "deactivated", "{gone:#}");
    assert!(sim_users(&app, &id).is_empty());
    reactivate(&app, &admin, &id)
        .await
        .expect_problem(409, "integration_not_connected");
}
