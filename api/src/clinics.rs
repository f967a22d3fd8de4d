//! `/v1/clinics`: the locations of the site.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{ClinicId, EntityName};
use staffroom_persistence::clinics::{
    self, Clinic, ClinicPatch, CreateClinic, DeleteClinic, UpdateClinic,
};
use utoipa::{IntoParams, ToSchema};

use crate::answer::Answer;
use crate::auth::{Principal, Requester, Trip};
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::responses::{Create, Delete, List, ReadOne, Update};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::{page_limit, page_of, query_text, utc, with_etag};

/// One location of the site.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClinicView {
    pub id: ClinicId,
    pub name: String,
    /// Whether assistants may finish SOAP notes here (never for assistant professions).
    pub assistants_may_finish_notes: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Clinic> for ClinicView {
    fn from(c: Clinic) -> Self {
        Self {
            id: c.id,
            name: c.name,
            assistants_may_finish_notes: c.assistants_may_finish_notes,
            version: c.version,
            created_at: utc(c.created_at),
            updated_at: utc(c.updated_at),
        }
    }
}

page_of!(ClinicPage, ClinicView);

/// Body of `POST /v1/clinics`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClinicRequest {
    pub name: EntityName,
    /// Whether assistants may finish SOAP notes here (assistant and student professions
    /// never may); `false` when omitted.
    #[serde(default)]
    #[schema(default = false)]
    pub assistants_may_finish_notes: bool,
}

/// Body of `PATCH /v1/clinics/{id}`; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClinicRequest {
    pub name: Option<EntityName>,
    pub assistants_may_finish_notes: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListClinicsQuery {
    /// Case-insensitive search in the name.
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_clinics)
        .service(create_clinic)
        .service(get_clinic)
        .service(update_clinic)
        .service(delete_clinic);
}

/// The site's clinics in creation order.
#[utoipa::path(
    tag = "clinics",
    params(ListClinicsQuery),
    responses(
        (status = 200, body = ClinicPage, description = "A page of clinics."),
        List,
    ),
    security(("bearer" = []))
)]
#[get("/v1/clinics")]
pub async fn list_clinics(
    state: web::Data<AppState>,
    requester: Requester,
    query: ValidQuery<ListClinicsQuery>,
) -> Result<web::Json<ClinicPage>, ApiError> {
    let q = query.0;
    let limit = page_limit(q.limit)?;
    query_text("q", q.q.as_deref(), 200)?;
    let page = requester
        .run(&state, move |c, site| {
            clinics::list(c, site, q.q.as_deref(), limit, q.cursor.as_deref())
        })
        .await?;
    Ok(web::Json(ClinicPage::from_page(page)))
}

/// Add a clinic (site administrators).
#[utoipa::path(
    tag = "clinics",
    request_body = CreateClinicRequest,
    responses(
        (status = 201, body = ClinicView, description = "Created; `Location` names the new clinic.", headers(("ETag" = String), ("Location" = String))),
        Create,
    ),
    security(("bearer" = []))
)]
#[post("/v1/clinics")]
pub async fn create_clinic(
    act: Act,
    principal: Principal,
    body: ValidJson<CreateClinicRequest>,
) -> Result<Answer, ApiError> {
    let create = CreateClinic {
        name: body.0.name,
        assistants_may_finish_notes: body.0.assistants_may_finish_notes,
    };
    act.run(principal.audit(), create, |clinic| {
        let location = format!("/v1/clinics/{}", clinic.id);
        Answer::created(location, clinic.version, &ClinicView::from(clinic))
    })
    .await
}

/// Read one clinic.
#[utoipa::path(
    tag = "clinics",
    params(("id" = ClinicId, Path, description = "Clinic id")),
    responses(
        (status = 200, body = ClinicView, description = "The clinic.", headers(("ETag" = String))),
        ReadOne,
    ),
    security(("bearer" = []))
)]
#[get("/v1/clinics/{id}")]
pub async fn get_clinic(
    state: web::Data<AppState>,
    requester: Requester,
    id: web::Path<ClinicId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let clinic = requester
        .run_as(&state, Trip::Short, move |c, site| {
            clinics::get(c, site, id)
        })
        .await?;
    Ok(with_etag(clinic.version, &ClinicView::from(clinic)))
}

/// Rename a clinic or change its settings.
///
/// Site administrators, or clinic administrators of that clinic.
#[utoipa::path(
    tag = "clinics",
    params(
        ("id" = ClinicId, Path, description = "Clinic id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = UpdateClinicRequest,
    responses(
        (status = 200, body = ClinicView, description = "The changed clinic.", headers(("ETag" = String))),
        Update,
    ),
    security(("bearer" = []))
)]
#[patch("/v1/clinics/{id}")]
pub async fn update_clinic(
    act: Act,
    principal: Principal,
    id: web::Path<ClinicId>,
    if_match: IfMatch,
    body: ValidJson<UpdateClinicRequest>,
) -> Result<Answer, ApiError> {
    let update = UpdateClinic {
        scope: principal.clinic_scope().map(<[ClinicId]>::to_vec),
        id: id.into_inner(),
        expected_version: if_match.0,
        patch: ClinicPatch {
            name: body.0.name,
            assistants_may_finish_notes: body.0.assistants_may_finish_notes,
        },
    };
    act.run(principal.audit(), update, |clinic| {
        Answer::with_etag(clinic.version, &ClinicView::from(clinic))
    })
    .await
}

/// Delete a clinic (site administrators).
///
/// Removes every user's access to it. Refused with `409 clinic_in_use` while it is some
/// user's default clinic, `409 clinic_has_appointments` while it has appointments, and
/// `409 last_clinic` for the site's last clinic.
#[utoipa::path(
    tag = "clinics",
    params(
        ("id" = ClinicId, Path, description = "Clinic id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being deleted"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        Delete,
    ),
    security(("bearer" = []))
)]
#[delete("/v1/clinics/{id}")]
pub async fn delete_clinic(
    act: Act,
    principal: Principal,
    id: web::Path<ClinicId>,
    if_match: IfMatch,
) -> Result<Answer, ApiError> {
    let delete = DeleteClinic {
        id: id.into_inner(),
        expected_version: if_match.0,
    };
    act.run(principal.audit(), delete, |()| Answer::no_content())
        .await
}
