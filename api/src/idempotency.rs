//! `Idempotency-Key` on `POST`: a retry with the same key and body returns the first
//! answer (with `Idempotent-Replayed: true`) instead of acting twice; the same key with a
//! different body answers `422 idempotency_key_reused`; a retry while the first request
//! still runs answers `409 idempotency_key_in_use`. Keys are scoped to the authenticated
//! principal; only successful (2xx) answers are remembered, so a refused request can be
//! corrected and retried with the same key.
//!
//! The middleware reserves the key and puts it in the request ([`Held`]); the use-case
//! runner (`usecase::Act`) stores the answer in the key's row inside the transaction of the
//! change, so a crash after the commit cannot leave the key `pending`; an answer that waits
//! for a provider is stored there as a provisional `202`, then replaced by the final answer
//! or, for a problem, forgotten (`usecase::Provisional::settle`). An answer that no
//! use-case recorded (a handler outside the runner) is stored here after the handler.
//! Either way an answer marked with a one-time secret is stored without it
//! ([`crate::one_time_secret`]).
//!
//! A login or token request names its principal only in its body, by credentials: the
//! middleware leaves its key alone, and the handler, once the credentials are checked,
//! holds the key under the principal they prove (`usecase::Act::signed_in`). Its body is
//! never hashed (it holds a password or secret): any sign-in of the same principal with the
//! same key and path is the same request.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use sha2::{Digest, Sha256};
use staffroom_domain::{PrincipalKind, ProblemCode};
use staffroom_persistence::idempotency::{self, HeldKey, Reservation, StoredResponse};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::answer::Answer;
use crate::auth::principal::verified_claims;
use crate::db;
use crate::error::ApiError;
use crate::extract::{body_limit, read_body};
use crate::one_time_secret::{OneTimeSecret, storable};
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The `POST`s whose body carries credentials (see [`carries_credentials`]).
const CREDENTIAL_PATHS: [&str; 2] = ["/v1/auth/login", "/v1/auth/token"];
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Headers of a stored answer that are replayed with it.
const REPLAYED_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::ETAG, header::LOCATION];

/// The scope of a principal's keys: `site:kind:sub`.
pub fn scope(site: impl std::fmt::Display, kind: PrincipalKind, subject: &str) -> String {
    format!("{site}:{}:{subject}", kind.as_str())
}

/// The principal a bearer token names, without touching the database.
fn scope_of(req: &ServiceRequest, state: &AppState) -> Option<String> {
    let claims = verified_claims(req.request(), &state.tokens).ok()?;
    Some(scope(&claims.site, claims.kind, &claims.sub))
}

/// What a retry must repeat to be the same request: its path, query and body.
pub fn request_hash(path: &str, query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(path.as_bytes());
    hasher.update(b"?");
    hasher.update(query.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Reserves `key` for `scope`: `None` when the request may run, the stored answer when it
/// already ran, a problem when the key belongs to another request or is still in use.
pub async fn reserve(
    state: &AppState,
    scope: String,
    key: String,
    hash: String,
) -> Result<Option<StoredResponse>, ApiError> {
    let reservation = db::run(state, move |c| idempotency::reserve(c, &scope, &key, &hash)).await?;
    match reservation {
        Reservation::Fresh => Ok(None),
        Reservation::Replay(stored) => Ok(Some(stored)),
        Reservation::Mismatch => Err(ApiError::new(
            ProblemCode::IdempotencyKeyReused,
            "This Idempotency-Key was used with a different request.",
        )),
        Reservation::InFlight => Err(ApiError::new(
            ProblemCode::IdempotencyKeyInUse,
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        )),
    }
}

/// Frees `held` after its request failed, so that a retry runs again.
pub async fn release(state: &AppState, held: HeldKey) {
    let released = db::run(state, move |c| {
        idempotency::release(c, &held.scope, &held.key)
    })
    .await;
    if let Err(error) = released {
        tracing::error!(%error, "cannot release an idempotency key");
    }
}

/// The key a request reserved, in its extensions: the use-case runner stores the answer
/// under it and sets `recorded` once that answer has committed.
#[derive(Debug, Clone)]
pub struct Held {
    pub key: HeldKey,
    pub recorded: Arc<AtomicBool>,
}

fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// A stored answer as it is replayed, with `Idempotent-Replayed: true`.
pub fn replay(stored: StoredResponse) -> Answer {
    let headers = stored
        .headers
        .into_iter()
        .filter_map(|(name, value)| Some((HeaderName::from_bytes(name.as_bytes()).ok()?, value)))
        .chain([(REPLAYED, "true".to_owned())])
        .collect();
    Answer {
        status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
        headers,
        body: stored.body,
        secret: None,
    }
}

/// Whether the body of a `POST` to `path` carries credentials: such a request names no
/// principal before its handler checks them, so the handler holds its key under the
/// principal they prove (`usecase::Act::signed_in`), and its body is never hashed.
fn carries_credentials(path: &str) -> bool {
    CREDENTIAL_PATHS.contains(&path)
}

pub async fn idempotency_key(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req
        .headers()
        .get(IDEMPOTENCY_KEY)
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let scim = crate::scim::is_scim_path(req.path());
    let (Some(key), Some(state), true, false) = (key, state, req.method() == Method::POST, scim)
    else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    if !valid_key(&key) {
        let error = ApiError::field(
            "Idempotency-Key",
            "invalid_value",
            "Idempotency-Key must be 1–255 visible ASCII characters.",
        );
        return Ok(req.error_response(error));
    }
    let scope = scope_of(&req, &state).filter(|_| !carries_credentials(req.path()));
    let Some(scope) = scope else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };

    let mut payload = req.take_payload();
    let body = match read_body(req.request(), &mut payload, body_limit(req.request())).await {
        Ok(body) => body.freeze(),
        Err(error) => return Ok(req.error_response(error)),
    };
    let hash = request_hash(req.path(), req.query_string(), &body);
    req.set_payload(Payload::from(body));

    match reserve(&state, scope.clone(), key.clone(), hash).await {
        Err(error) => return Ok(req.error_response(error)),
        Ok(None) => {}
        Ok(Some(stored)) => {
            let (request, _) = req.into_parts();
            return Ok(ServiceResponse::new(
                request,
                replay(stored).into_response(),
            ));
        }
    }

    let held = Held {
        key: HeldKey {
            scope: scope.clone(),
            key: key.clone(),
        },
        recorded: Arc::new(AtomicBool::new(false)),
    };
    let recorded = Arc::clone(&held.recorded);
    req.extensions_mut().insert(held);
    let response = next.call(req).await?;
    let status = response.status();
    if recorded.load(Ordering::SeqCst) {
        return Ok(response.map_into_boxed_body());
    }
    if !status.is_success() {
        release(&state, HeldKey { scope, key }).await;
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let headers: Vec<(String, String)> = REPLAYED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    let secret = OneTimeSecret::of(&response);
    let (head, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| ApiError::internal())?;
    let outcome = match storable(status.as_u16(), headers, &bytes, secret) {
        Some(stored) => {
            db::run(&state, move |c| {
                idempotency::complete(c, &HeldKey { scope, key }, &stored)
            })
            .await
        }
        None => {
            tracing::error!("an answer marked as carrying a secret has no such field; not stored");
            db::run(&state, move |c| idempotency::release(c, &scope, &key)).await
        }
    };
    if let Err(error) = outcome {
        tracing::error!(%error, "cannot store idempotent response");
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}
