//! Scan referrals (SPEC §6.2): a connected user's referral is written `pending` with its
//! outbox job (`imaging.create_referral`) in one transaction ([`CreateReferral`]);
//! [`settle`] marks it `sent` or `failed` when the job finishes. Every user of the site
//! reads them, whatever became of the referring user's connection.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use staffroom_domain::imaging::{
    ImagingRefusal, ImagingState, ReferralStatus, may_refer, referral_sent,
};
use staffroom_domain::{AuditAction, AuditTarget, JobId, JobKind, ReferralId, SiteId, UserId};

use super::connections::connection;
use super::switch::switch_of;
use crate::audit::{self, Change};
use crate::outbox::{self, JobRow, Outcome};
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::imaging_referrals;
use crate::tx::{AuditContext, now};
use crate::usecase::UseCase;
use crate::{DbConnection, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = imaging_referrals, treat_none_as_null = true)]
pub struct ReferralRow {
    pub id: ReferralId,
    pub site_id: SiteId,
    pub user_id: UserId,
    pub provider_user_id: String,
    pub patient_name: String,
    pub body_part: String,
    pub notes: Option<String>,
    pub status: ReferralStatus,
    pub provider_referral_id: Option<String>,
    pub last_error: Option<String>,
    pub job_id: Option<JobId>,
    pub report_summary: Option<String>,
    /// JSON array of image links.
    pub report_images: Option<String>,
    pub reported_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ReferralRow {
    /// The report's image links (none before a report).
    pub fn images(&self) -> Vec<String> {
        self.report_images
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default()
    }
}

/// What the outbox job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralPayload {
    pub referral_id: ReferralId,
    pub provider_user_id: String,
    pub patient_name: String,
    pub body_part: String,
    pub notes: Option<String>,
    pub callback_url: String,
}

/// `POST /v1/referrals` (use-case): only a connected user of a site with the switch on
/// (`imaging::may_refer`, else `403 not_connected` or `409 imaging_disabled`).
#[derive(Debug, Clone)]
pub struct CreateReferral {
    pub user: UserId,
    pub patient_name: String,
    pub body_part: String,
    pub notes: Option<String>,
    /// Where the provider delivers the report (Staffroom's webhook).
    pub callback_url: String,
}

/// What a referral reads: whether it may be made, and the provider user to make it for.
pub struct ReferralSnapshot {
    enabled: bool,
    state: ImagingState,
    pending_from: Option<ImagingState>,
    provider_user_id: Option<String>,
}

impl UseCase for CreateReferral {
    type Snapshot = ReferralSnapshot;
    type Decision = String;
    type Refusal = ImagingRefusal;
    type Output = (ReferralRow, JobRow);

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<ReferralSnapshot> {
        let current = connection(conn, ctx.site_id, self.user)?;
        Ok(ReferralSnapshot {
            enabled: switch_of(conn, ctx.site_id)?.enabled,
            state: current.state,
            pending_from: current.pending_from,
            provider_user_id: current.provider_user_id,
        })
    }

    fn decide(&self, s: ReferralSnapshot) -> Result<String, ImagingRefusal> {
        let from_connected = s.pending_from == Some(ImagingState::Connected);
        may_refer(s.enabled, s.state, from_connected)?;
        s.provider_user_id.ok_or(ImagingRefusal::NotConnected)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        provider_user_id: String,
    ) -> StoreResult<(ReferralRow, JobRow)> {
        let id = ReferralId::new();
        let payload = ReferralPayload {
            referral_id: id,
            provider_user_id: provider_user_id.clone(),
            patient_name: self.patient_name.clone(),
            body_part: self.body_part.clone(),
            notes: self.notes.clone(),
            callback_url: self.callback_url,
        };
        let job = outbox::enqueue(
            conn,
            ctx,
            JobKind::ImagingCreateReferral,
            Some(self.user),
            &serde_json::to_value(&payload).map_err(StoreError::corrupt)?,
        )?;
        let at = now();
        let row = ReferralRow {
            id,
            site_id: ctx.site_id,
            user_id: self.user,
            provider_user_id,
            patient_name: self.patient_name,
            body_part: self.body_part,
            notes: self.notes,
            status: ReferralStatus::Pending,
            provider_referral_id: None,
            last_error: None,
            job_id: Some(job.id),
            report_summary: None,
            report_images: None,
            reported_at: None,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        diesel::insert_into(imaging_referrals::table)
            .values(&row)
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::ReferralCreated,
                target: AuditTarget::Referral(id),
                before: None,
                after: Some(json!({
                    "user_id": row.user_id,
                    "body_part": row.body_part,
                    "status": row.status,
                    "job_id": job.id,
                })),
            },
        )?;
        Ok((row, job))
    }
}

/// One referral of the site (`NotFound` for another site's).
pub fn get(conn: &mut DbConnection, site: SiteId, id: ReferralId) -> StoreResult<ReferralRow> {
    imaging_referrals::table
        .filter(imaging_referrals::site_id.eq(site))
        .filter(imaging_referrals::id.eq(id))
        .select(ReferralRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Filters of the referral list; combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ReferralQuery {
    pub status: Option<ReferralStatus>,
    pub user_id: Option<UserId>,
    pub limit: i64,
    pub cursor: Option<String>,
}

/// The site's referrals, newest first.
pub fn list(
    conn: &mut DbConnection,
    site: SiteId,
    q: &ReferralQuery,
) -> StoreResult<Page<ReferralRow>> {
    let mut query = imaging_referrals::table
        .filter(imaging_referrals::site_id.eq(site))
        .select(ReferralRow::as_select())
        .order(imaging_referrals::id.desc())
        .limit(q.limit + 1)
        .into_boxed();
    if let Some(status) = q.status {
        query = query.filter(imaging_referrals::status.eq(status));
    }
    if let Some(user) = q.user_id {
        query = query.filter(imaging_referrals::user_id.eq(user));
    }
    if let Some(cursor) = &q.cursor {
        let after: ReferralId = decode_cursor(cursor)?;
        query = query.filter(imaging_referrals::id.lt(after));
    }
    let rows = query.load(conn)?;
    Ok(page_from_rows(rows, q.limit, |r| r.id))
}

/// Applies a finished `imaging.create_referral` job: `sent` with the provider's id, or
/// `failed` with its reason. Runs inside the transaction of `outbox::finish`.
pub fn settle(conn: &mut DbConnection, job: &JobRow, outcome: &Outcome) -> StoreResult<()> {
    let payload: ReferralPayload =
        serde_json::from_str(&job.payload).map_err(StoreError::corrupt)?;
    let Some(mut row) = imaging_referrals::table
        .find(payload.referral_id)
        .select(ReferralRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(());
    };
    if row.status != ReferralStatus::Pending {
        return Ok(());
    }
    let succeeded = matches!(outcome, Outcome::Succeeded { .. });
    row.status = referral_sent(succeeded);
    match outcome {
        Outcome::Succeeded { result } => {
            row.provider_referral_id = result.get("id").and_then(|v| v.as_str()).map(str::to_owned);
        }
        Outcome::Failed { error } | Outcome::RetryAt { error, .. } => {
            row.last_error = Some(error.clone());
        }
    }
    row.version += 1;
    row.updated_at = now();
    diesel::update(imaging_referrals::table.find(row.id))
        .set(&row)
        .execute(conn)?;
    audit::record(
        conn,
        &job.audit_context(),
        Change {
            action: if succeeded {
                AuditAction::ReferralSent
            } else {
                AuditAction::ReferralFailed
            },
            target: AuditTarget::Referral(row.id),
            before: Some(json!({"status": ReferralStatus::Pending})),
            after: Some(json!({
                "status": row.status,
                "provider_referral_id": row.provider_referral_id,
                "last_error": row.last_error,
            })),
        },
    )
}
