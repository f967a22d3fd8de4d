//! The email provider (SPEC §6.3): invitations and notices.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ProviderResult;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailMessage {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The provider's receipt for an accepted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentEmail {
    pub id: String,
}

#[async_trait]
pub trait EmailSender: Send + Sync {
    /// Sends one message. Calls with the same `idempotency_key` send it once.
    async fn send(
        &self,
        message: &EmailMessage,
        idempotency_key: &str,
    ) -> ProviderResult<SentEmail>;
}
