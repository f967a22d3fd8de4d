//! Slow and failing providers against the request budget and the retry limit, concurrent
//! adds, and the notices sent by email.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn deactivate_and_reactivate_survive_a_failing_and_a_slow_provider() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let email = "flaky@example.test";
    let (id, token) = signed_in_staff(&app, &admin, "Flaky", "Provider", email).await;
    settled(
        &app,
        &admin,
        &id,
        add(&app, &admin, &id, "Flaky", "Provider").await,
    )
    .await;
    let first = the_sim_user(&app, &id);

    // The provider is down: no launch link, and the deactivation waits.
    app.set_faults(Faults {
        fail_rate: 1.0,
        ..Faults::default()
    });
    app.get(&token, LAUNCH)
        .await
        .expect_problem(503, "provider_unavailable");
    let pending = deactivate(&app, &admin, &id).await.expect(202).body;
    assert_eq!(pending["state"], "pending", "{pending:#}");
    assert_eq!(pending["pending_action"], "deactivate", "{pending:#}");
    assert_eq!(pending["names_locked"], true, "{pending:#}");
    let delete_job = job_id_of(&pending);
    assert_eq!(
        job(&app, &admin, &delete_job).await["kind"],
        "exercise.delete_user"
    );
    // While it is pending the user is not provisioned.
    app.get(&token, LAUNCH)
        .await
        .expect_problem(403, "not_provisioned");
    assert_eq!(the_sim_user(&app, &id)["id"], first["id"]);
    reactivate(&app, &admin, &id)
        .await
        .expect_problem(409, "operation_pending");

    app.sim.clear_faults();
    let off = until_state(&app, &admin, &id, "deactivated").await;
    assert!(off["pending_action"].is_null(), "{off:#}");
    assert!(sim_users(&app, &id).is_empty(), "{:#}", app.sim_state());
    assert_eq!(
        until_finished(&app, &admin, &delete_job).await["status"],
        "succeeded"
    );

    // The reactivation's answer is lost: retried with its key, one user.
    app.set_faults(Faults {
        timeout_rate: 1.0,
        hang_ms: Some(2000),
        ..Faults::default()
    });
    let pending = reactivate(&app, &admin, &id).await.expect(202).body;
    assert_eq!(pending["pending_action"], "reactivate", "{pending:#}");
    let create_job = job_id_of(&pending);
    app.eventually(WITHIN, || async {
        job(&app, &admin, &create_job).await["last_error"]
            .is_string()
            .then_some(())
    })
    .await
    .expect("the timed-out attempt is recorded");
    app.sim.clear_faults();
    let back = until_state(&app, &admin, &id, "active").await;
    assert_active(&back, &id, "Flaky", "Provider");
    let again = the_sim_user(&app, &id);
    assert_ne!(again["id"], first["id"]);
    app.get(&token, LAUNCH).await.expect(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_slower_than_the_request_budget_finishes_in_the_background_once() {
    let (app, admin) = connected_site(
        Options {
            provider_timeout: Duration::from_secs(5),
            ..Options::default()
        },
        "CLM-100",
    )
    .await;
    let id = new_staff(&app, &admin, "Slow", "Coach", "coach@example.test").await;

    // Slower than the 1 s the request waits, quicker than the provider timeout.
    app.set_faults(Faults {
        latency_ms: 1500,
        ..Faults::default()
    });
    let pending = add(&app, &admin, &id, "Slow", "Coach")
        .await
        .expect(202)
        .body;
    assert_eq!(pending["state"], "pending", "{pending:#}");
    let job_id = job_id_of(&pending);
    let active = until_state(&app, &admin, &id, "active").await;
    app.sim.clear_faults();
    assert_active(&active, &id, "Slow", "Coach");
    the_sim_user(&app, &id);
    let done = until_finished(&app, &admin, &job_id).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    // The call went on under its lease: nobody started it a second time.
    assert_eq!(done["attempts"], 1, "{done:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_down_longer_than_the_retry_budget_fails_the_job_and_moves_the_state_back() {
    let outbox = test_outbox();
    let (app, admin) = connected_site(
        Options {
            outbox: staffroom_api::outbox::OutboxConfig {
                policy: staffroom_domain::RetryPolicy {
                    max_attempts: Some(2),
                    ..outbox.policy
                },
                ..outbox
            },
            ..Options::default()
        },
        "CLM-100",
    )
    .await;
    let email = "given.up@example.test";
    let id = new_staff(&app, &admin, "Given", "Up", email).await;

    app.set_faults(Faults {
        fail_rate: 1.0,
        ..Faults::default()
    });
    let pending = add(&app, &admin, &id, "Given", "Up").await.expect(202).body;
    let job_id = job_id_of(&pending);
    let failed = until_finished(&app, &admin, &job_id).await;
    app.sim.clear_faults();
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert_eq!(failed["attempts"], 2, "{failed:#}");
    assert!(failed["finished_at"].is_string(), "{failed:#}");
    let reason = failed["last_error"].as_str().unwrap_or("").to_owned();
    assert!(!reason.is_empty(), "{failed:#}");

    let back = exercise_user(&app, &admin, &id).await;
    assert_eq!(back["state"], "not_added", "{back:#}");
    assert_eq!(back["names_locked"], false, "{back:#}");
    assert!(back["pending_action"].is_null(), "{back:#}");
    assert_eq!(back["last_error"], reason.as_str(), "{back:#}");
    assert!(sim_users(&app, &id).is_empty());
    assert_eq!(
        audit_of(&app, &admin, "exercise.user_add_failed", &id)
            .await
            .len(),
        1
    );
    assert!(exercise_mail(&app, email).is_empty());

    // Once the provider is back, adding again works.
    let added = settled(
        &app,
        &admin,
        &id,
        add(&app, &admin, &id, "Given", "Up").await,
    )
    .await;
    assert_active(&added, &id, "Given", "Up");
    the_sim_user(&app, &id);
}

/// With a retry budget of one attempt, the request's own attempt is the last: the job fails
/// at once and the answer is a problem document. The provider did not refuse anything; it
/// was unavailable.
#[tokio::test(flavor = "multi_thread")]
async fn a_last_attempt_failing_inline_answers_provider_unavailable() {
    let (app, admin) = one_attempt_site().await;
    let id = new_staff(&app, &admin, "Only", "Once", "once@example.test").await;

    app.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    let answer = add(&app, &admin, &id, "Only", "Once").await;
    // The state moved back either way.
    let back = exercise_user(&app, &admin, &id).await;
    assert_eq!(back["state"], "not_added", "{back:#}");
    assert!(back["last_error"].is_string(), "{back:#}");
    assert!(sim_users(&app, &id).is_empty());
    let problem = answer.expect_problem(503, "provider_unavailable");
    assert_eq!(problem.body["state"], "not_added", "{:#}", problem.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_adds_of_one_user_create_it_once() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let id = new_staff(&app, &admin, "Race", "Condition", "race@example.test").await;

    let answers =
        futures_util::future::join_all((0..6).map(|_| add(&app, &admin, &id, "Race", "Condition")))
            .await;
    let mut started = 0;
    for answer in &answers {
        match answer.status.as_u16() {
            200 | 202 => started += 1,
            409 => assert!(
                ["operation_pending", "already_added"].contains(&answer.code()),
                "{:#}",
                answer.body
            ),
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert_eq!(started, 1, "{answers:#?}");
    until_state(&app, &admin, &id, "active").await;
    the_sim_user(&app, &id);
    let jobs = create_jobs(&app, &admin, &id).await;
    assert_eq!(jobs["items"].as_array().unwrap().len(), 1, "{jobs:#}");
}

/// SPEC §9 / the add endpoint's contract: `200` with the new state when the provider
/// answered within the request's budget, `202` with `pending` only when it did not. The
/// provider here answers at once, so no add may answer `202` before the budget (1 s) ran
/// out.
#[tokio::test(flavor = "multi_thread")]
async fn a_quick_provider_is_always_answered_200() {
    let (app, admin) = connected_site(Options::default(), "CLM-100").await;
    let budget = test_outbox().inline_budget;
    let mut early = Vec::new();
    for i in 0..100 {
        let user = app
            .post(
                &admin,
                "/v1/users",
                json!({
                    "first_name": "Quick",
                    "last_name": format!("Answer{i}"),
                    "email": format!("quick{i}@example.test"),
                    "user_type": "non_clinical",
                }),
            )
            .await
            .expect(201)
            .body;
        let id = id_of(&user);
        let started = std::time::Instant::now();
        let answer = add(&app, &admin, &id, "Quick", "Answer").await;
        let elapsed = started.elapsed();
        match answer.status.as_u16() {
            200 => assert_eq!(answer.body["state"], "active", "{:#}", answer.body),
            202 if elapsed < budget => early.push(format!(
                "add #{i}: 202 with state {} after {elapsed:?}",
                answer.body["state"]
            )),
            202 => {}
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert!(
        early.is_empty(),
        "answered 202 before the budget ran out:\n{}",
        early.join("\n")
    );
}

/// With an email provider configured (here the simulator's), notices go to it over HTTP
/// through the outbox, once each, and nothing goes to the database sink.
#[tokio::test(flavor = "multi_thread")]
async fn notices_go_to_the_email_provider_once() {
    let (app, admin) = connected_site(
        Options {
            email_via_sim: true,
            ..Options::default()
        },
        "CLM-300",
    )
    .await;
    let id = new_staff(&app, &admin, "Nina", "Notice", "nina@example.test").await;
    let added = add(&app, &admin, &id, "Nina", "Notice").await;
    let view = settled(&app, &admin, &id, added).await;
    assert_eq!(view["state"], "active");
    let messages = app
        .eventually(Duration::from_secs(10), || async {
            let state = app.sim_state();
            let to_nina: Vec<Value> = state["email"]["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["to"] == "nina@example.test")
                .cloned()
                .collect();
            (!to_nina.is_empty()).then_some(to_nina)
        })
        .await
        .expect("the notice reaches the email provider");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let state = app.sim_state();
    let count = state["email"]["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["to"] == "nina@example.test")
        .count();
    assert_eq!(count, 1, "{messages:?}");
    assert_eq!(
        messages[0]["subject"],
        "You can now use the exercise-prescription tool"
    );
    // Nothing went to the database sink.
    assert!(app.mail(Some("nina@example.test")).is_empty());
    let jobs = app
        .get(&admin, "/v1/outbox-jobs?kind=email.send&status=succeeded")
        .await
        .expect(200);
    assert_eq!(jobs.body["items"].as_array().map(Vec::len), Some(1));
}
