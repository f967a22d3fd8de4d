//! What answers a request no route took: `405 method_not_allowed` with `Allow` when the path
//! is one of the documented ones (RFC 9110 §15.5.6), `404 not_found` otherwise. The paths
//! and their methods are read from the OpenAPI document, which the routes generate, so the
//! two cannot disagree; the server hands them over at start-up as [`DocumentedPaths`].

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use staffroom_domain::{Operation, ProblemCode};
use utoipa::openapi::OpenApi;

use crate::error::ApiError;

/// A documented path: its segments (`{…}` matches any one segment), allowed methods and
/// what each of its operations needs of the caller.
struct Documented {
    segments: Vec<String>,
    methods: Vec<&'static str>,
    access: Vec<(&'static str, Access)>,
}

/// What a documented operation needs of its caller, read from the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `security(())`: no credentials.
    Public,
    /// A bearer token allowed by [`Operation::needs`].
    Guarded(Operation),
    /// A bearer token, but the `operationId` is not an [`Operation`]: refused (and caught
    /// by a test before it ships).
    Undeclared,
}

/// The path templates of the OpenAPI document with their methods; built once at start-up
/// and shared as application data.
pub struct DocumentedPaths(Vec<Documented>);

impl DocumentedPaths {
    /// The paths `document` describes.
    pub fn new(document: &OpenApi) -> Self {
        Self(
            document
                .paths
                .paths
                .iter()
                .map(|(path, item)| {
                    let access: Vec<(&'static str, Access)> = crate::openapi::operations(item)
                        .into_iter()
                        .map(|(method, operation)| (method, access_of(operation)))
                        .collect();
                    Documented {
                        segments: segments(path).map(str::to_owned).collect(),
                        methods: access.iter().map(|(method, _)| *method).collect(),
                        access,
                    }
                })
                .collect(),
        )
    }

    /// The documented path `path` matches, preferring the template with the most literal
    /// segments (`/v1/users/bulk-update` over `/v1/users/{id}`).
    fn matching(&self, path: &str) -> Option<&Documented> {
        let asked = segments(path).count();
        self.0
            .iter()
            .filter_map(|d| {
                if d.segments.len() != asked {
                    return None;
                }
                let mut literal = 0;
                for (template, segment) in d.segments.iter().zip(segments(path)) {
                    if template.starts_with('{') && template.ends_with('}') {
                        continue;
                    }
                    if template != segment {
                        return None;
                    }
                    literal += 1;
                }
                Some((literal, d))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, d)| d)
    }

    /// The methods of the documented path `path` matches.
    pub fn allowed(&self, path: &str) -> Option<&[&'static str]> {
        self.matching(path).map(|d| d.methods.as_slice())
    }

    /// What the documented operation `method path` needs of its caller.
    pub fn access(&self, method: &str, path: &str) -> Option<Access> {
        self.matching(path)?
            .access
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, access)| *access)
    }
}

fn access_of(operation: &utoipa::openapi::path::Operation) -> Access {
    if !crate::openapi::needs_credentials(operation) {
        return Access::Public;
    }
    operation
        .operation_id
        .as_deref()
        .and_then(|id| Operation::parse(id).ok())
        .map_or(Access::Undeclared, Access::Guarded)
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

/// The methods the documented paths of the application allow on the request's path.
fn allowed(req: &HttpRequest) -> Option<&[&'static str]> {
    req.app_data::<web::Data<DocumentedPaths>>()
        .and_then(|paths| paths.get_ref().allowed(req.path()))
}

/// The default service of the app.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    match allowed(&req) {
        Some(methods) if !methods.is_empty() => method_not_allowed(&req, methods),
        _ => scim_or_problem(
            &req,
            ApiError::new(ProblemCode::NotFound, "No such route; see /openapi.json."),
        ),
    }
}

/// A path parameter that does not parse: `404` (the resource cannot exist), unless the
/// path is a documented literal one that does not take this method — `PATCH
/// /v1/users/bulk-update` reaches `PATCH /v1/users/{id}` — which is a `405`.
pub fn path_rejected(err: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    let response = match allowed(req) {
        Some(methods) if !methods.is_empty() && !methods.contains(&req.method().as_str()) => {
            method_not_allowed(req, methods)
        }
        _ => scim_or_problem(req, ApiError::not_found()),
    };
    actix_web::error::InternalError::from_response(err, response).into()
}

/// `405 method_not_allowed` with `Allow: methods` (a SCIM error under `/scim/`).
fn method_not_allowed(req: &HttpRequest, methods: &[&str]) -> HttpResponse {
    let list = methods.join(", ");
    let error = ApiError::new(
        ProblemCode::MethodNotAllowed,
        format!("{} is not allowed on this path; use {list}.", req.method()),
    )
    .with("allowed_methods", methods.to_vec());
    let mut answer = scim_or_problem(req, error);
    if let Ok(value) = HeaderValue::from_str(&list) {
        answer.headers_mut().insert(header::ALLOW, value);
    }
    answer
}

/// `error` as the path's protocol writes it: a SCIM error under `/scim/`, else a problem.
fn scim_or_problem(req: &HttpRequest, error: ApiError) -> HttpResponse {
    if crate::scim::is_scim_path(req.path()) {
        crate::scim::error::ScimError::from(error).error_response()
    } else {
        error.error_response()
    }
}
