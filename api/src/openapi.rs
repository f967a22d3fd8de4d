//! The OpenAPI 3.1 document: the routes registered in [`crate::routes::routes`] plus the
//! shared components declared here. The server builds it once at start-up and serves it
//! at `/openapi.json`; `staffroom openapi` prints it; `openapi/openapi.json` is the
//! committed copy.

use actix_web::App;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{
    Conflict, Forbidden, MalformedBody, NotFound, PayloadTooLarge, PreconditionFailed,
    PreconditionRequired, Problem, ProviderRefused, ProviderUnavailable, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};

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
    modifiers(&BearerAuth),
    components(
        schemas(Problem),
        responses(
            MalformedBody, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed,
            PayloadTooLarge, UnsupportedMediaType, Unprocessable, PreconditionRequired,
            ProviderRefused, ProviderUnavailable
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
        (name = "audit", description = "Audit feed"),
        (name = "integrations", description = "Third-party clinical tools and the provider jobs behind them"),
        (name = "operations", description = "Health and readiness")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
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

/// Completes the collected document with what middleware adds to operations: the
/// `Idempotency-Key` header of every authenticated `POST`.
pub fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for item in api.paths.paths.values_mut() {
        let Some(post) = item.post.as_mut() else {
            continue;
        };
        if post.security.is_none() {
            continue;
        }
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes the request safe to retry: a retry with the same key and body returns \
                 the first answer (`Idempotent-Replayed: true`); the same key with another \
                 body answers `422 idempotency_key_reused`. Kept 24 hours per principal.",
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

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
