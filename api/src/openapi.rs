//! The OpenAPI 3.1 document: the routes registered in [`crate::routes::routes`] plus the
//! shared components declared here. The server builds it once at start-up and serves it
//! at `/openapi.json`; `staffroom openapi` prints it; `openapi/openapi.json` is the
//! committed copy.
//!
//! Every operation needs a bearer token unless its `#[utoipa::path]` says `security(())`
//! (login, token exchange, invitation acceptance and the operations endpoints) or names
//! the `webhook_signature` scheme (the imaging provider's signed webhook).

use actix_web::App;
use serde_json::json;
use staffroom_persistence::page::{DEFAULT_LIMIT, MAX_LIMIT};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ObjectBuilder, Ref, RefOr, Required, Schema, Type};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::Problem;
use crate::responses::{
    Conflict, Forbidden, Gone, MalformedBody, NotFound, PayloadTooLarge, PreconditionFailed,
    PreconditionRequired, TooManyRequests, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use staffroom_domain::ProblemCode;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Staffroom",
        description = "Staff accounts for clinic practice-management products: users, clinical \
                       and non-clinical types under licence plans, permissions and clinic access, \
                       service accounts and the audit feed.\n\n\
                       Errors are RFC 9457 problem documents (`application/problem+json`) with a \
                       stable `code`. Lists are paginated with `limit` and `cursor` \
                       (`next_cursor`). Resources carry an `ETag`; changes honour `If-Match`.",
        license(name = "MIT", identifier = "MIT")
    ),
    servers((
        url = "/",
        description = "The server that serves this document: a client sets its own base URL, \
                       e.g. `http://127.0.0.1:8080` for a local `staffroom serve`."
    )),
    security(("bearer" = [])),
    modifiers(&BearerAuth),
    components(
        schemas(Problem, ProblemCode, crate::scim::openapi::ScimErrorBody),
        responses(
            MalformedBody, Unauthorized, Forbidden, NotFound, Conflict, Gone, PreconditionFailed,
            PayloadTooLarge, UnsupportedMediaType, Unprocessable, PreconditionRequired,
            TooManyRequests, Unavailable
        )
    ),
    tags(
        (name = "auth", description = "Login, service-account tokens, who am I"),
        (name = "site", description = "The caller's site"),
        (name = "licences", description = "Licence plan and usage"),
        (name = "clinics", description = "Locations of the site"),
        (name = "users", description = "Staff accounts"),
        (name = "appointments", description = "Bookings, diaries and the appointment report"),
        (name = "permissions", description = "Permission catalogue and professions"),
        (name = "service-accounts", description = "Credentials for integrators and scripts"),
        (name = "assistants", description = "A clinician's assistants, and acting on a clinician's behalf"),
        (name = "scim-tokens", description = "Bearer tokens of the site's SCIM clients (identity providers)"),
        (name = "scim", description = "SCIM 2.0 (RFC 7643/7644) for identity providers, with a SCIM token; media type application/scim+json"),
        (name = "audit", description = "Audit feed"),
        (name = "integrations", description = "Third-party clinical tools and the provider jobs behind them"),
        (name = "webhooks", description = "Calls providers make to Staffroom, signed the Standard Webhooks way"),
        (name = "operations", description = "Health and readiness")
    )
)]
struct ApiDoc;

struct BearerAuth;

/// The security scheme of the signed webhooks (not a bearer token).
pub const WEBHOOK_SIGNATURE: &str = "webhook_signature";

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        components.add_security_scheme(
            WEBHOOK_SIGNATURE,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "webhook-signature",
                "Standard Webhooks (https://www.standardwebhooks.com): `v1,` and the base64 \
                 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under the \
                 deployment's secret (`STAFFROOM_IMAGING_WEBHOOK_SECRET`, `whsec_` and \
                 base64; the key is the decoded base64), with the `webhook-id` and \
                 `webhook-timestamp` (Unix seconds, within 5 minutes of now) headers. Several \
                 space-separated signatures may be sent; one must match.",
            ))),
        );
    }
}

/// The base document, before the routes add their paths.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The whole document, as generated from the registered routes.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::routes::routes)
        .split_for_parts();
    finish(api)
}

/// Completes the collected document with what is the same for many operations: the
/// `Idempotency-Key` header that middleware reads on every authenticated `POST`, and the
/// meaning, bounds and default of every list's `limit` and `cursor`.
pub fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for (path, item) in &mut api.paths.paths {
        for operation in [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            describe_permission(operation);
        }
        if let Some(get) = item.get.as_mut() {
            describe_paging(get);
        }
        let Some(post) = item.post.as_mut() else {
            continue;
        };
        // SCIM has no idempotency keys (RFC 7644 matches a retried create by userName).
        if !needs_credentials(post) || crate::scim::is_scim_path(path) {
            continue;
        }
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes the request safe to retry: a retry with the same key and body returns \
                 the first answer (`Idempotent-Replayed: true`); the same key with another \
                 body answers `422 idempotency_key_reused`. Kept 24 hours per caller; any \
                 string of 1–255 characters, e.g. a UUID.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255)),
            ))
            .build();
        post.parameters.get_or_insert_with(Vec::new).push(parameter);
    }
    api
}

/// The operations of a path item with their methods, in the order HTTP lists them.
pub fn operations(item: &PathItem) -> Vec<(&'static str, &Operation)> {
    [
        ("GET", item.get.as_ref()),
        ("HEAD", item.head.as_ref()),
        ("POST", item.post.as_ref()),
        ("PUT", item.put.as_ref()),
        ("PATCH", item.patch.as_ref()),
        ("DELETE", item.delete.as_ref()),
        ("OPTIONS", item.options.as_ref()),
        ("TRACE", item.trace.as_ref()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation?)))
    .collect()
}

/// Whether `operation` needs a bearer token: it names the `bearer` scheme, or inherits the
/// document's. An empty requirement (`security(())`) makes it public; a signed webhook
/// names its own scheme and checks the signature itself.
pub fn needs_credentials(operation: &Operation) -> bool {
    operation.security.as_ref().is_none_or(|requirements| {
        requirements.contains(&SecurityRequirement::new("bearer", Vec::<String>::new()))
    })
}

/// States what an authenticated operation needs of its caller, from the declaration the
/// permission check reads ([`staffroom_domain::Operation::needs`]): a sentence at the end
/// of its description and `x-permissions`, the permissions that let a service account
/// call it. An operation a principal can be refused documents `403`.
fn describe_permission(operation: &mut Operation) {
    if !needs_credentials(operation) {
        return;
    }
    let Some(needs) = operation
        .operation_id
        .as_deref()
        .and_then(|id| staffroom_domain::Operation::parse(id).ok())
        .map(|op| op.needs())
    else {
        return;
    };
    // Every operation refuses some principal (a SCIM token, `/v1/me` included) except the
    // SCIM ones, which refuse other tokens with `401`.
    if needs != staffroom_domain::Needs::ScimClient {
        operation
            .responses
            .responses
            .entry("403".to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Forbidden")));
    }
    let sentence = needs.sentence();
    operation.description = Some(match operation.description.take() {
        Some(text) if !text.is_empty() => format!("{text}\n\n{sentence}"),
        _ => sentence,
    });
    let permissions: Vec<&str> = needs
        .service_permissions()
        .iter()
        .map(staffroom_domain::Permission::as_str)
        .collect();
    operation
        .extensions
        .get_or_insert_with(Default::default)
        .insert("x-permissions".to_owned(), json!(permissions));
}

/// Describes the `limit` and `cursor` query parameters of a list in one place, so every
/// list states the same bounds and default as the code that reads them.
fn describe_paging(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if !matches!(parameter.parameter_in, ParameterIn::Query) {
            continue;
        }
        match parameter.name.as_str() {
            "limit" => {
                parameter.description = Some(format!(
                    "Items per page, 1–{MAX_LIMIT}; {DEFAULT_LIMIT} when omitted."
                ));
                set_default(parameter, DEFAULT_LIMIT);
            }
            "cursor" => {
                parameter.description = Some(
                    "Where the page starts: the `next_cursor` of the previous page; omitted \
                     for the first page."
                        .to_owned(),
                );
            }
            _ => {}
        }
    }
}

fn set_default(parameter: &mut Parameter, value: i64) {
    if let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() {
        schema.default = Some(json!(value));
    }
}

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn operations() -> Vec<(String, String, Value)> {
        let document = serde_json::to_value(document()).unwrap();
        let mut found = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                found.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
        found
    }

    /// Whether the operation takes a bearer token (it names `bearer` or inherits it).
    fn bearer(operation: &Value) -> bool {
        operation.get("security").is_none_or(|requirements| {
            requirements
                .as_array()
                .is_some_and(|rs| rs.iter().any(|r| r.get("bearer").is_some()))
        })
    }

    fn parameter_names(operation: &Value) -> Vec<&str> {
        operation["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn only_the_sign_in_and_operations_endpoints_are_public() {
        let public: Vec<String> = operations()
            .into_iter()
            .filter(|(_, _, op)| op["security"] == serde_json::json!([{}]))
            .map(|(method, path, _)| format!("{method} {path}"))
            .collect();
        assert_eq!(
            public,
            [
                "GET /healthz",
                "GET /metrics",
                "GET /readyz",
                "POST /v1/auth/login",
                "POST /v1/auth/token",
                "POST /v1/invitations/{token}/accept",
            ]
        );
        let document = serde_json::to_value(document()).unwrap();
        assert_eq!(document["security"], serde_json::json!([{"bearer": []}]));
    }

    #[test]
    fn only_the_webhook_is_signed_instead_of_bearing_a_token() {
        let signed: Vec<String> = operations()
            .into_iter()
            .filter(|(_, _, op)| op["security"] != serde_json::json!([{}]) && !bearer(op))
            .map(|(method, path, op)| {
                assert_eq!(
                    op["security"],
                    serde_json::json!([{WEBHOOK_SIGNATURE: []}]),
                    "{method} {path}"
                );
                assert!(op.get("x-permissions").is_none(), "{method} {path}");
                assert!(op["responses"].get("401").is_some(), "{method} {path}");
                format!("{method} {path}")
            })
            .collect();
        assert_eq!(signed, ["POST /v1/webhooks/imaging"]);
        let document = serde_json::to_value(document()).unwrap();
        let scheme = &document["components"]["securitySchemes"][WEBHOOK_SIGNATURE];
        assert_eq!(scheme["type"], "apiKey");
        assert_eq!(scheme["in"], "header");
        assert_eq!(scheme["name"], "webhook-signature");
    }

    #[test]
    fn every_authenticated_operation_is_declared_and_states_its_permission() {
        let mut declared = Vec::new();
        for (method, path, op) in operations() {
            if !bearer(&op) {
                assert!(op.get("x-permissions").is_none(), "{method} {path}");
                continue;
            }
            let id = op["operationId"].as_str().unwrap();
            let operation = staffroom_domain::Operation::parse(id)
                .unwrap_or_else(|_| panic!("{method} {path}: {id} is not an Operation"));
            declared.push(operation);
            let needs = operation.needs();
            let description = op["description"].as_str().unwrap_or_default();
            assert!(description.ends_with(&needs.sentence()), "{method} {path}");
            let listed: Vec<String> = needs
                .service_permissions()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect();
            assert_eq!(
                op["x-permissions"],
                serde_json::json!(listed),
                "{method} {path}"
            );
        }
        declared.sort();
        let mut all = staffroom_domain::Operation::ALL.to_vec();
        all.sort();
        assert_eq!(
            declared, all,
            "every Operation is an operation of the document"
        );
    }

    #[test]
    fn idempotency_key_is_offered_on_authenticated_posts_only() {
        for (method, path, op) in operations() {
            let offered = parameter_names(&op).contains(&"Idempotency-Key");
            let scim = path.starts_with("/scim/");
            assert_eq!(
                offered,
                method == "POST" && bearer(&op) && !scim,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn every_page_size_states_its_bounds_and_default() {
        let mut lists = 0;
        for (method, path, op) in operations() {
            for parameter in op["parameters"].as_array().into_iter().flatten() {
                match parameter["name"].as_str() {
                    Some("limit") => {
                        lists += 1;
                        assert_eq!(parameter["schema"]["default"], DEFAULT_LIMIT, "{path}");
                        assert_eq!(parameter["schema"]["maximum"], MAX_LIMIT, "{path}");
                        let description = parameter["description"].as_str().unwrap();
                        assert!(description.contains("1–200"), "{method} {path}");
                    }
                    Some("cursor") => {
                        assert!(parameter["description"].is_string(), "{method} {path}")
                    }
                    _ => {}
                }
            }
        }
        assert!(lists >= 8, "{lists} lists");
    }

    #[test]
    fn operation_ids_read_as_verb_and_noun() {
        // `replace`, `patch` and `search` are SCIM's own verbs (RFC 7644 §3.5, §3.4.3).
        const VERBS: [&str; 28] = [
            "list",
            "get",
            "create",
            "update",
            "delete",
            "set",
            "change",
            "add",
            "rename",
            "deactivate",
            "reactivate",
            "connect",
            "disconnect",
            "reconnect",
            "forget",
            "accept",
            "resend",
            "book",
            "bulk",
            "issue",
            "login",
            "invite",
            "revoke",
            "send",
            "receive",
            "replace",
            "patch",
            "search",
        ];
        for (method, path, op) in operations() {
            let id = op["operationId"].as_str().unwrap();
            let verb = id.split('_').next().unwrap();
            assert!(VERBS.contains(&verb), "{method} {path}: {id}");
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{method} {path}: {id}"
            );
        }
    }
}
