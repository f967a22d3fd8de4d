//! Add, launch, deactivate and reactivate, with the names that lock and the refusals of
//! each state.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_user_is_added_launches_is_deactivated_and_reactivated() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let email = "jane.doe@example.test";
    let (id, jane) = signed_in_staff(&app, &admin, "Jane", "Doe", email).await;

    // Add, with names other than the profile's.
    let added = settled(
        &app,
        &admin,
        &id,
        add(&app, &admin, &id, "Janet", "Doe-Smith").await,
    )
    .await;
    assert_active(&added, &id, "Janet", "Doe-Smith");
    let add_job = job_id_of(&added);
    let at_provider = the_sim_user(&app, &id);
    assert_eq!(at_provider["first_name"], "Janet");
    assert_eq!(at_provider["last_name"], "Doe-Smith");
    assert_eq!(at_provider["clm_id"], "CLM-100");
    let first_provider_id = at_provider["id"].as_str().unwrap().to_owned();
    assert_active(
        &exercise_user(&app, &admin, &id).await,
        &id,
        "Janet",
        "Doe-Smith",
    );
    assert_eq!(job(&app, &admin, &add_job).await["status"], "succeeded");

    // The user opens the tool: the link signs them in as themselves.
    let link = app.get(&jane, LAUNCH).await.expect(200).body;
    let url = link["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/exercise/launch/", app.sim.base_url())),
        "{link:#}"
    );
    assert!(link["expires_at"].is_string(), "{link:#}");
    let landing = TestApp::answer(app.client.get(&url).send().await.unwrap())
        .await
        .expect(200)
        .body;
    assert_eq!(landing["external_id"], id.as_str(), "{landing:#}");
    assert_eq!(
        landing["user_id"],
        first_provider_id.as_str(),
        "{landing:#}"
    );

    // Deactivate: gone at the provider, and the launch is refused.
    let off = settled(&app, &admin, &id, deactivate(&app, &admin, &id).await).await;
    assert_eq!(off["state"], "deactivated", "{off:#}");
    assert_eq!(off["first_name"], "Janet");
    assert_eq!(off["last_name"], "Doe-Smith");
    assert_eq!(off["names_locked"], true);
    assert!(sim_users(&app, &id).is_empty(), "{:#}", app.sim_state());
    app.get(&jane, LAUNCH)
        .await
        .expect_problem(403, "not_provisioned");
    // The earlier link no longer opens anything.
    let old = TestApp::answer(app.client.get(&url).send().await.unwrap()).await;
    assert_eq!(old.status.as_u16(), 404, "{:#}", old.body);

    // Reactivate: created again with the stored names, as a new provider user.
    let back = settled(&app, &admin, &id, reactivate(&app, &admin, &id).await).await;
    assert_active(&back, &id, "Janet", "Doe-Smith");
    let again = the_sim_user(&app, &id);
    assert_eq!(again["first_name"], "Janet");
    assert_eq!(again["last_name"], "Doe-Smith");
    assert_ne!(again["id"], first_provider_id.as_str(), "{again:#}");
    let landing = launch(&app, &jane).await;
    assert_eq!(landing["user_id"], again["id"], "{landing:#}");

    // The jobs behind it: two creations and one deletion, all done.
    let jobs = app
        .get(
            &admin,
            &format!("/v1/outbox-jobs?subject_id={id}&limit=200"),
        )
        .await
        .expect(200)
        .body;
    let kinds: Vec<(&str, &str)> = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"].as_str().unwrap().starts_with("exercise."))
        .map(|j| (j["kind"].as_str().unwrap(), j["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("exercise.create_user", "succeeded"),
            ("exercise.delete_user", "succeeded"),
            ("exercise.create_user", "succeeded"),
        ],
        "newest first: {jobs:#}"
    );

    // Audit: each step requested and done.
    for action in [
        "exercise.user_add_requested",
        "exercise.user_added",
        "exercise.user_deactivate_requested",
        "exercise.user_deactivated",
        "exercise.user_reactivate_requested",
        "exercise.user_reactivated",
    ] {
        let events = audit_of(&app, &admin, action, &id).await;
        assert_eq!(events.len(), 1, "{action}: {events:#?}");
    }

    // One notice per change, to the user.
    let mail = app
        .eventually(WITHIN, || async {
            let mail = exercise_mail(&app, email);
            (mail.len() >= 3).then_some(mail)
        })
        .await
        .unwrap_or_else(|| panic!("notices not sent: {:#?}", app.mail(Some(email))));
    assert_eq!(mail.len(), 3, "{mail:#?}");
    let subjects: Vec<&str> = mail
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    let added = subjects
        .iter()
        .filter(|s| s.contains("can now use"))
        .count();
    let removed = subjects
        .iter()
        .filter(|s| s.contains("has been removed"))
        .count();
    assert_eq!((added, removed), (2, 1), "{subjects:?}");
    assert!(mail.iter().all(|m| m["to"] == email), "{mail:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn names_lock_once_added_and_each_state_refuses_the_wrong_action() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let id = new_staff(&app, &admin, "Joanna", "Bloggs", "jo@example.test").await;
    let other = new_staff(&app, &admin, "Sam", "Other", "sam@example.test").await;

    // Before the add the names can be edited; the list shows the edit.
    let edited = rename(&app, &admin, &id, "Jo", "Bloggs-Brown")
        .await
        .expect(200)
        .body;
    assert_eq!(edited["first_name"], "Jo", "{edited:#}");
    assert_eq!(edited["last_name"], "Bloggs-Brown");
    assert_eq!(edited["names_locked"], false);
    assert_eq!(edited["state"], "not_added");
    let list = app
        .get(&admin, &format!("{USERS}?limit=200"))
        .await
        .expect(200)
        .body;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["user_id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["first_name"], "Jo", "{listed:#}");
    assert_eq!(listed["last_name"], "Bloggs-Brown");
    assert!(sim_users(&app, &id).is_empty(), "an edit calls nobody");

    // Names are validated like every name: 1–100 characters.
    let bad = rename(&app, &admin, &id, " ", &"x".repeat(101))
        .await
        .expect_problem(422, "validation_failed");
    let fields: HashSet<String> = bad.field_errors().into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        HashSet::from(["first_name".to_owned(), "last_name".to_owned()])
    );
    add(&app, &admin, &id, "", "Bloggs")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(exercise_user(&app, &admin, &id).await["state"], "not_added");

    // Actions that need an added user.
    deactivate(&app, &admin, &other)
        .await
        .expect_problem(409, "not_added");
    reactivate(&app, &admin, &other)
        .await
        .expect_problem(409, "not_added");

    let added = settled(
        &app,
        &admin,
        &id,
        add(&app, &admin, &id, "Jo", "Bloggs-Brown").await,
    )
    .await;
    assert_active(&added, &id, "Jo", "Bloggs-Brown");

    // Locked: other names are refused, the same ones are no change.
    rename(&app, &admin, &id, "Joanna", "Bloggs")
        .await
        .expect_problem(409, "names_locked");
    let same = rename(&app, &admin, &id, "Jo", "Bloggs-Brown")
        .await
        .expect(200)
        .body;
    assert_active(&same, &id, "Jo", "Bloggs-Brown");

    add(&app, &admin, &id, "Jo", "Bloggs-Brown")
        .await
        .expect_problem(409, "already_added");
    add(&app, &admin, &id, "Joanna", "Bloggs")
        .await
        .expect_problem(409, "already_added");
    reactivate(&app, &admin, &id)
        .await
        .expect_problem(409, "not_deactivated");
    assert_eq!(sim_users(&app, &id).len(), 1);

    settled(&app, &admin, &id, deactivate(&app, &admin, &id).await).await;
    deactivate(&app, &admin, &id)
        .await
        .expect_problem(409, "not_active");
    add(&app, &admin, &id, "Jo", "Bloggs-Brown")
        .await
        .expect_problem(409, "already_added");
    rename(&app, &admin, &id, "Joanna", "Bloggs")
        .await
        .expect_problem(409, "names_locked");
    let view = exercise_user(&app, &admin, &id).await;
    assert_eq!(view["state"], "deactivated", "{view:#}");
    assert_eq!(view["first_name"], "Jo");
    assert_eq!(view["last_name"], "Bloggs-Brown");
    assert!(sim_users(&app, &id).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_never_added_cannot_launch() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // Not connected at all.
    app.get(&admin, LAUNCH)
        .await
        .expect_problem(403, "not_provisioned");

    connect(&app, &admin, "CLM-100").await.expect(200);
    let email = "never@example.test";
    let (id, token) = signed_in_staff(&app, &admin, "Neve", "Added", email).await;
    app.get(&token, LAUNCH)
        .await
        .expect_problem(403, "not_provisioned");
    app.get(&admin, LAUNCH)
        .await
        .expect_problem(403, "not_provisioned");
    // Edited names are not an add.
    rename(&app, &admin, &id, "Neve", "Edited")
        .await
        .expect(200);
    app.get(&token, LAUNCH)
        .await
        .expect_problem(403, "not_provisioned");
    // Somebody else's add does not help.
    settled(
        &app,
        &admin,
        &app.site.admin_id.to_string(),
        add(&app, &admin, &app.site.admin_id.to_string(), "Ada", "Admin").await,
    )
    .await;
    app.get(&admin, LAUNCH).await.expect(200);
    app.get(&token, LAUNCH)
        .await
        .expect_problem(403, "not_provisioned");
    app.call(Method::GET, LAUNCH, None, None)
        .await
        .expect_problem(401, "invalid_token");
}
