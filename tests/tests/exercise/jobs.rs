//! The outbox jobs list, a request retried with its idempotency key, and a failed add left
//! pending when no worker runs.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn outbox_jobs_are_listed_with_filters_for_site_admins_only() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let email = "jobs@example.test";
    let (id, plain) = signed_in_staff(&app, &admin, "Job", "Lister", email).await;
    let other = new_staff(&app, &admin, "Other", "Lister", "other@example.test").await;

    let first = job_id_of(
        &settled(
            &app,
            &admin,
            &id,
            add(&app, &admin, &id, "Job", "Lister").await,
        )
        .await,
    );
    let second = job_id_of(
        &settled(
            &app,
            &admin,
            &other,
            add(&app, &admin, &other, "Other", "Lister").await,
        )
        .await,
    );
    let third = job_id_of(&settled(&app, &admin, &id, deactivate(&app, &admin, &id).await).await);

    let created = app
        .get(
            &admin,
            "/v1/outbox-jobs?status=succeeded&kind=exercise.create_user",
        )
        .await
        .expect(200)
        .body;
    let items = created["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [second.as_str(), first.as_str()],
        "newest first: {created:#}"
    );
    for item in items {
        assert_eq!(item["status"], "succeeded", "{item:#}");
        assert_eq!(item["kind"], "exercise.create_user", "{item:#}");
        assert!(item["attempts"].as_i64().unwrap() >= 1, "{item:#}");
        assert_eq!(item["running"], false, "{item:#}");
    }
    let deleted = app
        .get(&admin, "/v1/outbox-jobs?kind=exercise.delete_user")
        .await
        .expect(200)
        .body;
    let ids: Vec<&str> = deleted["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [third.as_str()]);
    let about = app
        .get(
            &admin,
            &format!("/v1/outbox-jobs?kind=exercise.create_user&subject_id={other}"),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(about["items"].as_array().unwrap().len(), 1, "{about:#}");
    assert_eq!(about["items"][0]["id"], second.as_str());
    let none = app
        .get(&admin, "/v1/outbox-jobs?status=failed")
        .await
        .expect(200)
        .body;
    assert!(none["items"].as_array().unwrap().is_empty(), "{none:#}");

    // Pages of one, newest first, walk the exercise jobs.
    let page = app
        .get(&admin, "/v1/outbox-jobs?kind=exercise.create_user&limit=1")
        .await
        .expect(200)
        .body;
    assert_eq!(page["items"][0]["id"], second.as_str());
    let cursor = page["next_cursor"].as_str().unwrap();
    let page = app
        .get(
            &admin,
            &format!(
                "/v1/outbox-jobs?kind=exercise.create_user&limit=1&cursor={}",
                enc(cursor)
            ),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(page["items"][0]["id"], first.as_str());
    assert!(page["next_cursor"].is_null(), "{page:#}");

    app.get(&admin, "/v1/outbox-jobs?status=bogus")
        .await
        .expect_problem(422, "validation_failed");
    let unknown_kind = app
        .get(&admin, "/v1/outbox-jobs?kind=imaging.bogus")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        unknown_kind.body["errors"][0]["field"], "kind",
        "{:#}",
        unknown_kind.body
    );
    app.get(&admin, &format!("/v1/outbox-jobs/{}", uuid::Uuid::new_v4()))
        .await
        .expect_problem(404, "not_found");
    app.get(&plain, "/v1/outbox-jobs")
        .await
        .expect_problem(403, "forbidden");
    app.get(&plain, &format!("/v1/outbox-jobs/{first}"))
        .await
        .expect_problem(403, "forbidden");

    // Another site's administrator sees none of these jobs.
    let elsewhere = app.other_site("Elsewhere", "boss@elsewhere.test");
    let boss = app
        .login(&elsewhere.admin_email, staffroom_tests::PASSWORD)
        .await;
    let theirs = app.get(&boss, "/v1/outbox-jobs").await.expect(200).body;
    assert!(theirs["items"].as_array().unwrap().is_empty(), "{theirs:#}");
    app.get(&boss, &format!("/v1/outbox-jobs/{first}"))
        .await
        .expect_problem(404, "not_found");
}

async fn add_with_key(app: &TestApp, token: &str, id: &str, key: &str, body: Value) -> Answer {
    let request = app
        .client
        .post(app.url(&format!("{USERS}/{id}")))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body);
    TestApp::answer(request.send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_add_retried_with_the_same_idempotency_key_is_answered_once() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let id = new_staff(&app, &admin, "Twice", "Sent", "twice@example.test").await;
    let body = json!({"first_name": "Twice", "last_name": "Sent"});

    // 200, or 202 when the worker wins the race for the job (see `settled`).
    let first = add_with_key(&app, &admin, &id, "add-twice-1", body.clone()).await;
    assert!(
        [200, 202].contains(&first.status.as_u16()),
        "{:#}",
        first.body
    );
    let again = add_with_key(&app, &admin, &id, "add-twice-1", body.clone()).await;
    assert_eq!(again.status, first.status, "{:#}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let active = until_state(&app, &admin, &id, "active").await;
    assert_active(&active, &id, "Twice", "Sent");
    assert_eq!(sim_users(&app, &id).len(), 1, "{:#}", app.sim_state());

    // The same key with other names is refused; a new key meets the state machine.
    add_with_key(
        &app,
        &admin,
        &id,
        "add-twice-1",
        json!({"first_name": "Thrice", "last_name": "Sent"}),
    )
    .await
    .expect_problem(422, "idempotency_key_reused");
    add_with_key(&app, &admin, &id, "add-twice-2", body)
        .await
        .expect_problem(409, "already_added");

    assert_eq!(sim_users(&app, &id).len(), 1, "{:#}", app.sim_state());
    let jobs = create_jobs(&app, &admin, &id).await;
    assert_eq!(jobs["items"].as_array().unwrap().len(), 1, "{jobs:#}");
}

/// The add's `202 pending` answer is kept with its change; when the request then ends with a
/// problem (here the provider stayed unavailable through the one attempt allowed), nothing
/// is kept: the retry with the same key acts again, and its success is what a later retry
/// replays.
#[tokio::test(flavor = "multi_thread")]
async fn an_add_answered_with_a_problem_is_not_replayed_and_its_retry_acts_again() {
    let (app, admin) = one_attempt_site().await;
    let id = new_staff(&app, &admin, "Second", "Chance", "chance@example.test").await;
    let body = json!({"first_name": "Second", "last_name": "Chance"});
    app.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    let failed = add_with_key(&app, &admin, &id, "add-after-503", body.clone()).await;
    assert_eq!(failed.header("idempotent-replayed"), None);
    failed.expect_problem(503, "provider_unavailable");

    let retried = add_with_key(&app, &admin, &id, "add-after-503", body.clone()).await;
    assert_eq!(
        retried.header("idempotent-replayed"),
        None,
        "it acted again"
    );
    let added = retried.expect(200).body;
    assert_active(&added, &id, "Second", "Chance");
    let replayed = add_with_key(&app, &admin, &id, "add-after-503", body).await;
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.expect(200).body, added);
    assert_eq!(sim_users(&app, &id).len(), 1, "{:#}", app.sim_state());
    assert_eq!(
        create_jobs(&app, &admin, &id).await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_worker_a_failed_add_stays_pending_and_blocks_other_actions() {
    let (app, admin) = connected_site(
        Options {
            worker: false,
            ..Options::default()
        },
        "CLM-100",
    )
    .await;
    let email = "stuck@example.test";
    let (id, token) = signed_in_staff(&app, &admin, "Stuck", "Pending", email).await;

    app.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    let pending = add(&app, &admin, &id, "Stuck", "Pending")
        .await
        .expect(202)
        .body;
    assert_eq!(pending["state"], "pending", "{pending:#}");
    assert_eq!(pending["pending_action"], "add");
    let job_id = job_id_of(&pending);

    let waiting = job(&app, &admin, &job_id).await;
    assert_eq!(waiting["status"], "pending", "{waiting:#}");
    assert_eq!(waiting["attempts"], 1, "{waiting:#}");
    assert!(waiting["next_attempt_at"].is_string(), "{waiting:#}");
    assert!(waiting["last_error"].is_string(), "{waiting:#}");
    assert_eq!(waiting["running"], false, "{waiting:#}");
    assert!(waiting["finished_at"].is_null(), "{waiting:#}");

    // Nobody retries: it stays as it is, well past any retry delay.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let still = job(&app, &admin, &job_id).await;
    assert_eq!(still["status"], "pending", "{still:#}");
    assert_eq!(still["attempts"], 1, "{still:#}");
    assert_eq!(exercise_user(&app, &admin, &id).await["state"], "pending");
    assert!(sim_users(&app, &id).is_empty(), "{:#}", app.sim_state());

    add(&app, &admin, &id, "Stuck", "Pending")
        .await
        .expect_problem(409, "operation_pending");
    deactivate(&app, &admin, &id)
        .await
        .expect_problem(409, "operation_pending");
    reactivate(&app, &admin, &id)
        .await
        .expect_problem(409, "operation_pending");
    rename(&app, &admin, &id, "Other", "Names")
        .await
        .expect_problem(409, "names_locked");
    app.get(&token, LAUNCH)
        .await
        .expect_problem(403, "not_provisioned");
    let jobs = app
        .get(&admin, &format!("/v1/outbox-jobs?subject_id={id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(jobs["items"].as_array().unwrap().len(), 1, "{jobs:#}");
}
