//! Authentication, the control endpoints, the in-process handle, and starting inside an actix system.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn provider_calls_need_a_bearer_key() {
    let api = Api::new().await;
    let anonymous = read(
        api.client
            .get(api.url("/exercise/v1/clinics/CLM-1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.code(), "unauthorized");
    let empty = read(
        api.client
            .post(api.url("/email/v1/messages"))
            .header("Authorization", "Bearer ")
            .json(&json!({"to": "a@b.c", "subject": "s", "body": "b"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNAUTHORIZED);
    assert!(
        api.state().await["email"]["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let locked = Api::with(SimOptions {
        api_key: Some(KEY.to_owned()),
        ..SimOptions::default()
    })
    .await;
    let wrong = read(
        locked
            .client
            .get(locked.url("/exercise/v1/clinics/CLM-1"))
            .bearer_auth("not-the-key")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "unauthorized");
    assert_eq!(
        locked.get("/exercise/v1/clinics/CLM-1").await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_are_set_read_and_cleared() {
    let api = Api::new().await;
    assert_eq!(api.get("/_sim/faults").await.body["fail_rate"], 0.0);

    let out_of_range = api.put_faults(json!({"fail_rate": 1.5})).await;
    assert_eq!(out_of_range.status, StatusCode::UNPROCESSABLE_ENTITY);
    let negative = api.put_faults(json!({"timeout_rate": -0.1})).await;
    assert_eq!(negative.status, StatusCode::UNPROCESSABLE_ENTITY);
    let typo = api.put_faults(json!({"fail_rat": 0.5})).await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY);

    api.put_faults(json!({"fail_rate": 1.0, "latency_ms": 5, "hang_ms": 1000}))
        .await;
    let faults = api.get("/_sim/faults").await.body;
    assert_eq!(faults["fail_rate"], 1.0);
    assert_eq!(faults["latency_ms"], 5);
    assert_eq!(faults["hang_ms"], 1000);
    assert_eq!(faults["timeout_rate"], 0.0);
    assert_eq!(
        api.get("/exercise/v1/clinics/CLM-1").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

    let cleared = read(
        api.client
            .delete(api.url("/_sim/faults"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    let faults: Faults = serde_json::from_value(api.get("/_sim/faults").await.body).unwrap();
    assert_eq!(faults, Faults::default());
    assert_eq!(
        api.get("/exercise/v1/clinics/CLM-1").await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_handle_mirrors_the_control_endpoints_and_stops_the_server() {
    let api = Api::new().await;
    let sim = api.sim.clone();
    assert_eq!(sim.addr().ip().to_string(), "127.0.0.1");
    assert_ne!(sim.addr().port(), 0);
    assert_eq!(
        sim.base_url(),
        format!("http://127.0.0.1:{}", sim.addr().port())
    );
    assert_eq!(sim.exercise_url(), format!("{}/exercise", sim.base_url()));
    assert_eq!(sim.imaging_url(), format!("{}/imaging", sim.base_url()));
    assert_eq!(sim.email_url(), format!("{}/email", sim.base_url()));

    api.create_imaging_user("ann@example.com").await;
    assert_eq!(sim.state(), api.state().await);

    sim.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    assert_eq!(api.get("/_sim/faults").await.body["fail_next"], 1);
    sim.clear_faults();
    assert_eq!(api.get("/_sim/faults").await.body["fail_next"], 0);
    assert_eq!(
        api.get("/exercise/v1/clinics/CLM-1").await.status,
        StatusCode::OK
    );

    let url = api.url("/_sim/state");
    sim.stop().await;
    let refused = api.client.get(url).send().await.expect_err("stopped");
    assert!(refused.is_connect(), "{refused:?}");
}

/// `staffroom serve` starts the simulator from inside its actix system.
#[actix_web::test]
async fn it_starts_inside_an_actix_system() {
    let sim = start_sim(SimOptions::default()).await;
    let answer = client()
        .get(format!("{}/v1/clinics/CLM-3", sim.exercise_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    sim.set_faults(Faults {
        refuse_for_ms: 200,
        ..Faults::default()
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    loop {
        let response = client()
            .get(format!("{}/_sim/state", sim.base_url()))
            .send()
            .await;
        if let Ok(response) = response {
            let state: Value = response.json().await.unwrap();
            assert_eq!(state["exercise"]["clinics"][0]["clm_id"], "CLM-3");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    sim.stop().await;
}
