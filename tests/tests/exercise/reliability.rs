//! A provider that is down, times out, refuses connections or refuses the request: the
//! outbox never loses an operation nor creates a user twice, and a refusal moves the state
//! back.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_add_while_the_provider_is_down_stays_pending_then_completes_once() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let id = new_staff(&app, &admin, "Down", "Time", "down@example.test").await;

    app.set_faults(Faults {
        fail_rate: 1.0,
        ..Faults::default()
    });
    let pending = add(&app, &admin, &id, "Down", "Time")
        .await
        .expect(202)
        .body;
    assert_eq!(pending["state"], "pending", "{pending:#}");
    assert_eq!(pending["pending_action"], "add", "{pending:#}");
    assert_eq!(pending["names_locked"], true, "{pending:#}");
    assert_eq!(pending["first_name"], "Down");
    let job_id = job_id_of(&pending);

    // The job is being retried, and says why.
    let retried = app
        .eventually(WITHIN, || async {
            let job = job(&app, &admin, &job_id).await;
            job["last_error"].is_string().then_some(job)
        })
        .await
        .expect("the failed attempt is recorded");
    assert_eq!(retried["status"], "pending", "{retried:#}");
    assert_eq!(retried["kind"], "exercise.create_user");
    assert_eq!(retried["subject_id"], id.as_str());
    assert!(retried["attempts"].as_i64().unwrap() >= 1, "{retried:#}");
    assert!(retried["finished_at"].is_null(), "{retried:#}");
    assert_eq!(exercise_user(&app, &admin, &id).await["state"], "pending");
    assert!(sim_users(&app, &id).is_empty());
    // While it is pending, nothing else may start.
    add(&app, &admin, &id, "Down", "Time")
        .await
        .expect_problem(409, "operation_pending");
    deactivate(&app, &admin, &id)
        .await
        .expect_problem(409, "operation_pending");

    app.sim.clear_faults();
    let active = until_state(&app, &admin, &id, "active").await;
    assert_active(&active, &id, "Down", "Time");
    let at_provider = the_sim_user(&app, &id);
    assert_eq!(at_provider["first_name"], "Down");
    let done = until_finished(&app, &admin, &job_id).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert!(done["finished_at"].is_string(), "{done:#}");
    assert!(done["next_attempt_at"].is_null(), "{done:#}");
    assert!(done["attempts"].as_i64().unwrap() >= 2, "{done:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_add_is_retried_with_its_key_and_creates_one_user() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let email = "slow@example.test";
    let (id, token) = signed_in_staff(&app, &admin, "Slow", "Answer", email).await;

    // The provider does the work, but the answer never arrives in time.
    app.set_faults(Faults {
        timeout_rate: 1.0,
        hang_ms: Some(2000),
        ..Faults::default()
    });
    let pending = add(&app, &admin, &id, "Slow", "Answer")
        .await
        .expect(202)
        .body;
    assert_eq!(pending["state"], "pending", "{pending:#}");
    let job_id = job_id_of(&pending);
    // The provider has the user; Staffroom does not know yet.
    app.eventually(WITHIN, || async {
        (sim_users(&app, &id).len() == 1).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("the provider did not do the work: {:#}", app.sim_state()));
    assert_eq!(exercise_user(&app, &admin, &id).await["state"], "pending");
    app.eventually(WITHIN, || async {
        let job = job(&app, &admin, &job_id).await;
        job["last_error"].is_string().then_some(())
    })
    .await
    .expect("the timed-out attempt is recorded");

    app.sim.clear_faults();
    let active = until_state(&app, &admin, &id, "active").await;
    assert_active(&active, &id, "Slow", "Answer");
    let at_provider = the_sim_user(&app, &id);
    let done = until_finished(&app, &admin, &job_id).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    // Staffroom links the user the first attempt created.
    let landing = launch(&app, &token).await;
    assert_eq!(landing["user_id"], at_provider["id"], "{landing:#}");
    assert_eq!(sim_users(&app, &id).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_add_while_connections_are_refused_completes_once_the_provider_listens() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let id = new_staff(&app, &admin, "Closed", "Port", "closed@example.test").await;

    app.set_faults(Faults {
        refuse_for_ms: 3000,
        ..Faults::default()
    });
    // Let the listener close.
    tokio::time::sleep(Duration::from_millis(150)).await;

    let pending = add(&app, &admin, &id, "Closed", "Port")
        .await
        .expect(202)
        .body;
    assert_eq!(pending["state"], "pending", "{pending:#}");
    let job_id = job_id_of(&pending);
    // Connecting needs an answer from the provider at once.
    connect(&app, &admin, "CLM-200")
        .await
        .expect_problem(503, "provider_unavailable");
    assert_eq!(
        app.get(&admin, INTEGRATION).await.expect(200).body["clm_id"],
        "CLM-100"
    );

    let active = until_state(&app, &admin, &id, "active").await;
    assert_active(&active, &id, "Closed", "Port");
    assert_eq!(the_sim_user(&app, &id)["clm_id"], "CLM-100");
    let done = until_finished(&app, &admin, &job_id).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
}

/// A second outbox worker on the same database (as `staffroom worker` would be), with its
/// own provider clients and API key.
fn second_worker(app: &TestApp, api_key: &str) -> Arc<Outbox> {
    let config = |url: String| {
        HttpConfig::new(url, api_key)
            .with_timeouts(Duration::from_millis(500), Duration::from_millis(500))
    };
    let providers = Providers {
        exercise: Arc::new(HttpExercise::new(config(app.sim.exercise_url())).unwrap()),
        imaging: Arc::new(HttpImaging::new(config(app.sim.imaging_url())).unwrap()),
        email: Arc::new(StoredMail::new(app.pool.clone())),
    };
    Arc::new(Outbox::new(app.pool.clone(), providers, test_outbox()))
}

/// No provider refusal can be provoked through Staffroom's own requests (it validates names
/// and clinic ids as the provider does), so the provider is made to refuse the job's retry:
/// its idempotency key was already used there for a different request, which WIRE.md
/// makes a permanent `422`.
#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_refusal_fails_the_job_and_moves_the_state_back() {
    let (app, admin) = connected_site(
        Options {
            worker: false,
            ..Options::default()
        },
        "CLM-7",
    )
    .await;
    let email = "refused@example.test";
    let (id, token) = signed_in_staff(&app, &admin, "Refused", "Once", email).await;

    app.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    let pending = add(&app, &admin, &id, "Refused", "Once")
        .await
        .expect(202)
        .body;
    assert_eq!(pending["state"], "pending", "{pending:#}");
    let job_id = job_id_of(&pending);

    // Someone else uses the job's idempotency key at the provider first.
    const API_KEY: &str = "second-worker-key";
    let key = {
        let mut conn = app.pool.get().unwrap();
        staffroom_persistence::outbox::get(&mut conn, app.site.site_id, job_id.parse().unwrap())
            .unwrap()
            .idempotency_key
    };
    let squatter = app
        .client
        .post(format!("{}/v1/clinics/CLM-7/users", app.sim.exercise_url()))
        .bearer_auth(API_KEY)
        .header("Idempotency-Key", &key)
        .json(&json!({"first_name": "", "last_name": "Else", "external_id": "someone-else"}))
        .send()
        .await
        .unwrap();
    assert_eq!(squatter.status().as_u16(), 422);

    // The retry is refused for good.
    let worker = second_worker(&app, API_KEY);
    let failed = app
        .eventually(WITHIN, || {
            let worker = Arc::clone(&worker);
            let (app, admin, job_id) = (&app, &admin, &job_id);
            async move {
                worker.tick().await.unwrap();
                let job = job(app, admin, job_id).await;
                (job["status"] != "pending").then_some(job)
            }
        })
        .await
        .expect("the job finishes");
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert!(failed["finished_at"].is_string(), "{failed:#}");
    assert!(failed["next_attempt_at"].is_null(), "{failed:#}");
    let reason = failed["last_error"].as_str().unwrap_or("").to_owned();
    assert!(!reason.is_empty(), "{failed:#}");

    let back = exercise_user(&app, &admin, &id).await;
    assert_eq!(back["state"], "not_added", "{back:#}");
    assert!(back["pending_action"].is_null(), "{back:#}");
    assert_eq!(back["names_locked"], false, "{back:#}");
    assert_eq!(back["last_error"], reason.as_str(), "{back:#}");
    assert!(sim_users(&app, &id).is_empty(), "{:#}", app.sim_state());
    assert_eq!(
        audit_of(&app, &admin, "exercise.user_add_failed", &id)
            .await
            .len(),
        1
    );
    assert!(exercise_mail(&app, email).is_empty());
    let failed_jobs = app
        .get(
            &admin,
            &format!("/v1/outbox-jobs?status=failed&kind=exercise.create_user&subject_id={id}"),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(failed_jobs["items"].as_array().unwrap().len(), 1);
    app.get(&token, LAUNCH)
        .await
        .expect_problem(403, "not_provisioned");

    // The names are editable again, and a new add goes through.
    rename(&app, &admin, &id, "Refused", "Twice")
        .await
        .expect(200);
    let added = add(&app, &admin, &id, "Refused", "Twice")
        .await
        .expect(200)
        .body;
    assert_active(&added, &id, "Refused", "Twice");
    let at_provider = the_sim_user(&app, &id);
    assert_eq!(at_provider["last_name"], "Twice");

    // The provider forgets the user on its own: the launch is refused by the provider, as
    // a problem document.
    let gone = app
        .client
        .delete(format!(
            "{}/v1/clinics/CLM-7/users/{}",
            app.sim.exercise_url(),
            at_provider["id"].as_str().unwrap()
        ))
        .bearer_auth(API_KEY)
        .header("Idempotency-Key", "removed-at-the-provider")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 204);
    let refused = app
        .get(&token, LAUNCH)
        .await
        .expect_problem(422, "provider_refused");
    assert_eq!(
        refused.body["provider_code"], "unknown_user",
        "{:#}",
        refused.body
    );
}
