//! The provider simulator over real HTTP (WIRE.md): each test starts its own simulator on
//! 127.0.0.1:0 and talks to it with reqwest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use staffroom_connectors::sim::{self, Faults, SimHandle, SimOptions};

mod control;
mod providers;
mod reliability;
mod reports;

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
