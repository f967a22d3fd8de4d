//! `/v1/scim-tokens`: the long-lived bearer tokens of the site's identity providers (site
//! administrators). A token is shown once, in the creation answer, and stored as a digest;
//! it opens `/scim/v2` only, for its site, until it is revoked.

use actix_web::{delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{EntityName, PrincipalKind, ScimTokenId};
use staffroom_persistence::scim_tokens::{self, IssueScimToken, RevokeScimToken, ScimToken};
use utoipa::{IntoParams, ToSchema};

use crate::answer::Answer;
use crate::auth::{Principal, Requester, Trip, password};
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::responses::{AdminList, AdminReadOne, Create, Revoke};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::{page_limit, page_of, utc};

/// How long a SCIM token lives: identity providers keep one for years; revoke it to end it.
const SCIM_TOKEN_TTL_SECONDS: i64 = 10 * 365 * 24 * 3600;

/// The field of [`CreatedScimToken`] that is never stored.
const TOKEN: &str = "token";

#[derive(Debug, Serialize, ToSchema)]
pub struct ScimTokenView {
    pub id: ScimTokenId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<ScimToken> for ScimTokenView {
    fn from(t: ScimToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: utc(t.created_at),
        }
    }
}

page_of!(ScimTokenPage, ScimTokenView);

/// The new token with its secret: the only time it is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedScimToken {
    pub id: ScimTokenId,
    pub name: String,
    /// The bearer token for `/scim/v2` (give it to the identity provider with the base URL
    /// `…/scim/v2`). Shown only in the first answer; a retry with the same
    /// `Idempotency-Key` replays this answer with `token: null` and the header
    /// `Secret-Withheld: token`. A lost token is replaced, not recovered.
    pub token: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateScimTokenRequest {
    /// What the token is for, such as the identity provider's name.
    pub name: EntityName,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListScimTokensQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_scim_tokens)
        .service(get_scim_token)
        .service(create_scim_token)
        .service(delete_scim_token);
}

/// The site's SCIM tokens that are not revoked (never their secrets).
#[utoipa::path(
    tag = "scim-tokens",
    params(ListScimTokensQuery),
    responses(
        (status = 200, body = ScimTokenPage, description = "A page of SCIM tokens."),
        AdminList,
    ),
    security(("bearer" = []))
)]
#[get("/v1/scim-tokens")]
pub async fn list_scim_tokens(
    state: web::Data<AppState>,
    requester: Requester,
    query: ValidQuery<ListScimTokensQuery>,
) -> Result<web::Json<ScimTokenPage>, ApiError> {
    let limit = page_limit(query.0.limit)?;
    let cursor = query.0.cursor;
    let page = requester
        .run(&state, move |c, site| {
            scim_tokens::list(c, site, limit, cursor.as_deref())
        })
        .await?;
    Ok(web::Json(ScimTokenPage::from_page(page)))
}

/// One SCIM token of the site that is not revoked (never its secret), with its `ETag`.
#[utoipa::path(
    tag = "scim-tokens",
    params(("id" = ScimTokenId, Path, description = "SCIM token id")),
    responses(
        (status = 200, body = ScimTokenView, description = "The SCIM token.", headers(("ETag" = String))),
        AdminReadOne,
    ),
    security(("bearer" = []))
)]
#[get("/v1/scim-tokens/{id}")]
pub async fn get_scim_token(
    state: web::Data<AppState>,
    requester: Requester,
    id: web::Path<ScimTokenId>,
) -> Result<Answer, ApiError> {
    let id = id.into_inner();
    let token = requester
        .run_as(&state, Trip::Short, move |c, site| {
            scim_tokens::get_active(c, site, id)
        })
        .await?;
    Ok(Answer::with_etag(
        token.version,
        &ScimTokenView::from(token),
    ))
}

/// Issue a SCIM token (site administrators).
///
/// The answer carries the `token`, which is never shown again: the bearer token of
/// `/scim/v2` for this site. It opens nothing under `/v1`. A retry with the same
/// `Idempotency-Key` replays the answer without it (`token: null`, header
/// `Secret-Withheld: token`).
#[utoipa::path(
    tag = "scim-tokens",
    request_body = CreateScimTokenRequest,
    responses(
        (status = 201, body = CreatedScimToken,
            description = "Issued; the only answer that carries the token.",
            headers(("ETag" = String), ("Location" = String), ("Secret-Withheld" = String,
                description = "On a replayed answer only: `token`, the field sent as null because the token is never stored."))),
        Create,
    ),
    security(("bearer" = []))
)]
#[post("/v1/scim-tokens")]
pub async fn create_scim_token(
    act: Act,
    principal: Principal,
    body: ValidJson<CreateScimTokenRequest>,
) -> Result<Answer, ApiError> {
    let id = ScimTokenId::new();
    let issued = act.state().tokens.issue(
        PrincipalKind::Scim,
        &id.to_string(),
        principal.site_id,
        Vec::new(),
        SCIM_TOKEN_TTL_SECONDS,
    )?;
    let token_hash = password::digest(&issued.token);
    let issue = IssueScimToken {
        id,
        name: body.0.name,
        token_hash,
    };
    act.run(principal.audit(), issue, |t| {
        created_with_token(t, issued.token)
    })
    .await
}

/// `201` with the new token, marked so that no stored copy keeps it.
fn created_with_token(token: ScimToken, secret: String) -> Answer {
    let location = format!("/v1/scim-tokens/{}", token.id);
    let version = token.version;
    let body = CreatedScimToken {
        id: token.id,
        name: token.name,
        token: Some(secret),
        created_at: utc(token.created_at),
    };
    Answer::created(location, version, &body).one_time_secret(TOKEN)
}

/// Revoke a SCIM token (site administrators).
///
/// Its next request to `/scim/v2` is refused (`401`). Revoking it again answers `404`.
#[utoipa::path(
    tag = "scim-tokens",
    params(
        ("id" = ScimTokenId, Path, description = "SCIM token id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being revoked"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        Revoke,
    ),
    security(("bearer" = []))
)]
#[delete("/v1/scim-tokens/{id}")]
pub async fn delete_scim_token(
    act: Act,
    principal: Principal,
    id: web::Path<ScimTokenId>,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    let revoke = RevokeScimToken {
        id: id.into_inner(),
        expected_version: if_match.0,
    };
    act.run(principal.audit(), revoke, |()| Answer::no_content())
        .await
}
