//! The site's switch for the imaging integration: no row means off.

use std::convert::Infallible;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;
use staffroom_domain::imaging::{SwitchChange, switch};
use staffroom_domain::{AuditAction, AuditTarget, SiteId};

use crate::audit::{self, Change};
use crate::schema::imaging_integrations;
use crate::tx::{AuditContext, check_version, now};
use crate::usecase::UseCase;
use crate::{DbConnection, StoreResult};

/// The site's switch as stored; no row means off, at version 0.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = imaging_integrations)]
pub struct SwitchRow {
    pub site_id: SiteId,
    pub enabled: bool,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

/// The site's switch: whether it is on, and its version (0 while never set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switch {
    pub enabled: bool,
    pub version: i64,
}

impl From<Option<SwitchRow>> for Switch {
    fn from(row: Option<SwitchRow>) -> Self {
        row.map_or(
            Self {
                enabled: false,
                version: 0,
            },
            |row| Self {
                enabled: row.enabled,
                version: row.version,
            },
        )
    }
}

/// The site's switch.
pub fn switch_of(conn: &mut DbConnection, site: SiteId) -> StoreResult<Switch> {
    let row = imaging_integrations::table
        .find(site)
        .select(SwitchRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.into())
}

/// `PUT /v1/integrations/imaging`: switches the integration on or off for the site's users
/// (`If-Match`: `expected_version`). Setting what it is changes nothing.
#[derive(Debug, Clone)]
pub struct SetSwitch {
    pub enabled: bool,
    pub expected_version: Option<i64>,
}

impl UseCase for SetSwitch {
    type Snapshot = Switch;
    type Decision = (Switch, SwitchChange);
    type Refusal = Infallible;
    type Output = Switch;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Switch> {
        let current = switch_of(conn, ctx.site_id)?;
        check_version(self.expected_version, current.version)?;
        Ok(current)
    }

    fn decide(&self, current: Switch) -> Result<Self::Decision, Infallible> {
        Ok((current, switch(current.enabled, self.enabled)))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (before, change): Self::Decision,
    ) -> StoreResult<Switch> {
        let action = match change {
            SwitchChange::Unchanged => return Ok(before),
            SwitchChange::Enable => AuditAction::ImagingEnabled,
            SwitchChange::Disable => AuditAction::ImagingDisabled,
        };
        let row = SwitchRow {
            site_id: ctx.site_id,
            enabled: self.enabled,
            version: before.version + 1,
            updated_at: now(),
        };
        diesel::delete(imaging_integrations::table.find(row.site_id)).execute(conn)?;
        diesel::insert_into(imaging_integrations::table)
            .values(&row)
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            Change {
                action,
                target: AuditTarget::Site(ctx.site_id),
                before: Some(json!({"enabled": before.enabled})),
                after: Some(json!({"enabled": row.enabled})),
            },
        )?;
        Ok(Switch {
            enabled: row.enabled,
            version: row.version,
        })
    }
}
