//! [`EmailSender`] over HTTP: WIRE.md's email format.

use async_trait::async_trait;
use reqwest::Method;

use super::{HttpConfig, Transport};
use crate::{EmailMessage, EmailSender, ProviderResult, SentEmail};

/// The email provider's HTTP client (`/v1/messages`).
#[derive(Debug, Clone)]
pub struct HttpEmail {
    transport: Transport,
}

impl HttpEmail {
    pub fn new(config: HttpConfig) -> ProviderResult<Self> {
        Ok(Self {
            transport: Transport::new(config)?,
        })
    }
}

#[async_trait]
impl EmailSender for HttpEmail {
    /// `POST /v1/messages`; the provider answers `202 {"id", "accepted_at"}`.
    async fn send(
        &self,
        message: &EmailMessage,
        idempotency_key: &str,
    ) -> ProviderResult<SentEmail> {
        self.transport
            .mutate(
                Method::POST,
                &["v1", "messages"],
                Some(message),
                idempotency_key,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::super::testing::*;
    use super::*;

    fn message() -> EmailMessage {
        EmailMessage {
            to: "ada@example.com".into(),
            subject: "Your Staffroom invitation".into(),
            body: "Follow the link to set your password.".into(),
        }
    }

    #[tokio::test]
    async fn send_posts_the_message_with_the_idempotency_key() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .and(authorized())
            .and(idempotency_key("outbox-17"))
            .and(json_content())
            .and(body_json(json!({
                "to": "ada@example.com",
                "subject": "Your Staffroom invitation",
                "body": "Follow the link to set your password."
            })))
            .respond_with(
                ResponseTemplate::new(202)
                    .set_body_json(json!({"id": "msg-1", "accepted_at": "2026-03-01T09:00:00Z"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let client = HttpEmail::new(config(&server)).unwrap();
        let sent = client.send(&message(), "outbox-17").await.unwrap();
        assert_eq!(sent, SentEmail { id: "msg-1".into() });
    }

    #[tokio::test]
    async fn send_to_an_invalid_recipient_is_permanent() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(problem(422, "invalid_recipient", "ada@ is not an address"))
            .mount(&server)
            .await;
        let client = HttpEmail::new(config(&server)).unwrap();
        let err = client.send(&message(), "outbox-18").await.unwrap_err();
        assert_permanent(&err, 422, "invalid_recipient", "ada@ is not an address");
    }

    #[tokio::test]
    async fn send_during_an_outage_is_transient() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(problem(503, "simulated_failure", "try again"))
            .mount(&server)
            .await;
        let client = HttpEmail::new(config(&server)).unwrap();
        let err = client.send(&message(), "outbox-19").await.unwrap_err();
        assert_transient(&err, "HTTP 503: try again");
    }
}
