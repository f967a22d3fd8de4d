//! `Idempotency-Key` on `POST`: a retry with the same key and body returns the first
//! answer (with `Idempotent-Replayed: true`) instead of acting twice; the same key with a
//! different body answers `422 idempotency_key_reused`; a retry while the first request
//! still runs answers `409 idempotency_key_in_use`. Keys are scoped to the authenticated
//! principal; only successful (2xx) answers are remembered, so a refused request can be
//! corrected and retried with the same key.
//!
//! The middleware reserves the key and puts it in the request ([`Held`]); the use-case
//! runner (`usecase::Act`) stores the answer in the key's row inside the transaction of the
//! change, so a crash after the commit cannot leave the key `pending`. An answer that no
//! use-case recorded (a handler outside the runner) is stored here after the handler.
//! Either way an answer marked with a one-time secret is stored without it
//! ([`crate::one_time_secret`]).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use sha2::{Digest, Sha256};
use staffroom_domain::ProblemCode;
use staffroom_persistence::idempotency::{self, HeldKey, Reservation, StoredResponse};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::auth::principal::verified_claims;
use crate::db;
use crate::error::ApiError;
use crate::extract::{body_limit, read_body};
use crate::one_time_secret::{OneTimeSecret, storable};
use crate::state::AppState;

const IDEMPOTENCY_KEY: &str = "idempotency-key";
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Headers of a stored answer that are replayed with it.
const REPLAYED_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::ETAG, header::LOCATION];

/// The principal a bearer token names, without touching the database: `site:kind:sub`.
fn scope_of(req: &ServiceRequest, state: &AppState) -> Option<String> {
    let claims = verified_claims(req.request(), &state.tokens).ok()?;
    Some(format!(
        "{}:{}:{}",
        claims.site,
        claims.kind.as_str(),
        claims.sub
    ))
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

fn replay(stored: StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((REPLAYED, HeaderValue::from_static("true")));
    response.body(stored.body)
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
    let (Some(key), Some(state), true) = (key, state, req.method() == Method::POST) else {
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
    let Some(scope) = scope_of(&req, &state) else {
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
    let mut hasher = Sha256::new();
    hasher.update(req.path().as_bytes());
    hasher.update(b"?");
    hasher.update(req.query_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    let hash = hex::encode(hasher.finalize());
    req.set_payload(Payload::from(body));

    let reservation = {
        let (scope, key) = (scope.clone(), key.clone());
        db::run(&state, move |c| {
            idempotency::reserve(c, &scope, &key, &hash)
        })
        .await
    };
    match reservation {
        Err(error) => return Ok(req.error_response(error)),
        Ok(Reservation::Fresh) => {}
        Ok(Reservation::Replay(stored)) => {
            let (request, _) = req.into_parts();
            return Ok(ServiceResponse::new(request, replay(stored)));
        }
        Ok(Reservation::Mismatch) => {
            let error = ApiError::new(
                ProblemCode::IdempotencyKeyReused,
                "This Idempotency-Key was used with a different request.",
            );
            return Ok(req.error_response(error));
        }
        Ok(Reservation::InFlight) => {
            let error = ApiError::new(
                ProblemCode::IdempotencyKeyInUse,
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            );
            return Ok(req.error_response(error));
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
        let _ = db::run(&state, move |c| idempotency::release(c, &scope, &key)).await;
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
