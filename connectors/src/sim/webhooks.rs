//! Report deliveries to Staffroom's imaging webhook (SPEC §6.2, WIRE.md): signed the
//! Standard Webhooks way with the deployment's secret, retried while the receiver answers
//! `5xx` or does not answer, given up after [`ATTEMPTS`].

use std::sync::Arc;
use std::time::Duration;

use standardwebhooks::{
    HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP, Webhook,
};

use super::routes::{Shared, lock};
use super::state::PreparedDelivery;

/// Attempts per delivery, the first included.
pub(crate) const ATTEMPTS: u32 = 8;
/// The pause after the first failed attempt; it doubles after each, up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(2);
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks a `whsec_<base64>` secret; the error is fit for one line.
pub(crate) fn parse_secret(secret: &str) -> Result<(), String> {
    if !secret.starts_with("whsec_") {
        return Err("a webhook secret starts with whsec_".to_owned());
    }
    Webhook::new(secret)
        .map(drop)
        .map_err(|e| format!("the webhook secret is not whsec_ and base64: {e}"))
}

/// The three Standard Webhooks headers of one attempt, signed now.
pub(crate) fn signed_headers(
    secret: &str,
    webhook_id: &str,
    body: &[u8],
) -> Result<[(&'static str, String); 3], String> {
    let webhook = Webhook::new(secret).map_err(|e| e.to_string())?;
    let timestamp = chrono::Utc::now().timestamp();
    let signature = webhook
        .sign(webhook_id, timestamp, body)
        .map_err(|e| e.to_string())?;
    Ok([
        (HEADER_WEBHOOK_ID, webhook_id.to_owned()),
        (HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string()),
        (HEADER_WEBHOOK_SIGNATURE, signature),
    ])
}

/// Delivers `delivery` until the receiver answers below `500` or the attempts run out,
/// recording every attempt in the state.
pub(crate) async fn deliver(shared: Arc<Shared>, secret: String, delivery: PreparedDelivery) {
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        let answer = attempt_once(&shared.http, &secret, &delivery).await;
        let last = attempt == ATTEMPTS;
        lock(&shared.state).delivery_attempted(&delivery, answer, last);
        if answer.is_some_and(|status| status < 500) {
            return;
        }
        tracing::info!(
            webhook_id = %delivery.webhook_id,
            attempt,
            ?answer,
            "provider-sim: report delivery failed"
        );
        if !last {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }
}

async fn attempt_once(
    http: &reqwest::Client,
    secret: &str,
    delivery: &PreparedDelivery,
) -> Option<u16> {
    let headers = match signed_headers(secret, &delivery.webhook_id, &delivery.body) {
        Ok(headers) => headers,
        Err(e) => {
            tracing::error!(error = %e, "provider-sim: cannot sign a report delivery");
            return None;
        }
    };
    let mut request = http
        .post(&delivery.callback_url)
        .timeout(ATTEMPT_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(delivery.body.clone());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request
        .send()
        .await
        .ok()
        .map(|response| response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn secrets_must_be_whsec_and_base64() {
        assert!(parse_secret(SECRET).is_ok());
        assert!(parse_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(parse_secret("whsec_not base64!").is_err());
    }

    #[test]
    fn signed_headers_verify_with_the_same_secret_only() {
        let body = br#"{"type":"referral.report_ready"}"#;
        let headers = signed_headers(SECRET, "msg_1", body).unwrap();
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            map.insert(name, value.parse().unwrap());
        }
        assert!(Webhook::new(SECRET).unwrap().verify(body, &map).is_ok());
        let other = Webhook::new("whsec_c2VjcmV0LXR3bw==").unwrap();
        assert!(other.verify(body, &map).is_err());
        assert!(Webhook::new(SECRET).unwrap().verify(b"{}", &map).is_err());
    }
}
