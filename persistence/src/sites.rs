//! Sites: the tenant, its plan and settings, and the usage counts the licence rules read.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::convert::Infallible;

use staffroom_domain::{
    AuditAction, AuditTarget, EntityName, LicencePlan, LicenceRefusal, LicenceReport, PlanKind,
    SiteId, SiteProfile, SiteSettings, UsageSnapshot, decide_plan_change, decide_site_update,
};

pub use staffroom_domain::SitePatch;

use crate::audit::{self, Change};
use crate::schema::sites;
use crate::tx::{AuditContext, check_version, now};
use crate::usecase::UseCase;
use crate::{DbConnection, StoreError, StoreResult};

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

/// `PATCH /v1/site`: renames the site or changes its settings
/// (`staffroom_domain::decide_site_update`; no rule refuses it).
#[derive(Debug, Clone)]
pub struct UpdateSite {
    pub expected_version: Option<i64>,
    pub patch: SitePatch,
}

impl UseCase for UpdateSite {
    type Snapshot = Site;
    type Decision = (Site, Option<SiteProfile>);
    type Refusal = Infallible;
    type Output = Site;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Site> {
        current(conn, ctx, self.expected_version)
    }

    fn decide(&self, site: Site) -> Result<Self::Decision, Infallible> {
        let current = SiteProfile {
            name: site.name.clone(),
            settings: site.settings.clone(),
        };
        let change = decide_site_update(&current, &self.patch);
        Ok((site, change))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (before, change): Self::Decision,
    ) -> StoreResult<Site> {
        let Some(wanted) = change else {
            return Ok(before);
        };
        let settings = serde_json::to_string(&wanted.settings).map_err(StoreError::corrupt)?;
        diesel::update(sites::table.find(ctx.site_id))
            .set((
                sites::name.eq(&wanted.name),
                sites::settings.eq(settings),
                sites::version.eq(sites::version + 1),
                sites::updated_at.eq(now()),
            ))
            .execute(conn)?;
        edited(conn, ctx, AuditAction::SiteUpdated, &before, |site| site)
    }
}

/// Reads the site again after a write and records `action` with what `shown` shows of it
/// before and after.
fn edited<T: serde::Serialize>(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    action: AuditAction,
    before: &Site,
    shown: impl Fn(&Site) -> &T,
) -> StoreResult<Site> {
    let after = get(conn, ctx.site_id)?;
    let target = AuditTarget::Site(ctx.site_id);
    let change = Change::edited(action, target, shown(before), shown(&after));
    audit::record(conn, ctx, change)?;
    Ok(after)
}

/// The site being changed, at the version the caller expects.
fn current(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    expected_version: Option<i64>,
) -> StoreResult<Site> {
    let site = get(conn, ctx.site_id)?;
    check_version(expected_version, site.version)?;
    Ok(site)
}

/// The site's plan and its usage: what every licence decision reads.
pub fn plan_and_usage(
    conn: &mut DbConnection,
    site: SiteId,
) -> StoreResult<(LicencePlan, UsageSnapshot)> {
    Ok((get(conn, site)?.plan, usage(conn, site)?))
}

/// Active users by type: what the licence rules count. The site keeps them
/// (`sites.active_clinical`, `sites.active_non_clinical`, maintained by triggers on `users`
/// in the writer's transaction), so a licence decision does not count every user of the site.
pub fn usage(conn: &mut DbConnection, site: SiteId) -> StoreResult<UsageSnapshot> {
    let (clinical, non_clinical): (i64, i64) = sites::table
        .find(site)
        .select((sites::active_clinical, sites::active_non_clinical))
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok(UsageSnapshot {
        clinical_active: u32::try_from(clinical).map_err(StoreError::corrupt)?,
        non_clinical_active: u32::try_from(non_clinical).map_err(StoreError::corrupt)?,
    })
}

/// The site's licence usage and what its plan allows now.
pub fn licences(conn: &mut DbConnection, site: SiteId) -> StoreResult<LicenceReport> {
    let plan = get(conn, site)?.plan;
    Ok(plan.report(&usage(conn, site)?))
}

/// `PUT /v1/site/plan`: changes the plan or its licence count; refused when the active
/// users would not fit (`staffroom_domain::decide_plan_change`).
#[derive(Debug, Clone)]
pub struct ChangePlan {
    pub expected_version: Option<i64>,
    pub plan: LicencePlan,
}

impl UseCase for ChangePlan {
    type Snapshot = (Site, UsageSnapshot);
    type Decision = (Site, Option<LicencePlan>);
    type Refusal = LicenceRefusal;
    type Output = Site;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        let site = current(conn, ctx, self.expected_version)?;
        Ok((site, usage(conn, ctx.site_id)?))
    }

    fn decide(&self, (site, usage): Self::Snapshot) -> Result<Self::Decision, LicenceRefusal> {
        decide_plan_change(site.plan, &usage, self.plan).map(|change| (site, change))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (before, change): Self::Decision,
    ) -> StoreResult<Site> {
        let Some(plan) = change else {
            return Ok(before);
        };
        diesel::update(sites::table.find(ctx.site_id))
            .set((
                sites::plan.eq(plan.kind()),
                sites::licences.eq(i64::from(plan.licences())),
                sites::version.eq(sites::version + 1),
                sites::updated_at.eq(now()),
            ))
            .execute(conn)?;
        edited(conn, ctx, AuditAction::SitePlanChanged, &before, |site| {
            &site.plan
        })
    }
}
