//! `/scim/v2` (SPEC §8, RFC 7643/7644) for identity providers, opened by a SCIM token of
//! the site (`POST /v1/scim-tokens`): Users mapped to the site's users, Groups to its
//! clinics (membership is clinic access), and the discovery documents. Reads go through
//! `staffroom_persistence::scim_reads`; every write runs the REST use-cases (so every rule
//! of SPEC §1 and §4 applies), several of them in one transaction when one SCIM request
//! changes several things, audited with the token as the actor.

pub mod discovery;
pub mod error;
pub mod groups;
pub mod openapi;
pub mod resource;
pub mod search;
pub mod users;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};
use staffroom_persistence::DbConnection;
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::usecase::{UseCase, run, together};
use staffroom_scim::ScimType;

use crate::error::ApiError;
use crate::etag;
use crate::scim::error::{SCIM_JSON, ScimError};
use crate::state::AppState;

/// Where SCIM is served.
pub const BASE_PATH: &str = "/scim/v2";
/// The schema of a list answer.
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The most resources one list answer holds (`count` above it is lowered to it).
pub const MAX_RESULTS: u32 = 200;

/// Whether `path` is one of SCIM's (its errors are SCIM errors, not problem documents).
pub fn is_scim_path(path: &str) -> bool {
    path == BASE_PATH || path.starts_with("/scim/")
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    discovery::configure(cfg);
    users::configure(cfg);
    groups::configure(cfg);
    search::configure(cfg);
}

/// The absolute base URL of SCIM as the client reached it, for `location` and `$ref`.
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}{BASE_PATH}", info.scheme(), info.host())
}

/// A query parameter by case-insensitive name.
pub fn query(req: &HttpRequest, name: &str) -> Option<String> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()?
        .into_inner()
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The request body as JSON: `application/scim+json` or `application/json` (or no type).
pub fn json_body(req: &HttpRequest, body: &[u8]) -> Result<Value, ScimError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if let Some(kind) = content_type
        && kind != SCIM_JSON
        && kind != "application/json"
    {
        return Err(ScimError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "Send application/scim+json (or application/json).",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ScimError::bad(
            ScimType::InvalidSyntax,
            format!("the body is not JSON: {e}"),
        )
    })
}

/// The version `If-Match` asks for: `None` when absent or `*`.
pub fn if_match(req: &HttpRequest) -> Option<i64> {
    req.headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("\"invalid\""))
        .and_then(etag::parse_if_match)
}

/// `status` with a SCIM resource; its `ETag` is `meta.version`, and a `201` names
/// `meta.location` in `Location`.
pub fn resource_response(status: StatusCode, resource: &Value) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON)));
    if let Some(version) = resource["meta"]["version"].as_str() {
        response.insert_header((header::ETAG, version.to_owned()));
    }
    if status == StatusCode::CREATED
        && let Some(location) = resource["meta"]["location"].as_str()
    {
        response.insert_header((header::LOCATION, location.to_owned()));
    }
    response.body(resource.to_string())
}

/// A `ListResponse` of `resources`, the `total` matching, from `start_index`.
pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> HttpResponse {
    let body = json!({
        "schemas": [LIST_URN],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON)))
        .body(body.to_string())
}

/// `startIndex` (1-based, at least 1) and `count` (0 to [`MAX_RESULTS`]; the maximum when
/// absent) of a list request.
pub fn paging(req: &HttpRequest) -> Result<(i64, i64), ScimError> {
    let number = |name: &str| -> Result<Option<i64>, ScimError> {
        query(req, name)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
            })
            .transpose()
    };
    let start = number("startIndex")?.unwrap_or(1).max(1);
    let count = number("count")?
        .unwrap_or(i64::from(MAX_RESULTS))
        .clamp(0, i64::from(MAX_RESULTS));
    Ok((start, count))
}

/// Runs `change` in one write transaction holding the site lock: every use-case it runs
/// commits with the others or none does.
pub async fn change<T, F>(state: &AppState, ctx: AuditContext, change: F) -> Result<T, ScimError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection, &AuditContext) -> Result<T, ScimError> + Send + 'static,
{
    read(state, move |conn| {
        together(conn, &ctx, |conn| change(conn, &ctx))
    })
    .await
}

/// Runs `read` with a pooled connection on a database thread.
pub async fn read<T, F>(state: &AppState, read: F) -> Result<T, ScimError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, ScimError> + Send + 'static,
{
    crate::pool::blocking(&state.pool, read)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "blocking task failed");
            ScimError::from(crate::error::ApiError::internal())
        })?
}

/// Runs one use-case inside the request's transaction (see [`change`]).
pub fn step<U>(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    use_case: U,
) -> Result<U::Output, ScimError>
where
    U: UseCase,
    ApiError: From<U::Refusal>,
{
    run(conn, ctx, use_case, |output| output, None).map_err(ScimError::from)
}
