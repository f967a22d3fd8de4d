//! Minimal bookings that make the clinical / non-clinical distinction real:
//! `POST /v1/appointments`, `GET /v1/users/{id}/diary`, `GET /v1/reports/appointments`.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{AppointmentId, ClinicId, UserId};
use staffroom_persistence::appointments::{
    self, Appointment, AppointmentQuery, Book, NewAppointment,
};
use utoipa::{IntoParams, ToSchema};

use crate::answer::Answer;
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::{ValidJson, ValidQuery};
use crate::responses::{Conflict, Create, List, ReadOne, Unprocessable};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::{page_limit, page_of, query_text, utc};

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentView {
    pub id: AppointmentId,
    pub user_id: UserId,
    pub clinic_id: ClinicId,
    /// The practice-management system's reference of the client (patient).
    pub client_ref: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<Appointment> for AppointmentView {
    fn from(a: Appointment) -> Self {
        Self {
            id: a.id,
            user_id: a.user_id,
            clinic_id: a.clinic_id,
            client_ref: a.client_ref,
            starts_at: utc(a.starts_at),
            ends_at: utc(a.ends_at),
            created_at: utc(a.created_at),
        }
    }
}

page_of!(AppointmentPage, AppointmentView);

/// Body of `POST /v1/appointments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookAppointmentRequest {
    /// The clinical user to book.
    pub user_id: UserId,
    /// Where: one of the user's clinics.
    pub clinic_id: ClinicId,
    /// The practice-management system's reference of the client (patient).
    #[schema(min_length = 1, max_length = 100)]
    pub client_ref: String,
    /// Start, an RFC 3339 date-time; stored in UTC to the microsecond.
    pub starts_at: DateTime<Utc>,
    /// End, an RFC 3339 date-time after `starts_at` and at most 24 hours later.
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiaryQuery {
    /// Appointments ending after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Appointments starting before this instant (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Only this user's appointments.
    #[param(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<UserId>,
    /// Only appointments at this clinic.
    #[param(value_type = Option<String>, format = Uuid)]
    pub clinic_id: Option<ClinicId>,
    /// One client's appointments.
    #[param(max_length = 100)]
    pub client_ref: Option<String>,
    /// Appointments ending after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Appointments starting before this instant (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(book_appointment)
        .service(get_diary)
        .service(appointment_report);
}

/// Book an appointment with a clinical user at one of their clinics.
///
/// The user must be active, clinical, have their diary enabled and have access to the
/// clinic; otherwise `422 not_bookable` says which is missing. A clash with another of the
/// user's appointments answers `409 appointment_overlaps`.
#[utoipa::path(
    tag = "appointments",
    request_body = BookAppointmentRequest,
    responses(
        (status = 201, body = AppointmentView, description = "Booked."),
        Create,
    ),
    security(("bearer" = []))
)]
#[post("/v1/appointments")]
pub async fn book_appointment(
    act: Act,
    principal: Principal,
    body: ValidJson<BookAppointmentRequest>,
) -> Result<Answer, ApiError> {
    let body = body.0;
    let book = Book {
        new: NewAppointment {
            user_id: body.user_id,
            clinic_id: body.clinic_id,
            client_ref: body.client_ref,
            starts_at: body.starts_at.naive_utc(),
            ends_at: body.ends_at.naive_utc(),
        },
    };
    act.run(principal.audit(), book, |appointment| {
        Answer::json(StatusCode::CREATED, &AppointmentView::from(appointment))
    })
    .await
}

/// A user's diary: their appointments, in start order.
///
/// Only while the user's diary is enabled; otherwise `409 diary_disabled` (the
/// appointments stay in the appointment report).
#[utoipa::path(
    tag = "appointments",
    params(("id" = UserId, Path, description = "User id"), DiaryQuery),
    responses(
        (status = 200, body = AppointmentPage, description = "A page of appointments."),
        ReadOne,
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    ),
    security(("bearer" = []))
)]
#[get("/v1/users/{id}/diary")]
pub async fn get_diary(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<UserId>,
    query: ValidQuery<DiaryQuery>,
) -> Result<web::Json<AppointmentPage>, ApiError> {
    let q = query.0;
    let query = AppointmentQuery {
        user_id: None,
        clinic_id: None,
        client_ref: None,
        from: q.from.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
        limit: page_limit(q.limit)?,
        cursor: q.cursor,
    };
    let (site, user) = (principal.site_id, id.into_inner());
    let page = db::run(&state, move |c| appointments::diary(c, site, user, &query)).await?;
    Ok(web::Json(AppointmentPage::from_page(page)))
}

/// The appointment report: every appointment of the site, in start order.
///
/// Includes the appointments of users who have since lost their diary or been deactivated.
#[utoipa::path(
    tag = "appointments",
    operation_id = "get_appointment_report",
    params(ReportQuery),
    responses(
        (status = 200, body = AppointmentPage, description = "A page of appointments."),
        List,
    ),
    security(("bearer" = []))
)]
#[get("/v1/reports/appointments")]
pub async fn appointment_report(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ReportQuery>,
) -> Result<web::Json<AppointmentPage>, ApiError> {
    let q = query.0;
    query_text("client_ref", q.client_ref.as_deref(), 100)?;
    let query = AppointmentQuery {
        user_id: q.user_id,
        clinic_id: q.clinic_id,
        client_ref: q.client_ref,
        from: q.from.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
        limit: page_limit(q.limit)?,
        cursor: q.cursor,
    };
    let site = principal.site_id;
    let page = db::run(&state, move |c| appointments::report(c, site, &query)).await?;
    Ok(web::Json(AppointmentPage::from_page(page)))
}
