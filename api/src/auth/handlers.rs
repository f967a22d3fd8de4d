//! `POST /v1/auth/login`, `POST /v1/auth/token` (client credentials) and `GET /v1/me`.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, get, post, web};
use serde::{Deserialize, Serialize};
use staffroom_domain::{Email, Permission, PrincipalKind, ProblemCode, SiteId};
use staffroom_persistence::assistants::{self, AccountCandidate, RecordAssistantLogin};
use staffroom_persistence::logins::{IssueToken, RecordLogin};
use staffroom_persistence::service_accounts::ServiceAccount;
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::users::LoginCandidate;
use staffroom_persistence::{service_accounts, sites, users};
use utoipa::ToSchema;

use super::tokens::TokenKeys;
use super::{Principal, password};
use crate::answer::Answer;
use crate::assistants::AssistantAccountView;
use crate::db;
use crate::error::ApiError;
use crate::extract::{RequestId, ValidJson, body_limit, from_json_value, read_body};
use crate::responses::{Conflict, Read, SignIn};
use crate::state::AppState;
use crate::usecase::Act;
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
    /// Whom to log in as when the email is both a user's and an assistant's: `user` or
    /// `assistant`. Without it, a matching user is logged in first, else a matching
    /// assistant.
    pub kind: Option<LoginKind>,
}

/// Who logs in with `POST /v1/auth/login`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoginKind {
    /// A staff member of the site.
    User,
    /// A clinician's assistant; the token's kind is `assistant`.
    Assistant,
}

/// Whose credentials matched.
enum Matched {
    User(LoginCandidate),
    Assistant(AccountCandidate),
}

/// The field of [`TokenResponse`] that is never stored.
const ACCESS_TOKEN: &str = "access_token";

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The bearer token. A retry with the same `Idempotency-Key` replays this answer with
    /// `access_token: null` and the header `Secret-Withheld: access_token`: a token is never
    /// stored. Sign in again (without the key, or with a new one) for a token.
    pub access_token: Option<String>,
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

/// Who signs in, for the audit events of their sign-in.
fn signing_in(site: SiteId, kind: PrincipalKind, subject: &str, id: RequestId) -> AuditContext {
    AuditContext {
        site_id: site,
        actor_kind: kind.into(),
        actor_id: Some(subject.to_owned()),
        on_behalf_of: None,
        request_id: Some(id.0),
    }
}

/// `200` with a new token for `subject`, marked so that no stored copy keeps it.
fn bearer(
    tokens: &TokenKeys,
    kind: PrincipalKind,
    (site, subject): (SiteId, &str),
    permissions: &[Permission],
    (ttl_seconds, generation): (i64, Option<i64>),
) -> Answer {
    let scopes = permissions.iter().map(|p| p.as_str().to_owned()).collect();
    match tokens.issue_generation(kind, (subject, site), scopes, ttl_seconds, generation) {
        Ok(token) => {
            let body = TokenResponse {
                access_token: Some(token.token),
                token_type: "Bearer".to_owned(),
                expires_in: token.expires_in,
            };
            Answer::json(StatusCode::OK, &body).one_time_secret(ACCESS_TOKEN)
        }
        Err(error) => Answer::json(error.status_code(), &error.problem()),
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login).service(issue_token).service(get_me);
}

/// Log in with email and password.
///
/// Answers a bearer token for the other operations. Users and clinicians' assistants log
/// in here: when the email and password match a user, the token is a user's (kind
/// `user`); else, when they match an assistant who still assists an active clinician, an
/// assistant's (kind `assistant`). Send `kind` to choose when one email is both. Records
/// `last_login_at`; a user's diary change pending since a type change takes effect now. While too many passwords are being
/// checked at once, answers `503 hashing_busy` with `Retry-After`: retry after that many
/// seconds. A retry with the same `Idempotency-Key` (and a matching password) replays the
/// answer without its token (`access_token: null`, header `Secret-Withheld:
/// access_token`); log in again for a token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse, description = "Logged in.",
            headers(("Secret-Withheld" = String,
                description = "On a replayed answer only: `access_token`, the field sent as null because a token is never stored."))),
        SignIn,
        (status = 409, response = Conflict),
    ),
    security(())
)]
#[post("/v1/auth/login")]
pub async fn login(
    act: Act,
    request_id: RequestId,
    body: ValidJson<LoginRequest>,
) -> Result<Answer, ApiError> {
    match matching(act.state(), body.0).await? {
        Matched::User(user) => login_user(act, request_id, user).await,
        Matched::Assistant(account) => login_assistant(act, request_id, account).await,
    }
}

/// Records a user's login and answers their token.
async fn login_user(
    act: Act,
    request_id: RequestId,
    user: LoginCandidate,
) -> Result<Answer, ApiError> {
    let (site, id) = (user.site_id, user.user_id.to_string());
    let ctx = signing_in(site, PrincipalKind::User, &id, request_id);
    let tokens = Arc::clone(&act.state().tokens);
    let act = act.signed_in(site, PrincipalKind::User, &id).await?;
    let record = RecordLogin { id: user.user_id };
    act.run(ctx, record, move |user| {
        let subject = (user.site_id, user.id.to_string());
        let (kind, subject) = (PrincipalKind::User, (subject.0, subject.1.as_str()));
        bearer(
            &tokens,
            kind,
            subject,
            &user.permissions,
            (USER_TOKEN_SECONDS, None),
        )
    })
    .await
}

/// Records an assistant's login and answers their token, which carries the account's
/// token generation.
async fn login_assistant(
    act: Act,
    request_id: RequestId,
    found: AccountCandidate,
) -> Result<Answer, ApiError> {
    let (site, id) = (found.site_id, found.account_id.to_string());
    let ctx = signing_in(site, PrincipalKind::Assistant, &id, request_id);
    let tokens = Arc::clone(&act.state().tokens);
    let act = act.signed_in(site, PrincipalKind::Assistant, &id).await?;
    let record = RecordAssistantLogin {
        id: found.account_id,
    };
    act.run(ctx, record, move |account| {
        let subject = account.id.to_string();
        let lifetime = (USER_TOKEN_SECONDS, Some(account.token_generation));
        let kind = PrincipalKind::Assistant;
        bearer(&tokens, kind, (account.site_id, &subject), &[], lifetime)
    })
    .await
}

/// Whose email and password match, of `body.site_id` or of any site: an active user
/// first, else an assistant (or only the `kind` asked for). The Argon2id checks run outside
/// any transaction, bounded by `Hashing`.
async fn matching(state: &AppState, body: LoginRequest) -> Result<Matched, ApiError> {
    let email = Email::parse(&body.email).map_err(|_| invalid_credentials())?;
    let site = body.site_id;
    if body.kind != Some(LoginKind::Assistant) {
        let email = email.clone();
        let candidates = db::run(state, move |c| users::login_candidates(c, &email, site)).await?;
        let password = body.password.clone();
        let matched = state
            .hashing
            .matching(password, candidates, |c| c.password_hash.as_str())
            .await?;
        if let Some(user) = the_one(matched)? {
            return Ok(Matched::User(user));
        }
    }
    if body.kind != Some(LoginKind::User) {
        let candidates = db::run(state, move |c| {
            assistants::login_candidates(c, &email, site)
        })
        .await?;
        let matched = state
            .hashing
            .matching(body.password, candidates, |c| c.password_hash.as_str())
            .await?;
        if let Some(account) = the_one(matched)? {
            return Ok(Matched::Assistant(account));
        }
    }
    Err(invalid_credentials())
}

/// The one match; none; or `409 site_required` when the credentials match in several sites.
fn the_one<T>(matched: Vec<T>) -> Result<Option<T>, ApiError> {
    match <[T; 1]>::try_from(matched) {
        Ok([one]) => Ok(Some(one)),
        Err(none) if none.is_empty() => Ok(None),
        Err(_) => Err(ApiError::new(
            ProblemCode::SiteRequired,
            "These credentials belong to accounts of several sites; send site_id.",
        )),
    }
}

/// Exchange a service account's credentials for a token.
///
/// The OAuth 2.0 client-credentials grant: `grant_type=client_credentials` with the
/// account's `client_id` and `client_secret`, as a form or as JSON. The token is
/// short-lived (`expires_in` seconds); ask for a new one when it expires. A retry with the
/// same `Idempotency-Key` replays the answer without its token (`access_token: null`,
/// header `Secret-Withheld: access_token`); ask again for a token.
#[utoipa::path(
    tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse, description = "A token with the account's permissions.",
            headers(("Secret-Withheld" = String,
                description = "On a replayed answer only: `access_token`, the field sent as null because a token is never stored."))),
        SignIn,
    ),
    security(())
)]
#[post("/v1/auth/token")]
pub async fn issue_token(
    act: Act,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<Answer, ApiError> {
    let request = token_request(&req, payload).await?;
    let account = matching_account(act.state(), request).await?;
    let (site, id) = (account.site_id, account.id.to_string());
    let request_id = RequestId::extract(&req).await?;
    let ctx = signing_in(site, PrincipalKind::Service, &id, request_id);
    let tokens = Arc::clone(&act.state().tokens);
    let act = act.signed_in(site, PrincipalKind::Service, &id).await?;
    act.run(ctx, IssueToken { id: account.id }, move |account| {
        let subject = (account.site_id, account.id.to_string());
        let (kind, subject) = (PrincipalKind::Service, (subject.0, subject.1.as_str()));
        bearer(
            &tokens,
            kind,
            subject,
            &account.permissions,
            (SERVICE_TOKEN_SECONDS, None),
        )
    })
    .await
}

/// A token request, as a form or as JSON, for the client-credentials grant.
async fn token_request(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<TokenRequest, ApiError> {
    let is_form = is_form(req)?;
    let body = read_body(req, &mut payload, body_limit(req)).await?;
    let value: serde_json::Value = if is_form {
        form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::malformed_body(format!("The body is not valid JSON: {e}")))?
    };
    let request: TokenRequest = from_json_value(req, value)?;
    if request.grant_type != "client_credentials" {
        return Err(ApiError::field(
            "grant_type",
            "unsupported_grant_type",
            "Only client_credentials is supported.",
        ));
    }
    Ok(request)
}

/// The active service account whose client id and secret match.
async fn matching_account(
    state: &AppState,
    request: TokenRequest,
) -> Result<ServiceAccount, ApiError> {
    let client_id = request.client_id;
    let found = db::run(state, move |c| {
        service_accounts::find_by_client_id(c, &client_id)
    })
    .await?;
    match found {
        Some((account, digest)) if password::digest_matches(&request.client_secret, &digest) => {
            Ok(account)
        }
        _ => Err(invalid_credentials()),
    }
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
    /// The assistant, for `kind: assistant`; `GET /v1/me/clinicians` lists whom they
    /// assist.
    pub assistant: Option<AssistantAccountView>,
    /// The service account's id, for `kind: service`.
    #[schema(format = Uuid)]
    pub service_account_id: Option<String>,
    pub permissions: Vec<Permission>,
}

/// Who the caller is: kind, site, user, assistant or service account, and permissions.
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
        assistant: principal.assistant.map(AssistantAccountView::from),
        permissions: principal.permissions,
    }))
}
