//! The provider simulator over real HTTP (WIRE.md): each test starts its own simulator on
//! 127.0.0.1:0 and talks to it with reqwest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use staffroom_connectors::sim::{self, Faults, SimHandle, SimOptions};

const KEY: &str = "test-key";

async fn start_sim(options: SimOptions) -> SimHandle {
    sim::start("127.0.0.1:0".parse().unwrap(), options)
        .await
        .expect("simulator starts")
}

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // No pooled connections: every call opens its own, as a refused port needs.
    Client::builder().pool_max_idle_per_host(0).build().unwrap()
}

struct Answer {
    status: StatusCode,
    body: Value,
    headers: HeaderMap,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// A client for one simulator, with the bearer key `KEY`.
struct Api {
    client: Client,
    sim: SimHandle,
}

impl Api {
    async fn new() -> Self {
        Self::with(SimOptions::default()).await
    }

    async fn with(options: SimOptions) -> Self {
        Self {
            client: client(),
            sim: start_sim(options).await,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> reqwest::RequestBuilder {
        // A mutating call must carry a key; `None` sends a fresh one (a call of its own).
        let key = idempotency_key
            .map(str::to_owned)
            .or_else(|| (method != Method::GET).then(|| format!("fresh-{}", uuid::Uuid::new_v4())));
        let mut request = self.client.request(method, self.url(path)).bearer_auth(KEY);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Answer {
        let response = self
            .request(method, path, body, idempotency_key)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, None).await
    }

    async fn post(&self, path: &str, body: &Value, key: Option<&str>) -> Answer {
        self.call(Method::POST, path, Some(body), key).await
    }

    async fn patch(&self, path: &str, body: &Value, key: Option<&str>) -> Answer {
        self.call(Method::PATCH, path, Some(body), key).await
    }

    async fn delete(&self, path: &str, key: Option<&str>) -> Answer {
        self.call(Method::DELETE, path, None, key).await
    }

    /// `GET /_sim/state` over HTTP.
    async fn state(&self) -> Value {
        let answer = read(
            self.client
                .get(self.url("/_sim/state"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        answer.body
    }

    async fn put_faults(&self, faults: Value) -> Answer {
        read(
            self.client
                .put(self.url("/_sim/faults"))
                .json(&faults)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn create_exercise_user(
        &self,
        clm_id: &str,
        external_id: &str,
        key: Option<&str>,
    ) -> Answer {
        self.post(
            &format!("/exercise/v1/clinics/{clm_id}/users"),
            &json!({"first_name": "Ann", "last_name": "Lee", "external_id": external_id}),
            key,
        )
        .await
    }

    async fn create_imaging_user(&self, email: &str) -> Answer {
        self.post(
            "/imaging/v1/users",
            &json!({
                "title": "Dr",
                "first_name": "Ann",
                "last_name": "Lee",
                "email": email,
                "marketing_opt_in": false
            }),
            None,
        )
        .await
    }
}

async fn read(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    Answer {
        status,
        body,
        headers,
    }
}

fn exercise_users(state: &Value) -> &Vec<Value> {
    state["exercise"]["users"].as_array().unwrap()
}

fn imaging_users(state: &Value) -> &Vec<Value> {
    state["imaging"]["users"].as_array().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn exercise_users_are_created_launched_and_deleted() {
    let api = Api::new().await;

    let clinic = api.get("/exercise/v1/clinics/CLM-42").await;
    assert_eq!(clinic.status, StatusCode::OK);
    assert_eq!(clinic.body["clm_id"], "CLM-42");
    assert!(!clinic.body["name"].as_str().unwrap().is_empty());

    let created = api
        .post(
            "/exercise/v1/clinics/CLM-42/users",
            &json!({"first_name": "  Ann ", "last_name": "Lee", "external_id": "staff-1"}),
            Some("create-1"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("EXU-"), "{id}");
    assert_eq!(created.body["clm_id"], "CLM-42");
    assert_eq!(created.body["first_name"], "Ann");
    assert_eq!(created.body["last_name"], "Lee");
    assert_eq!(created.body["external_id"], "staff-1");
    assert!(created.body["created_at"].is_string());

    let state = api.state().await;
    assert_eq!(state["exercise"]["clinics"][0]["clm_id"], "CLM-42");
    assert_eq!(exercise_users(&state).len(), 1);
    assert_eq!(exercise_users(&state)[0]["id"], id.as_str());
    assert_eq!(exercise_users(&state)[0]["external_id"], "staff-1");

    let before = chrono::Utc::now();
    let launch = api
        .post(
            &format!("/exercise/v1/clinics/CLM-42/users/{id}/launch"),
            &json!({}),
            Some("launch-1"),
        )
        .await;
    assert_eq!(launch.status, StatusCode::OK);
    let url = launch.body["url"].as_str().unwrap();
    let prefix = format!("{}/exercise/launch/", api.sim.base_url());
    assert!(url.starts_with(&prefix), "{url}");
    assert!(url.len() > prefix.len() + 16, "{url}");
    let expires_at: chrono::DateTime<chrono::Utc> =
        launch.body["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = expires_at - before;
    assert!(
        ttl > chrono::TimeDelta::seconds(290) && ttl <= chrono::TimeDelta::seconds(301),
        "{ttl}"
    );
    // The link lands (no bearer key needed).
    let landing = read(api.client.get(url).send().await.unwrap()).await;
    assert_eq!(landing.status, StatusCode::OK);
    assert_eq!(landing.body["user_id"], id.as_str());

    // A user of another clinic is unknown here.
    let elsewhere = api
        .delete(
            &format!("/exercise/v1/clinics/CLM-7/users/{id}"),
            Some("del-0"),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert_eq!(elsewhere.code(), "unknown_user");

    let deleted = api
        .delete(
            &format!("/exercise/v1/clinics/CLM-42/users/{id}"),
            Some("del-1"),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(exercise_users(&api.state().await).is_empty());

    let again = api
        .delete(
            &format!("/exercise/v1/clinics/CLM-42/users/{id}"),
            Some("del-2"),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.code(), "unknown_user");

    let launch = api
        .post(
            &format!("/exercise/v1/clinics/CLM-42/users/{id}/launch"),
            &json!({}),
            Some("launch-2"),
        )
        .await;
    assert_eq!(launch.status, StatusCode::NOT_FOUND);
    assert_eq!(launch.code(), "unknown_user");
    let landing = read(api.client.get(url).send().await.unwrap()).await;
    assert_eq!(landing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_clinics_and_bad_names_are_refused() {
    let api = Api::new().await;

    for clm_id in ["CLM-", "CLM-12a", "XYZ-1", "clm-1"] {
        let clinic = api.get(&format!("/exercise/v1/clinics/{clm_id}")).await;
        assert_eq!(clinic.status, StatusCode::NOT_FOUND, "{clm_id}");
        assert_eq!(clinic.code(), "unknown_clinic");
        assert!(clinic.body["message"].is_string());
        let created = api.create_exercise_user(clm_id, "staff-1", None).await;
        assert_eq!(created.status, StatusCode::NOT_FOUND, "{clm_id}");
        assert_eq!(created.code(), "unknown_clinic");
    }

    for (first, last) in [("   ", "Lee"), ("Ann", ""), ("Ann", &"x".repeat(101))] {
        let created = api
            .post(
                "/exercise/v1/clinics/CLM-1/users",
                &json!({"first_name": first, "last_name": last, "external_id": "s"}),
                None,
            )
            .await;
        assert_eq!(created.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(created.code(), "invalid_name");
    }
    let longest = api
        .post(
            "/exercise/v1/clinics/CLM-1/users",
            &json!({"first_name": "é".repeat(100), "last_name": "Lee", "external_id": "s"}),
            None,
        )
        .await;
    assert_eq!(longest.status, StatusCode::CREATED);

    let state = api.state().await;
    let clinics = state["exercise"]["clinics"].as_array().unwrap();
    assert_eq!(clinics.len(), 1, "{state}");
    assert_eq!(clinics[0]["clm_id"], "CLM-1");
    assert_eq!(exercise_users(&state).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn imaging_emails_are_unique_case_insensitively() {
    let api = Api::new().await;

    let ann = api.create_imaging_user("ann@example.com").await;
    assert_eq!(ann.status, StatusCode::CREATED);
    let ann_id = ann.body["id"].as_str().unwrap().to_owned();
    assert_eq!(ann.body["email"], "ann@example.com");
    assert_eq!(ann.body["title"], "Dr");
    assert_eq!(ann.body["marketing_opt_in"], false);
    assert!(ann.body["created_at"].is_string());

    let clash = api.create_imaging_user("ANN@Example.COM").await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert_eq!(clash.code(), "email_in_use");

    let found = api.get("/imaging/v1/users?email=Ann%40EXAMPLE.com").await;
    assert_eq!(found.status, StatusCode::OK);
    let items = found.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ann_id.as_str());
    let none = api
        .get("/imaging/v1/users?email=nobody%40example.com")
        .await;
    assert_eq!(none.body["items"], json!([]));

    let bob = api.create_imaging_user("bob@example.com").await;
    assert_eq!(bob.status, StatusCode::CREATED);
    let bob_id = bob.body["id"].as_str().unwrap().to_owned();

    let taken = api
        .patch(
            &format!("/imaging/v1/users/{bob_id}"),
            &json!({"email": "ANN@example.com"}),
            Some("patch-1"),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.code(), "email_in_use");

    // A user may change the case of its own email, and its opt-in.
    let own = api
        .patch(
            &format!("/imaging/v1/users/{ann_id}"),
            &json!({"email": "Ann@Example.com", "marketing_opt_in": true}),
            Some("patch-2"),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["email"], "Ann@Example.com");
    assert_eq!(own.body["marketing_opt_in"], true);

    let moved = api
        .patch(
            &format!("/imaging/v1/users/{bob_id}"),
            &json!({"email": "robert@example.com"}),
            Some("patch-3"),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    assert_eq!(moved.body["email"], "robert@example.com");
    // The old address is free again.
    assert_eq!(
        api.create_imaging_user("bob@example.com").await.status,
        StatusCode::CREATED
    );

    let state = api.state().await;
    let emails: Vec<&str> = imaging_users(&state)
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["Ann@Example.com", "robert@example.com", "bob@example.com"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn imaging_names_are_immutable_and_referrals_are_created() {
    let api = Api::new().await;
    let ann = api.create_imaging_user("ann@example.com").await;
    let ann_id = ann.body["id"].as_str().unwrap().to_owned();

    for body in [
        json!({"first_name": "Anne"}),
        json!({"email": "x@example.com", "last_name": "Leigh"}),
        json!({"title": "Prof"}),
    ] {
        let patched = api
            .patch(&format!("/imaging/v1/users/{ann_id}"), &body, None)
            .await;
        assert_eq!(patched.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(patched.code(), "immutable_field");
    }
    let user = api.get(&format!("/imaging/v1/users/{ann_id}")).await;
    assert_eq!(user.status, StatusCode::OK);
    assert_eq!(user.body["first_name"], "Ann");
    assert_eq!(user.body["email"], "ann@example.com");

    let missing = api.get("/imaging/v1/users/IMU-nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "unknown_user");
    let missing = api
        .patch(
            "/imaging/v1/users/IMU-nope",
            &json!({"marketing_opt_in": true}),
            None,
        )
        .await;
    assert_eq!(missing.code(), "unknown_user");

    let referral = json!({
        "patient_name": "Pat Smith",
        "body_part": "knee",
        "notes": "left",
        "callback_url": "http://staffroom.test/webhooks/imaging"
    });
    let created = api
        .post(
            &format!("/imaging/v1/users/{ann_id}/referrals"),
            &referral,
            Some("ref-1"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["user_id"], ann_id.as_str());
    assert_eq!(created.body["status"], "requested");
    assert_eq!(created.body["body_part"], "knee");
    assert_eq!(created.body["notes"], "left");
    let parsed: staffroom_connectors::Referral =
        serde_json::from_value(created.body.clone()).unwrap();
    assert_eq!(parsed.patient_name, "Pat Smith");

    let unknown = api
        .post(
            "/imaging/v1/users/IMU-nope/referrals",
            &referral,
            Some("ref-2"),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "unknown_user");

    let state = api.state().await;
    let referrals = state["imaging"]["referrals"].as_array().unwrap();
    assert_eq!(referrals.len(), 1);
    assert_eq!(referrals[0]["id"], created.body["id"]);
    assert_eq!(referrals[0]["patient_name"], "Pat Smith");
}

#[tokio::test(flavor = "multi_thread")]
async fn email_messages_are_accepted_and_held() {
    let api = Api::new().await;
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(1);

    let sent = api
        .post(
            "/email/v1/messages",
            &json!({"to": "ann@example.com", "subject": "Welcome", "body": "Hello Ann"}),
            Some("mail-1"),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    let id = sent.body["id"].as_str().unwrap();
    assert!(!id.is_empty());
    let accepted_at: chrono::DateTime<chrono::Utc> =
        sent.body["accepted_at"].as_str().unwrap().parse().unwrap();
    assert!(accepted_at >= before);

    let refused = api
        .post(
            "/email/v1/messages",
            &json!({"to": "not-an-address", "subject": "s", "body": "b"}),
            Some("mail-2"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "invalid_recipient");

    let state = api.state().await;
    let messages = state["email"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["id"], id);
    assert_eq!(messages[0]["to"], "ann@example.com");
    assert_eq!(messages[0]["subject"], "Welcome");
    assert_eq!(messages[0]["body"], "Hello Ann");
    assert_eq!(messages[0]["accepted_at"], sent.body["accepted_at"]);
}

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

const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A referral by a new imaging user, whose callback URL is `callback_url`; its id.
async fn referral_with_callback(api: &Api, callback_url: &str) -> String {
    let user = api.create_imaging_user("rita@example.com").await;
    let user_id = user.body["id"].as_str().unwrap().to_owned();
    let body =
        json!({"patient_name": "Pat Smith", "body_part": "knee", "callback_url": callback_url});
    let created = api
        .post(
            &format!("/imaging/v1/users/{user_id}/referrals"),
            &body,
            None,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    created.body["id"].as_str().unwrap().to_owned()
}

/// Polls `GET /_sim/state` until delivery `index` is no longer `delivering`; its record.
async fn settled_delivery(api: &Api, index: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = api.state().await;
        let delivery = state["imaging"]["deliveries"][index].clone();
        if delivery["status"] != "delivering" {
            return delivery;
        }
        assert!(
            Instant::now() < deadline,
            "delivery never settled: {delivery}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_are_delivered_signed_and_retried_while_the_receiver_fails() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/webhooks/imaging"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/webhooks/imaging"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let api = Api::with(SimOptions {
        webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
        ..SimOptions::default()
    })
    .await;
    let callback = format!("{}/v1/webhooks/imaging", receiver.uri());
    let referral_id = referral_with_callback(&api, &callback).await;

    let started = api
        .post(
            &format!("/_sim/imaging/referrals/{referral_id}/report"),
            &json!({"summary": "Small meniscal tear."}),
            None,
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    assert_eq!(started.body["referral_id"], referral_id.as_str());
    let webhook_id = started.body["webhook_id"].as_str().unwrap().to_owned();

    let delivery = settled_delivery(&api, 0).await;
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"], 2, "one 503, then a 200");
    assert_eq!(delivery["webhook_id"], webhook_id.as_str());
    let state = api.state().await;
    let referral = &state["imaging"]["referrals"][0];
    assert_eq!(referral["status"], "reported");
    assert_eq!(referral["report"]["summary"], "Small meniscal tear.");

    // Both attempts carry the same webhook-id and verify with the secret (Standard Webhooks).
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let webhook = standardwebhooks::Webhook::new(WEBHOOK_SECRET).unwrap();
    for request in &received {
        let mut headers = HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            let value = request.headers.get(name).expect(name);
            headers.insert(name, value.to_str().unwrap().parse().unwrap());
        }
        assert_eq!(headers["webhook-id"], webhook_id.as_str());
        webhook.verify(&request.body, &headers).unwrap();
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["type"], "referral.report_ready");
        assert_eq!(body["referral_id"], referral_id.as_str());
        assert_eq!(body["report"]["summary"], "Small meniscal tear.");
        assert_eq!(body["report"]["images"].as_array().unwrap().len(), 1);
    }

    // A redelivery under the same webhook-id, as providers do.
    let again = api
        .post(
            &format!("/_sim/imaging/referrals/{referral_id}/report"),
            &json!({"webhook_id": webhook_id}),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body["webhook_id"], webhook_id.as_str());
    assert_eq!(settled_delivery(&api, 1).await["status"], "delivered");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_delivery_is_not_retried_and_reports_need_a_secret_and_a_referral() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&receiver)
        .await;
    let api = Api::with(SimOptions {
        webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
        ..SimOptions::default()
    })
    .await;
    let referral_id = referral_with_callback(&api, &receiver.uri()).await;
    let path = format!("/_sim/imaging/referrals/{referral_id}/report");
    assert_eq!(
        api.post(&path, &json!({}), None).await.status,
        StatusCode::ACCEPTED
    );
    let delivery = settled_delivery(&api, 0).await;
    assert_eq!(delivery["status"], "rejected");
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["last_answer"], 401);
    assert_eq!(
        api.state().await["imaging"]["referrals"][0]["status"],
        "requested"
    );

    let unknown = api
        .post("/_sim/imaging/referrals/IMR-nope/report", &json!({}), None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "unknown_referral");
    let wrong = api.get(&path).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);

    let unsigned = Api::new().await;
    let referral_id = referral_with_callback(&unsigned, &receiver.uri()).await;
    let refused = unsigned
        .post(
            &format!("/_sim/imaging/referrals/{referral_id}/report"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "no_webhook_secret");
}
