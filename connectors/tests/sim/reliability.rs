//! Idempotency keys and faults: replays, failed and timed-out calls, fail rates, latency, refused connections.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotent_replay_answers_the_first_result_and_creates_once() {
    let api = Api::new().await;

    let first = api
        .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let replay = api
        .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
        .await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(exercise_users(&api.state().await).len(), 1);

    // The same key for another request is refused and changes nothing.
    let reused = api
        .create_exercise_user("CLM-1", "staff-2", Some("job-1"))
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.code(), "idempotency_key_reused");

    // Another key is another call: it creates (the provider does not deduplicate).
    api.create_exercise_user("CLM-1", "staff-1", None).await;
    api.create_exercise_user("CLM-1", "staff-1", None).await;
    let state = api.state().await;
    let same: Vec<&Value> = exercise_users(&state)
        .iter()
        .filter(|u| u["external_id"] == "staff-1")
        .collect();
    assert_eq!(same.len(), 3);

    // A mutating call without a key is refused and does nothing.
    let keyless = read(
        api.client
            .post(api.url("/exercise/v1/clinics/CLM-1/users"))
            .bearer_auth(KEY)
            .json(&json!({"first_name": "Ann", "last_name": "Lee", "external_id": "staff-9"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(keyless.status, StatusCode::BAD_REQUEST);
    assert_eq!(keyless.code(), "missing_idempotency_key");
    assert_eq!(exercise_users(&api.state().await).len(), 3);

    // Keys are scoped per API key.
    let other = read(
        api.client
            .post(api.url("/exercise/v1/clinics/CLM-1/users"))
            .bearer_auth("another-key")
            .header("Idempotency-Key", "job-1")
            .json(&json!({"first_name": "Ann", "last_name": "Lee", "external_id": "staff-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_ne!(other.body["id"], first.body["id"]);

    // A replayed delete answers 204 again rather than 404.
    let id = first.body["id"].as_str().unwrap();
    let path = format!("/exercise/v1/clinics/CLM-1/users/{id}");
    assert_eq!(
        api.delete(&path, Some("del-1")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.delete(&path, Some("del-1")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.delete(&path, Some("del-2")).await.status,
        StatusCode::NOT_FOUND
    );

    let too_long = api
        .create_exercise_user("CLM-1", "staff-1", Some(&"k".repeat(256)))
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_long.code(), "invalid_idempotency_key");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_call_does_nothing_and_its_retry_creates_once() {
    let api = Api::new().await;
    assert_eq!(
        api.put_faults(json!({"fail_next": 2})).await.status,
        StatusCode::NO_CONTENT
    );

    for _ in 0..2 {
        let failed = api
            .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
            .await;
        assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(failed.code(), "simulated_failure");
        assert!(exercise_users(&api.state().await).is_empty());
    }
    let faults = api.get("/_sim/faults").await;
    assert_eq!(faults.body["fail_next"], 0);

    let created = api
        .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let replay = api
        .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
        .await;
    assert_eq!(replay.body, created.body);
    assert_eq!(exercise_users(&api.state().await).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_call_did_the_work_and_its_retry_is_answered_from_the_key() {
    let api = Api::new().await;
    api.put_faults(json!({"timeout_rate": 1.0, "hang_ms": 300}))
        .await;

    let timed_out = api
        .request(
            Method::POST,
            "/exercise/v1/clinics/CLM-1/users",
            Some(&json!({"first_name": "Ann", "last_name": "Lee", "external_id": "staff-1"})),
            Some("job-1"),
        )
        .timeout(Duration::from_millis(150))
        .send()
        .await
        .expect_err("the call hangs past the client's timeout");
    assert!(timed_out.is_timeout(), "{timed_out:?}");

    // The work was done before the hang (allow a loaded machine a moment to get there).
    let started = Instant::now();
    let state = loop {
        let state = api.state().await;
        if !exercise_users(&state).is_empty() || started.elapsed() > Duration::from_secs(2) {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(
        exercise_users(&state).len(),
        1,
        "the work was done: {state}"
    );
    let id = exercise_users(&state)[0]["id"].clone();

    // Still timing out: a patient client gets the real answer, after the hang.
    let started = Instant::now();
    let retry = api
        .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
        .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.body["id"], id);

    api.sim.clear_faults();
    let started = Instant::now();
    let retry = api
        .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
        .await;
    assert!(started.elapsed() < Duration::from_millis(300));
    assert_eq!(retry.body["id"], id);
    assert_eq!(exercise_users(&api.state().await).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fail_rate_of_one_fails_every_provider_call() {
    let api = Api::new().await;
    api.put_faults(json!({"fail_rate": 1.0})).await;

    for _ in 0..5 {
        let answer = api.create_exercise_user("CLM-1", "staff-1", None).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.code(), "simulated_failure");
        assert_eq!(
            api.get("/exercise/v1/clinics/CLM-1").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            api.create_imaging_user("ann@example.com").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let mail = api
            .post(
                "/email/v1/messages",
                &json!({"to": "a@b.c", "subject": "s", "body": "b"}),
                None,
            )
            .await;
        assert_eq!(mail.status, StatusCode::SERVICE_UNAVAILABLE);
    }
    // The control endpoints are never faulted, and nothing was done.
    let state = api.state().await;
    assert!(exercise_users(&state).is_empty());
    assert!(state["exercise"]["clinics"].as_array().unwrap().is_empty());
    assert!(imaging_users(&state).is_empty());
    assert!(state["email"]["messages"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_delays_provider_calls_only() {
    let api = Api::new().await;
    api.put_faults(json!({"latency_ms": 300})).await;

    let started = Instant::now();
    let answer = api.get("/exercise/v1/clinics/CLM-1").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let started = Instant::now();
    api.state().await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread")]
async fn refusing_closes_the_port_then_reopens_it_with_the_state_intact() {
    let api = Api::new().await;
    let created = api
        .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let port = api.sim.addr().port();

    let asked = Instant::now();
    let refuse = api
        .put_faults(json!({"refuse_for_ms": 1000, "fail_next": 1}))
        .await;
    assert_eq!(refuse.status, StatusCode::NO_CONTENT);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = api
        .request(Method::GET, "/exercise/v1/clinics/CLM-1", None, None)
        .send()
        .await
        .expect_err("the port is closed");
    assert!(refused.is_connect(), "{refused:?}");
    let refused = api.client.get(api.url("/_sim/state")).send().await;
    assert!(refused.is_err());
    // The handle still works while the port is closed.
    assert_eq!(exercise_users(&api.sim.state()).len(), 1);

    let reopened = loop {
        if let Ok(response) = api.client.get(api.url("/_sim/state")).send().await {
            break read(response).await;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "the port never reopened"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(
        asked.elapsed() >= Duration::from_millis(1000),
        "reopened after {:?}",
        asked.elapsed()
    );
    assert_eq!(api.sim.addr().port(), port);
    assert_eq!(exercise_users(&reopened.body)[0]["id"], created.body["id"]);

    // The other faults of the same body are in force; refuse_for_ms is not kept.
    let faults = api.get("/_sim/faults").await;
    assert_eq!(faults.body["refuse_for_ms"], 0);
    assert_eq!(faults.body["fail_next"], 1);
    let failed = api
        .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
        .await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
    // Idempotency keys survived too.
    let replay = api
        .create_exercise_user("CLM-1", "staff-1", Some("job-1"))
        .await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.body, created.body);
    assert_eq!(exercise_users(&api.state().await).len(), 1);
}
