//! How the SCIM operations are documented: bodies are `application/scim+json` objects
//! described by the schemas `/scim/v2/Schemas` serves; every operation can answer the SCIM
//! errors of [`ScimErrors`].

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};

use crate::scim::error::SCIM_JSON;

/// A SCIM resource (User, Group, or a discovery document), as `/scim/v2/Schemas` describes
/// it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimResourceBody {
    /// The URNs of the schemas the resource follows.
    pub schemas: Vec<String>,
    pub id: Option<String>,
    #[schema(value_type = Object)]
    pub meta: Option<serde_json::Value>,
}

/// A SCIM `ListResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimListBody {
    pub schemas: Vec<String>,
    pub total_results: i64,
    pub start_index: i64,
    pub items_per_page: i64,
    #[serde(rename = "Resources")]
    pub resources: Vec<ScimResourceBody>,
}

/// A SCIM `PatchOp` request (RFC 7644 §3.5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimPatchBody {
    /// `["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
    pub schemas: Vec<String>,
    /// `[{"op": "add" | "remove" | "replace", "path": "…", "value": …}]`
    #[serde(rename = "Operations")]
    #[schema(value_type = Vec<Object>)]
    pub operations: Vec<serde_json::Value>,
}

/// A SCIM `SearchRequest` (`POST /scim/v2/Users/.search`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimSearchBody {
    pub schemas: Vec<String>,
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub attributes: Option<Vec<String>>,
    pub excluded_attributes: Option<Vec<String>>,
}

/// A SCIM error (RFC 7644 §3.12).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimErrorBody {
    /// `["urn:ietf:params:scim:api:messages:2.0:Error"]`
    pub schemas: Vec<String>,
    /// The HTTP status, as a string.
    pub status: String,
    /// `uniqueness`, `invalidFilter`, `invalidSyntax`, `invalidPath`, `noTarget`,
    /// `invalidValue`, `mutability`, …
    pub scim_type: Option<String>,
    pub detail: String,
}

/// The SCIM errors every SCIM operation can answer.
pub struct ScimErrors;

const ERRORS: &[(u16, &str)] = &[
    (
        400,
        "A bad value, filter, path or body; `scimType` says which.",
    ),
    (
        401,
        "No SCIM token, or one that is revoked or not a SCIM token (a REST token is refused).",
    ),
    (404, "No such resource in the token's site."),
    (405, "A write to a discovery document."),
    (
        409,
        "`uniqueness`: the userName is taken; otherwise a licence rule (SPEC §1) or a permission or clinic rule (SPEC §4) refused the change.",
    ),
    (412, "If-Match does not name the current version."),
    (413, "The body is too large."),
    (
        415,
        "The body is not application/scim+json or application/json.",
    ),
    (429, "Too many requests; see Retry-After."),
    (503, "The database is unreachable."),
];

impl IntoResponses for ScimErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        ERRORS
            .iter()
            .map(|(status, description)| {
                let response = ResponseBuilder::new()
                    .description(*description)
                    .content(
                        SCIM_JSON,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ScimErrorBody")))
                            .build(),
                    )
                    .build();
                (status.to_string(), RefOr::T(response))
            })
            .collect()
    }
}
