//! Harness of the black-box tests: `TestApp::spawn()` creates a fresh database (SQLite, or
//! PostgreSQL when `STAFFROOM_TEST_DATABASE_URL` is set), bootstraps a site with a site
//! administrator, starts the real server on `127.0.0.1:0` and talks to it over HTTP.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test harness: failures should panic"
)]
#![allow(clippy::missing_panics_doc)]

pub mod conformance;
pub mod exercise;
pub mod fixtures;

use std::sync::{Arc, Once};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use staffroom_api::app;
use staffroom_api::auth::password::{self, Hashing};
use staffroom_api::auth::tokens::TokenKeys;
use staffroom_api::outbox::{Outbox, OutboxConfig};
use staffroom_api::providers::simulated;
use staffroom_api::rate_limit::RateLimiter;
use staffroom_api::state::AppState;
use staffroom_api::webhooks::WebhookSecret;
use staffroom_connectors::sim::{self, Faults, SimHandle, SimOptions};
use staffroom_domain::RetryPolicy;
use staffroom_domain::{
    Email, EntityName, LicencePlan, PersonName, Profession, SiteId, SiteSettings, UserId, UserType,
};
use staffroom_persistence::Pool;
use staffroom_persistence::bootstrap::{self, NewSite};
use staffroom_persistence::testing::TestDatabase;
use staffroom_persistence::users::NewUser;

pub use serde_json;

/// Whether an operation of the OpenAPI document takes a bearer token (it names `bearer`,
/// or inherits the document's); the others are public (`[{}]`) or signed webhooks.
pub fn takes_bearer(operation: &Value) -> bool {
    operation.get("security").is_none_or(|requirements| {
        requirements
            .as_array()
            .is_some_and(|all| all.iter().any(|r| r.get("bearer").is_some()))
    })
}

/// The signing secret of test servers.
pub const JWT_SECRET: &[u8] = b"test-secret-test-secret-test-secret!!";
/// The secret test servers and their simulators sign and check imaging webhook deliveries
/// with.
pub const WEBHOOK_SECRET: &str = "whsec_dGVzdC13ZWJob29rLXNlY3JldC10ZXN0LXdlYmhvb2s=";
/// Password of every user the harness creates.
pub const PASSWORD: &str = "correct horse battery";

/// A bootstrapped site: its id and its first administrator.
#[derive(Debug, Clone)]
pub struct TestSite {
    pub site_id: SiteId,
    pub admin_id: UserId,
    pub admin_email: String,
    pub clinic_id: String,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub pool: Pool,
    pub site: TestSite,
    /// The provider simulator this server talks to (its own, on loopback).
    pub sim: SimHandle,
    handle: actix_web::dev::ServerHandle,
    stop_worker: tokio::sync::watch::Sender<bool>,
    /// Dropped last: drops the PostgreSQL database.
    pub db: TestDatabase,
}

/// The answer of one request: status, headers and the JSON body (or `Null`).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `(field, code)` pairs of a `validation_failed` problem's `errors`.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        let errors = self.body["errors"].as_array();
        let errors = errors.unwrap_or_else(|| panic!("no errors: {:#}", self.body));
        let text = |e: &Value, key: &str| e[key].as_str().unwrap_or("").to_owned();
        errors
            .iter()
            .map(|e| (text(e, "field"), text(e, "code")))
            .collect()
    }

    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {:#}",
            self.body
        );
        self
    }

    /// A `401 invalid_token` problem with a `Bearer` challenge.
    pub fn expect_invalid_token(self) -> Self {
        let answer = self.expect_problem(401, "invalid_token");
        let challenge = answer.header("www-authenticate").unwrap_or("");
        assert!(
            challenge.starts_with("Bearer"),
            "WWW-Authenticate should be a Bearer challenge, got {challenge:?}"
        );
        answer
    }

    /// Asserts an error answer: status, problem media type and code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {:#}",
            self.body
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(self.code(), code, "unexpected problem: {:#}", self.body);
        self
    }
}

fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Bootstraps a site with one clinic (`Main`) and a site admin who can log in.
pub fn create_site(pool: &Pool, name: &str, plan: LicencePlan, admin_email: &str) -> TestSite {
    let new = NewSite {
        name: EntityName::parse(name).unwrap(),
        plan,
        settings: SiteSettings::default(),
        clinic_name: EntityName::parse("Main").unwrap(),
        admin: NewUser {
            title: None,
            first_name: PersonName::parse("Ada").unwrap(),
            last_name: PersonName::parse("Admin").unwrap(),
            email: Email::parse(admin_email).unwrap(),
            user_type: UserType::NonClinical,
            profession: Profession::Other,
            permissions: Vec::new(),
            clinic_ids: Vec::new(),
            default_clinic_id: None,
            password_hash: Some(password::hash(PASSWORD).unwrap()),
            external_id: None,
            user_name: None,
            email_primary: None,
        },
    };
    let created = bootstrap::create_site(&mut pool.get().unwrap(), new).unwrap();
    TestSite {
        site_id: created.site_id,
        admin_id: created.admin_user_id,
        admin_email: admin_email.to_owned(),
        clinic_id: created.clinic_id.to_string(),
    }
}

/// Options of a test server.
#[derive(Debug, Clone)]
pub struct Options {
    pub plan: LicencePlan,
    pub max_body_bytes: usize,
    pub require_if_match: bool,
    /// Requests per second and burst per credential; `(0, _)` disables the limit.
    pub rate_limit: (u32, u32),
    /// How the outbox is worked: fast retries, a 1 s inline budget.
    pub outbox: OutboxConfig,
    /// Longest provider call.
    pub provider_timeout: Duration,
    /// Run the outbox worker in the server (off to watch jobs stay pending).
    pub worker: bool,
    /// Send email through the simulator instead of the database sink.
    pub email_via_sim: bool,
    /// Password hashes and checks at once, and the longest wait for a permit (by default
    /// long: tests that create many users with a password at once are not about the bound,
    /// which `auth.rs` tests with a wait of its own).
    pub hashing: (usize, Duration),
}

/// Outbox settings for tests: retries after 50–100 ms, idle polls every 50 ms.
pub fn test_outbox() -> OutboxConfig {
    OutboxConfig {
        policy: RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
            max_attempts: None,
        },
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(50),
        batch: 32,
        inline_budget: Duration::from_secs(1),
        worker_name: "test".to_owned(),
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            plan: LicencePlan::Group { licences: 50 },
            max_body_bytes: 1024 * 1024,
            require_if_match: false,
            rate_limit: (0, 1),
            outbox: test_outbox(),
            provider_timeout: Duration::from_millis(500),
            worker: true,
            email_via_sim: false,
            hashing: (Hashing::default_permits(), Duration::from_secs(60)),
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> Self {
        install_crypto();
        let db = TestDatabase::create().expect("test database");
        let pool = db.pool(8).expect("migrated pool");
        let site = create_site(&pool, "Test Practice", options.plan, "admin@example.test");
        let options_of_sim = SimOptions {
            webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
            ..SimOptions::default()
        };
        let sim = sim::start(([127, 0, 0, 1], 0).into(), options_of_sim)
            .await
            .expect("simulator starts");
        // Bound first, so that the server knows its own address: referrals name it as their
        // callback, and the simulator delivers reports there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let public_url = format!("http://{}", listener.local_addr().expect("bound address"));
        let providers = simulated(&sim, &pool, options.provider_timeout, options.email_via_sim);
        let outbox = Arc::new(Outbox::new(pool.clone(), providers, options.outbox.clone()));
        let state = AppState {
            max_body_bytes: options.max_body_bytes,
            require_if_match: options.require_if_match,
            limiter: Arc::new(RateLimiter::new(options.rate_limit.0, options.rate_limit.1)),
            hashing: Arc::new(Hashing::new(options.hashing.0, options.hashing.1)),
            public_url,
            imaging_webhook: Some(Arc::new(
                WebhookSecret::parse(WEBHOOK_SECRET).expect("a whsec_ secret"),
            )),
            ..AppState::new(pool.clone(), TokenKeys::hs256(JWT_SECRET), outbox.calls())
        };
        let (stop_worker, stopped) = tokio::sync::watch::channel(false);
        if options.worker {
            outbox.spawn_worker(stopped);
        }
        let running = app::start_on(state, listener, Some(2)).expect("server starts");
        let handle = running.handle.clone();
        tokio::spawn(running.server);
        Self {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            pool,
            site,
            sim,
            handle,
            stop_worker,
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let method_name = method.to_string();
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = Self::answer(request.send().await.expect("request sent")).await;
        conformance::check_documented(&method_name, path, &answer);
        answer
    }

    /// Turns a response into an `Answer`, checking a problem answer's code and status.
    pub async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        let answer = Answer {
            status,
            headers,
            body,
        };
        conformance::check_problem(&answer);
        answer
    }

    pub async fn get(&self, token: &str, path: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Answer {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Logs in and returns the access token; panics unless the login succeeds.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let answer = self.login_answer(email, password).await.expect(200);
        answer.body["access_token"].as_str().unwrap().to_owned()
    }

    /// The answer of `POST /v1/auth/login` with `email` and `password`.
    pub async fn login_answer(&self, email: &str, password: &str) -> Answer {
        self.call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// The answer of `POST /v1/invitations/{token}/accept` choosing `password`.
    pub async fn accept_invitation(&self, token: &str, password: &str) -> Answer {
        self.call(
            Method::POST,
            &format!("/v1/invitations/{token}/accept"),
            None,
            Some(json!({ "password": password })),
        )
        .await
    }

    /// Exchanges a service account's credentials for a token (`POST /v1/auth/token`).
    pub async fn exchange(&self, client_id: &str, client_secret: &str) -> Answer {
        self.call(
            Method::POST,
            "/v1/auth/token",
            None,
            Some(json!({
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
            })),
        )
        .await
    }

    /// Creates a service account holding `permissions` as `admin`; the `201` answer.
    pub async fn create_service_account(&self, admin: &str, permissions: Value) -> Answer {
        self.post(
            admin,
            "/v1/service-accounts",
            json!({"name": "Provisioning script", "permissions": permissions}),
        )
        .await
        .expect(201)
    }

    /// A token of a new service account holding `permissions`, created by `admin`.
    pub async fn service_token(&self, admin: &str, permissions: &[&str]) -> String {
        let created = self.create_service_account(admin, json!(permissions)).await;
        let text = |key: &str| created.body[key].as_str().unwrap().to_owned();
        let answer = self
            .exchange(&text("client_id"), &text("client_secret"))
            .await
            .expect(200);
        answer.body["access_token"].as_str().unwrap().to_owned()
    }

    /// The audit events of `action` (`GET /v1/audit-events?action=`), newest first.
    pub async fn audit_events(&self, token: &str, action: &str) -> Vec<Value> {
        let path = format!("/v1/audit-events?action={}", enc(action));
        let page = self.get(token, &path).await.expect(200).body;
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// The OpenAPI document the server serves.
    pub async fn document(&self) -> Value {
        let response = self.client.get(self.url("/openapi.json")).send().await;
        response.unwrap().json().await.unwrap()
    }

    /// A token of the bootstrapped site administrator.
    pub async fn admin_token(&self) -> String {
        self.login(&self.site.admin_email, PASSWORD).await
    }

    /// Creates a user through the API (with the harness password) and returns its JSON.
    pub async fn create_user(&self, token: &str, body: Value) -> Value {
        let mut body = body;
        if body.get("initial_password").is_none() {
            body["initial_password"] = json!(PASSWORD);
        }
        self.post(token, "/v1/users", body).await.expect(201).body
    }

    /// A second site in the same database (for tenancy tests).
    pub fn other_site(&self, name: &str, admin_email: &str) -> TestSite {
        create_site(
            &self.pool,
            name,
            LicencePlan::Group { licences: 10 },
            admin_email,
        )
    }

    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

/// The Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
/// of `body` signed with `secret` at `timestamp` (Unix seconds), as a provider sends them.
pub fn webhook_headers(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let signature = standardwebhooks::Webhook::new(secret)
        .unwrap()
        .sign(id, timestamp, body)
        .unwrap();
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ]
}

/// Sends a request with an optional `If-Match` header and JSON body.
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let method_name = method.to_string();
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = TestApp::answer(request.send().await.expect("request sent")).await;
    conformance::check_documented(&method_name, path, &answer);
    answer
}

/// The link every invitation email carries, up to the token.
pub const INVITATION_LINK: &str = "/accept-invitation?token=";

/// The token of the invitation link in a message (as `staffroom mail list` shows it).
pub fn invitation_token(message: &Value) -> String {
    let body = message["body"].as_str().expect("a message body");
    let (_, rest) = body
        .split_once(INVITATION_LINK)
        .unwrap_or_else(|| panic!("no invitation link in {body:?}"));
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(token.len() >= 32, "a short token {token:?} in {body:?}");
    token
}

/// The `id` of a JSON resource.
pub fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .expect("the resource has an id")
        .to_owned()
}

/// Creates a clinic through the API and returns its id.
pub async fn add_clinic(app: &TestApp, token: &str, name: &str) -> String {
    id_of(
        &app.post(token, "/v1/clinics", json!({ "name": name }))
            .await
            .expect(201)
            .body,
    )
}

/// Reads a user through the API.
pub async fn read_user(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(token, &format!("/v1/users/{id}"))
        .await
        .expect(200)
        .body
}

/// The strings of a JSON array, as a set.
pub fn strings(value: &Value) -> std::collections::BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

/// A set of owned strings.
pub fn set(items: &[&str]) -> std::collections::BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Percent-encodes a query parameter value.
pub fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl TestApp {
    /// Everything the simulator holds (`GET /_sim/state`).
    pub fn sim_state(&self) -> Value {
        self.sim.state()
    }

    /// Injects provider faults.
    pub fn set_faults(&self, faults: Faults) {
        self.sim.set_faults(faults);
    }

    /// Mail kept by the database sink, oldest first, optionally only to `to`.
    pub fn mail(&self, to: Option<&str>) -> Vec<Value> {
        let mut conn = self.pool.get().unwrap();
        staffroom_persistence::mail::list(&mut conn, to)
            .unwrap()
            .iter()
            .map(|m| serde_json::to_value(m).unwrap())
            .collect()
    }

    /// Waits (up to 10 s) until at least `count` messages to `email` have been sent and
    /// returns them all, oldest first.
    pub async fn mail_to(&self, email: &str, count: usize) -> Vec<Value> {
        let within = Duration::from_secs(10);
        self.eventually(within, || async {
            let mail = self.mail(Some(email));
            (mail.len() >= count).then_some(mail)
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "{count} message(s) to {email} not sent within {within:?}; sink holds {:#?}",
                self.mail(None)
            )
        })
    }

    /// Polls `check` every 50 ms until it returns `Some`, for at most `within`.
    pub async fn eventually<T, F, Fut>(&self, within: Duration, mut check: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(found) = check().await {
                return Some(found);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop_worker.send(true);
        let stop = self.handle.stop(false);
        let sim = self.sim.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(stop);
            runtime.spawn(sim.stop());
        }
    }
}
