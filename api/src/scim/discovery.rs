//! SCIM discovery (RFC 7644 §4): `ServiceProviderConfig`, `Schemas`, `ResourceTypes`,
//! rendered from the schema tables of `staffroom_scim::schema`, so they say what the
//! endpoints do. They are read-only: any other method answers `405`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde_json::{Value, json};
use staffroom_domain::{Permission, Profession};
use staffroom_scim::schema::{
    SCHEMAS, STAFFROOM_USER_URN, Schema, resource_types, service_provider_config,
};

use crate::scim::error::ScimError;
use crate::scim::openapi::{ScimErrors, ScimListBody, ScimResourceBody};
use crate::scim::{MAX_RESULTS, base_url, list_response, resource_response};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_scim_service_provider_config)
        .service(list_scim_schemas)
        .service(get_scim_schema)
        .service(list_scim_resource_types)
        .service(get_scim_resource_type);
}

/// What this SCIM server supports (RFC 7643 §5).
#[utoipa::path(
    tag = "scim",
    responses(
        (status = 200, body = ScimResourceBody, content_type = "application/scim+json", description = "The service provider configuration."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/ServiceProviderConfig")]
pub async fn get_scim_service_provider_config(req: HttpRequest) -> HttpResponse {
    let config = service_provider_config(&base_url(&req), MAX_RESULTS);
    resource_response(StatusCode::OK, &config)
}

/// A schema's document; the Staffroom extension's `profession` and `permissions` list the
/// values the API takes as `canonicalValues` (the vocabularies of `staffroom_domain`, which
/// the pure `scim` crate does not know).
fn document(schema: &Schema, base: &str) -> Value {
    let mut document = schema.document(base);
    if schema.urn != STAFFROOM_USER_URN {
        return document;
    }
    let professions: Vec<&str> = Profession::ALL.iter().map(Profession::as_str).collect();
    let permissions: Vec<&str> = Permission::ALL.iter().map(Permission::as_str).collect();
    if let Some(attributes) = document["attributes"].as_array_mut() {
        for attribute in attributes {
            match attribute["name"].as_str() {
                Some("profession") => attribute["canonicalValues"] = json!(professions),
                Some("permissions") => attribute["canonicalValues"] = json!(permissions),
                _ => {}
            }
        }
    }
    document
}

/// The schemas of the resources: User, the Staffroom User extension, Group.
#[utoipa::path(
    tag = "scim",
    responses(
        (status = 200, body = ScimListBody, content_type = "application/scim+json", description = "Every schema."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Schemas")]
pub async fn list_scim_schemas(req: HttpRequest) -> HttpResponse {
    let base = base_url(&req);
    let all: Vec<_> = SCHEMAS.iter().map(|s| document(s, &base)).collect();
    list_response(i64::try_from(all.len()).unwrap_or(0), 1, all)
}

/// One schema, by its URN.
#[utoipa::path(
    tag = "scim",
    params(("id" = String, Path, description = "The schema's URN")),
    responses(
        (status = 200, body = ScimResourceBody, content_type = "application/scim+json", description = "The schema."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Schemas/{id}")]
pub async fn get_scim_schema(
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let schema = SCHEMAS
        .iter()
        .find(|s| s.urn.eq_ignore_ascii_case(&id))
        .ok_or_else(ScimError::not_found)?;
    Ok(resource_response(
        StatusCode::OK,
        &document(schema, &base_url(&req)),
    ))
}

/// The resource types: User (with the Staffroom extension) and Group.
#[utoipa::path(
    tag = "scim",
    responses(
        (status = 200, body = ScimListBody, content_type = "application/scim+json", description = "Every resource type."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/ResourceTypes")]
pub async fn list_scim_resource_types(req: HttpRequest) -> HttpResponse {
    let all: Vec<_> = resource_types(&base_url(&req))
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    list_response(i64::try_from(all.len()).unwrap_or(0), 1, all)
}

/// One resource type, by its id (`User`, `Group`).
#[utoipa::path(
    tag = "scim",
    params(("id" = String, Path, description = "User or Group")),
    responses(
        (status = 200, body = ScimResourceBody, content_type = "application/scim+json", description = "The resource type."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/ResourceTypes/{id}")]
pub async fn get_scim_resource_type(
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let (_, document) = resource_types(&base_url(&req))
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&id))
        .ok_or_else(ScimError::not_found)?;
    Ok(resource_response(StatusCode::OK, &document))
}
