//! Reports the imaging provider delivers through Staffroom's signed webhook (SPEC §6.2).
//! The signature is checked before anything here runs. A delivery names the referral by the
//! provider's id, so the referral decides the site: [`locate`] finds it, and
//! [`ReceiveReport`] runs under that site's lock, deciding with
//! `staffroom_domain::imaging::receive_report` whether to attach the report. The delivery's
//! `webhook-id` is recorded with the report in one transaction, so a redelivery changes
//! nothing.

use diesel::prelude::*;
use serde_json::json;
use staffroom_domain::imaging::{ReferralStatus, ReportOutcome, UnknownReferral, receive_report};
use staffroom_domain::{AuditAction, AuditTarget, ReferralId, SiteId};

use super::referrals::ReferralRow;
use crate::audit::{self, Change};
use crate::schema::{imaging_referrals, imaging_webhooks};
use crate::tx::{AuditContext, now};
use crate::usecase::UseCase;
use crate::{DbConnection, StoreError, StoreResult};

/// One signed delivery of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery's `webhook-id` (the same on every redelivery).
    pub webhook_id: String,
    /// The provider's id of the referral.
    pub provider_referral_id: String,
    pub summary: Option<String>,
    /// Links to the images.
    pub images: Vec<String>,
}

/// Where a delivery belongs, read before any lock: the site of the referral it names (none
/// when no referral has that provider id) and whether its `webhook-id` was processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    pub site: Option<SiteId>,
    pub already_seen: bool,
}

/// Whether `webhook_id` was processed already.
fn seen(conn: &mut DbConnection, webhook_id: &str) -> StoreResult<bool> {
    Ok(imaging_webhooks::table
        .find(webhook_id)
        .select(imaging_webhooks::webhook_id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// The referral the provider knows as `provider_referral_id`, of any site.
fn by_provider_id(
    conn: &mut DbConnection,
    provider_referral_id: &str,
) -> StoreResult<Option<ReferralRow>> {
    Ok(imaging_referrals::table
        .filter(imaging_referrals::provider_referral_id.eq(provider_referral_id))
        .select(ReferralRow::as_select())
        .order(imaging_referrals::id)
        .first(conn)
        .optional()?)
}

/// Finds the site a delivery belongs to (a referral never changes site, so reading it
/// before the site lock is safe); [`ReceiveReport`] reads again under the lock.
pub fn locate(conn: &mut DbConnection, delivery: &Delivery) -> StoreResult<Located> {
    Ok(Located {
        site: by_provider_id(conn, &delivery.provider_referral_id)?.map(|r| r.site_id),
        already_seen: seen(conn, &delivery.webhook_id)?,
    })
}

/// What [`ReceiveReport`] reads under the site lock.
pub struct ReportSnapshot {
    already_seen: bool,
    referral: Option<ReferralRow>,
}

/// `POST /v1/webhooks/imaging` (use-case), run for the site [`locate`] found: attaches the
/// report, marks the referral `reported`, records `referral.reported` and the
/// `webhook-id`; a processed `webhook-id` changes nothing.
#[derive(Debug, Clone)]
pub struct ReceiveReport {
    pub delivery: Delivery,
}

/// What the delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// The report is attached to this referral.
    Attached(ReferralId),
    /// The `webhook-id` was processed before; nothing changed.
    AlreadyProcessed,
}

impl UseCase for ReceiveReport {
    type Snapshot = ReportSnapshot;
    type Decision = (ReportOutcome, Option<ReferralRow>);
    type Refusal = UnknownReferral;
    type Output = Received;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<ReportSnapshot> {
        let referral = by_provider_id(conn, &self.delivery.provider_referral_id)?
            .filter(|r| r.site_id == ctx.site_id);
        Ok(ReportSnapshot {
            already_seen: seen(conn, &self.delivery.webhook_id)?,
            referral,
        })
    }

    fn decide(
        &self,
        s: ReportSnapshot,
    ) -> Result<(ReportOutcome, Option<ReferralRow>), UnknownReferral> {
        let outcome = receive_report(s.already_seen, s.referral.as_ref().map(|r| r.status))?;
        Ok((outcome, s.referral))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        decision: (ReportOutcome, Option<ReferralRow>),
    ) -> StoreResult<Received> {
        let (ReportOutcome::Attach, Some(mut row)) = decision else {
            return Ok(Received::AlreadyProcessed);
        };
        let delivery = self.delivery;
        let before = row.status;
        let at = now();
        row.status = ReferralStatus::Reported;
        row.report_summary = delivery.summary;
        row.report_images =
            Some(serde_json::to_string(&delivery.images).map_err(StoreError::corrupt)?);
        row.reported_at = Some(at);
        row.version += 1;
        row.updated_at = at;
        diesel::update(imaging_referrals::table.find(row.id))
            .set(&row)
            .execute(conn)?;
        diesel::insert_into(imaging_webhooks::table)
            .values((
                imaging_webhooks::webhook_id.eq(&delivery.webhook_id),
                imaging_webhooks::site_id.eq(ctx.site_id),
                imaging_webhooks::referral_id.eq(row.id),
                imaging_webhooks::received_at.eq(at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::ReferralReported,
                target: AuditTarget::Referral(row.id),
                before: Some(json!({"status": before})),
                after: Some(json!({
                    "status": row.status,
                    "webhook_id": delivery.webhook_id,
                    "summary": row.report_summary,
                    "images": delivery.images,
                })),
            },
        )?;
        Ok(Received::Attached(row.id))
    }
}
