//! HTTP implementations of the provider traits over `reqwest`.
//!
//! Each client speaks one of the wire formats written down in `WIRE.md` beside this crate
//! (the contract; read it before changing anything here):
//!
//! * [`HttpExercise`] implements [`ExerciseProvider`](crate::ExerciseProvider) over the
//!   exercise-prescription format (`/v1/clinics/...`);
//! * [`HttpImaging`] implements [`ImagingProvider`](crate::ImagingProvider) over the imaging
//!   (scan-referral) format (`/v1/users/...`);
//! * [`HttpEmail`] implements [`EmailSender`](crate::EmailSender) over the email format
//!   (`/v1/messages`).
//!
//! All three share WIRE.md's common rules, implemented once here:
//!
//! * paths are relative to the configured base URL, which may carry a path of its own (the
//!   simulator's `http://HOST:PORT/exercise`); a trailing `/` is ignored, and every
//!   identifier put into a path is percent-encoded as one segment;
//! * every call carries `Authorization: Bearer <api key>`; every mutating call (`POST`,
//!   `PATCH`, `DELETE`) carries `Idempotency-Key`, and reads (`GET`) never do;
//! * redirects are not followed (a `3xx` is a permanent refusal like any other non-`5xx`).
//!
//! Failures are sorted into [`ProviderError`]:
//!
//! * no answer — timeout, refused or reset connection, any other transport failure —
//!   is transient;
//! * a non-`2xx` answer goes through [`ProviderError::from_response`]: `5xx`, `408` and
//!   `429` are transient, anything else is permanent with the provider's `code` and
//!   `message`;
//! * a `2xx` answer whose body does not parse is transient (`unreadable answer: …`), see
//!   `Transport::parse` for why;
//! * a call that cannot be put on the wire at all (an identifier that is not a path
//!   segment, an idempotency key WIRE.md does not allow) or a configuration the client
//!   cannot be built from is permanent with `status: 0`: nothing reached the provider,
//!   and retrying the same input cannot help.
//!
//! The API key never appears in `Debug` output or in any error text: it only travels in a
//! header marked sensitive, and provider text quoted in errors is scrubbed of it.

mod email;
mod exercise;
mod imaging;

pub use email::HttpEmail;
pub use exercise::HttpExercise;
pub use imaging::HttpImaging;

use std::error::Error as _;
use std::fmt;
use std::sync::Once;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ProviderCode, ProviderError, ProviderResult};

/// WIRE.md: "`Idempotency-Key: <opaque string, at most 255 characters>`".
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// Where a provider lives and how to talk to it.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// The provider's base URL; WIRE.md's paths are appended to it.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <api_key>`. Never printed.
    pub api_key: String,
    /// The longest wait for a TCP connection.
    pub connect_timeout: Duration,
    /// The longest wait for a whole call, connection and answer body included.
    pub request_timeout: Duration,
}

impl HttpConfig {
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

    /// A configuration with the default timeouts (connect 2 s, whole call 5 s).
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: api_key.into(),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
        }
    }

    #[must_use]
    pub fn with_timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.connect_timeout = connect;
        self.request_timeout = request;
        self
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"***")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// The workspace builds `reqwest` with `rustls-no-provider`, so a process-wide crypto
/// provider must be installed before the first client is built. Installing fails when one
/// is already installed (by us or by the embedding program), which is fine either way.
pub(crate) fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A call that never reached the provider because it cannot be made as asked.
///
/// [`ProviderError`] has no variant for "not sent"; this is permanent (retrying the same
/// input cannot help) with `status: 0`, a status no HTTP answer has.
fn not_sent(code: ProviderCode, reason: impl Into<String>) -> ProviderError {
    ProviderError::Permanent {
        status: 0,
        code: Some(code),
        reason: reason.into(),
    }
}

fn parse_base_url(raw: &str) -> ProviderResult<Url> {
    // The base URL itself is not quoted in these errors: it could carry credentials.
    let invalid = |why: String| {
        not_sent(
            ProviderCode::InvalidConfig,
            format!("invalid base URL: {why}"),
        )
    };
    let url = Url::parse(raw.trim().trim_end_matches('/')).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid("it must be an http:// or https:// URL".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not carry a query or a fragment".into()));
    }
    Ok(url)
}

/// WIRE.md allows an opaque string of at most 255 characters. It must also survive as an
/// HTTP header value unchanged, so: printable ASCII, no surrounding spaces.
fn idempotency_key_header(key: &str) -> ProviderResult<HeaderValue> {
    let valid = !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY_LEN
        && key.trim() == key
        && key.bytes().all(|b| (0x20..=0x7e).contains(&b));
    let invalid = || {
        not_sent(
            ProviderCode::InvalidIdempotencyKey,
            format!(
                "an idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII \
                 characters without surrounding spaces (got {} bytes)",
                key.len()
            ),
        )
    };
    if !valid {
        return Err(invalid());
    }
    HeaderValue::from_str(key).map_err(|_| invalid())
}

/// An error and its causes on one line (`reqwest`'s own text hides the cause, e.g.
/// "connection refused", in its source chain).
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A successful (`2xx`) answer, not yet parsed.
struct Answer {
    status: StatusCode,
    body: String,
    /// `METHOD /path` of the call, for error text (never the query: it may hold an email).
    call: String,
}

/// One provider's connection: the shared request helper every client is a thin layer over.
#[derive(Clone)]
struct Transport {
    client: reqwest::Client,
    base: Url,
    /// Kept only to scrub it from text quoted in errors.
    api_key: String,
    connect_timeout: Duration,
    request_timeout: Duration,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base.as_str())
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl Transport {
    fn new(config: HttpConfig) -> ProviderResult<Self> {
        let base = parse_base_url(&config.base_url)?;
        if config.api_key.trim().is_empty() {
            return Err(not_sent(
                ProviderCode::InvalidConfig,
                "the API key is empty",
            ));
        }
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", config.api_key)).map_err(|_| {
                not_sent(
                    ProviderCode::InvalidConfig,
                    "the API key holds characters an HTTP header cannot carry",
                )
            })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));

        install_crypto_provider();
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("staffroom-connectors/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                let reason = format!("cannot build the HTTP client: {}", describe(&e));
                not_sent(
                    ProviderCode::InvalidConfig,
                    redact(&reason, &config.api_key),
                )
            })?;
        Ok(Self {
            client,
            base,
            api_key: config.api_key,
            connect_timeout: config.connect_timeout,
            request_timeout: config.request_timeout,
        })
    }

    /// The base URL with `segments` appended, each percent-encoded as one path segment.
    fn url(&self, segments: &[&str], query: Option<(&str, &str)>) -> ProviderResult<Url> {
        // The URL parser drops `.` and `..` segments (and an empty one would merge two),
        // which would silently call another endpoint; no identifier looks like that.
        if let Some(bad) = segments.iter().find(|s| matches!(**s, "" | "." | "..")) {
            return Err(not_sent(
                ProviderCode::InvalidIdentifier,
                format!("{bad:?} cannot be used as an identifier in a provider URL"),
            ));
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                not_sent(
                    ProviderCode::InvalidConfig,
                    "invalid base URL: it cannot take a path",
                )
            })?
            .pop_if_empty()
            .extend(segments);
        if let Some((name, value)) = query {
            url.query_pairs_mut().append_pair(name, value);
        }
        Ok(url)
    }

    /// The one place a request is made. Returns the `2xx` answer, or the classified error.
    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        query: Option<(&str, &str)>,
        body: Option<&B>,
        idempotency_key: Option<&str>,
    ) -> ProviderResult<Answer> {
        let url = self.url(segments, query)?;
        let call = format!("{method} {}", url.path());
        let mut request = self.client.request(method, url);
        if let Some(key) = idempotency_key {
            request = request.header(IDEMPOTENCY_KEY, idempotency_key_header(key)?);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.no_answer(&call, e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| self.no_answer(&call, e))?;
        if status.is_success() {
            Ok(Answer { status, body, call })
        } else {
            Err(ProviderError::from_response(
                status.as_u16(),
                &redact(&body, &self.api_key),
            ))
        }
    }

    /// A read: `GET`, never an idempotency key.
    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: Option<(&str, &str)>,
    ) -> ProviderResult<T> {
        let answer = self
            .send(Method::GET, segments, query, None::<&()>, None)
            .await?;
        self.parse(&answer)
    }

    /// A mutating call: always carries the idempotency key; the answer is parsed as `T`.
    async fn mutate<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&B>,
        idempotency_key: &str,
    ) -> ProviderResult<T> {
        let answer = self
            .send(method, segments, None, body, Some(idempotency_key))
            .await?;
        self.parse(&answer)
    }

    /// `DELETE` with the idempotency key; any `2xx` is success and its body is ignored.
    async fn delete(&self, segments: &[&str], idempotency_key: &str) -> ProviderResult<()> {
        self.send(
            Method::DELETE,
            segments,
            None,
            None::<&()>,
            Some(idempotency_key),
        )
        .await
        .map(|_| ())
    }

    /// Parses a `2xx` answer.
    ///
    /// A success whose body does not parse is classified **transient**: the provider said
    /// yes but misbehaved in saying it (a truncated body, a proxy's page, a deploy in
    /// progress). Every mutating call is idempotent, so a retry with the same key gets the
    /// first call's answer replayed — likely readable this time — without doing the work
    /// twice; a permanent error would instead undo a change the provider may well have made.
    fn parse<T: DeserializeOwned>(&self, answer: &Answer) -> ProviderResult<T> {
        serde_json::from_str(&answer.body).map_err(|e| {
            let reason = format!(
                "unreadable answer: {} answered {} with a body that does not parse ({e})",
                answer.call, answer.status
            );
            ProviderError::unreachable(redact(&reason, &self.api_key))
        })
    }

    /// Classifies a call that got no (complete) answer; all of these are transient.
    fn no_answer(&self, call: &str, err: reqwest::Error) -> ProviderError {
        // The URL is left out of the text: it may carry a query (an email address).
        let err = err.without_url();
        let reason = if err.is_timeout() {
            if err.is_connect() {
                format!(
                    "timed out after {:?} connecting: {call}",
                    self.connect_timeout
                )
            } else {
                format!("timed out after {:?}: {call}", self.request_timeout)
            }
        } else if err.is_connect() {
            format!("connection failed: {call}: {}", describe(&err))
        } else if err.is_builder() {
            // Only reachable with a body `serde_json` cannot write, which none of the
            // provider types is; retrying could not help.
            return not_sent(
                ProviderCode::InvalidRequest,
                redact(
                    &format!("cannot build {call}: {}", describe(&err)),
                    &self.api_key,
                ),
            );
        } else {
            format!("request failed: {call}: {}", describe(&err))
        };
        ProviderError::unreachable(redact(&reason, &self.api_key))
    }
}

/// `text` with every occurrence of the API key replaced by `***`.
fn redact(text: &str, api_key: &str) -> String {
    if api_key.is_empty() {
        text.to_owned()
    } else {
        text.replace(api_key, "***")
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! What the client tests share.

    use wiremock::matchers::{HeaderExactMatcher, header};
    use wiremock::{Match, MockServer, Request, ResponseTemplate};

    use super::HttpConfig;
    use crate::{ProviderCode, ProviderError};

    pub const API_KEY: &str = "sk-test-7f3a9c1e5b";

    pub fn config(server: &MockServer) -> HttpConfig {
        HttpConfig::new(server.uri(), API_KEY)
    }

    /// `Authorization: Bearer <API_KEY>`.
    pub fn authorized() -> HeaderExactMatcher {
        header("authorization", format!("Bearer {API_KEY}").as_str())
    }

    pub fn idempotency_key(key: &str) -> HeaderExactMatcher {
        header("idempotency-key", key)
    }

    pub fn without_idempotency_key() -> impl Match {
        |request: &Request| !request.headers.contains_key("idempotency-key")
    }

    pub fn json_content() -> HeaderExactMatcher {
        header("content-type", "application/json")
    }

    /// A WIRE.md error answer.
    pub fn problem(status: u16, code: &str, message: &str) -> ResponseTemplate {
        ResponseTemplate::new(status)
            .set_body_json(serde_json::json!({"code": code, "message": message}))
    }

    pub fn assert_permanent(err: &ProviderError, status: u16, code: &str, message: &str) {
        assert_eq!(
            err,
            &ProviderError::Permanent {
                status,
                code: Some(ProviderCode::parse(code)),
                reason: message.to_owned(),
            }
        );
    }

    pub fn assert_transient(err: &ProviderError, contains: &str) {
        match err {
            ProviderError::Transient { reason } => assert!(
                reason.contains(contains),
                "{reason:?} should contain {contains:?}"
            ),
            other => panic!("expected a transient error, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::testing::*;
    use super::*;
    use crate::{EmailMessage, EmailSender, ExerciseProvider};

    fn clinic_answer() -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({"clm_id": "CLM-1", "name": "North"}))
    }

    fn message() -> EmailMessage {
        EmailMessage {
            to: "a@example.com".into(),
            subject: "Hello".into(),
            body: "Welcome".into(),
        }
    }

    /// A port nothing listens on.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        port
    }

    #[test]
    fn config_debug_never_prints_the_api_key() {
        let config = HttpConfig::new("http://provider.test", API_KEY);
        let printed = format!("{config:?}");
        assert!(!printed.contains(API_KEY), "{printed}");
        assert!(printed.contains("api_key: \"***\""), "{printed}");
        assert!(printed.contains("http://provider.test"), "{printed}");
        let pretty = format!("{config:#?}");
        assert!(!pretty.contains(API_KEY), "{pretty}");
    }

    #[test]
    fn config_has_default_timeouts_and_with_timeouts_overrides_them() {
        let config = HttpConfig::new("http://provider.test", "k");
        assert_eq!(config.base_url, "http://provider.test");
        assert_eq!(config.api_key, "k");
        assert_eq!(config.connect_timeout, Duration::from_secs(2));
        assert_eq!(config.request_timeout, Duration::from_secs(5));
        let config = config.with_timeouts(Duration::from_millis(100), Duration::from_millis(300));
        assert_eq!(config.connect_timeout, Duration::from_millis(100));
        assert_eq!(config.request_timeout, Duration::from_millis(300));
    }

    #[test]
    fn unusable_configurations_are_refused_when_building_a_client() {
        for base in [
            "",
            "not a url",
            "localhost:8080",
            "ftp://x.test",
            "http://x.test/?a=1",
        ] {
            let err = HttpExercise::new(HttpConfig::new(base, API_KEY)).unwrap_err();
            assert!(
                matches!(
                    &err,
                    ProviderError::Permanent {
                        status: 0,
                        code: Some(ProviderCode::InvalidConfig),
                        ..
                    }
                ),
                "{base:?}: {err:?}"
            );
        }
        for key in ["", "   ", "line\nbreak"] {
            let err = HttpEmail::new(HttpConfig::new("http://x.test", key)).unwrap_err();
            assert!(!err.is_transient(), "{key:?}: {err:?}");
            assert!(err.to_string().contains("API key"), "{err}");
        }
        let debug = format!(
            "{:?}",
            HttpImaging::new(HttpConfig::new("http://x.test", API_KEY))
        );
        assert!(!debug.contains(API_KEY), "{debug}");
    }

    #[tokio::test]
    async fn the_base_urls_path_is_kept_and_a_trailing_slash_ignored() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/exercise/v1/clinics/CLM-1"))
            .and(authorized())
            .respond_with(clinic_answer())
            .expect(2)
            .mount(&server)
            .await;
        for base in [
            format!("{}/exercise", server.uri()),
            format!("{}/exercise/", server.uri()),
        ] {
            let client = HttpExercise::new(HttpConfig::new(base, API_KEY)).unwrap();
            assert_eq!(client.find_clinic("CLM-1").await.unwrap().name, "North");
        }
    }

    #[tokio::test]
    async fn server_errors_throttling_and_request_timeouts_are_transient() {
        let server = MockServer::start().await;
        let exercise = HttpExercise::new(config(&server)).unwrap();
        let email = HttpEmail::new(config(&server)).unwrap();
        for status in [500, 502, 503, 429, 408] {
            server.reset().await;
            Mock::given(method("GET"))
                .respond_with(problem(status, "busy", "try later"))
                .mount(&server)
                .await;
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(status))
                .mount(&server)
                .await;
            let err = exercise.find_clinic("CLM-1").await.unwrap_err();
            assert_transient(&err, &format!("HTTP {status}: try later"));
            let err = email.send(&message(), "key-1").await.unwrap_err();
            assert_transient(&err, &format!("HTTP {status}"));
        }
    }

    #[tokio::test]
    async fn other_client_errors_and_redirects_are_permanent() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/clinics/CLM-401"))
            .respond_with(problem(401, "unauthorized", "wrong key"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/clinics/CLM-302"))
            .respond_with(ResponseTemplate::new(302).insert_header("location", "/elsewhere"))
            .mount(&server)
            .await;
        let exercise = HttpExercise::new(config(&server)).unwrap();
        let err = exercise.find_clinic("CLM-401").await.unwrap_err();
        assert_permanent(&err, 401, "unauthorized", "wrong key");
        let err = exercise.find_clinic("CLM-302").await.unwrap_err();
        assert!(
            matches!(err, ProviderError::Permanent { status: 302, .. }),
            "{err:?}"
        );
        // The redirect was not followed.
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_slow_answer_times_out_as_transient_well_before_it_arrives() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(
                ResponseTemplate::new(202)
                    .set_body_json(json!({"id": "msg-1", "accepted_at": "2026-01-01T00:00:00Z"}))
                    .set_delay(Duration::from_secs(3)),
            )
            .mount(&server)
            .await;
        let config =
            config(&server).with_timeouts(Duration::from_secs(1), Duration::from_millis(200));
        let email = HttpEmail::new(config).unwrap();
        let started = Instant::now();
        let err = email.send(&message(), "key-1").await.unwrap_err();
        let elapsed = started.elapsed();
        assert_transient(&err, "timed out after 200ms");
        assert!(err.to_string().contains("POST /v1/messages"), "{err}");
        assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_transient() {
        let base = format!("http://127.0.0.1:{}", closed_port());
        let exercise = HttpExercise::new(HttpConfig::new(base, API_KEY)).unwrap();
        let err = exercise.find_clinic("CLM-1").await.unwrap_err();
        assert_transient(&err, "connection failed: GET /v1/clinics/CLM-1");
        assert!(!err.to_string().contains(API_KEY), "{err}");
    }

    #[tokio::test]
    async fn a_success_with_an_unparseable_body_is_transient() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>gateway</html>"))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({"no_id": true})))
            .mount(&server)
            .await;
        let exercise = HttpExercise::new(config(&server)).unwrap();
        let err = exercise.find_clinic("CLM-1").await.unwrap_err();
        assert_transient(
            &err,
            "unreadable answer: GET /v1/clinics/CLM-1 answered 200 OK",
        );
        let email = HttpEmail::new(config(&server)).unwrap();
        let err = email.send(&message(), "key-1").await.unwrap_err();
        assert_transient(
            &err,
            "unreadable answer: POST /v1/messages answered 202 Accepted",
        );
    }

    #[tokio::test]
    async fn the_api_key_never_appears_in_error_text() {
        let server = MockServer::start().await;
        // A provider that echoes the key back, in an error and in an unreadable success.
        Mock::given(method("GET"))
            .and(path("/v1/clinics/CLM-1"))
            .respond_with(problem(401, "unauthorized", &format!("bad key {API_KEY}")))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/clinics/CLM-2"))
            .respond_with(problem(503, "down", &format!("key {API_KEY} throttled")))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/clinics/CLM-3"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"clm_id": API_KEY})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/clinics/CLM-4"))
            .respond_with(clinic_answer().set_delay(Duration::from_secs(2)))
            .mount(&server)
            .await;
        let short =
            config(&server).with_timeouts(Duration::from_secs(1), Duration::from_millis(200));
        let exercise = HttpExercise::new(short).unwrap();
        let refused = HttpExercise::new(HttpConfig::new(
            format!("http://127.0.0.1:{}", closed_port()),
            API_KEY,
        ))
        .unwrap();
        let errors = [
            exercise.find_clinic("CLM-1").await.unwrap_err(),
            exercise.find_clinic("CLM-2").await.unwrap_err(),
            exercise.find_clinic("CLM-3").await.unwrap_err(),
            exercise.find_clinic("CLM-4").await.unwrap_err(),
            refused.find_clinic("CLM-1").await.unwrap_err(),
        ];
        for err in &errors {
            let text = format!("{err} {err:?}");
            assert!(!text.contains(API_KEY), "{text}");
        }
        assert_permanent(&errors[0], 401, "unauthorized", "bad key ***");
    }

    #[tokio::test]
    async fn unusable_idempotency_keys_are_refused_without_a_call() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({"id": "m"})))
            .mount(&server)
            .await;
        let email = HttpEmail::new(config(&server)).unwrap();
        let too_long = "k".repeat(256);
        for key in ["", " padded", "new\nline", "caf\u{e9}", too_long.as_str()] {
            let err = email.send(&message(), key).await.unwrap_err();
            assert!(
                matches!(
                    &err,
                    ProviderError::Permanent {
                        status: 0,
                        code: Some(ProviderCode::InvalidIdempotencyKey),
                        ..
                    }
                ),
                "{key:?}: {err:?}"
            );
        }
        assert!(server.received_requests().await.unwrap().is_empty());
        // The longest allowed key goes through.
        let longest = "k".repeat(255);
        assert_eq!(email.send(&message(), &longest).await.unwrap().id, "m");
    }
}
