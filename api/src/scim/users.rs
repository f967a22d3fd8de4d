//! `/scim/v2/Users`: the site's users as SCIM Users. Reads page, filter and sort in the
//! database (`scim_reads::users_page` over `scim_filter`); writes run the REST use-cases —
//! `CreateUser`, `UpdateProfile`, `ChangeType`, `ReplaceAccess`, `SetStatus` — in one
//! transaction per request, so a refused rule changes nothing. `DELETE` deactivates the user
//! and marks it deleted for SCIM (RFC 7644 §3.6): the record stays for history and REST
//! (SPEC §2), and every `/scim/v2` operation on it answers `404` afterwards.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde_json::{Map, Value, json};
use staffroom_domain::{
    AccessReplacement, ClinicId, Profession, SiteId, UserId, UserPatch, UserStatus,
};
use staffroom_persistence::DbConnection;
use staffroom_persistence::access::{ActorScope, ReplaceAccess};
use staffroom_persistence::scim_filter::{Cond, Dialect, translate};
use staffroom_persistence::scim_reads::{self, ScimUserSort};
use staffroom_persistence::tx::{AuditContext, check_version};
use staffroom_persistence::users::{
    ChangeType, CreateUser, CreatorScope, MarkScimDeleted, NewUser, SetStatus, UpdateProfile, User,
};
use staffroom_scim::ScimType;
use staffroom_scim::filter::parse_filter;
use staffroom_scim::patch;
use staffroom_scim::schema::{STAFFROOM_USER_URN, USER};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::scim::error::ScimError;
use crate::scim::openapi::{
    ScimErrors, ScimListBody, ScimPatchBody, ScimResourceBody, ScimSearchBody,
};
use crate::scim::resource::{Projection, UserInput, get_ci, user_input, user_resource};
use crate::scim::{
    base_url, change, if_match, json_body, list_response, paging, query, read, resource_response,
    step,
};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_scim_users)
        .service(search_scim_users)
        .service(get_scim_user)
        .service(create_scim_user)
        .service(replace_scim_user)
        .service(patch_scim_user)
        .service(delete_scim_user);
}

/// A user id from the path; one that is not a UUID names no user.
fn user_id(id: &str) -> Result<UserId, ScimError> {
    id.parse().map_err(|_| ScimError::not_found())
}

/// The user as a SCIM resource.
fn resource(
    conn: &mut DbConnection,
    site: SiteId,
    id: UserId,
    base: &str,
) -> Result<Value, ScimError> {
    let user = scim_reads::user(conn, site, id)?;
    let clinics = scim_reads::clinic_names(conn, site)?;
    Ok(user_resource(&user, &clinics, base))
}

/// What a list asks for: filter, paging, sort and projection, from the query or a
/// `SearchRequest` body.
pub struct ListRequest {
    pub filter: Option<String>,
    pub start: i64,
    pub count: i64,
    pub sort: ScimUserSort,
    pub descending: bool,
    pub projection: Projection,
}

fn sort_of(name: Option<&str>) -> Result<ScimUserSort, ScimError> {
    let Some(name) = name else {
        return Ok(ScimUserSort::Created);
    };
    let local = name
        .trim()
        .to_ascii_lowercase()
        .trim_start_matches("urn:ietf:params:scim:schemas:core:2.0:user:")
        .to_owned();
    Ok(match local.as_str() {
        "username" | "emails" | "emails.value" => ScimUserSort::UserName,
        "name.givenname" => ScimUserSort::GivenName,
        "name.familyname" => ScimUserSort::FamilyName,
        "externalid" => ScimUserSort::ExternalId,
        "id" => ScimUserSort::Id,
        "meta.created" => ScimUserSort::Created,
        "meta.lastmodified" => ScimUserSort::LastModified,
        _ => return Err(ScimError::invalid_value(format!("cannot sort by {name}"))),
    })
}

fn descending(order: Option<&str>) -> Result<bool, ScimError> {
    match order.map(str::to_ascii_lowercase).as_deref() {
        None | Some("ascending") => Ok(false),
        Some("descending") => Ok(true),
        Some(other) => Err(ScimError::invalid_value(format!(
            "sortOrder must be ascending or descending, not {other}"
        ))),
    }
}

fn list_request_of_query(req: &HttpRequest) -> Result<ListRequest, ScimError> {
    let (start, count) = paging(req)?;
    Ok(ListRequest {
        filter: query(req, "filter"),
        start,
        count,
        sort: sort_of(query(req, "sortBy").as_deref())?,
        descending: descending(query(req, "sortOrder").as_deref())?,
        projection: Projection::new(
            query(req, "attributes").as_deref(),
            query(req, "excludedAttributes").as_deref(),
        ),
    })
}

pub fn list_request_of_body(body: &Value) -> Result<ListRequest, ScimError> {
    let object = body.as_object().ok_or_else(|| {
        ScimError::bad(ScimType::InvalidSyntax, "the body must be a SearchRequest")
    })?;
    let text = |name: &str| {
        get_ci(object, name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let list = |name: &str| {
        get_ci(object, name).map(|v| match v {
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
            other => other.as_str().unwrap_or_default().to_owned(),
        })
    };
    let number = |name: &str| get_ci(object, name).and_then(Value::as_i64);
    Ok(ListRequest {
        filter: text("filter"),
        start: number("startIndex").unwrap_or(1).max(1),
        count: number("count")
            .unwrap_or(i64::from(super::MAX_RESULTS))
            .clamp(0, i64::from(super::MAX_RESULTS)),
        sort: sort_of(text("sortBy").as_deref())?,
        descending: descending(text("sortOrder").as_deref())?,
        projection: Projection::new(
            list("attributes").as_deref(),
            list("excludedAttributes").as_deref(),
        ),
    })
}

/// Runs a list request: the filter as indexed SQL, counted and cut in the database.
async fn list(
    state: &AppState,
    site: SiteId,
    base: String,
    asked: ListRequest,
) -> Result<HttpResponse, ScimError> {
    let start = asked.start;
    let (total, resources) = page(state, site, base, asked).await?;
    Ok(list_response(total, start, resources))
}

/// The users of a list request: how many match, and the page asked for, projected.
pub async fn page(
    state: &AppState,
    site: SiteId,
    base: String,
    asked: ListRequest,
) -> Result<(i64, Vec<Value>), ScimError> {
    let filter = asked.filter.as_deref().map(parse_filter).transpose()?;
    let (start, projection) = (asked.start, asked.projection);
    read(state, move |conn| {
        let cond = match &filter {
            Some(filter) => translate(filter, Dialect::of(conn))?,
            None => Cond::Const(true),
        };
        let page = scim_reads::users_page(
            conn,
            site,
            &cond,
            asked.sort,
            asked.descending,
            start,
            asked.count,
        )?;
        let clinics = scim_reads::clinic_names(conn, site)?;
        let resources = page
            .users
            .iter()
            .map(|u| projection.apply(user_resource(u, &clinics, &base)))
            .collect();
        Ok((page.total, resources))
    })
    .await
}

/// The clinics a new user gets: the `groups` sent, and the default clinic with them.
fn new_user(input: UserInput, password_hash: Option<String>) -> NewUser {
    let mut clinic_ids: Vec<ClinicId> = input.groups;
    if let Some(default) = input.default_clinic
        && !clinic_ids.contains(&default)
    {
        clinic_ids.push(default);
    }
    NewUser {
        title: input.title,
        first_name: input.first_name,
        last_name: input.last_name,
        email: input.email,
        user_name: input.user_name,
        email_primary: input.email_primary,
        user_type: input.user_type,
        profession: input.profession.unwrap_or(Profession::Other),
        permissions: input.permissions.unwrap_or_default(),
        clinic_ids,
        default_clinic_id: input.default_clinic,
        password_hash,
        external_id: input.external_id.flatten(),
    }
}

/// Creates the user of `input` (deactivated at once when it says `active: false`).
async fn create(
    state: &AppState,
    principal: &Principal,
    input: UserInput,
    base: String,
) -> Result<Value, ScimError> {
    let password_hash = state.hashing.hash_optional(input.password.clone()).await?;
    let creator = CreatorScope::site_admin();
    let active = input.active;
    // Without a password the user sets one by the invitation a REST creation sends (SPEC §7);
    // a user created deactivated is not invited.
    let invitation = (password_hash.is_none() && active)
        .then(|| crate::invitation_messages::new_invitation(state, input.first_name.as_str()));
    let new = new_user(input, password_hash);
    change(state, principal.audit(), move |conn, ctx| {
        let created = step(
            conn,
            ctx,
            CreateUser {
                creator,
                new,
                invitation,
            },
        )?;
        if !active {
            step(
                conn,
                ctx,
                SetStatus {
                    id: created.id,
                    expected_version: None,
                    status: UserStatus::Inactive,
                },
            )?;
        }
        resource(conn, ctx.site_id, created.id, &base)
    })
    .await
}

/// Makes `current` what `input` asks, one use-case per kind of change, in the order that
/// frees a licence before one is needed: deactivate first, reactivate last.
fn replace(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    current: &User,
    input: UserInput,
    password_hash: Option<String>,
) -> Result<(), ScimError> {
    let id = current.id;
    if !input.active && current.is_active() {
        step(
            conn,
            ctx,
            SetStatus {
                id,
                expected_version: None,
                status: UserStatus::Inactive,
            },
        )?;
    }
    let patch = UserPatch {
        title: Some(input.title),
        first_name: Some(input.first_name),
        last_name: Some(input.last_name),
        email: Some(input.email),
        profession: input.profession,
    };
    let update = UpdateProfile {
        id,
        expected_version: None,
        patch,
        external_id: input.external_id,
        password_hash,
        user_name: Some(input.user_name),
        email_primary: Some(input.email_primary),
    };
    step(conn, ctx, update)?;
    if input.user_type != current.user_type {
        step(
            conn,
            ctx,
            ChangeType {
                id,
                expected_version: None,
                user_type: input.user_type,
            },
        )?;
    }
    let actor = ActorScope {
        site_admin: true,
        clinic_admin: false,
        clinic_ids: Vec::new(),
    };
    if let Some(mut permissions) = input.permissions {
        permissions.sort();
        permissions.dedup();
        if permissions != current.permissions {
            let wanted = AccessReplacement::Permissions(permissions);
            step(
                conn,
                ctx,
                ReplaceAccess {
                    actor: actor.clone(),
                    id,
                    expected_version: None,
                    wanted,
                },
            )?;
        }
    }
    if let Some(default) = input
        .default_clinic
        .filter(|d| *d != current.default_clinic_id)
    {
        let mut clinic_ids = current.clinic_ids.clone();
        if !clinic_ids.contains(&default) {
            clinic_ids.push(default);
        }
        let wanted = AccessReplacement::Clinics {
            clinic_ids,
            default_clinic_id: default,
        };
        step(
            conn,
            ctx,
            ReplaceAccess {
                actor,
                id,
                expected_version: None,
                wanted,
            },
        )?;
    }
    if input.active && !current.is_active() {
        step(
            conn,
            ctx,
            SetStatus {
                id,
                expected_version: None,
                status: UserStatus::Active,
            },
        )?;
    }
    Ok(())
}

/// The default clinic's `$ref` and `display`, which the server composes, taken out of the
/// current resource before a PATCH applies: a `defaultClinic.value` replaced alone then names
/// the new clinic.
fn stored_only(resource: &mut Map<String, Value>) {
    let extension = resource
        .get_mut(STAFFROOM_USER_URN)
        .and_then(Value::as_object_mut);
    if let Some(Value::Object(default)) = extension.and_then(|e| e.get_mut("defaultClinic")) {
        default.retain(|k, _| k == "value");
    }
}

/// The user's email after a PATCH that changed `emails` (Entra ID replaces
/// `emails[type eq "work"].value`; an `add` appends an address): a user has one address, so
/// an address other than the current one replaces it (the primary of them, else the work
/// one, else the first, kept with its `type` and `primary`), and a userName that was the
/// email follows it.
fn follow_emails(patched: &mut Map<String, Value>, current: &User) {
    let Some(emails) = get_ci(patched, "emails").and_then(Value::as_array) else {
        return;
    };
    let value = |e: &Value| e.get("value").and_then(Value::as_str).map(str::to_owned);
    let new: Vec<&Value> = emails
        .iter()
        .filter(|e| value(e).is_some_and(|v| !v.eq_ignore_ascii_case(&current.email)))
        .collect();
    let flag = |name: &str, wanted: &Value| new.iter().find(|e| e.get(name) == Some(wanted));
    let Some(kept) = flag("primary", &Value::Bool(true))
        .or_else(|| flag("type", &Value::String("work".into())))
        .or_else(|| new.first())
        .map(|e| (*e).clone())
    else {
        return;
    };
    let Some(address) = value(&kept) else {
        return;
    };
    let user_name = get_ci(patched, "userName").and_then(Value::as_str);
    if current.user_name.is_none()
        && user_name.is_some_and(|n| n.eq_ignore_ascii_case(&current.email))
    {
        patched.insert("userName".to_owned(), Value::String(address.clone()));
    }
    patched.insert("emails".to_owned(), json!([kept]));
}

/// Applies a PATCH: the current resource, changed by the operations, then replaced as a
/// whole (so the result obeys the same rules as a `PUT`).
async fn patch_user(
    state: &AppState,
    principal: &Principal,
    id: UserId,
    ops: Vec<patch::PatchOp>,
    expected: Option<i64>,
    base: String,
) -> Result<Value, ScimError> {
    let mut password = None;
    for op in &ops {
        password = patched_password(op)?.or(password);
    }
    let password_hash = match password {
        Some(p) => Some(state.hashing.hash(p).await?),
        None => None,
    };
    change(state, principal.audit(), move |conn, ctx| {
        let current = scim_reads::user(conn, ctx.site_id, id)?;
        check_version(expected, current.version)?;
        let Value::Object(mut patched) = resource(conn, ctx.site_id, id, &base)? else {
            return Err(ScimError::from(ApiError::internal()));
        };
        stored_only(&mut patched);
        patch::apply(&mut patched, &ops, &USER)?;
        follow_emails(&mut patched, &current);
        patched.remove("password");
        let mut input = user_input(&Value::Object(patched), &base)?;
        // What the PATCH left absent is cleared (a `remove` of it): no `externalId`, no
        // permissions.
        input.external_id.get_or_insert(None);
        input.permissions.get_or_insert_with(Vec::new);
        replace(conn, ctx, &current, input, password_hash)?;
        resource(conn, ctx.site_id, id, &base)
    })
    .await
}

/// A password a PATCH operation sets (write-only: it is hashed, never kept in the resource).
/// A password that does not parse is refused (`400 invalidValue`), never dropped.
fn patched_password(op: &patch::PatchOp) -> Result<Option<staffroom_domain::Password>, ScimError> {
    let Some(value) = op.value.as_ref() else {
        return Ok(None);
    };
    let text = match &op.path {
        Some(path) if path.is("password", None) => value.as_str(),
        None => value
            .as_object()
            .and_then(|o| get_ci(o, "password"))
            .and_then(Value::as_str),
        Some(_) => None,
    };
    text.map(|t| {
        staffroom_domain::Password::parse(t)
            .map_err(|e| ScimError::invalid_value(format!("password: {}", e.message)))
    })
    .transpose()
}

/// Replaces the user with `input` (PUT).
async fn put_user(
    state: &AppState,
    principal: &Principal,
    id: UserId,
    input: UserInput,
    expected: Option<i64>,
    base: String,
) -> Result<Value, ScimError> {
    let password_hash = state.hashing.hash_optional(input.password.clone()).await?;
    change(state, principal.audit(), move |conn, ctx| {
        let current = scim_reads::user(conn, ctx.site_id, id)?;
        check_version(expected, current.version)?;
        replace(conn, ctx, &current, input, password_hash)?;
        resource(conn, ctx.site_id, id, &base)
    })
    .await
}

/// The site's users, filtered (`filter`), paged (`startIndex`, `count`), sorted
/// (`sortBy`, `sortOrder`) and projected (`attributes`, `excludedAttributes`).
///
/// `filter` takes `eq ne co sw ew pr gt ge lt le`, `and or not` and parentheses over
/// `userName`, `name.givenName`, `name.familyName`, `title`, `emails` (and
/// `emails[type eq "work"].value`), `externalId`, `id`, `userType`, `active`,
/// `meta.created`, `meta.lastModified`; it runs as SQL served by indexes.
#[utoipa::path(
    tag = "scim",
    params(
        ("filter" = Option<String>, Query, description = "A SCIM filter, e.g. `userName eq \"ada@example.com\"`"),
        ("startIndex" = Option<i64>, Query, description = "1-based index of the first result"),
        ("count" = Option<i64>, Query, description = "Results per page (at most 200)"),
        ("sortBy" = Option<String>, Query, description = "userName, name.givenName, name.familyName, externalId, id, meta.created, meta.lastModified"),
        ("sortOrder" = Option<String>, Query, description = "ascending or descending"),
        ("attributes" = Option<String>, Query, description = "Comma-separated attributes to return"),
        ("excludedAttributes" = Option<String>, Query, description = "Comma-separated attributes to leave out"),
    ),
    responses(
        (status = 200, body = ScimListBody, content_type = "application/scim+json", description = "A ListResponse of Users."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Users")]
pub async fn list_scim_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ScimError> {
    let asked = list_request_of_query(&req)?;
    list(&state, principal.site_id, base_url(&req), asked).await
}

/// The same list as `GET /scim/v2/Users`, asked by a `SearchRequest` body.
#[utoipa::path(
    tag = "scim",
    request_body(content = ScimSearchBody, content_type = "application/scim+json"),
    responses(
        (status = 200, body = ScimListBody, content_type = "application/scim+json", description = "A ListResponse of Users."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[post("/scim/v2/Users/.search")]
pub async fn search_scim_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let asked = list_request_of_body(&json_body(&req, &body)?)?;
    list(&state, principal.site_id, base_url(&req), asked).await
}

/// One user of the site (also a deactivated one: `active: false`), with its `ETag`; a user
/// deleted through SCIM is not found.
#[utoipa::path(
    tag = "scim",
    params(
        ("id" = String, Path, description = "User id"),
        ("attributes" = Option<String>, Query, description = "Comma-separated attributes to return"),
        ("excludedAttributes" = Option<String>, Query, description = "Comma-separated attributes to leave out"),
    ),
    responses(
        (status = 200, body = ScimResourceBody, content_type = "application/scim+json", description = "The User.", headers(("ETag" = String))),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Users/{id}")]
pub async fn get_scim_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let (site, id, base) = (principal.site_id, user_id(&id)?, base_url(&req));
    let user = read(&state, move |conn| resource(conn, site, id, &base)).await?;
    Ok(respond(&req, StatusCode::OK, user))
}

/// The resource projected as the request's `attributes` / `excludedAttributes` ask.
fn respond(req: &HttpRequest, status: StatusCode, resource: Value) -> HttpResponse {
    let projection = Projection::new(
        query(req, "attributes").as_deref(),
        query(req, "excludedAttributes").as_deref(),
    );
    resource_response(status, &projection.apply(resource))
}

/// Create a user (RFC 7644 §3.3). `userName` is the email, or a login name that is not an
/// email (then `emails` gives the email, the Staffroom login); unique in the site across
/// login names and emails whatever the case (`409 uniqueness`). `password` becomes the
/// login password; without it the user is emailed an invitation, as by `POST /v1/users`.
/// `groups` give clinic access; the licence and permission rules answer `409`.
#[utoipa::path(
    tag = "scim",
    request_body(content = ScimResourceBody, content_type = "application/scim+json"),
    responses(
        (status = 201, body = ScimResourceBody, content_type = "application/scim+json", description = "Created; `Location` is `meta.location`.", headers(("ETag" = String), ("Location" = String))),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[post("/scim/v2/Users")]
pub async fn create_scim_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let input = user_input(&json_body(&req, &body)?, &base_url(&req))?;
    let user = create(&state, &principal, input, base_url(&req)).await?;
    Ok(respond(&req, StatusCode::CREATED, user))
}

/// Replace a user (RFC 7644 §3.5.1): the profile, type, `active`, `externalId`,
/// `password` and the Staffroom extension become what the body says; `title` left out is
/// cleared, extension attributes left out are kept. `If-Match` is honoured.
#[utoipa::path(
    tag = "scim",
    params(("id" = String, Path, description = "User id"), ("If-Match" = Option<String>, Header, description = "The ETag being replaced")),
    request_body(content = ScimResourceBody, content_type = "application/scim+json"),
    responses(
        (status = 200, body = ScimResourceBody, content_type = "application/scim+json", description = "The User as replaced.", headers(("ETag" = String))),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[put("/scim/v2/Users/{id}")]
pub async fn replace_scim_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let id = user_id(&id)?;
    let input = user_input(&json_body(&req, &body)?, &base_url(&req))?;
    let user = put_user(
        &state,
        &principal,
        id,
        input,
        if_match(&req),
        base_url(&req),
    )
    .await?;
    Ok(respond(&req, StatusCode::OK, user))
}

/// Change a user with `add` / `replace` / `remove` operations (RFC 7644 §3.5.2), with or
/// without `path` (value paths such as `emails[type eq "work"].value` included); answers
/// `200` with the User, honouring `attributes` / `excludedAttributes`. `If-Match` is
/// honoured.
#[utoipa::path(
    tag = "scim",
    params(("id" = String, Path, description = "User id"), ("If-Match" = Option<String>, Header, description = "The ETag being changed")),
    request_body(content = ScimPatchBody, content_type = "application/scim+json"),
    responses(
        (status = 200, body = ScimResourceBody, content_type = "application/scim+json", description = "The User as changed.", headers(("ETag" = String))),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/scim/v2/Users/{id}")]
pub async fn patch_scim_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let id = user_id(&id)?;
    let ops = patch::parse_request(&json_body(&req, &body)?)?;
    let user = patch_user(&state, &principal, id, ops, if_match(&req), base_url(&req)).await?;
    Ok(respond(&req, StatusCode::OK, user))
}

/// Delete a user (RFC 7644 §3.6): the user is deactivated (the licence is freed) and gone
/// from `/scim/v2` — every operation on it answers `404` afterwards and no list shows it.
/// SPEC §2 keeps the record, so REST still reads it as inactive and its email stays taken
/// (creating the same `userName` again answers `409 uniqueness`). `If-Match` is honoured.
#[utoipa::path(
    tag = "scim",
    params(("id" = String, Path, description = "User id"), ("If-Match" = Option<String>, Header, description = "The ETag being deleted")),
    responses(
        (status = 204, description = "Deleted."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[delete("/scim/v2/Users/{id}")]
pub async fn delete_scim_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let (id, expected) = (user_id(&id)?, if_match(&req));
    change(&state, principal.audit(), move |conn, ctx| {
        scim_reads::user(conn, ctx.site_id, id)?;
        let status = UserStatus::Inactive;
        let deactivate = SetStatus {
            id,
            expected_version: expected,
            status,
        };
        step(conn, ctx, deactivate)?;
        step(conn, ctx, MarkScimDeleted { id })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
