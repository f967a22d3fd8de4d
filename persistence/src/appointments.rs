//! Appointments: bookings of clinical users at one of their clinics. Booking checks the
//! user is bookable and free at that time under the site lock, so two bookings of one slot
//! cannot both succeed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use staffroom_domain::{
    AppointmentId, AuditAction, AuditTarget, BookableUser, BookingRefusal, BookingRequest,
    BookingSnapshot, ClinicId, SiteId, UserId, decide_booking,
};

use crate::audit::{self, Change};
use crate::error::Conflict;
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::{appointments, clinics};
use crate::tx::{AuditContext, now};
use crate::usecase::UseCase;
use crate::user_rows;
use crate::{DbConnection, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = appointments)]
struct AppointmentRow {
    id: AppointmentId,
    site_id: SiteId,
    user_id: UserId,
    clinic_id: ClinicId,
    client_ref: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    version: i64,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub user_id: UserId,
    pub clinic_id: ClinicId,
    pub client_ref: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub version: i64,
    pub created_at: NaiveDateTime,
}

impl From<AppointmentRow> for Appointment {
    fn from(row: AppointmentRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            clinic_id: row.clinic_id,
            client_ref: row.client_ref,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            version: row.version,
            created_at: row.created_at,
        }
    }
}

/// A booking request; `starts_at < ends_at` is checked at the edge.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub user_id: UserId,
    pub clinic_id: ClinicId,
    pub client_ref: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
}

/// `POST /v1/appointments`: books a clinical user at one of their clinics, if they are
/// bookable and free then (`staffroom_domain::decide_booking`), under the site lock so two
/// bookings of one slot never both succeed.
#[derive(Debug, Clone)]
pub struct Book {
    pub new: NewAppointment,
}

impl Book {
    fn request(&self) -> BookingRequest {
        BookingRequest {
            clinic_id: self.new.clinic_id,
            client_ref: self.new.client_ref.clone(),
            starts_at: self.new.starts_at,
            ends_at: self.new.ends_at,
        }
    }
}

impl UseCase for Book {
    type Snapshot = BookingSnapshot;
    type Decision = ();
    type Refusal = BookingRefusal;
    type Output = Appointment;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<BookingSnapshot> {
        let new = &self.new;
        let user = match user_rows::get(conn, ctx.site_id, new.user_id) {
            Ok(user) => Some(BookableUser {
                status: user.status,
                user_type: user.user_type,
                diary_enabled: user.diary_enabled,
                clinic_ids: user.clinic_ids,
            }),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other),
        };
        let clinic_exists = clinics::table
            .filter(clinics::site_id.eq(ctx.site_id))
            .filter(clinics::id.eq(new.clinic_id))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        let overlapping = appointments::table
            .filter(appointments::user_id.eq(new.user_id))
            .filter(appointments::starts_at.lt(new.ends_at))
            .filter(appointments::ends_at.gt(new.starts_at))
            .count()
            .get_result::<i64>(conn)?;
        Ok(BookingSnapshot {
            user,
            clinic_exists,
            overlaps: overlapping > 0,
        })
    }

    fn decide(&self, site: BookingSnapshot) -> Result<(), BookingRefusal> {
        decide_booking(&self.request(), &site)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (): (),
    ) -> StoreResult<Appointment> {
        let new = self.new;
        let row = AppointmentRow {
            id: AppointmentId::new(),
            site_id: ctx.site_id,
            user_id: new.user_id,
            clinic_id: new.clinic_id,
            client_ref: new.client_ref.trim().to_owned(),
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            version: 1,
            created_at: now(),
        };
        diesel::insert_into(appointments::table)
            .values(&row)
            .execute(conn)?;
        let appointment = Appointment::from(row);
        audit::record(
            conn,
            ctx,
            Change::created(
                AuditAction::AppointmentBooked,
                AuditTarget::Appointment(appointment.id),
                &appointment,
            ),
        )?;
        Ok(appointment)
    }
}

/// Filters of a list of appointments, ordered by start time.
#[derive(Debug, Clone)]
pub struct AppointmentQuery {
    pub user_id: Option<UserId>,
    pub clinic_id: Option<ClinicId>,
    /// One client's appointments (SPEC §2: visible per client whatever the diary state).
    pub client_ref: Option<String>,
    /// Appointments ending after this instant.
    pub from: Option<NaiveDateTime>,
    /// Appointments starting before this instant.
    pub until: Option<NaiveDateTime>,
    pub limit: i64,
    pub cursor: Option<String>,
}

/// Every appointment of the site matching `q`, whatever the diaries' state (the report).
pub fn report(
    conn: &mut DbConnection,
    site: SiteId,
    q: &AppointmentQuery,
) -> StoreResult<Page<Appointment>> {
    let mut query = appointments::table
        .filter(appointments::site_id.eq(site))
        .select(AppointmentRow::as_select())
        .order((appointments::starts_at.asc(), appointments::id.asc()))
        .limit(q.limit + 1)
        .into_boxed();
    if let Some(user) = q.user_id {
        query = query.filter(appointments::user_id.eq(user));
    }
    if let Some(clinic) = q.clinic_id {
        query = query.filter(appointments::clinic_id.eq(clinic));
    }
    if let Some(client) = &q.client_ref {
        query = query.filter(appointments::client_ref.eq(client.clone()));
    }
    if let Some(from) = q.from {
        query = query.filter(appointments::ends_at.gt(from));
    }
    if let Some(until) = q.until {
        query = query.filter(appointments::starts_at.lt(until));
    }
    if let Some(cursor) = &q.cursor {
        let (starts_at, id): (NaiveDateTime, AppointmentId) = decode_cursor(cursor)?;
        query = query.filter(
            appointments::starts_at
                .gt(starts_at)
                .or(appointments::starts_at
                    .eq(starts_at)
                    .and(appointments::id.gt(id))),
        );
    }
    let rows: Vec<Appointment> = query
        .load(conn)?
        .into_iter()
        .map(Appointment::from)
        .collect();
    Ok(page_from_rows(rows, q.limit, |a| (a.starts_at, a.id)))
}

/// A user's diary: their appointments, only while their diary is enabled.
pub fn diary(
    conn: &mut DbConnection,
    site: SiteId,
    user: UserId,
    q: &AppointmentQuery,
) -> StoreResult<Page<Appointment>> {
    let owner = user_rows::get(conn, site, user)?;
    if !owner.diary_enabled {
        return Err(StoreError::Conflict(Conflict::DiaryDisabled));
    }
    let q = AppointmentQuery {
        user_id: Some(user),
        ..q.clone()
    };
    report(conn, site, &q)
}
