//! `POST /scim/v2/.search` (RFC 7644 §3.4.3): one search over every resource type, Users
//! then Groups. The filter runs on each type as its own list runs it (Users in SQL, Groups
//! on the rendered clinics); a type whose attributes the filter does not name has no
//! match. The results are the matching Users in creation order, then the matching Groups;
//! `startIndex` and `count` page through both, and the projection applies to each.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde_json::Value;
use staffroom_domain::SiteId;
use staffroom_persistence::scim_reads::ScimUserSort;
use staffroom_scim::ScimType;

use crate::auth::Principal;
use crate::scim::error::ScimError;
use crate::scim::openapi::{ScimErrors, ScimListBody, ScimSearchBody};
use crate::scim::users::{ListRequest, list_request_of_body};
use crate::scim::{base_url, groups, json_body, list_response, users};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(search_scim_resources);
}

/// The page of Users then Groups that `asked` names.
async fn search(
    state: &AppState,
    site: SiteId,
    base: String,
    asked: ListRequest,
) -> Result<HttpResponse, ScimError> {
    if asked.sort != ScimUserSort::Created || asked.descending {
        return Err(ScimError::invalid_value(
            "sortBy and sortOrder are not taken by a search of every resource type; \
             search /Users/.search to sort users",
        ));
    }
    let (start, count) = (asked.start, asked.count);
    let filter = asked.filter.clone();
    let projection = asked.projection.clone();
    let (users_total, users) = match users::page(state, site, base.clone(), asked).await {
        Err(e) if e.scim_type == Some(ScimType::InvalidFilter) && filter.is_some() => {
            (0, Vec::new())
        }
        other => other?,
    };
    let groups = groups::matching(state, site, base, filter, &projection).await?;
    let groups_total = i64::try_from(groups.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from((start - 1 - users_total).max(0)).unwrap_or(0);
    let room = usize::try_from(count)
        .unwrap_or(0)
        .saturating_sub(users.len());
    let mut page: Vec<Value> = users;
    page.extend(
        groups
            .into_iter()
            .skip(skip)
            .take(room)
            .map(|g| projection.apply(g)),
    );
    Ok(list_response(users_total + groups_total, start, page))
}

/// Search every resource type at once with a `SearchRequest` body: the matching Users, then
/// the matching Groups, paged by `startIndex` / `count` and projected by `attributes` /
/// `excludedAttributes`. A filter on an attribute only one type has finds only that type;
/// `sortBy` is refused (search `/Users/.search` to sort).
#[utoipa::path(
    tag = "scim",
    request_body(content = ScimSearchBody, content_type = "application/scim+json"),
    responses(
        (status = 200, body = ScimListBody, content_type = "application/scim+json", description = "A ListResponse of Users and Groups."),
        ScimErrors,
    ),
    security(("bearer" = []))
)]
#[post("/scim/v2/.search")]
pub async fn search_scim_resources(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let asked = list_request_of_body(&json_body(&req, &body)?)?;
    search(&state, principal.site_id, base_url(&req), asked).await
}
