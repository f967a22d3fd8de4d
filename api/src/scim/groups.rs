//! `/scim/v2/Groups`: the site's clinics as SCIM Groups; a member is a user with access to
//! the clinic. Renames run `UpdateClinic`, membership changes run `ReplaceAccess` for each
//! user added or removed (so the default-clinic rule and the access rules apply), creation
//! and deletion run `CreateClinic` and `DeleteClinic`; all of one request in one
//! transaction. A site has a handful of clinics: a Group filter is checked on the rendered
//! groups (the Users filter, over thousands, runs in SQL).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde_json::Value;
use staffroom_domain::{AccessReplacement, ClinicId, ClinicPatch, SiteId, UserId};
use staffroom_persistence::DbConnection;
use staffroom_persistence::StoreError;
use staffroom_persistence::access::{ActorScope, ReplaceAccess};
use staffroom_persistence::clinics::{
    CreateClinic, DeleteClinic, SetClinicExternalId, UpdateClinic,
};
use staffroom_persistence::scim_reads;
use staffroom_persistence::tx::{AuditContext, check_version};
use staffroom_scim::filter::parse_filter;
use staffroom_scim::patch;
use staffroom_scim::schema::{Attribute, GROUP};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::scim::error::ScimError;
use crate::scim::openapi::{ScimErrors, ScimListBody, ScimPatchBody, ScimResourceBody};
use crate::scim::resource::{GroupInput, Projection, group_input, group_resource};
use crate::scim::{
    base_url, change, if_match, json_body, list_response, paging, query, read, resource_response,
    step,
};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_scim_groups)
        .service(get_scim_group)
        .service(create_scim_group)
        .service(replace_scim_group)
        .service(patch_scim_group)
        .service(delete_scim_group);
}

/// A Group as the filter reads it.
const GROUP_RESOURCE: Attribute = Attribute::complex("Group", GROUP.attributes);

fn clinic_id(id: &str) -> Result<ClinicId, ScimError> {
    id.parse().map_err(|_| ScimError::not_found())
}

fn projection(req: &HttpRequest) -> Projection {
    Projection::new(
        query(req, "attributes").as_deref(),
        query(req, "excludedAttributes").as_deref(),
    )
}

fn resource(
    conn: &mut DbConnection,
    site: SiteId,
    id: ClinicId,
    base: &str,
    members: bool,
) -> Result<Value, ScimError> {
    Ok(group_resource(
        &scim_reads::clinic(conn, site, id, members)?,
        base,
    ))
}

/// Gives `user` access to `clinic` (`add`) or takes it away, through `ReplaceAccess`.
fn set_member(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    clinic: ClinicId,
    user: UserId,
    add: bool,
) -> Result<(), ScimError> {
    let current = scim_reads::user(conn, ctx.site_id, user).map_err(|e| match e {
        StoreError::NotFound => {
            ScimError::invalid_value(format!("members: {user} is not a user of this site"))
        }
        other => ScimError::from(other),
    })?;
    let mut clinic_ids = current.clinic_ids.clone();
    if add == clinic_ids.contains(&clinic) {
        return Ok(());
    }
    if add {
        clinic_ids.push(clinic);
    } else {
        clinic_ids.retain(|c| *c != clinic);
    }
    let wanted = AccessReplacement::Clinics {
        clinic_ids,
        default_clinic_id: current.default_clinic_id,
    };
    let actor = ActorScope {
        site_admin: true,
        ..ActorScope::default()
    };
    step(
        conn,
        ctx,
        ReplaceAccess {
            actor,
            id: user,
            expected_version: None,
            wanted,
        },
    )?;
    Ok(())
}

/// Makes the clinic what `input` asks: its name, its `externalId` when sent, and its
/// members when they are given.
fn replace(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: ClinicId,
    input: GroupInput,
) -> Result<(), ScimError> {
    let current = scim_reads::clinic(conn, ctx.site_id, id, true)?;
    if let Some(external_id) = input.external_id {
        step(conn, ctx, SetClinicExternalId { id, external_id })?;
    }
    if input.name.as_str() != current.clinic.name {
        let patch = ClinicPatch {
            name: Some(input.name),
            assistants_may_finish_notes: None,
        };
        step(
            conn,
            ctx,
            UpdateClinic {
                scope: None,
                id,
                expected_version: None,
                patch,
            },
        )?;
    }
    let Some(wanted) = input.members else {
        return Ok(());
    };
    for member in current.members.iter().filter(|m| !wanted.contains(&m.id)) {
        set_member(conn, ctx, id, member.id, false)?;
    }
    for user in wanted
        .iter()
        .filter(|u| !current.members.iter().any(|m| m.id == **u))
    {
        set_member(conn, ctx, id, *user, true)?;
    }
    Ok(())
}

/// Applies PATCH operations to the group with its members, then replaces it.
fn patched(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: ClinicId,
    ops: &[patch::PatchOp],
    base: &str,
) -> Result<(), ScimError> {
    let Value::Object(mut group) = resource(conn, ctx.site_id, id, base, true)? else {
        return Err(ScimError::from(ApiError::internal()));
    };
    patch::apply(&mut group, ops, &GROUP)?;
    let mut input = group_input(&Value::Object(group), base)?;
    // What the PATCH left absent is cleared (a `remove` of it).
    input.members.get_or_insert_with(Vec::new);
    input.external_id.get_or_insert(None);
    replace(conn, ctx, id, input)
}

/// Creates the clinic of `input` and gives its members access.
fn create(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    input: GroupInput,
    base: &str,
) -> Result<Value, ScimError> {
    let name = input.name.clone();
    let clinic = step(
        conn,
        ctx,
        CreateClinic {
            name,
            assistants_may_finish_notes: false,
        },
    )?;
    replace(conn, ctx, clinic.id, input)?;
    resource(conn, ctx.site_id, clinic.id, base, true)
}

/// The site's clinics as Groups, filtered, paged and projected.
#[utoipa::path(
    tag = "scim",
    params(
        ("filter" = Option<String>, Query, description = "A SCIM filter, e.g. `displayName eq \"North\"`"),
        ("startIndex" = Option<i64>, Query, description = "1-based index of the first result"),
        ("count" = Option<i64>, Query, description = "Results per page (at most 200)"),
        ("attributes" = Option<String>, Query, description = "Comma-separated attributes to return"),
        ("excludedAttributes" = Option<String>, Query, description = "Comma-separated attributes to leave out, e.g. `members`"),
    ),
    responses(
        (status = 200, body = ScimListBody, content_type = "application/scim+json", description = "A ListResponse of Groups."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Groups")]
pub async fn list_scim_groups(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ScimError> {
    let (projection, base) = (projection(&req), base_url(&req));
    let filter = query(&req, "filter");
    let matching = matching(&state, principal.site_id, base, filter, &projection).await?;
    page_of(&req, matching, &projection)
}

/// The site's clinics as Groups that match `filter` (checked on the rendered groups), in
/// order; their members are read unless the projection leaves them out.
pub async fn matching(
    state: &AppState,
    site: SiteId,
    base: String,
    filter: Option<String>,
    projection: &Projection,
) -> Result<Vec<Value>, ScimError> {
    let filter = filter.map(|f| parse_filter(&f)).transpose()?;
    let members = !projection.excludes("members");
    let groups = read(state, move |conn| {
        Ok(scim_reads::clinics(conn, site, members)?)
    })
    .await?;
    Ok(groups
        .iter()
        .map(|g| group_resource(g, &base))
        .filter(|g| {
            filter
                .as_ref()
                .is_none_or(|f| patch::matches(f, g, &GROUP_RESOURCE))
        })
        .collect())
}

/// The `startIndex` / `count` page of `matching`, projected.
fn page_of(
    req: &HttpRequest,
    matching: Vec<Value>,
    projection: &Projection,
) -> Result<HttpResponse, ScimError> {
    let (start, count) = paging(req)?;
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from(start - 1).unwrap_or(0);
    let take = usize::try_from(count).unwrap_or(0);
    let page = matching
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|g| projection.apply(g))
        .collect();
    Ok(list_response(total, start, page))
}

/// One clinic as a Group, with its `ETag` (`excludedAttributes=members` leaves the members out).
#[utoipa::path(
    tag = "scim",
    params(
        ("id" = String, Path, description = "Clinic id"),
        ("attributes" = Option<String>, Query, description = "Comma-separated attributes to return"),
        ("excludedAttributes" = Option<String>, Query, description = "Comma-separated attributes to leave out"),
    ),
    responses(
        (status = 200, body = ScimResourceBody, content_type = "application/scim+json", description = "The Group.", headers(("ETag" = String))),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Groups/{id}")]
pub async fn get_scim_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let (id, projection, base) = (clinic_id(&id)?, projection(&req), base_url(&req));
    let (site, members) = (principal.site_id, !projection.excludes("members"));
    let group = read(&state, move |conn| resource(conn, site, id, &base, members)).await?;
    Ok(resource_response(StatusCode::OK, &projection.apply(group)))
}

/// Create a clinic from a Group; its `members` (by `value` or `$ref`) get access to it and
/// its `externalId` is kept.
#[utoipa::path(
    tag = "scim",
    request_body(content = ScimResourceBody, content_type = "application/scim+json"),
    responses(
        (status = 201, body = ScimResourceBody, content_type = "application/scim+json", description = "Created; `Location` is `meta.location`.", headers(("ETag" = String), ("Location" = String))),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[post("/scim/v2/Groups")]
pub async fn create_scim_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let base = base_url(&req);
    let input = group_input(&json_body(&req, &body)?, &base)?;
    let group = change(&state, principal.audit(), move |conn, ctx| {
        create(conn, ctx, input, &base)
    })
    .await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &projection(&req).apply(group),
    ))
}

/// Replace a Group: its name and, when sent, its `externalId` and members. `If-Match` is
/// honoured.
#[utoipa::path(
    tag = "scim",
    params(("id" = String, Path, description = "Clinic id"), ("If-Match" = Option<String>, Header, description = "The ETag being replaced")),
    request_body(content = ScimResourceBody, content_type = "application/scim+json"),
    responses(
        (status = 200, body = ScimResourceBody, content_type = "application/scim+json", description = "The Group as replaced.", headers(("ETag" = String))),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[put("/scim/v2/Groups/{id}")]
pub async fn replace_scim_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let (id, expected, base) = (clinic_id(&id)?, if_match(&req), base_url(&req));
    let input = group_input(&json_body(&req, &body)?, &base)?;
    let group = change(&state, principal.audit(), move |conn, ctx| {
        check_version(
            expected,
            scim_reads::clinic(conn, ctx.site_id, id, false)?
                .clinic
                .version,
        )?;
        replace(conn, ctx, id, input)?;
        resource(conn, ctx.site_id, id, &base, true)
    })
    .await?;
    Ok(resource_response(
        StatusCode::OK,
        &projection(&req).apply(group),
    ))
}

/// Change a Group: rename (`displayName`, with or without path), `add` / `remove`
/// `members` (also `members[value eq "…"]`). Answers `200` with the Group, honouring
/// `attributes` / `excludedAttributes` (send `excludedAttributes=members` for a large
/// group). `If-Match` is honoured.
#[utoipa::path(
    tag = "scim",
    params(("id" = String, Path, description = "Clinic id"), ("If-Match" = Option<String>, Header, description = "The ETag being changed")),
    request_body(content = ScimPatchBody, content_type = "application/scim+json"),
    responses(
        (status = 200, body = ScimResourceBody, content_type = "application/scim+json", description = "The Group as changed.", headers(("ETag" = String))),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/scim/v2/Groups/{id}")]
pub async fn patch_scim_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let (id, expected, base) = (clinic_id(&id)?, if_match(&req), base_url(&req));
    let ops = patch::parse_request(&json_body(&req, &body)?)?;
    let projection = projection(&req);
    let members = !projection.excludes("members");
    let group = change(&state, principal.audit(), move |conn, ctx| {
        check_version(
            expected,
            scim_reads::clinic(conn, ctx.site_id, id, false)?
                .clinic
                .version,
        )?;
        patched(conn, ctx, id, &ops, &base)?;
        resource(conn, ctx.site_id, id, &base, members)
    })
    .await?;
    Ok(resource_response(StatusCode::OK, &projection.apply(group)))
}

/// Delete a clinic: refused (`409`) while it is a user's default clinic, holds
/// appointments, or is the site's last.
#[utoipa::path(
    tag = "scim",
    params(("id" = String, Path, description = "Clinic id"), ("If-Match" = Option<String>, Header, description = "The ETag being deleted")),
    responses(
        (status = 204, description = "Deleted."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[delete("/scim/v2/Groups/{id}")]
pub async fn delete_scim_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let (id, expected_version) = (clinic_id(&id)?, if_match(&req));
    change(&state, principal.audit(), move |conn, ctx| {
        step(
            conn,
            ctx,
            DeleteClinic {
                id,
                expected_version,
            },
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
