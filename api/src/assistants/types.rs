//! Request and response types of the assistants' operations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::assistant::AssistantStatus;
use staffroom_domain::{
    AssistantAccountId, AssistantId, Email, JobId, MessageBody, MessageSubject, PersonName, UserId,
};
use staffroom_persistence::assistants::{
    Assistant, AssistantAccount, AssistedClinician, QueuedMessage,
};
use utoipa::{IntoParams, ToSchema};

use crate::views::{page_of, utc};

/// One of the clinician's assistants.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssistantView {
    pub id: AssistantId,
    /// The name the clinician gave.
    pub full_name: String,
    pub email: String,
    /// `pending` (invited), `accepted`, or `revoked` (the screen's *Disable*).
    pub status: AssistantStatus,
    pub invited_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The assistant's last login (to any clinician's work).
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<Assistant> for AssistantView {
    fn from(a: Assistant) -> Self {
        Self {
            id: a.id,
            full_name: a.full_name,
            email: a.email,
            status: a.status,
            invited_at: utc(a.invited_at),
            accepted_at: a.accepted_at.map(utc),
            last_login_at: a.last_login_at.map(utc),
        }
    }
}

page_of!(AssistantPage, AssistantView);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteAssistantRequest {
    pub full_name: PersonName,
    /// Where the invitation is sent; the assistant logs in with it.
    pub email: Email,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The assistant a token of kind `assistant` speaks for (in `GET /v1/me`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssistantAccountView {
    pub id: AssistantAccountId,
    pub full_name: String,
    pub email: String,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<AssistantAccount> for AssistantAccountView {
    fn from(a: AssistantAccount) -> Self {
        Self {
            id: a.id,
            full_name: a.full_name,
            email: a.email,
            last_login_at: a.last_login_at.map(utc),
        }
    }
}

/// A clinician the caller assists.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClinicianView {
    /// The clinician's user id (`/v1/clinicians/{id}/…`).
    pub id: UserId,
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// The caller's assistant record with this clinician.
    pub assistant_id: AssistantId,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl From<AssistedClinician> for ClinicianView {
    fn from(c: AssistedClinician) -> Self {
        Self {
            id: c.clinician_id,
            title: c.title,
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            assistant_id: c.assistant_id,
            accepted_at: c.accepted_at.map(utc),
        }
    }
}

page_of!(ClinicianPage, ClinicianView);

/// A message to a patient, sent by email.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientMessageRequest {
    /// The patient's email address.
    pub to: Email,
    pub subject: MessageSubject,
    pub body: MessageBody,
}

/// A patient message on its way: the email job that sends it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientMessageView {
    /// The outbox job that sends the message.
    pub id: JobId,
    pub clinician_id: UserId,
    pub to: String,
    pub subject: String,
    pub queued_at: DateTime<Utc>,
}

impl From<QueuedMessage> for PatientMessageView {
    fn from(m: QueuedMessage) -> Self {
        Self {
            id: m.id,
            clinician_id: m.clinician_id,
            to: m.to,
            subject: m.subject,
            queued_at: utc(m.queued_at),
        }
    }
}
