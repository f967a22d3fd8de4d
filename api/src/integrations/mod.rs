//! `/v1/integrations/...`: third-party clinical tools a site administrator enables (SPEC §6):
//! the exercise provider and the imaging provider's switch;
//! and `/v1/outbox-jobs`, where site administrators see the provider calls behind them.

pub mod exercise;
pub mod imaging;
pub mod jobs;

use staffroom_connectors::{ProviderCode, ProviderError};
use staffroom_domain::ProblemCode;

use crate::error::ApiError;

/// A provider's answer as a problem document: unreachable or failing → `503
/// provider_unavailable`; a refusal → `422 provider_refused` with the provider's code and
/// reason.
pub fn provider_problem(e: &ProviderError) -> ApiError {
    match e {
        ProviderError::Transient { reason } => {
            tracing::warn!(%reason, "provider unavailable");
            provider_unavailable("The provider is not answering right now; retry shortly.")
        }
        ProviderError::Permanent { code, reason, .. } => provider_refused(reason).with(
            "provider_code",
            code.as_ref().map_or("", ProviderCode::as_str),
        ),
    }
}

/// `503 provider_unavailable`.
pub fn provider_unavailable(detail: impl Into<String>) -> ApiError {
    ApiError::new(ProblemCode::ProviderUnavailable, detail)
}

/// `422 provider_refused` with the provider's reason.
pub fn provider_refused(reason: &str) -> ApiError {
    ApiError::new(
        ProblemCode::ProviderRefused,
        format!("The provider refused the request: {reason}"),
    )
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    exercise::configure(cfg);
    imaging::configure(cfg);
    jobs::configure(cfg);
}
