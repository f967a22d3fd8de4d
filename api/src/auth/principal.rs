//! The `Principal` extractor: verifies the bearer token (once per request) and checks who it
//! stands for against the database on every request, so a deactivated user, a revoked
//! account or a removed permission takes effect at once. What it read is cached
//! ([`crate::auth::callers`]) and reused while the site's write count stays the same.
//! A principal whose cached entry allows the operation is let in on it and checked by the
//! first statement of the request's trip to the database, so the check costs no trip of its
//! own ([`Requester`]).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use std::sync::Arc;

use staffroom_domain::{ClinicId, Needs, Permission, PrincipalKind, ProblemCode, SiteId, allows};
use staffroom_persistence::access::ActorScope;
use staffroom_persistence::assistants::{self, AssistantAccount, Link};
use staffroom_persistence::tx::{AuditContext, read_transaction};
use staffroom_persistence::users::CreatorScope;
use staffroom_persistence::users::User;
use staffroom_persistence::{DbConnection, StoreError, StoreResult};
use staffroom_persistence::{scim_tokens, service_accounts, sites, users};

use crate::answer::Answer;
use crate::auth::callers::{Caller, CallerKey, Subject};
use crate::auth::password;
use crate::auth::tokens::{Claims, TokenKeys};
use crate::db;
use crate::error::ApiError;
use crate::extract::RequestId;
use crate::read_cache::{ReadKey, Rendered};
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
    /// The check left to the request's trip to the database, when the principal was let
    /// in on its cached entry; the extractor makes it before a handler sees the principal.
    pending: Option<Pending>,
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

/// The `403 forbidden` of a principal that `needs` does not allow.
fn refusal(kind: PrincipalKind, needs: Needs) -> ApiError {
    let list = |ps: &[Permission]| {
        ps.iter()
            .map(Permission::as_str)
            .collect::<Vec<_>>()
            .join(" or ")
    };
    match needs {
        Needs::PersonOnly => ApiError::forbidden(
            "Only users can call this operation, not assistants or service accounts.",
        ),
        Needs::AssistantOnly => ApiError::forbidden("Only assistants can call this operation."),
        Needs::ForPatients => {
            ApiError::forbidden("Only a clinician and their assistants can call this operation.")
        }
        Needs::AnyOf(any) => ApiError::forbidden(format!(
            "This operation needs the {} permission.",
            list(any)
        )),
        Needs::People { service_needs } if kind == PrincipalKind::Service => {
            ApiError::forbidden(format!(
                "A service account needs the {} permission for this operation.",
                service_needs.as_str()
            ))
        }
        Needs::ScimClient => ApiError::invalid_token(
            "/scim/v2 takes a SCIM token of the site (POST /v1/scim-tokens).",
        ),
        _ if kind == PrincipalKind::Scim => {
            ApiError::forbidden("A SCIM token opens /scim/v2 only.")
        }
        Needs::Nothing | Needs::People { .. } => {
            ApiError::forbidden("This principal cannot call this operation.")
        }
    }
}

/// Whether `caller` may make a request that `needs` (when known) with a token issued at
/// `generation` (an assistant's): `401` for a deactivated user, a revoked account or SCIM
/// token, or an assistant whose tokens were retired, then `403` for a missing permission.
fn judge(
    kind: PrincipalKind,
    key: CallerKey,
    caller: &Caller,
    (needs, generation): (Option<Needs>, Option<i64>),
) -> Result<(), ApiError> {
    let retired = caller
        .assistant
        .as_ref()
        .is_some_and(|a| generation != Some(a.token_generation));
    if !caller.active || retired {
        return Err(ApiError::invalid_token(match key.subject {
            Subject::User(_) => "The user has been deactivated.",
            Subject::Service(_) => "The service account has been revoked.",
            Subject::Assistant(_) => {
                "The assistant's access was revoked or deleted, or no clinician they assist is active; log in again."
            }
            Subject::Scim(_) => "The SCIM token has been revoked.",
        }));
    }
    match needs {
        Some(needs) if !allows(kind, &caller.permissions, needs) => Err(refusal(kind, needs)),
        _ => Ok(()),
    }
}

/// A SCIM token is honoured only as the very token whose digest is stored (its digest never
/// changes, so a cached entry answers as well as a fresh one).
fn presented_as_stored(req: &HttpRequest, caller: &Caller) -> Result<(), ApiError> {
    match &caller.token_hash {
        Some(stored) if !bearer(req).is_ok_and(|t| password::digest_matches(&t, stored)) => {
            Err(ApiError::invalid_token("The bearer token is not valid."))
        }
        _ => Ok(()),
    }
}

/// Keeps what was read of `key` for the next request: a fresh entry replaces the cached
/// one, and an inactive principal is forgotten.
fn remember(state: &AppState, key: CallerKey, before: Option<&Arc<Caller>>, caller: &Arc<Caller>) {
    if !caller.active {
        state.callers.forget(&key);
    } else if before.is_none_or(|b| !Arc::ptr_eq(b, caller)) {
        state.callers.put(key, Arc::clone(caller));
    }
}

/// The check of a principal let in on its cached entry, left to the first statement of
/// the request's trip to the database (one trip per request instead of two). The entry
/// was read under `cached.write_count`; the check reads the site's write count and, only
/// when it moved, the principal again, and judges it against `needs` as the admission did.
#[derive(Debug, Clone)]
struct Pending {
    key: CallerKey,
    needs: Needs,
    /// The token's generation (an assistant's), judged again against the stored one.
    generation: Option<i64>,
    cached: Arc<Caller>,
}

/// What a check found: the principal as now stored (`None`: it no longer exists), and
/// whether it may make the request.
type Checked = (Option<Arc<Caller>>, Result<(), ApiError>);

impl Pending {
    /// Runs inside the blocking closure: the principal as now stored, and whether it may
    /// still make the request.
    fn check(&self, conn: &mut DbConnection, kind: PrincipalKind) -> StoreResult<Checked> {
        match read_caller(conn, self.key, Some(Arc::clone(&self.cached))) {
            Ok(caller) => {
                let verdict = judge(kind, self.key, &caller, (Some(self.needs), self.generation));
                Ok((Some(caller), verdict))
            }
            Err(StoreError::NotFound) => {
                Ok((None, Err(gone(ApiError::from(StoreError::NotFound)))))
            }
            Err(e) => Err(e),
        }
    }
}

/// The token's principal and site, from its verified claims.
fn identify(req: &HttpRequest, state: &AppState) -> Result<(Claims, CallerKey), ApiError> {
    let claims = verified_claims(req, &state.tokens)?;
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
    Ok((claims, key))
}

fn principal_of(
    req: &HttpRequest,
    claims: Claims,
    key: CallerKey,
    caller: &Caller,
    pending: Option<Pending>,
) -> Principal {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    Principal {
        kind: claims.kind,
        site_id: key.site,
        subject: claims.sub,
        user: caller.user.clone(),
        assistant: caller.assistant.clone(),
        permissions: caller.permissions.clone(),
        request_id,
        pending,
    }
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(ApiError::internal)
}

/// Lets the request's principal in for an operation that `needs` (`None`: undeclared, the
/// principal is only authenticated). A principal whose cached entry allows the operation
/// is let in on it, its check left to the handler's trip to the database ([`Requester`])
/// or to the [`Principal`] extractor; any other is read from the database now.
pub async fn admit(req: &HttpRequest, needs: Option<Needs>) -> Result<Principal, ApiError> {
    let state = app_state(req)?;
    let (claims, key) = identify(req, &state)?;
    let cached = state.callers.get(&key);
    if let (Some(needs), Some(entry)) = (needs, cached.as_ref())
        && judge(claims.kind, key, entry, (Some(needs), claims.generation)).is_ok()
    {
        presented_as_stored(req, entry)?;
        let pending = Pending {
            key,
            needs,
            generation: claims.generation,
            cached: Arc::clone(entry),
        };
        return Ok(principal_of(req, claims, key, entry, Some(pending)));
    }
    let before = cached.clone();
    let caller = db::run(&state, move |c| read_caller(c, key, cached))
        .await
        .map_err(gone)?;
    remember(&state, key, before.as_ref(), &caller);
    judge(claims.kind, key, &caller, (needs, claims.generation))?;
    presented_as_stored(req, &caller)?;
    Ok(principal_of(req, claims, key, &caller, None))
}

/// The principal checked against the database: the one the admission read, or, when it was
/// let in on its cache entry, that check made now (a trip of its own).
pub(crate) async fn load(req: HttpRequest) -> Result<Principal, ApiError> {
    let admitted = req.extensions().get::<Principal>().cloned();
    let principal = match admitted {
        Some(principal) => principal,
        None => admit(&req, None).await?,
    };
    let Some(pending) = principal.pending.clone() else {
        return Ok(principal);
    };
    let state = app_state(&req)?;
    let kind = principal.kind;
    let check = pending.clone();
    let (caller, verdict) = db::run(&state, move |c| check.check(c, kind)).await?;
    if let Some(caller) = &caller {
        remember(&state, pending.key, Some(&pending.cached), caller);
    } else {
        state.callers.forget(&pending.key);
    }
    verdict?;
    let checked = match caller {
        Some(caller) => Principal {
            user: caller.user.clone(),
            assistant: caller.assistant.clone(),
            permissions: caller.permissions.clone(),
            pending: None,
            ..principal
        },
        None => return Err(ApiError::internal()),
    };
    req.extensions_mut().insert(checked.clone());
    Ok(checked)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(load(req.clone()))
    }
}

/// The principal of a request that needs only who it is and its site: no permission, no
/// user record. It adds no trip to the database: a principal let in on its cached entry is
/// checked by the first statement of [`Requester::run`], in the same blocking closure as
/// the handler's own work, so a deactivation, a revocation or a removed permission still
/// takes effect on the very next request.
#[derive(Debug, Clone)]
pub struct Requester {
    kind: PrincipalKind,
    site_id: SiteId,
    pending: Option<Pending>,
}

/// Where a request's trip to the database runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trip {
    /// On the blocking pool: a read whose cost may grow with the data.
    Pool,
    /// A short read, bounded whatever the site's size (one user, a page of one index): on
    /// SQLite on the HTTP worker itself ([`db::short_read`]).
    Short,
}

/// Whether a trip's statements run in one read transaction (on SQLite) or each on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Within {
    Transaction,
    /// One statement: a transaction would add its `BEGIN` and `COMMIT` and nothing else.
    Statement,
}

impl Trip {
    /// [`Trip::Short`] when `bounded`, else [`Trip::Pool`].
    pub fn short_if(bounded: bool) -> Self {
        if bounded { Self::Short } else { Self::Pool }
    }
}

impl Requester {
    /// Runs `f` with a pooled connection and the principal's site on the blocking pool,
    /// after the principal's check; `f` does not run when the check refuses. On SQLite the
    /// check and `f` run in one read transaction (`tx::read_transaction`): `f` only reads.
    pub async fn run<T, F>(self, state: &AppState, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, SiteId) -> StoreResult<T> + Send + 'static,
    {
        self.run_as(state, Trip::Pool, f).await
    }

    /// [`Requester::run`], with the trip made where `trip` says.
    pub async fn run_as<T, F>(self, state: &AppState, trip: Trip, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, SiteId) -> StoreResult<T> + Send + 'static,
    {
        self.trip(state, (trip, Within::Transaction), move |c, site, _| {
            f(c, site)
        })
        .await
    }

    /// A read whose answer depends on nothing but the site's data, the principal and
    /// `request` (its path and query), made as [`Requester::run_as`] makes it: the answer
    /// `f` renders is kept in the read cache ([`crate::read_cache`]) and sent again, without
    /// running `f`, to the principal's next identical request while the site's write count
    /// stays the one its check read. Only successes without a one-time secret are kept.
    pub async fn answer<F>(
        self,
        state: &AppState,
        trip: Trip,
        request: &str,
        f: F,
    ) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&mut DbConnection, SiteId) -> StoreResult<Answer> + Send + 'static,
    {
        let cache = Arc::clone(&state.read_cache);
        let key = self
            .pending
            .as_ref()
            .filter(|_| cache.enabled())
            .map(|p| ReadKey {
                caller: p.key,
                request: request.into(),
            });
        // On SQLite a kept answer needs only the check: one statement on the worker, outside
        // a transaction, even for a read whose rendering would go to the blocking pool. A
        // miss then makes the whole trip (the check again, in the read's transaction). On
        // PostgreSQL the probe would be one more round trip per miss, so the trip looks the
        // answer up itself.
        let probed = key.is_some() && state.short_reads_inline;
        if probed
            && let Some(key) = key.clone()
            && let Some(hit) = self.clone().kept(state, key).await?
        {
            return Ok(hit.response());
        }
        let rendered = self
            .trip(
                state,
                (trip, Within::Transaction),
                move |c, site, caller| {
                    let kept = key.zip(caller.map(|c| c.write_count));
                    if let Some((key, count)) = &kept
                        && !probed
                        && let Some(hit) = cache.get(key, *count)
                    {
                        return Ok(hit);
                    }
                    let rendered = Arc::new(Rendered::from(f(c, site)?));
                    if let Some((key, count)) = kept
                        && rendered.is_keepable()
                    {
                        cache.put(key, count, Arc::clone(&rendered));
                    }
                    Ok(rendered)
                },
            )
            .await?;
        Ok(rendered.response())
    }

    /// The answer kept for `key` at the site's current write count, after the principal's
    /// check (made as one statement on the worker): `None` when there is none.
    async fn kept(self, state: &AppState, key: ReadKey) -> Result<Option<Arc<Rendered>>, ApiError> {
        let cache = Arc::clone(&state.read_cache);
        self.trip(
            state,
            (Trip::Short, Within::Statement),
            move |_, _, caller| Ok(caller.and_then(|c| cache.get(&key, c.write_count))),
        )
        .await
    }

    /// Makes the request's trip where `trip` says: the principal's check, then (when it
    /// lets the request through) `f`, given the principal as the check read it (`None`
    /// when it was read by the admission, with no check left).
    async fn trip<T, F>(
        self,
        state: &AppState,
        (trip, within): (Trip, Within),
        f: F,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, SiteId, Option<&Caller>) -> StoreResult<T> + Send + 'static,
    {
        let Requester {
            kind,
            site_id,
            pending,
        } = self;
        let check = pending.clone();
        let checked = move |c: &mut DbConnection| {
            if let Some(check) = check {
                let (caller, verdict) = check.check(c, kind)?;
                if let Err(refused) = verdict {
                    return Ok((caller, Err(refused)));
                }
                let answer = f(c, site_id, caller.as_deref())?;
                return Ok((caller, Ok(answer)));
            }
            Ok((None, Ok(f(c, site_id, None)?)))
        };
        // On SQLite one read transaction: the check and the reads see one snapshot, and
        // SQLite takes its read locks once per request instead of once per statement. On
        // PostgreSQL its `BEGIN` and `COMMIT` would be two more round trips per request;
        // there the check reads the write count before `f` reads anything, so what `f`
        // reads is never older than that count.
        let work = move |c: &mut DbConnection| {
            if within == Within::Transaction && matches!(c, DbConnection::Sqlite(_)) {
                read_transaction(c, checked)
            } else {
                checked(c)
            }
        };
        let (caller, outcome) = match trip {
            Trip::Pool => db::run(state, work).await?,
            Trip::Short => db::short_read(state, work).await?,
        };
        if let Some(pending) = pending {
            match &caller {
                Some(caller) => remember(state, pending.key, Some(&pending.cached), caller),
                None => state.callers.forget(&pending.key),
            }
        }
        outcome
    }
}

impl FromRequest for Requester {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let admitted = req.extensions().get::<Principal>().cloned();
            let principal = match admitted {
                Some(principal) => principal,
                None => load(req).await?,
            };
            Ok(Requester {
                kind: principal.kind,
                site_id: principal.site_id,
                pending: principal.pending,
            })
        })
    }
}
