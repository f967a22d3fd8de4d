//! `/v1/service-accounts`: credentials for integrators and provisioning scripts (site
//! administrators). The secret is shown once, in the creation response.

use actix_web::{delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{EntityName, Permission, ServiceAccountId};
use staffroom_persistence::service_accounts::{
    self, CreateServiceAccount, NewServiceAccount, RevokeServiceAccount, ServiceAccount,
};
use utoipa::{IntoParams, ToSchema};

use crate::answer::Answer;
use crate::auth::{Principal, Requester, Trip, password};
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::responses::{AdminList, AdminReadOne, Create, Revoke};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::{page_limit, page_of, utc};

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAccountView {
    pub id: ServiceAccountId,
    pub name: String,
    pub client_id: String,
    pub permissions: Vec<Permission>,
    pub created_at: DateTime<Utc>,
}

impl From<ServiceAccount> for ServiceAccountView {
    fn from(a: ServiceAccount) -> Self {
        Self {
            id: a.id,
            name: a.name,
            client_id: a.client_id,
            permissions: a.permissions,
            created_at: utc(a.created_at),
        }
    }
}

page_of!(ServiceAccountPage, ServiceAccountView);

/// The field of [`CreatedServiceAccount`] that is never stored.
const CLIENT_SECRET: &str = "client_secret";

/// The new account with its secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedServiceAccount {
    pub id: ServiceAccountId,
    pub name: String,
    pub client_id: String,
    /// Shown only in the first answer; store it now. A retry with the same
    /// `Idempotency-Key` replays this answer with `client_secret: null` and the header
    /// `Secret-Withheld: client_secret`: the secret is never stored. A lost secret is
    /// replaced, not recovered: create a new account and revoke this one.
    pub client_secret: Option<String>,
    pub permissions: Vec<Permission>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceAccountRequest {
    pub name: EntityName,
    /// What the account's tokens may do; none when omitted (`clinic_admin` is not
    /// available: accounts have no clinics).
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListServiceAccountsQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_service_accounts)
        .service(get_service_account)
        .service(create_service_account)
        .service(delete_service_account);
}

/// The site's active service accounts.
#[utoipa::path(
    tag = "service-accounts",
    params(ListServiceAccountsQuery),
    responses(
        (status = 200, body = ServiceAccountPage, description = "A page of service accounts."),
        AdminList,
    ),
    security(("bearer" = []))
)]
#[get("/v1/service-accounts")]
pub async fn list_service_accounts(
    state: web::Data<AppState>,
    requester: Requester,
    query: ValidQuery<ListServiceAccountsQuery>,
) -> Result<web::Json<ServiceAccountPage>, ApiError> {
    let limit = page_limit(query.0.limit)?;
    let cursor = query.0.cursor;
    let page = requester
        .run(&state, move |c, site| {
            service_accounts::list(c, site, limit, cursor.as_deref())
        })
        .await?;
    Ok(web::Json(ServiceAccountPage::from_page(page)))
}

/// One active service account of the site (site administrators).
///
/// The same view as an item of the list, with its `ETag`. A revoked account, or one of
/// another site, answers `404`.
#[utoipa::path(
    tag = "service-accounts",
    params(("id" = ServiceAccountId, Path, description = "Service account id")),
    responses(
        (status = 200, body = ServiceAccountView, description = "The service account.", headers(("ETag" = String))),
        AdminReadOne,
    ),
    security(("bearer" = []))
)]
#[get("/v1/service-accounts/{id}")]
pub async fn get_service_account(
    state: web::Data<AppState>,
    requester: Requester,
    id: web::Path<ServiceAccountId>,
) -> Result<Answer, ApiError> {
    let id = id.into_inner();
    let account = requester
        .run_as(&state, Trip::Short, move |c, site| {
            service_accounts::get_active(c, site, id)
        })
        .await?;
    Ok(Answer::with_etag(
        account.version,
        &ServiceAccountView::from(account),
    ))
}

/// Create a service account (site administrators).
///
/// The answer carries its `client_secret`, which is never shown again; exchange it for
/// tokens with `POST /v1/auth/token`. A retry with the same `Idempotency-Key` replays the
/// account without its secret (`client_secret: null`, header `Secret-Withheld:
/// client_secret`); a lost secret is replaced by creating a new account and revoking this
/// one.
#[utoipa::path(
    tag = "service-accounts",
    request_body = CreateServiceAccountRequest,
    responses(
        (status = 201, body = CreatedServiceAccount,
            description = "Created; the only answer that carries the secret; `Location` names the account.",
            headers(("ETag" = String), ("Location" = String), ("Secret-Withheld" = String,
                description = "On a replayed answer only: `client_secret`, the field sent as null because the secret is never stored."))),
        Create,
    ),
    security(("bearer" = []))
)]
#[post("/v1/service-accounts")]
pub async fn create_service_account(
    act: Act,
    principal: Principal,
    body: ValidJson<CreateServiceAccountRequest>,
) -> Result<Answer, ApiError> {
    let body = body.0;
    let secret = password::random_token(32);
    let new = NewServiceAccount {
        name: body.name,
        permissions: body.permissions,
        client_id: format!("sa_{}", password::random_token(12)),
        secret_hash: password::digest(&secret),
    };
    act.run(principal.audit(), CreateServiceAccount { new }, |account| {
        created_with_secret(account, secret)
    })
    .await
}

/// `201` with the new account and its secret, marked so that no stored copy keeps it.
fn created_with_secret(account: ServiceAccount, secret: String) -> Answer {
    let location = format!("/v1/service-accounts/{}", account.id);
    let version = account.version;
    let body = CreatedServiceAccount {
        id: account.id,
        name: account.name,
        client_id: account.client_id,
        client_secret: Some(secret),
        permissions: account.permissions,
        created_at: utc(account.created_at),
    };
    Answer::created(location, version, &body).one_time_secret(CLIENT_SECRET)
}

/// Revoke a service account (site administrators).
///
/// Its secret and its tokens stop working at once. A revoked account no longer exists for
/// the API: revoking it again answers `404`.
#[utoipa::path(
    tag = "service-accounts",
    params(
        ("id" = ServiceAccountId, Path, description = "Service account id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being revoked"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        Revoke,
    ),
    security(("bearer" = []))
)]
#[delete("/v1/service-accounts/{id}")]
pub async fn delete_service_account(
    act: Act,
    principal: Principal,
    id: web::Path<ServiceAccountId>,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    let revoke = RevokeServiceAccount {
        id: id.into_inner(),
        expected_version: if_match.0,
    };
    act.run(principal.audit(), revoke, |()| Answer::no_content())
        .await
}
