//! Extractors that turn every kind of bad input into a problem document naming the field:
//! `ValidJson` (size limit, media type, syntax, then typed fields with their path),
//! `Signed` (a webhook delivery: its signature, then as `ValidJson`), `ValidQuery`,
//! `IfMatch` and `RequestId`.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use staffroom_domain::{FieldError, ProblemCode};
use utoipa::ToSchema;

use crate::contract::{BodyContract, nul_error};
use crate::error::ApiError;
use crate::etag;
use crate::state::{AppState, DEFAULT_MAX_BODY_BYTES};

/// A JSON body deserialized into `T`, with errors as problem documents.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ProblemCode::BodyTooLarge,
        format!("The body is larger than the limit of {limit} bytes."),
    )
    .with("limit_bytes", limit)
}

fn is_json(req: &HttpRequest) -> bool {
    match req.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value
            .to_str()
            .map(|v| {
                let essence = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            })
            .unwrap_or(false),
    }
}

/// Reads the whole body, refusing it as soon as it passes `limit`.
pub(crate) async fn read_body<S, E>(
    req: &HttpRequest,
    payload: &mut S,
    limit: usize,
) -> Result<BytesMut, ApiError>
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
{
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::malformed_body("The body could not be read."))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn body_limit(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<AppState>>()
        .map_or(DEFAULT_MAX_BODY_BYTES, |s| s.max_body_bytes)
}

/// Checks a parsed JSON body against the contract's schema of `T` (reporting every
/// violation), then deserializes it, naming the failing field if serde still objects.
pub(crate) fn from_json_value<T: DeserializeOwned + ToSchema>(
    req: &HttpRequest,
    value: serde_json::Value,
) -> Result<T, ApiError> {
    let Some(contract) = req.app_data::<web::Data<BodyContract>>() else {
        tracing::error!("the application has no BodyContract to check request bodies with");
        return Err(ApiError::internal());
    };
    let errors = contract.violations(&T::name(), &value);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::validation(vec![field_error(&path, &e.inner().to_string())])
    })
}

/// `415 unsupported_media_type` unless the request says its body is JSON (or says nothing).
fn json_media_type(req: &HttpRequest) -> Result<(), ApiError> {
    if is_json(req) {
        Ok(())
    } else {
        Err(ApiError::new(
            ProblemCode::UnsupportedMediaType,
            "Send the body as application/json.",
        ))
    }
}

/// A JSON body read whole, as `T`: `400` when empty or not JSON, then the contract's and
/// serde's field errors (see [`from_json_value`]).
fn json_body<T: DeserializeOwned + ToSchema>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::malformed_body("The request needs a JSON body."));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::malformed_body(format!("The body is not valid JSON: {e}")))?;
    from_json_value(req, value)
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            json_media_type(&req)?;
            let body = read_body(&req, &mut payload, body_limit(&req)).await?;
            json_body(&req, &body).map(ValidJson)
        })
    }
}

/// A webhook delivery whose Standard Webhooks signature holds (see [`crate::webhooks`]),
/// with its `webhook-id` and its JSON body as `T`. The signature is checked first, over the
/// raw body (bounded like every body): a bad or missing signature or a stale timestamp is
/// `401 invalid_signature` whatever the body; then the media type, syntax and fields as
/// [`ValidJson`] checks them.
#[derive(Debug)]
pub struct Signed<T> {
    pub webhook_id: String,
    pub body: T,
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for Signed<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&req, &mut payload, body_limit(&req)).await?;
            let unsigned = |reason: String| ApiError::new(ProblemCode::InvalidSignature, reason);
            let Some(secret) = req
                .app_data::<web::Data<AppState>>()
                .and_then(|state| state.imaging_webhook.clone())
            else {
                tracing::error!("a webhook delivery arrived, but no webhook secret is configured");
                return Err(unsigned("No webhook secret is configured.".to_owned()));
            };
            let now = chrono::Utc::now().timestamp();
            let webhook_id = secret
                .verify(req.headers(), &body, now)
                .map_err(|reason| unsigned(reason.to_string()))?;
            if webhook_id.len() > MAX_WEBHOOK_ID {
                return Err(ApiError::field(
                    "webhook-id",
                    "too_long",
                    format!("webhook-id is at most {MAX_WEBHOOK_ID} characters."),
                ));
            }
            json_media_type(&req)?;
            let body = json_body(&req, &body)?;
            Ok(Self { webhook_id, body })
        })
    }
}

/// The longest `webhook-id` kept.
const MAX_WEBHOOK_ID: usize = 255;

/// Turns a serde message at `path` into a field error with a stable code.
pub(crate) fn field_error(path: &str, message: &str) -> FieldError {
    let base = if path == "." || path.is_empty() {
        String::new()
    } else {
        path.to_owned()
    };
    let join = |name: &str| {
        if base.is_empty() {
            name.to_owned()
        } else {
            format!("{base}.{name}")
        }
    };
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        return FieldError::new(join(name), "required", format!("{name} is required."));
    }
    if let Some(name) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        return FieldError::new(join(name), "unknown_field", message.clone());
    }
    let code = if message.starts_with("invalid type") {
        "invalid_type"
    } else if message.starts_with("unknown field") {
        "unknown_field"
    } else {
        "invalid_value"
    };
    let field = if base.is_empty() {
        "body".to_owned()
    } else {
        base
    };
    FieldError::new(&field, code, message)
}

/// Query parameters deserialized into `T`, with errors naming the parameter.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let nul: Vec<FieldError> = form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(_, v)| v.contains('\0'))
            .map(|(k, _)| nul_error(&k))
            .collect();
        if !nul.is_empty() {
            return ready(Err(ApiError::validation(nul)));
        }
        let parsed = form_urlencoded::parse(req.query_string().as_bytes());
        let deserializer = serde_urlencoded::Deserializer::new(parsed);
        ready(
            serde_path_to_error::deserialize(deserializer)
                .map(ValidQuery)
                .map_err(|e| {
                    let path = e.path().to_string();
                    ApiError::validation(vec![field_error(&path, &e.inner().to_string())])
                }),
        )
    }
}

/// The version an `If-Match` header asks for: `None` when absent or `*`.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = req
            .headers()
            .get(header::IF_MATCH)
            .map(|v| v.to_str().unwrap_or("\"invalid\""));
        let required = req
            .app_data::<web::Data<AppState>>()
            .is_some_and(|s| s.require_if_match);
        ready(match header {
            Some(value) => Ok(IfMatch(etag::parse_if_match(value))),
            None if required => Err(ApiError::new(
                ProblemCode::PreconditionRequired,
                "This deployment requires If-Match with the resource's ETag on every change.",
            )),
            None => Ok(IfMatch(None)),
        })
    }
}

/// The request's id (the caller's `X-Request-Id`, or a new one).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl FromRequest for RequestId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| {
                RequestId(uuid::Uuid::new_v4().to_string())
            })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_missing_and_mistyped_fields() {
        let e = field_error(".", "missing field `email`");
        assert_eq!((e.field.as_str(), e.code.as_str()), ("email", "required"));
        let e = field_error("user_type", "unknown variant `x`, expected `clinical`");
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("user_type", "invalid_value")
        );
        let e = field_error("filter", "missing field `q`");
        assert_eq!(e.field, "filter.q");
        let e = field_error(
            ".",
            "invalid type: sequence, expected struct X at line 1 column 2",
        );
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("body", "invalid_type")
        );
        assert!(!e.message.contains("line 1"));
    }
}
