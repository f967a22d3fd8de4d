//! The HTTP API

use super::*;

pub(crate) fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub(crate) struct Api {
    http: reqwest::Client,
    token: String,
}

/// Status and body of a response.
pub(crate) async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

impl Api {
    pub(crate) async fn login(base: &str) -> Self {
        let http = client();
        let (status, body) = answer(
            http.post(format!("{base}/v1/auth/login"))
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body:#}");
        let token = body["access_token"].as_str().unwrap().to_owned();
        Self { http, token }
    }

    pub(crate) async fn get(&self, url: String) -> (u16, Value) {
        answer(
            self.http
                .get(url)
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        url: String,
        body: Value,
    ) -> (u16, Value) {
        answer(
            self.http
                .request(method, url)
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub(crate) async fn connect_exercise(&self, base: &str) {
        let (status, body) = self
            .send(
                reqwest::Method::PUT,
                format!("{base}/v1/integrations/exercise"),
                json!({"clm_id": CLM_ID}),
            )
            .await;
        assert_eq!(status, 200, "{body:#}");
        assert_eq!(body["connected"], true, "{body:#}");
        assert_eq!(body["clm_id"], CLM_ID, "{body:#}");
    }

    /// Creates a clinical user; returns their id.
    pub(crate) async fn create_user(&self, base: &str, email: &str) -> String {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                format!("{base}/v1/users"),
                json!({
                    "first_name": "Pat",
                    "last_name": "Worker",
                    "email": email,
                    "user_type": "clinical",
                    // With a password, no invitation: the only mail is the add's notice.
                    "initial_password": "a long passphrase",
                }),
            )
            .await;
        assert_eq!(status, 201, "{body:#}");
        body["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn add_exercise_user(
        &self,
        base: &str,
        user: &str,
        first: &str,
    ) -> (u16, Value) {
        self.send(
            reqwest::Method::POST,
            format!("{base}/v1/integrations/exercise/users/{user}"),
            json!({"first_name": first, "last_name": "Worker"}),
        )
        .await
    }

    pub(crate) async fn exercise_user(&self, base: &str, user: &str) -> Value {
        let (status, body) = self
            .get(format!("{base}/v1/integrations/exercise/users/{user}"))
            .await;
        assert_eq!(status, 200, "{body:#}");
        body
    }

    /// Exercise states of every site user, by user id.
    pub(crate) async fn exercise_states(&self, base: &str) -> BTreeMap<String, Value> {
        let (status, body) = self
            .get(format!("{base}/v1/integrations/exercise/users?limit=200"))
            .await;
        assert_eq!(status, 200, "{body:#}");
        assert!(body["next_cursor"].is_null(), "one page holds them all");
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["user_id"].as_str().unwrap().to_owned(), u.clone()))
            .collect()
    }

    pub(crate) async fn jobs(&self, base: &str, kind: &str) -> Vec<Value> {
        let (status, body) = self
            .get(format!("{base}/v1/outbox-jobs?kind={kind}&limit=200"))
            .await;
        assert_eq!(status, 200, "{body:#}");
        assert!(body["next_cursor"].is_null(), "one page holds them all");
        body["items"].as_array().unwrap().clone()
    }

    pub(crate) async fn job(&self, base: &str, id: &str) -> Value {
        let (status, body) = self.get(format!("{base}/v1/outbox-jobs/{id}")).await;
        assert_eq!(status, 200, "{body:#}");
        body
    }
}

/// Polls `check` every 100 ms until it returns `Some`, or panics with `what` after `limit`.
pub(crate) async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("{what} did not happen within {limit:?}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub(crate) fn states_summary(
    states: &BTreeMap<String, Value>,
    ids: &[String],
) -> BTreeMap<String, usize> {
    let mut summary = BTreeMap::new();
    for id in ids {
        let state = states[id]["state"].as_str().unwrap_or("?").to_owned();
        *summary.entry(state).or_default() += 1;
    }
    summary
}
