//! `ApiError`: the one error type of the HTTP layer, rendered as an RFC 9457 problem
//! document (`application/problem+json`) with a stable `code`. Persistence, domain and
//! extractor errors all become an `ApiError` here, so every failure has the same shape.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};
use staffroom_domain::FieldError;
use staffroom_persistence::{LicenceRefusal, StoreError};
use utoipa::{ToResponse, ToSchema};

/// The media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document (documentation schema of every error response). Conflicts
/// may carry further members that describe the conflict (e.g. `licences_used`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:staffroom:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable, machine-readable snake_case code (e.g. `email_taken`).
    pub code: String,
    /// Per-field validation errors (`validation_failed`), all of them at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error answered to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra members of the problem document (e.g. `licences_used`).
    pub extensions: Map<String, Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            extensions: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such resource in this site.",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_token", detail)
    }

    pub fn malformed_body(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_body", detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are not valid.", many.len()),
        };
        Self {
            errors,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                detail,
            )
        }
    }

    /// The same problem under another top-level `code` and `detail` (a refusal that names
    /// its field, such as `422 invalid_clinic_id`).
    pub fn with_code(mut self, code: &'static str, detail: impl Into<String>) -> Self {
        self.code = code;
        self.detail = detail.into();
        self
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "The server failed to handle the request; it has been logged.",
        )
    }

    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            format!("urn:staffroom:problem:{}", self.code).into(),
        );
        body.insert("title".into(), self.title().into());
        body.insert("status".into(), self.status.as_u16().into());
        body.insert("detail".into(), self.detail.clone().into());
        body.insert("code".into(), self.code.into());
        if !self.errors.is_empty() {
            body.insert(
                "errors".into(),
                serde_json::to_value(&self.errors).unwrap_or_default(),
            );
        }
        for (k, v) in &self.extensions {
            body.insert(k.clone(), v.clone());
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if self.status == StatusCode::TOO_MANY_REQUESTS
            || self.status == StatusCode::SERVICE_UNAVAILABLE
        {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.body(Value::Object(body).to_string())
    }
}

impl From<&LicenceRefusal> for ApiError {
    /// `409` with the refusal's code, what the change needed, and the usage it was judged
    /// against (`licences_total`, `licences_used`, `licences_available`, counts by type).
    fn from(refusal: &LicenceRefusal) -> Self {
        let mut extensions = match serde_json::to_value(refusal.report()) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        extensions.remove("can_add_clinical");
        extensions.remove("can_add_non_clinical");
        extensions.remove("can_switch_to_clinical");
        extensions.remove("can_switch_to_non_clinical");
        if let Ok(Value::Object(details)) = serde_json::to_value(refusal.error) {
            for (key, value) in details {
                if key != "code" {
                    extensions.insert(key, value);
                }
            }
        }
        Self {
            extensions,
            ..Self::new(
                StatusCode::CONFLICT,
                refusal.error.code(),
                refusal.error.to_string(),
            )
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict(c) => Self::new(StatusCode::CONFLICT, c.code(), c.message()),
            StoreError::VersionMismatch { current } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "The resource has changed since it was read (If-Match does not match).",
            )
            .with("current_etag", crate::etag::format(current)),
            StoreError::Invalid(errors) => Self::validation(errors),
            StoreError::Licence(refusal) => Self::from(refusal.as_ref()),
            StoreError::Gone { code, message } => Self::new(StatusCode::GONE, code, message),
            StoreError::Unprocessable { code, message } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            StoreError::Pool(msg) => {
                tracing::error!(error = %msg, "database pool unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "The database is not reachable right now; retry shortly.",
                )
            }
            other => {
                tracing::error!(error = %other, "persistence failure");
                Self::internal()
            }
        }
    }
}

macro_rules! problem_response {
    ($name:ident, $description:literal) => {
        #[doc = $description]
        #[derive(ToResponse)]
        #[response(description = $description, content_type = "application/problem+json")]
        #[expect(dead_code, reason = "documentation type: only its schema is used")]
        pub struct $name(Problem);
    };
}

problem_response!(
    MalformedBody,
    "The body is not parseable JSON (`malformed_body`)."
);
problem_response!(
    Unauthorized,
    "Missing, forged, expired or revoked bearer token (`invalid_token`)."
);
problem_response!(
    Forbidden,
    "The principal lacks the permission for this operation (`forbidden`)."
);
problem_response!(
    NotFound,
    "No such resource in the caller's site (`not_found`)."
);
problem_response!(
    Conflict,
    "The request conflicts with the stored state; `code` says how."
);
problem_response!(
    PreconditionFailed,
    "`If-Match` does not match the current `ETag` (`precondition_failed`)."
);
problem_response!(
    PayloadTooLarge,
    "The body is larger than the configured limit (`body_too_large`)."
);
problem_response!(
    UnsupportedMediaType,
    "The body is not `application/json` (`unsupported_media_type`)."
);
problem_response!(
    Unprocessable,
    "Validation failed (`validation_failed`); `errors` lists every bad field."
);
problem_response!(
    PreconditionRequired,
    "This deployment requires `If-Match` on changes (`precondition_required`)."
);
problem_response!(
    ProviderUnavailable,
    "A provider is not answering right now (`provider_unavailable`); retry shortly."
);
problem_response!(
    ProviderRefused,
    "The provider refused the request (`provider_refused`); `detail` gives its reason and `provider_code` its code."
);
