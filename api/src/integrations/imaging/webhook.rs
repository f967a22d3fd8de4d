//! `POST /v1/webhooks/imaging`: the imaging provider delivers a referral's report (SPEC
//! §6.2), signed the Standard Webhooks way with the deployment's secret. Not a bearer-token
//! operation: the signature ([`Signed`]) is checked before anything is read, and the
//! referral it names decides the site whose lock the change takes.

use actix_web::http::StatusCode;
use actix_web::post;
use serde::{Deserialize, Serialize};
use staffroom_domain::imaging::receive_report;
use staffroom_persistence::imaging::reports::{self, Delivery, ReceiveReport, Received};
use staffroom_persistence::tx::AuditContext;
use utoipa::ToSchema;

use crate::answer::Answer;
use crate::db;
use crate::error::ApiError;
use crate::extract::{RequestId, Signed};
use crate::responses::Webhook;
use crate::usecase::Act;

/// The most image links one report carries.
const MAX_IMAGES: usize = 100;

/// What a delivery is about; reports are the only kind.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
pub enum DeliveryType {
    #[serde(rename = "referral.report_ready")]
    ReportReady,
}

/// A report delivery, as the provider sends it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportDelivery {
    #[serde(rename = "type")]
    pub delivery_type: DeliveryType,
    /// The provider's id of the referral (`provider_referral_id` of the referral).
    #[schema(min_length = 1, max_length = 255)]
    pub referral_id: String,
    pub report: ReportBody,
}

/// The report itself.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportBody {
    #[schema(max_length = 20000)]
    pub summary: Option<String>,
    /// Links to the images (`http://` or `https://`, at most 2048 characters each), at
    /// most 100.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub images: Vec<String>,
}

/// What the delivery did.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptOutcome {
    /// The report is attached and the referral is `reported`.
    Attached,
    /// This `webhook-id` was processed before: nothing changed.
    AlreadyProcessed,
}

/// The answer to a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookReceipt {
    pub webhook_id: String,
    pub outcome: ReceiptOutcome,
}

impl Signed<ReportDelivery> {
    /// The delivery to store; a link that is not `http(s)://` or too many links answer `422`
    /// naming them.
    fn into_delivery(self) -> Result<Delivery, ApiError> {
        let images = self.body.report.images;
        if images.len() > MAX_IMAGES {
            return Err(ApiError::field(
                "report.images",
                "too_many_items",
                format!("report.images has at most {MAX_IMAGES} links."),
            ));
        }
        if let Some(i) = images.iter().position(|link| {
            !(link.starts_with("https://") || link.starts_with("http://")) || link.len() > 2048
        }) {
            return Err(ApiError::field(
                &format!("report.images[{i}]"),
                "invalid_url",
                "must be an http:// or https:// link of at most 2048 characters",
            ));
        }
        Ok(Delivery {
            webhook_id: self.webhook_id,
            provider_referral_id: self.body.referral_id,
            summary: self.body.report.summary,
            images,
        })
    }
}

fn receipt(webhook_id: &str, outcome: ReceiptOutcome) -> Answer {
    let receipt = WebhookReceipt {
        webhook_id: webhook_id.to_owned(),
        outcome,
    };
    Answer::json(StatusCode::OK, &receipt)
}

/// Finds the referral's site, then runs `ReceiveReport` under its lock; a delivery naming
/// no referral is `404`, unless its `webhook-id` was processed (`200`, nothing changes).
async fn receive(act: Act, request_id: String, delivery: Delivery) -> Result<Answer, ApiError> {
    let asked = delivery.clone();
    let located = db::run(act.state(), move |c| reports::locate(c, &asked)).await?;
    let webhook_id = delivery.webhook_id.clone();
    let Some(site) = located.site else {
        receive_report(located.already_seen, None)?;
        return Ok(receipt(&webhook_id, ReceiptOutcome::AlreadyProcessed));
    };
    let ctx = AuditContext::provider(site, "imaging", Some(request_id));
    act.run(ctx, ReceiveReport { delivery }, move |received| {
        let outcome = match received {
            Received::Attached(_) => ReceiptOutcome::Attached,
            Received::AlreadyProcessed => ReceiptOutcome::AlreadyProcessed,
        };
        receipt(&webhook_id, outcome)
    })
    .await
}

/// A referral's report, delivered by the imaging provider.
///
/// Signed the Standard Webhooks way with the deployment's secret
/// (`STAFFROOM_IMAGING_WEBHOOK_SECRET`): `webhook-signature` is `v1,` and the base64
/// HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`. A bad or missing signature, or
/// a timestamp more than 5 minutes from now, answers `401 invalid_signature` and changes
/// nothing. A valid delivery attaches the report and sets the referral's `status` to
/// `reported` (audited as `referral.reported`); a `webhook-id` processed before answers
/// `200` and changes nothing (redeliveries); a `referral_id` no referral has answers `404`.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("webhook-id" = String, Header, description = "The delivery's id, the same on every redelivery."),
        ("webhook-timestamp" = i64, Header, description = "When the delivery was signed, in Unix seconds."),
    ),
    request_body = ReportDelivery,
    responses(
        (status = 200, body = WebhookReceipt, description = "Attached, or processed before."),
        Webhook,
    ),
    security(("webhook_signature" = []))
)]
#[post("/v1/webhooks/imaging")]
pub async fn receive_imaging_report(
    act: Act,
    request_id: RequestId,
    delivery: Signed<ReportDelivery>,
) -> Result<Answer, ApiError> {
    receive(act, request_id.0, delivery.into_delivery()?).await
}
