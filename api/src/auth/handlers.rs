//! `POST /v1/auth/login`, `POST /v1/auth/token` (client credentials) and `GET /v1/me`.

use actix_web::{HttpMessage, HttpRequest, get, post, web};
use serde::{Deserialize, Serialize};
use staffroom_domain::{Email, Permission, PrincipalKind, ProblemCode, SiteId};
use staffroom_persistence::{service_accounts, sites, users};
use utoipa::ToSchema;

use super::{Principal, password};
use crate::db;
use crate::error::ApiError;
use crate::extract::{ValidJson, body_limit, from_json_value, read_body};
use crate::responses::{Conflict, Read, SignIn};
use crate::state::AppState;
use crate::users::UserView;

/// Lifetime of a user's token.
const USER_TOKEN_SECONDS: i64 = 3600;
/// Lifetime of a service account's token.
const SERVICE_TOKEN_SECONDS: i64 = 900;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The user's email address, in any case.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(format = Password, write_only)]
    pub password: String,
    /// Needed only when the same email and password match users of several sites.
    pub site_id: Option<SiteId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

/// Body of `POST /v1/auth/token`, as a form or as JSON.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    pub grant_type: String,
    pub client_id: String,
    #[schema(format = Password, write_only)]
    pub client_secret: String,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        ProblemCode::InvalidCredentials,
        "The credentials do not match an active account.",
    )
}

fn bearer(token: super::tokens::IssuedToken) -> web::Json<TokenResponse> {
    web::Json(TokenResponse {
        access_token: token.token,
        token_type: "Bearer".to_owned(),
        expires_in: token.expires_in,
    })
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login).service(issue_token).service(get_me);
}

/// Log in with email and password.
///
/// Answers a bearer token for the other operations. Records `last_login_at`; a diary
/// change pending since a type change takes effect now. While too many passwords are being
/// checked at once, answers `503 hashing_busy` with `Retry-After`: retry after that many
/// seconds.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse, description = "Logged in."),
        SignIn,
        (status = 409, response = Conflict),
    ),
    security(())
)]
#[post("/v1/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: ValidJson<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = body.0;
    let email = Email::parse(&body.email).map_err(|_| invalid_credentials())?;
    let site = body.site_id;
    let candidates = db::run(&state, move |c| users::login_candidates(c, &email, site)).await?;
    let matched = state
        .hashing
        .matching(body.password, candidates, |c| c.password_hash.as_str())
        .await?;
    let user = match matched.as_slice() {
        [] => return Err(invalid_credentials()),
        [one] => one.clone(),
        _ => {
            return Err(ApiError::new(
                ProblemCode::SiteRequired,
                "These credentials belong to users of several sites; send site_id.",
            ));
        }
    };
    let user = db::run(&state, move |c| {
        users::record_login(c, user.site_id, user.user_id)
    })
    .await?;
    let scopes = user
        .permissions
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    let token = state.tokens.issue(
        PrincipalKind::User,
        &user.id.to_string(),
        user.site_id,
        scopes,
        USER_TOKEN_SECONDS,
    )?;
    Ok(bearer(token))
}

/// Exchange a service account's credentials for a token.
///
/// The OAuth 2.0 client-credentials grant: `grant_type=client_credentials` with the
/// account's `client_id` and `client_secret`, as a form or as JSON. The token is
/// short-lived (`expires_in` seconds); ask for a new one when it expires.
#[utoipa::path(
    tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse, description = "A token with the account's permissions."),
        SignIn,
    ),
    security(())
)]
#[post("/v1/auth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let is_form = is_form(&req)?;
    let body = read_body(&req, &mut payload, body_limit(&req)).await?;
    let value: serde_json::Value = if is_form {
        form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::malformed_body(format!("The body is not valid JSON: {e}")))?
    };
    let request: TokenRequest = from_json_value(&req, value)?;
    if request.grant_type != "client_credentials" {
        return Err(ApiError::field(
            "grant_type",
            "unsupported_grant_type",
            "Only client_credentials is supported.",
        ));
    }
    let client_id = request.client_id;
    let found = db::run(&state, move |c| {
        service_accounts::find_by_client_id(c, &client_id)
    })
    .await?;
    let Some((account, digest)) = found else {
        return Err(invalid_credentials());
    };
    if !password::digest_matches(&request.client_secret, &digest) {
        return Err(invalid_credentials());
    }
    let scopes = account
        .permissions
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    let token = state.tokens.issue(
        PrincipalKind::Service,
        &account.id.to_string(),
        account.site_id,
        scopes,
        SERVICE_TOKEN_SECONDS,
    )?;
    Ok(bearer(token))
}

/// Whether a token request is a form (`false`: JSON, also when no media type is sent);
/// any other media type is `415 unsupported_media_type`.
fn is_form(req: &HttpRequest) -> Result<bool, ApiError> {
    use actix_web::mime;
    let unsupported = || {
        ApiError::new(
            ProblemCode::UnsupportedMediaType,
            "Send the body as application/x-www-form-urlencoded or application/json.",
        )
    };
    match req.mime_type().map_err(|_| unsupported())? {
        None => Ok(false),
        Some(m) if m.type_() != mime::APPLICATION => Err(unsupported()),
        Some(m) if m.subtype() == mime::WWW_FORM_URLENCODED => Ok(true),
        Some(m) if m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON) => Ok(false),
        Some(_) => Err(unsupported()),
    }
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub kind: PrincipalKind,
    pub site_id: SiteId,
    pub site_name: String,
    /// The user, for `kind: user`.
    pub user: Option<UserView>,
    /// The service account's id, for `kind: service`.
    #[schema(format = Uuid)]
    pub service_account_id: Option<String>,
    pub permissions: Vec<Permission>,
}

/// Who the caller is: kind, site, user or service account, and permissions.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, body = MeView, description = "The caller."),
        Read,
    ),
    security(("bearer" = []))
)]
#[get("/v1/me")]
pub async fn get_me(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<MeView>, ApiError> {
    let site = principal.site_id;
    let site = db::run(&state, move |c| sites::get(c, site)).await?;
    Ok(web::Json(MeView {
        kind: principal.kind,
        site_id: site.id,
        site_name: site.name,
        service_account_id: (principal.kind == PrincipalKind::Service)
            .then(|| principal.subject.clone()),
        user: principal.user.map(UserView::from),
        permissions: principal.permissions,
    }))
}
