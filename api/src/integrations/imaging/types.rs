//! The imaging connection's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::imaging::{ImagingAction, ImagingDetails, ImagingState};
use staffroom_domain::{Email, JobId, PersonName};
use staffroom_persistence::imaging::connections::ConnectionView;
use utoipa::ToSchema;

use crate::views::{double_option, utc};

/// The details the provider holds for the user (prefilled from the profile while not
/// connected).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImagingDetailsView {
    pub title: Option<PersonName>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub email: Email,
    pub marketing_opt_in: bool,
}

impl From<ImagingDetails> for ImagingDetailsView {
    fn from(d: ImagingDetails) -> Self {
        Self {
            title: d.title,
            first_name: d.first_name,
            last_name: d.last_name,
            email: d.email,
            marketing_opt_in: d.marketing_opt_in,
        }
    }
}

/// The caller's own connection to the imaging provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImagingConnectionView {
    pub state: ImagingState,
    /// While `pending`: what the provider call in flight will do.
    pub pending_action: Option<ImagingAction>,
    pub details: ImagingDetailsView,
    /// Whether connecting re-linked the provider account forgotten before with this email
    /// (its original title and names come back with it).
    pub relinked: bool,
    /// The provider's reason when the last call was refused.
    pub last_error: Option<String>,
    /// The outbox job of the last provider call.
    pub job_id: Option<JobId>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<ConnectionView> for ImagingConnectionView {
    fn from(v: ConnectionView) -> Self {
        Self {
            state: v.state,
            pending_action: v.pending_action,
            details: v.details.into(),
            relinked: v.relinked,
            last_error: v.last_error,
            job_id: v.job_id,
            updated_at: v.updated_at.map(utc),
        }
    }
}

/// The details to connect with. Title and names never change afterwards.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectImagingRequest {
    pub title: Option<PersonName>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub email: Email,
    #[serde(default)]
    pub marketing_opt_in: bool,
}

impl ConnectImagingRequest {
    pub fn details(self) -> ImagingDetails {
        ImagingDetails {
            title: self.title,
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            marketing_opt_in: self.marketing_opt_in,
        }
    }
}

/// What a connection's update may change: the email and the marketing choice. `title`,
/// `first_name` and `last_name` are refused (`422 immutable_field` naming each), `null`
/// included: it would clear them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateImagingRequest {
    pub email: Option<Email>,
    pub marketing_opt_in: Option<bool>,
    /// Refused: the title never changes.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "double_option")]
    pub title: Option<Option<serde_json::Value>>,
    /// Refused: the names never change.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "double_option")]
    pub first_name: Option<Option<serde_json::Value>>,
    /// Refused: the names never change.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "double_option")]
    pub last_name: Option<Option<serde_json::Value>>,
}

impl UpdateImagingRequest {
    /// The immutable fields the body sent.
    pub fn immutable_sent(&self) -> Vec<&'static str> {
        let sent = [
            ("title", self.title.is_some()),
            ("first_name", self.first_name.is_some()),
            ("last_name", self.last_name.is_some()),
        ];
        staffroom_domain::imaging::immutable_fields_sent(
            sent.into_iter().filter(|(_, s)| *s).map(|(f, _)| f),
        )
    }
}
