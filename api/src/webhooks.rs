//! The deployment's webhook secret and the check of a signed delivery, the **Standard
//! Webhooks** way (SPEC §6.2): headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under
//! a `whsec_<base64>` secret). The `standardwebhooks` crate computes and compares the
//! signature; how far the timestamp may be from now is the domain's rule
//! (`staffroom_domain::imaging::timestamp_is_fresh`).

use actix_web::http::header::HeaderMap;
use staffroom_domain::imaging::{WEBHOOK_TOLERANCE_SECONDS, timestamp_is_fresh};
use standardwebhooks::{
    HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP, Webhook,
};

const PREFIX: &str = "whsec_";
/// Bytes of a generated secret's key.
const GENERATED_KEY_BYTES: usize = 32;

/// A `whsec_<base64>` secret, checked.
pub struct WebhookSecret {
    text: String,
    webhook: Webhook,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// Why a delivery is not believed; every reason is answered `401 invalid_signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsigned {
    /// A Standard Webhooks header is missing or not visible ASCII.
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a whole number of seconds.
    BadTimestamp,
    /// `webhook-timestamp` is more than the tolerance from now.
    StaleTimestamp,
    /// No `v1` signature of the header matches the body under the secret.
    Mismatch,
}

impl std::fmt::Display for Unsigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingHeader(name) => write!(f, "The {name} header is missing."),
            Self::BadTimestamp => f.write_str("webhook-timestamp is not Unix seconds."),
            Self::StaleTimestamp => write!(
                f,
                "webhook-timestamp is more than {} seconds from now.",
                WEBHOOK_TOLERANCE_SECONDS
            ),
            Self::Mismatch => f.write_str("webhook-signature does not match the delivery."),
        }
    }
}

impl WebhookSecret {
    /// Checks `text`: `whsec_` and the base64 of a key of at least one byte. The error fits
    /// one line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let Some(key) = text.strip_prefix(PREFIX) else {
            return Err(format!("a webhook secret starts with {PREFIX}"));
        };
        if key.is_empty() {
            return Err(format!("the webhook secret has no key after {PREFIX}"));
        }
        let webhook = Webhook::new(text)
            .map_err(|e| format!("the webhook secret is not {PREFIX} and base64: {e}"))?;
        Ok(Self {
            text: text.to_owned(),
            webhook,
        })
    }

    /// A new random secret, `whsec_` and the base64 of 32 random bytes.
    pub fn generate() -> String {
        use base64::Engine;
        use rand::RngCore;
        let mut key = [0u8; GENERATED_KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut key);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        )
    }

    /// The secret as configured (`whsec_…`), to hand to the built-in simulator.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Checks a delivery received at `now` (Unix seconds) and gives its `webhook-id`.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: i64) -> Result<String, Unsigned> {
        let header = |name: &'static str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .ok_or(Unsigned::MissingHeader(name))
        };
        let id = header(HEADER_WEBHOOK_ID)?;
        let timestamp = header(HEADER_WEBHOOK_TIMESTAMP)?;
        let signature = header(HEADER_WEBHOOK_SIGNATURE)?;
        let seconds: i64 = timestamp.parse().map_err(|_| Unsigned::BadTimestamp)?;
        if !timestamp_is_fresh(seconds, now) {
            return Err(Unsigned::StaleTimestamp);
        }
        let mut signed = http::HeaderMap::new();
        for (name, value) in [
            (HEADER_WEBHOOK_ID, id),
            (HEADER_WEBHOOK_TIMESTAMP, timestamp),
            (HEADER_WEBHOOK_SIGNATURE, signature),
        ] {
            let value = http::HeaderValue::from_str(value).map_err(|_| Unsigned::Mismatch)?;
            signed.insert(name, value);
        }
        self.webhook
            .verify(body, &signed)
            .map_err(|_| Unsigned::Mismatch)?;
        Ok(id.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &[u8] = br#"{"type":"referral.report_ready"}"#;

    fn headers(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> HeaderMap {
        let signature = Webhook::new(secret)
            .unwrap()
            .sign(id, timestamp, body)
            .unwrap();
        let mut map = HeaderMap::new();
        for (name, value) in [
            (HEADER_WEBHOOK_ID, id.to_owned()),
            (HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string()),
            (HEADER_WEBHOOK_SIGNATURE, signature),
        ] {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn secrets_are_whsec_and_base64() {
        assert!(WebhookSecret::parse(SECRET).is_ok());
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_",
            "whsec_not base64!",
        ] {
            assert!(WebhookSecret::parse(bad).is_err(), "{bad}");
        }
        let generated = WebhookSecret::generate();
        assert!(WebhookSecret::parse(&generated).is_ok(), "{generated}");
        assert_ne!(generated, WebhookSecret::generate());
    }

    #[test]
    fn a_delivery_signed_now_with_the_secret_is_believed() {
        let secret = WebhookSecret::parse(SECRET).unwrap();
        let now = chrono::Utc::now().timestamp();
        let signed = headers(SECRET, "msg_1", now, BODY);
        assert_eq!(secret.verify(&signed, BODY, now).unwrap(), "msg_1");
        assert_eq!(secret.verify(&signed, b"{}", now), Err(Unsigned::Mismatch));
        let other = headers("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_1", now, BODY);
        assert_eq!(secret.verify(&other, BODY, now), Err(Unsigned::Mismatch));
    }

    #[test]
    fn stale_or_missing_headers_are_refused() {
        let secret = WebhookSecret::parse(SECRET).unwrap();
        let now = chrono::Utc::now().timestamp();
        let stale = headers(SECRET, "msg_1", now - 301, BODY);
        assert_eq!(
            secret.verify(&stale, BODY, now),
            Err(Unsigned::StaleTimestamp)
        );
        for name in [
            HEADER_WEBHOOK_ID,
            HEADER_WEBHOOK_TIMESTAMP,
            HEADER_WEBHOOK_SIGNATURE,
        ] {
            let mut partial = headers(SECRET, "msg_1", now, BODY);
            partial.remove(name);
            assert_eq!(
                secret.verify(&partial, BODY, now),
                Err(Unsigned::MissingHeader(name))
            );
        }
    }
}
