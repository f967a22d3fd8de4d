//! SCIM error responses (RFC 7644 §3.12): `application/scim+json` bodies with the
//! `Error` schema, `status` as a string and a `scimType` where the RFC names one. The REST
//! refusals of the use-cases SCIM writes through are mapped here: `409` for the licence
//! and permission rules (SPEC §1, §4), `409 uniqueness` for a taken `userName`, `400` with
//! a `scimType` for bad values.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};
use staffroom_domain::ProblemCode;
use staffroom_persistence::StoreError;
use staffroom_persistence::scim_filter::UnsupportedFilter;
use staffroom_persistence::usecase::Failure;
use staffroom_scim::ScimType;
use staffroom_scim::filter::FilterError;
use staffroom_scim::patch::PatchError;

use crate::error::ApiError;

/// The media type of every SCIM body.
pub const SCIM_JSON: &str = "application/scim+json";
/// The schema of an error body.
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM error: status, `scimType` (RFC 7644 Table 9) and detail.
#[derive(Debug, Clone)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<ScimType>,
    pub detail: String,
    /// The usage a licence refusal was judged against, as the REST problem states it.
    pub usage: Option<Value>,
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}: {}", self.status, self.scim_type, self.detail)
    }
}

impl ScimError {
    pub fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            usage: None,
        }
    }

    /// `400` with `scimType` `kind`.
    pub fn bad(kind: ScimType, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(kind), detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidValue, detail)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            None,
            "No such resource in this site.",
        )
    }

    /// The error body.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_URN],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(kind) = self.scim_type {
            body["scimType"] = json!(kind.as_str());
        }
        if let Some(usage) = &self.usage {
            body["urn:ietf:params:scim:schemas:extension:staffroom:2.0:Usage"] = usage.clone();
        }
        body
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON)));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if matches!(self.status.as_u16(), 429 | 503) {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        response.body(self.body().to_string())
    }
}

/// Every field error of a REST refusal, as one sentence.
fn fields(error: &ApiError) -> String {
    error
        .errors
        .iter()
        .map(|e| format!("{}: {} ({})", e.field, e.message, e.code))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Field codes that mean a value the request made up, not a rule it broke.
const BAD_VALUE_CODES: &[&str] = &[
    "invalid_value",
    "invalid_email",
    "too_long",
    "too_short",
    "required",
    "unknown_clinic",
    "invalid_clinic_id",
    "unknown_field",
];

impl From<ApiError> for ScimError {
    /// The SCIM form of a REST problem: its status, with the `scimType` SCIM gives it.
    fn from(error: ApiError) -> Self {
        let status = crate::error::status_of(error.code);
        let detail = if error.errors.is_empty() {
            error.detail.clone()
        } else {
            fields(&error)
        };
        match error.code {
            ProblemCode::EmailTaken => Self::new(
                StatusCode::CONFLICT,
                Some(ScimType::Uniqueness),
                "Another user of this site already has this userName (email address).",
            ),
            ProblemCode::LicenceLimitReached
            | ProblemCode::SoloSlotTaken
            | ProblemCode::PlanDoesNotFit => Self {
                usage: Some(Value::Object(error.extensions.clone())),
                ..Self::new(
                    StatusCode::CONFLICT,
                    None,
                    format!("{}: {}", error.code, error.detail),
                )
            },
            ProblemCode::ValidationFailed | ProblemCode::InvalidClinicId
                if error
                    .errors
                    .iter()
                    .all(|e| BAD_VALUE_CODES.contains(&e.code.as_str())) =>
            {
                Self::invalid_value(detail)
            }
            // A rule of SPEC §4 refused the change: a conflict with the stored state.
            ProblemCode::ValidationFailed | ProblemCode::InvalidClinicId => {
                Self::new(StatusCode::CONFLICT, None, detail)
            }
            ProblemCode::MalformedBody => Self::bad(ScimType::InvalidSyntax, detail),
            ProblemCode::ImmutableField => Self::bad(ScimType::Mutability, detail),
            ProblemCode::IdempotencyKeyReused => Self::invalid_value(detail),
            _ => Self::new(status, None, detail),
        }
    }
}

impl From<StoreError> for ScimError {
    fn from(error: StoreError) -> Self {
        Self::from(ApiError::from(error))
    }
}

impl<R> From<Failure<R>> for ScimError
where
    ApiError: From<R>,
{
    fn from(failure: Failure<R>) -> Self {
        match failure {
            Failure::Refused(refusal) => Self::from(ApiError::from(refusal)),
            Failure::Store(error) => Self::from(error),
        }
    }
}

impl From<PatchError> for ScimError {
    fn from(error: PatchError) -> Self {
        Self::bad(error.scim_type(), error.detail())
    }
}

impl From<FilterError> for ScimError {
    fn from(error: FilterError) -> Self {
        Self::bad(ScimType::InvalidFilter, error.to_string())
    }
}

impl From<UnsupportedFilter> for ScimError {
    fn from(error: UnsupportedFilter) -> Self {
        Self::bad(ScimType::InvalidFilter, error.0)
    }
}
