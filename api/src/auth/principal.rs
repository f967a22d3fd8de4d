//! The `Principal` extractor: verifies the bearer token and loads who it stands for from
//! the database on every request, so a deactivated user, a revoked account or a removed
//! permission takes effect at once.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use staffroom_domain::{
    ClinicId, Permission, PrincipalKind, ProblemCode, ServiceAccountId, SiteId, UserId,
};
use staffroom_persistence::access::ActorScope;
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::users::CreatorScope;
use staffroom_persistence::users::User;
use staffroom_persistence::{service_accounts, users};

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

    /// `403 forbidden` unless the principal holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "This operation needs the {} permission.",
                permission.as_str()
            )))
        }
    }

    /// `403 forbidden` unless the principal is a site or clinic administrator.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_site_admin() || self.has(Permission::ClinicAdmin) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "This operation needs the site_admin or clinic_admin permission.",
            ))
        }
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

fn gone(e: ApiError) -> ApiError {
    if e.code == ProblemCode::NotFound {
        ApiError::invalid_token("The token's principal no longer exists.")
    } else {
        e
    }
}

async fn load(req: HttpRequest) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(ApiError::internal)?;
    let token = bearer(&req)?;
    let claims = state.tokens.verify(&token)?;
    let bad = || ApiError::invalid_token("The bearer token is not valid.");
    let site: SiteId = claims.site.parse().map_err(|_| bad())?;
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    match claims.kind {
        PrincipalKind::User => {
            let id: UserId = claims.sub.parse().map_err(|_| bad())?;
            let user = db::run(&state, move |c| users::get(c, site, id))
                .await
                .map_err(gone)?;
            if !user.is_active() {
                return Err(ApiError::invalid_token("The user has been deactivated."));
            }
            Ok(Principal {
                kind: PrincipalKind::User,
                site_id: site,
                subject: claims.sub,
                permissions: user.permissions.clone(),
                user: Some(user),
                request_id,
            })
        }
        PrincipalKind::Service => {
            let id: ServiceAccountId = claims.sub.parse().map_err(|_| bad())?;
            let account = db::run(&state, move |c| service_accounts::get(c, site, id))
                .await
                .map_err(gone)?;
            if !account.is_active() {
                return Err(ApiError::invalid_token(
                    "The service account has been revoked.",
                ));
            }
            Ok(Principal {
                kind: PrincipalKind::Service,
                site_id: site,
                subject: claims.sub,
                permissions: account.permissions,
                user: None,
                request_id,
            })
        }
        PrincipalKind::Assistant | PrincipalKind::Scim => Err(bad()),
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(load(req.clone()))
    }
}
