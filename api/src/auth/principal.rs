//! The `Principal` extractor: verifies the bearer token (once per request) and checks who it
//! stands for against the database on every request, so a deactivated user, a revoked
//! account or a removed permission takes effect at once. What it read is cached
//! ([`crate::auth::callers`]) and reused while the site's write count stays the same.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use std::sync::Arc;

use staffroom_domain::{ClinicId, Permission, PrincipalKind, ProblemCode, SiteId};
use staffroom_persistence::access::ActorScope;
use staffroom_persistence::assistants::{self, AssistantAccount, Link};
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::users::CreatorScope;
use staffroom_persistence::users::User;
use staffroom_persistence::{DbConnection, StoreResult};
use staffroom_persistence::{scim_tokens, service_accounts, sites, users};

use crate::auth::callers::{Caller, CallerKey, Subject};
use crate::auth::password;
use crate::auth::tokens::{Claims, TokenKeys};
use crate::db;
use crate::error::ApiError;
use crate::extract::RequestId;
use crate::state::AppState;

/// Whoever makes the request, as verified and loaded for this request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub site_id: SiteId,
    /// The user id or service-account id the token was issued to.
    pub subject: String,
    /// The user, for user principals.
    pub user: Option<User>,
    /// The assistant account, for assistant principals.
    pub assistant: Option<AssistantAccount>,
    pub permissions: Vec<Permission>,
    pub request_id: String,
}

impl Principal {
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn is_site_admin(&self) -> bool {
        self.has(Permission::SiteAdmin)
    }

    /// Clinics the principal has access to; `None` means every clinic (site admins).
    pub fn clinic_scope(&self) -> Option<&[ClinicId]> {
        if self.is_site_admin() {
            None
        } else {
            Some(
                self.user
                    .as_ref()
                    .map_or(&[][..], |u| u.clinic_ids.as_slice()),
            )
        }
    }

    /// Who the principal is to the access rules of SPEC §4.
    pub fn actor_scope(&self) -> ActorScope {
        ActorScope {
            site_admin: self.is_site_admin(),
            clinic_admin: self.has(Permission::ClinicAdmin),
            clinic_ids: self
                .user
                .as_ref()
                .map(|u| u.clinic_ids.clone())
                .unwrap_or_default(),
        }
    }

    /// Site admins administer every user; clinic admins those sharing a clinic with them,
    /// except site administrators (a clinic admin must not take over a site admin's account).
    pub fn administers(&self, user: &User) -> bool {
        self.actor_scope().actor().administers(
            self.has(Permission::ClinicAdmin),
            &user.clinic_ids,
            user.has(Permission::SiteAdmin),
        )
    }

    /// `403` unless the principal administers `user`.
    pub fn require_administers(&self, user: &User) -> Result<(), ApiError> {
        if self.administers(user) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "You can administer only users who share a clinic with you (and no site administrators).",
            ))
        }
    }

    /// Who the principal is when creating a user.
    pub fn creator(&self) -> CreatorScope {
        CreatorScope {
            scope: self.actor_scope(),
            default_clinic_id: self.user.as_ref().map(|u| u.default_clinic_id),
        }
    }

    pub fn audit(&self) -> AuditContext {
        AuditContext {
            site_id: self.site_id,
            actor_kind: self.kind.into(),
            actor_id: Some(self.subject.clone()),
            on_behalf_of: None,
            request_id: Some(self.request_id.clone()),
        }
    }
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::invalid_token("Send Authorization: Bearer <token>."))?
        .to_str()
        .map_err(|_| ApiError::invalid_token("The Authorization header is not readable."))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::invalid_token("Send Authorization: Bearer <token>."))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::invalid_token(
            "Send Authorization: Bearer <token>.",
        ));
    }
    Ok(token.trim().to_owned())
}

/// The outcome of checking a request's bearer token, kept in its extensions.
#[derive(Clone)]
struct Verified(Result<Claims, ApiError>);

/// The claims of the request's bearer token, verified once per request: the rate limiter,
/// the idempotency scope and the principal all ask, and the signature is checked for the
/// first only.
pub fn verified_claims(req: &HttpRequest, tokens: &TokenKeys) -> Result<Claims, ApiError> {
    if let Some(Verified(outcome)) = req.extensions().get::<Verified>() {
        return outcome.clone();
    }
    let outcome = bearer(req).and_then(|token| tokens.verify(&token));
    req.extensions_mut().insert(Verified(outcome.clone()));
    outcome
}

fn gone(e: ApiError) -> ApiError {
    if e.code == ProblemCode::NotFound {
        ApiError::invalid_token("The token's principal no longer exists.")
    } else {
        e
    }
}

/// Reads the principal of `key` from the database unless the cached entry was read under
/// the site's current write count: one query when nothing of the site changed, and the
/// count is read before the principal, so an entry is never newer than its count says.
fn read_caller(
    conn: &mut DbConnection,
    key: CallerKey,
    cached: Option<Arc<Caller>>,
) -> StoreResult<Arc<Caller>> {
    let write_count = sites::write_count(conn, key.site)?;
    if let Some(caller) = cached.filter(|c| c.write_count == write_count) {
        return Ok(caller);
    }
    let caller = match key.subject {
        Subject::User(id) => {
            let user = users::get(conn, key.site, id)?;
            Caller {
                write_count,
                permissions: user.permissions.clone(),
                active: user.is_active(),
                token_hash: None,
                user: Some(user),
                assistant: None,
            }
        }
        Subject::Service(id) => {
            let account = service_accounts::get(conn, key.site, id)?;
            Caller {
                write_count,
                active: account.is_active(),
                token_hash: None,
                permissions: account.permissions,
                user: None,
                assistant: None,
            }
        }
        Subject::Assistant(id) => {
            let (account, links) = assistants::account_with_links(conn, key.site, id)?;
            Caller {
                write_count,
                active: links.iter().any(Link::is_live),
                token_hash: None,
                permissions: Vec::new(),
                user: None,
                assistant: Some(account),
            }
        }
        // A SCIM client provisions the site's users as its administrator would.
        Subject::Scim(id) => {
            let token = scim_tokens::get(conn, key.site, id)?;
            Caller {
                write_count,
                active: token.is_active(),
                token_hash: Some(token.token_hash),
                permissions: vec![Permission::SiteAdmin],
                user: None,
                assistant: None,
            }
        }
    };
    Ok(Arc::new(caller))
}

async fn load(req: HttpRequest) -> Result<Principal, ApiError> {
    if let Some(checked) = req.extensions().get::<Principal>().cloned() {
        return Ok(checked);
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(ApiError::internal)?;
    let claims = verified_claims(&req, &state.tokens)?;
    let bad = || ApiError::invalid_token("The bearer token is not valid.");
    let subject = match claims.kind {
        PrincipalKind::User => Subject::User(claims.sub.parse().map_err(|_| bad())?),
        PrincipalKind::Service => Subject::Service(claims.sub.parse().map_err(|_| bad())?),
        PrincipalKind::Assistant => Subject::Assistant(claims.sub.parse().map_err(|_| bad())?),
        PrincipalKind::Scim => Subject::Scim(claims.sub.parse().map_err(|_| bad())?),
    };
    let key = CallerKey {
        site: claims.site.parse().map_err(|_| bad())?,
        subject,
    };
    let cached = state.callers.get(&key);
    let before = cached.clone();
    let caller = db::run(&state, move |c| read_caller(c, key, cached))
        .await
        .map_err(gone)?;
    let retired = caller
        .assistant
        .as_ref()
        .is_some_and(|a| claims.generation != Some(a.token_generation));
    if !caller.active || retired {
        state.callers.forget(&key);
        return Err(ApiError::invalid_token(match key.subject {
            Subject::User(_) => "The user has been deactivated.",
            Subject::Service(_) => "The service account has been revoked.",
            Subject::Assistant(_) => {
                "The assistant's access was revoked or deleted, or no clinician they assist is active; log in again."
            }
            Subject::Scim(_) => "The SCIM token has been revoked.",
        }));
    }
    if let Some(stored) = &caller.token_hash
        && !bearer(&req).is_ok_and(|token| password::digest_matches(&token, stored))
    {
        return Err(bad());
    }
    if before.is_none_or(|b| !Arc::ptr_eq(&b, &caller)) {
        state.callers.put(key, Arc::clone(&caller));
    }
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    Ok(Principal {
        kind: claims.kind,
        site_id: key.site,
        subject: claims.sub,
        user: caller.user.clone(),
        assistant: caller.assistant.clone(),
        permissions: caller.permissions.clone(),
        request_id,
    })
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(load(req.clone()))
    }
}
