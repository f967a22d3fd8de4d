//! Sites: the tenant, its plan and settings, and the usage counts the licence rules read.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use staffroom_domain::{
    AuditAction, AuditTarget, EntityName, LicenceChange, LicencePlan, LicenceReport, PlanKind,
    SiteId, SiteSettings, UsageSnapshot, UserStatus, UserType,
};

use crate::audit::{self, Change};
use crate::schema::{sites, users};
use crate::tx::{AuditContext, check_version, now, write_tx};
use crate::{DbConnection, LicenceRefusal, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sites)]
struct SiteRow {
    id: SiteId,
    name: String,
    plan: PlanKind,
    licences: i64,
    settings: String,
    lock_version: i64,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A site as the rest of the program sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub plan: LicencePlan,
    pub settings: SiteSettings,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl TryFrom<SiteRow> for Site {
    type Error = StoreError;

    fn try_from(row: SiteRow) -> StoreResult<Self> {
        let licences = u32::try_from(row.licences).map_err(StoreError::corrupt)?;
        Ok(Self {
            id: row.id,
            name: row.name,
            plan: LicencePlan::from_parts(row.plan, Some(licences)).map_err(StoreError::corrupt)?,
            settings: serde_json::from_str(&row.settings).map_err(StoreError::corrupt)?,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Inserts a new site (used by bootstrap, inside its transaction).
pub(crate) fn insert(
    conn: &mut DbConnection,
    name: &EntityName,
    plan: &LicencePlan,
    settings: &SiteSettings,
) -> StoreResult<Site> {
    let at = now();
    let row = SiteRow {
        id: SiteId::new(),
        name: name.as_str().to_owned(),
        plan: plan.kind(),
        licences: i64::from(plan.licences()),
        settings: serde_json::to_string(settings).map_err(StoreError::corrupt)?,
        lock_version: 0,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    diesel::insert_into(sites::table)
        .values(&row)
        .execute(conn)?;
    Site::try_from(row)
}

pub fn get(conn: &mut DbConnection, site: SiteId) -> StoreResult<Site> {
    sites::table
        .find(site)
        .select(SiteRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
        .and_then(Site::try_from)
}

/// How many write transactions the site has had: every change to its data takes the site
/// lock, which moves this count (`crate::tx::lock_site`), so a reader that saw the same count
/// before knows nothing of the site changed since. `NotFound` if there is no such site.
pub fn write_count(conn: &mut DbConnection, site: SiteId) -> StoreResult<i64> {
    sites::table
        .find(site)
        .select(sites::lock_version)
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Finds a site by name (the demo uses it to stay idempotent).
pub fn find_by_name(conn: &mut DbConnection, name: &str) -> StoreResult<Option<Site>> {
    sites::table
        .filter(sites::name.eq(name))
        .select(SiteRow::as_select())
        .order(sites::id.asc())
        .first(conn)
        .optional()?
        .map(Site::try_from)
        .transpose()
}

/// Fields of `PATCH /v1/site`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SitePatch {
    pub name: Option<EntityName>,
    pub settings: Option<SiteSettings>,
}

pub fn update(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    expected_version: Option<i64>,
    patch: SitePatch,
) -> StoreResult<Site> {
    write_tx(conn, ctx.site_id, |conn| {
        let before = get(conn, ctx.site_id)?;
        check_version(expected_version, before.version)?;
        let name = patch
            .name
            .map_or_else(|| before.name.clone(), |n| n.as_str().to_owned());
        let settings = patch.settings.unwrap_or_else(|| before.settings.clone());
        if name == before.name && settings == before.settings {
            return Ok(before);
        }
        diesel::update(sites::table.find(ctx.site_id))
            .set((
                sites::name.eq(&name),
                sites::settings.eq(serde_json::to_string(&settings).map_err(StoreError::corrupt)?),
                sites::version.eq(sites::version + 1),
                sites::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let after = get(conn, ctx.site_id)?;
        audit::record(
            conn,
            ctx,
            Change::edited(
                AuditAction::SiteUpdated,
                AuditTarget::Site(ctx.site_id),
                &before,
                &after,
            ),
        )?;
        Ok(after)
    })
}

/// Active users by type: what the licence rules count.
pub fn usage(conn: &mut DbConnection, site: SiteId) -> StoreResult<UsageSnapshot> {
    let counts: Vec<(UserType, i64)> = users::table
        .filter(users::site_id.eq(site))
        .filter(users::status.eq(UserStatus::Active))
        .group_by(users::user_type)
        .select((users::user_type, diesel::dsl::count_star()))
        .load(conn)?;
    let mut usage = UsageSnapshot {
        clinical_active: 0,
        non_clinical_active: 0,
    };
    for (user_type, n) in counts {
        let n = u32::try_from(n).map_err(StoreError::corrupt)?;
        match user_type {
            UserType::Clinical => usage.clinical_active = n,
            UserType::NonClinical => usage.non_clinical_active = n,
        }
    }
    Ok(usage)
}

/// Asks the licence rules about `change` against the site's current plan and usage. Call it
/// inside `write_tx`, after the site lock, so that the answer still holds at commit.
pub(crate) fn check_licence(
    conn: &mut DbConnection,
    site: SiteId,
    change: &LicenceChange,
) -> StoreResult<()> {
    let current = get(conn, site)?.plan;
    let usage = usage(conn, site)?;
    // A plan change is refused in terms of the requested plan: "3 licences, 4 needed".
    let plan = match change {
        LicenceChange::ChangePlan(requested) => *requested,
        _ => current,
    };
    current
        .check(&usage, change)
        .map_err(|error| StoreError::Licence(Box::new(LicenceRefusal { error, plan, usage })))
}

/// The site's licence usage and what its plan allows now.
pub fn licences(conn: &mut DbConnection, site: SiteId) -> StoreResult<LicenceReport> {
    let plan = get(conn, site)?.plan;
    Ok(plan.report(&usage(conn, site)?))
}

/// Changes the plan or its licence count; refused when the active users would not fit.
pub fn change_plan(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    expected_version: Option<i64>,
    plan: LicencePlan,
) -> StoreResult<Site> {
    write_tx(conn, ctx.site_id, |conn| {
        let before = get(conn, ctx.site_id)?;
        check_version(expected_version, before.version)?;
        if before.plan == plan {
            return Ok(before);
        }
        check_licence(conn, ctx.site_id, &LicenceChange::ChangePlan(plan))?;
        diesel::update(sites::table.find(ctx.site_id))
            .set((
                sites::plan.eq(plan.kind()),
                sites::licences.eq(i64::from(plan.licences())),
                sites::version.eq(sites::version + 1),
                sites::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let after = get(conn, ctx.site_id)?;
        audit::record(
            conn,
            ctx,
            Change::edited(
                AuditAction::SitePlanChanged,
                AuditTarget::Site(ctx.site_id),
                &before.plan,
                &after.plan,
            ),
        )?;
        Ok(after)
    })
}
