//! The HTTP side: routing, authentication, faults and idempotency keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use actix_web::http::header::{AUTHORIZATION, HeaderName};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use tokio::sync::mpsc;

use super::Faults;
use super::state::{
    Call, IdempotencyScope, Provider, Reply, ReportRequest, SimState, fingerprint, now,
};

/// The longest `Idempotency-Key` accepted (WIRE.md).
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
/// How long a timed-out call hangs when `hang_ms` is not set.
pub(crate) const DEFAULT_HANG_MS: u64 = 30_000;
/// How often a call caught in a refusal window checks whether the window is over.
const REFUSE_POLL: Duration = Duration::from_millis(20);

/// Sent by `/_sim/faults` and [`super::SimHandle`] to the task that owns the listener.
#[derive(Debug)]
pub(crate) enum Command {
    /// Close the listener for this long, then listen again on the same port.
    Refuse(Duration),
    /// Stop serving; the sender is told once the listener is closed.
    Stop(tokio::sync::oneshot::Sender<()>),
}

/// The faults in force, and whether the listener is (about to be) closed.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub faults: Faults,
    /// Set from a `refuse_for_ms` until the listener is open again.
    pub refusing: bool,
}

/// What every worker shares: the state, the faults and how to reach the supervisor.
#[derive(Debug)]
pub(crate) struct Shared {
    pub state: Mutex<SimState>,
    pub faults: Mutex<FaultState>,
    /// `None`: any non-empty bearer key is accepted.
    pub api_key: Option<String>,
    pub base_url: String,
    /// Where launch links point: the public URL, else `base_url`.
    pub launch_base_url: String,
    pub commands: mpsc::UnboundedSender<Command>,
    /// The `whsec_…` secret report deliveries are signed with; `None`: no deliveries.
    pub webhook_secret: Option<String>,
    /// The client report deliveries are made with.
    pub http: reqwest::Client,
}

/// Locks a mutex, recovering the data if a holder panicked.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Puts faults in force (`PUT /_sim/faults`). `refuse_for_ms` is an action, not a
    /// lasting fault: it is handed to the supervisor and stored as 0.
    pub(crate) fn apply_faults(&self, mut faults: Faults) {
        let refuse_for_ms = std::mem::take(&mut faults.refuse_for_ms);
        let mut current = lock(&self.faults);
        current.faults = faults;
        if refuse_for_ms > 0 {
            let command = Command::Refuse(Duration::from_millis(refuse_for_ms));
            if self.commands.send(command).is_ok() {
                current.refusing = true;
            } else {
                tracing::warn!("provider-sim: cannot refuse connections, the server is stopped");
            }
        }
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).faults = Faults::default();
    }
}

/// What a fault draw decided for one provider call.
enum Draw {
    Fail,
    Proceed { hang: Option<Duration> },
}

/// `fail_next`, then `fail_rate`, then `timeout_rate` (WIRE.md order).
fn draw(faults: &mut Faults) -> Draw {
    if faults.fail_next > 0 {
        faults.fail_next -= 1;
        return Draw::Fail;
    }
    if faults.fail_rate > 0.0 && rand::random::<f64>() < faults.fail_rate {
        return Draw::Fail;
    }
    let hang = (faults.timeout_rate > 0.0 && rand::random::<f64>() < faults.timeout_rate)
        .then(|| Duration::from_millis(faults.hang_ms.unwrap_or(DEFAULT_HANG_MS)));
    Draw::Proceed { hang }
}

fn respond(reply: Reply, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    if replayed {
        builder.insert_header((HeaderName::from_static("idempotent-replayed"), "true"));
    }
    match reply.body {
        Some(body) => builder.json(body),
        None => builder.finish(),
    }
}

/// The one handler: everything is routed by hand so every answer is WIRE.md JSON.
pub(crate) async fn entry(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let response = route(&req, &body, &shared).await;
    tracing::debug!(
        method = %req.method(),
        path = %req.path(),
        status = response.status().as_u16(),
        "provider-sim request"
    );
    response
}

async fn route(req: &HttpRequest, body: &[u8], shared: &Arc<Shared>) -> HttpResponse {
    let segments: Vec<&str> = req.path().split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["_sim", rest @ ..] => control(req.method(), rest, body, shared),
        ["exercise", "launch", token] => {
            if req.method() != Method::GET {
                return respond(Reply::method_not_allowed(), false);
            }
            respond(lock(&shared.state).landing(token, now()), false)
        }
        [first, rest @ ..] => match Provider::from_segment(first) {
            Some(provider) => provider_call(provider, req, rest, body, shared).await,
            None => respond(Reply::not_found(), false),
        },
        [] => respond(Reply::not_found(), false),
    }
}

/// A call to one of the provider APIs: faults, authentication, idempotency, work.
async fn provider_call(
    provider: Provider,
    req: &HttpRequest,
    segments: &[&str],
    body: &[u8],
    shared: &Arc<Shared>,
) -> HttpResponse {
    // refuse: the listener is about to close (or is closed); hold the call until the
    // server drops its connections, or serve it if the window is somehow already over.
    while lock(&shared.faults).refusing {
        tokio::time::sleep(REFUSE_POLL).await;
    }

    let latency_ms = lock(&shared.faults).faults.latency_ms;
    if latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }

    let drawn = draw(&mut lock(&shared.faults).faults);
    let hang = match drawn {
        Draw::Fail => {
            return respond(
                Reply::error(503, "simulated_failure", "simulated provider failure"),
                false,
            );
        }
        Draw::Proceed { hang } => hang,
    };

    let (reply, replayed) = authorised_call(provider, req, segments, body, shared);

    if let Some(hang) = hang {
        tokio::time::sleep(hang).await;
    }
    respond(reply, replayed)
}

/// Checks the bearer key and the idempotency key, then does the work under one lock.
fn authorised_call(
    provider: Provider,
    req: &HttpRequest,
    segments: &[&str],
    body: &[u8],
    shared: &Shared,
) -> (Reply, bool) {
    let api_key = match bearer_key(req, shared) {
        Ok(key) => key,
        Err(reply) => return (reply, false),
    };
    let mutating = matches!(
        *req.method(),
        Method::POST | Method::PATCH | Method::DELETE | Method::PUT
    );
    let idempotency_key = if mutating {
        match idempotency_key(req) {
            Ok(key) => key,
            Err(reply) => return (reply, false),
        }
    } else {
        None
    };
    let query: HashMap<String, String> =
        web::Query::<HashMap<String, String>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default();
    let call = Call {
        method: req.method().as_str(),
        segments,
        query: &query,
        body,
        now: now(),
        base_url: &shared.launch_base_url,
    };
    let mut state = lock(&shared.state);
    match idempotency_key {
        Some(key) => {
            let scope = IdempotencyScope {
                provider,
                api_key,
                key,
            };
            let print = fingerprint(req.method().as_str(), req.path(), body);
            state.run_idempotent(scope, print, |state| state.handle(provider, &call))
        }
        None => (state.handle(provider, &call), false),
    }
}

/// The bearer key of the call: `401 unauthorized` if missing, empty or not the one
/// configured.
fn bearer_key(req: &HttpRequest, shared: &Shared) -> Result<String, Reply> {
    let unauthorized = |message: &str| Reply::error(401, "unauthorized", message);
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing Authorization: Bearer <API key>"))?;
    let value = header
        .to_str()
        .map_err(|_| unauthorized("unreadable Authorization header"))?;
    let key = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .filter(|key| !key.is_empty())
        .ok_or_else(|| unauthorized("expected Authorization: Bearer <API key>"))?;
    match &shared.api_key {
        Some(expected) if expected != key => Err(unauthorized("wrong API key")),
        _ => Ok(key.to_owned()),
    }
}

/// The `Idempotency-Key` of a mutating call: 1 to 255 characters, and required (`400
/// missing_idempotency_key`), so that a client that stops sending it fails loudly here.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, Reply> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Err(Reply::error(
            400,
            "missing_idempotency_key",
            "every POST, PATCH, PUT and DELETE carries an Idempotency-Key",
        ));
    };
    let invalid = || {
        Reply::error(
            422,
            "invalid_idempotency_key",
            format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible characters"),
        )
    };
    let key = value.to_str().map_err(|_| invalid())?;
    let chars = key.chars().count();
    if chars == 0 || chars > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(invalid());
    }
    Ok(Some(key.to_owned()))
}

/// `/_sim/*`: never faulted, never authenticated.
fn control(method: &Method, segments: &[&str], body: &[u8], shared: &Arc<Shared>) -> HttpResponse {
    let reply = match (method.as_str(), segments) {
        ("GET", ["state"]) => Reply::json(200, lock(&shared.state).snapshot()),
        ("GET", ["faults"]) => Reply::json(
            200,
            serde_json::to_value(&lock(&shared.faults).faults).unwrap_or_default(),
        ),
        ("PUT", ["faults"]) => match parse_faults(body) {
            Ok(faults) => {
                shared.apply_faults(faults);
                Reply::no_content()
            }
            Err(reply) => reply,
        },
        ("DELETE", ["faults"]) => {
            shared.clear_faults();
            Reply::no_content()
        }
        ("POST", ["imaging", "referrals", id, "report"]) => report(id, body, shared),
        (_, ["state"] | ["faults"] | ["imaging", "referrals", _, "report"]) => {
            Reply::method_not_allowed()
        }
        _ => Reply::not_found(),
    };
    respond(reply, false)
}

/// `POST /_sim/imaging/referrals/{id}/report`: starts delivering a report for the referral
/// to its callback URL, signed (`409 no_webhook_secret` when the simulator has no secret),
/// and answers `202` with the delivery's `webhook_id` at once.
fn report(referral_id: &str, body: &[u8], shared: &Arc<Shared>) -> Reply {
    let Some(secret) = shared.webhook_secret.clone() else {
        return Reply::error(
            409,
            "no_webhook_secret",
            "start the simulator with --webhook-secret to deliver reports",
        );
    };
    let request: ReportRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ReportRequest::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(e) => return Reply::error(422, "invalid_body", e.to_string()),
        }
    };
    let delivery = match lock(&shared.state).prepare_report(referral_id, request) {
        Ok(delivery) => delivery,
        Err(reply) => return reply,
    };
    let answer = serde_json::json!({
        "webhook_id": delivery.webhook_id,
        "referral_id": referral_id,
        "callback_url": delivery.callback_url,
    });
    actix_web::rt::spawn(super::webhooks::deliver(
        Arc::clone(shared),
        secret,
        delivery,
    ));
    Reply::json(202, answer)
}

/// A `PUT /_sim/faults` body; an empty body means no faults.
fn parse_faults(body: &[u8]) -> Result<Faults, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Faults::default());
    }
    let faults: Faults = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Reply::error(422, "invalid_faults", e.to_string()),
        _ => Reply::error(400, "invalid_json", e.to_string()),
    })?;
    faults
        .validate()
        .map_err(|message| Reply::error(422, "invalid_faults", message))?;
    Ok(faults)
}
