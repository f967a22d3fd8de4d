//! Clinics: the locations of a site.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::convert::Infallible;

use staffroom_domain::{
    AuditAction, AuditTarget, ClinicDeletionRefusal, ClinicDeletionSnapshot, ClinicId,
    ClinicProfile, ClinicUpdateRefusal, EntityName, SiteId, UserId, decide_clinic_deletion,
    decide_clinic_update,
};

pub use staffroom_domain::ClinicPatch;

use crate::audit::{self, Change};
use crate::error::Conflict;
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::{appointments, clinics, user_clinics, users};
use crate::search::{clinic_search_text, like_pattern};
use crate::tx::{AuditContext, check_version, now};
use crate::usecase::{self, Failure, UseCase};
use crate::{DbConnection, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = clinics)]
struct ClinicRow {
    id: ClinicId,
    site_id: SiteId,
    name: String,
    search_text: String,
    assistants_may_finish_notes: bool,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    external_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Clinic {
    pub id: ClinicId,
    pub site_id: SiteId,
    pub name: String,
    pub assistants_may_finish_notes: bool,
    /// The identity provider's id of the clinic (SCIM Group `externalId`), if one was given.
    pub external_id: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl From<ClinicRow> for Clinic {
    fn from(row: ClinicRow) -> Self {
        Self {
            id: row.id,
            site_id: row.site_id,
            name: row.name,
            assistants_may_finish_notes: row.assistants_may_finish_notes,
            external_id: row.external_id,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Inserts a clinic without taking the site lock (the caller holds it or creates the site).
pub(crate) fn insert(
    conn: &mut DbConnection,
    site: SiteId,
    name: &EntityName,
    assistants_may_finish_notes: bool,
) -> StoreResult<Clinic> {
    let at = now();
    let row = ClinicRow {
        id: ClinicId::new(),
        site_id: site,
        name: name.as_str().to_owned(),
        search_text: clinic_search_text(name.as_str()),
        assistants_may_finish_notes,
        version: 1,
        created_at: at,
        updated_at: at,
        external_id: None,
    };
    diesel::insert_into(clinics::table)
        .values(&row)
        .execute(conn)?;
    Ok(Clinic::from(row))
}

/// `POST /v1/clinics`: adds a clinic. No rule refuses it, so its decision is the request.
#[derive(Debug, Clone)]
pub struct CreateClinic {
    pub name: EntityName,
    pub assistants_may_finish_notes: bool,
}

impl UseCase for CreateClinic {
    type Snapshot = ();
    type Decision = ();
    type Refusal = Infallible;
    type Output = Clinic;

    fn load(&self, _: &mut DbConnection, _: &AuditContext) -> StoreResult<()> {
        Ok(())
    }

    fn decide(&self, (): ()) -> Result<(), Infallible> {
        Ok(())
    }

    fn write(self, conn: &mut DbConnection, ctx: &AuditContext, (): ()) -> StoreResult<Clinic> {
        let clinic = insert(
            conn,
            ctx.site_id,
            &self.name,
            self.assistants_may_finish_notes,
        )?;
        audit::record(conn, ctx, created(&clinic))?;
        Ok(clinic)
    }
}

/// Runs [`CreateClinic`] (for the operator's tools and tests).
pub fn create(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    name: &EntityName,
    assistants_may_finish_notes: bool,
) -> StoreResult<Clinic> {
    let create = CreateClinic {
        name: name.clone(),
        assistants_may_finish_notes,
    };
    usecase::run(conn, ctx, create, |clinic| clinic, None).map_err(|failure| match failure {
        Failure::Store(e) => e,
        Failure::Refused(never) => match never {},
    })
}

fn created(clinic: &Clinic) -> Change {
    Change::created(
        AuditAction::ClinicCreated,
        AuditTarget::Clinic(clinic.id),
        clinic,
    )
}

pub fn get(conn: &mut DbConnection, site: SiteId, id: ClinicId) -> StoreResult<Clinic> {
    clinics::table
        .filter(clinics::site_id.eq(site))
        .filter(clinics::id.eq(id))
        .select(ClinicRow::as_select())
        .first(conn)
        .optional()?
        .map(Clinic::from)
        .ok_or(StoreError::NotFound)
}

/// The site's clinics in creation order, a page at a time.
pub fn list(
    conn: &mut DbConnection,
    site: SiteId,
    q: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> StoreResult<Page<Clinic>> {
    let mut query = clinics::table
        .filter(clinics::site_id.eq(site))
        .select(ClinicRow::as_select())
        .order(clinics::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        query = query.filter(clinics::search_text.like(like_pattern(q)).escape('\\'));
    }
    if let Some(cursor) = cursor {
        let after: ClinicId = decode_cursor(cursor)?;
        query = query.filter(clinics::id.gt(after));
    }
    let rows: Vec<Clinic> = query.load(conn)?.into_iter().map(Clinic::from).collect();
    Ok(page_from_rows(rows, limit, |c| c.id))
}

/// All clinic ids of a site, in creation order.
pub fn ids(conn: &mut DbConnection, site: SiteId) -> StoreResult<Vec<ClinicId>> {
    Ok(clinics::table
        .filter(clinics::site_id.eq(site))
        .order(clinics::id.asc())
        .select(clinics::id)
        .load(conn)?)
}

/// `PATCH /v1/clinics/{id}`: renames a clinic or changes its settings, for someone with
/// access to it (`staffroom_domain::decide_clinic_update`).
#[derive(Debug, Clone)]
pub struct UpdateClinic {
    /// The clinics the caller has access to; `None` for every clinic (site administrators).
    pub scope: Option<Vec<ClinicId>>,
    pub id: ClinicId,
    pub expected_version: Option<i64>,
    pub patch: ClinicPatch,
}

impl UseCase for UpdateClinic {
    type Snapshot = Clinic;
    type Decision = (Clinic, Option<ClinicProfile>);
    type Refusal = ClinicUpdateRefusal;
    type Output = Clinic;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Clinic> {
        let clinic = get(conn, ctx.site_id, self.id)?;
        check_version(self.expected_version, clinic.version)?;
        Ok(clinic)
    }

    fn decide(&self, clinic: Clinic) -> Result<Self::Decision, ClinicUpdateRefusal> {
        let current = ClinicProfile {
            name: clinic.name.clone(),
            assistants_may_finish_notes: clinic.assistants_may_finish_notes,
        };
        decide_clinic_update(self.scope.as_deref(), self.id, &current, &self.patch)
            .map(|change| (clinic, change))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (before, change): Self::Decision,
    ) -> StoreResult<Clinic> {
        let Some(wanted) = change else {
            return Ok(before);
        };
        diesel::update(clinics::table.find(self.id))
            .set((
                clinics::search_text.eq(clinic_search_text(&wanted.name)),
                clinics::name.eq(&wanted.name),
                clinics::assistants_may_finish_notes.eq(wanted.assistants_may_finish_notes),
                clinics::version.eq(clinics::version + 1),
                clinics::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let after = get(conn, ctx.site_id, self.id)?;
        audit::record(
            conn,
            ctx,
            Change::edited(
                AuditAction::ClinicUpdated,
                AuditTarget::Clinic(self.id),
                &before,
                &after,
            ),
        )?;
        Ok(after)
    }
}

/// SCIM's Group `externalId`: the identity provider's id of the clinic, kept as sent
/// (`None` clears it). No rule reads it, so its decision is the request.
#[derive(Debug, Clone)]
pub struct SetClinicExternalId {
    pub id: ClinicId,
    pub external_id: Option<String>,
}

impl UseCase for SetClinicExternalId {
    type Snapshot = Clinic;
    type Decision = Clinic;
    type Refusal = Infallible;
    type Output = Clinic;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Clinic> {
        get(conn, ctx.site_id, self.id)
    }

    fn decide(&self, clinic: Clinic) -> Result<Clinic, Infallible> {
        Ok(clinic)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        before: Clinic,
    ) -> StoreResult<Clinic> {
        if before.external_id == self.external_id {
            return Ok(before);
        }
        diesel::update(clinics::table.find(self.id))
            .set((
                clinics::external_id.eq(&self.external_id),
                clinics::version.eq(clinics::version + 1),
                clinics::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let after = get(conn, ctx.site_id, self.id)?;
        let change = Change::edited(
            AuditAction::ClinicUpdated,
            AuditTarget::Clinic(self.id),
            &before,
            &after,
        );
        audit::record(conn, ctx, change)?;
        Ok(after)
    }
}

/// Runs [`UpdateClinic`] as a site administrator would (for the operator's tools and tests).
pub fn update(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: ClinicId,
    expected_version: Option<i64>,
    patch: ClinicPatch,
) -> StoreResult<Clinic> {
    let update = UpdateClinic {
        scope: None,
        id,
        expected_version,
        patch,
    };
    usecase::run(conn, ctx, update, |clinic| clinic, None).map_err(|failure| match failure {
        Failure::Store(e) => e,
        // A site administrator has access to every clinic, so nothing refuses them.
        Failure::Refused(ClinicUpdateRefusal::NotAccessible) => StoreError::NotFound,
    })
}

/// `DELETE /v1/clinics/{id}`: deletes a clinic and every user's access to it, unless
/// something still depends on it (`staffroom_domain::decide_clinic_deletion`).
#[derive(Debug, Clone)]
pub struct DeleteClinic {
    pub id: ClinicId,
    pub expected_version: Option<i64>,
}

impl UseCase for DeleteClinic {
    type Snapshot = (Clinic, ClinicDeletionSnapshot);
    type Decision = Clinic;
    type Refusal = ClinicDeletionRefusal;
    type Output = ();

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        let clinic = get(conn, ctx.site_id, self.id)?;
        check_version(self.expected_version, clinic.version)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let site_clinics: i64 = clinics::table
            .filter(clinics::site_id.eq(ctx.site_id))
            .count()
            .get_result(conn)?;
        let default_of_users: i64 = users::table
            .filter(users::default_clinic_id.eq(self.id))
            .count()
            .get_result(conn)?;
        let appointments: i64 = appointments::table
            .filter(appointments::clinic_id.eq(self.id))
            .count()
            .get_result(conn)?;
        let snapshot = ClinicDeletionSnapshot {
            site_clinics: count(site_clinics),
            default_of_users: count(default_of_users),
            appointments: count(appointments),
        };
        Ok((clinic, snapshot))
    }

    fn decide(&self, (clinic, site): Self::Snapshot) -> Result<Clinic, ClinicDeletionRefusal> {
        decide_clinic_deletion(&site).map(|()| clinic)
    }

    fn write(self, conn: &mut DbConnection, ctx: &AuditContext, before: Clinic) -> StoreResult<()> {
        let id = self.id;
        let affected: Vec<UserId> = user_clinics::table
            .filter(user_clinics::clinic_id.eq(id))
            .select(user_clinics::user_id)
            .load(conn)?;
        let with_access = user_clinics::table
            .filter(user_clinics::clinic_id.eq(id))
            .select(user_clinics::user_id);
        diesel::update(users::table.filter(users::id.eq_any(with_access)))
            .set((
                users::version.eq(users::version + 1),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let access_removed =
            diesel::delete(user_clinics::table.filter(user_clinics::clinic_id.eq(id)))
                .execute(conn)?;
        diesel::delete(clinics::table.find(id)).execute(conn)?;
        for user_id in affected {
            audit::record(
                conn,
                ctx,
                Change {
                    action: AuditAction::UserClinicAccessRemoved,
                    target: AuditTarget::User(user_id),
                    before: Some(serde_json::json!({ "clinic_id": id })),
                    after: None,
                },
            )?;
        }
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::ClinicDeleted,
                target: AuditTarget::Clinic(id),
                before: serde_json::to_value(&before).ok(),
                after: Some(serde_json::json!({ "user_access_removed": access_removed })),
            },
        )?;
        Ok(())
    }
}

/// Runs [`DeleteClinic`] with its refusals as store conflicts (for tests).
pub fn delete(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: ClinicId,
    expected_version: Option<i64>,
) -> StoreResult<()> {
    let delete = DeleteClinic {
        id,
        expected_version,
    };
    usecase::run(conn, ctx, delete, |()| (), None).map_err(|failure| match failure {
        Failure::Store(e) => e,
        Failure::Refused(refusal) => StoreError::Conflict(match refusal {
            ClinicDeletionRefusal::LastClinic => Conflict::LastClinic,
            ClinicDeletionRefusal::InUse => Conflict::ClinicInUse,
            ClinicDeletionRefusal::HasAppointments => Conflict::ClinicHasAppointments,
        }),
    })
}
