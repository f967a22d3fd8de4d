//! The exercise integration's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{
    ExerciseAction, ExerciseNames, ExerciseState, JobId, PersonName, UserId, UserStatus,
};
use staffroom_persistence::exercise::{ExerciseUserView, IntegrationRow};
use utoipa::{IntoParams, ToSchema};

use crate::views::{page_of, utc};

/// The site's connection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExerciseIntegrationView {
    pub connected: bool,
    /// The provider clinic's id, e.g. `CLM-1234`.
    pub clm_id: Option<String>,
    /// The clinic's name at the provider.
    pub clinic_name: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
}

impl From<Option<IntegrationRow>> for ExerciseIntegrationView {
    fn from(row: Option<IntegrationRow>) -> Self {
        match row {
            Some(r) => Self {
                connected: true,
                clm_id: Some(r.clm_id),
                clinic_name: Some(r.clinic_name),
                connected_at: Some(utc(r.connected_at)),
            },
            None => Self {
                connected: false,
                clm_id: None,
                clinic_name: None,
                connected_at: None,
            },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectExerciseRequest {
    /// The clinic id the provider gave the site (`CLM-` and digits).
    #[schema(min_length = 1, max_length = 64, example = "CLM-1234")]
    pub clm_id: String,
}

/// A site user with their state at the provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExerciseUserStateView {
    pub user_id: UserId,
    pub email: String,
    /// The user's status in Staffroom.
    pub user_status: UserStatus,
    pub state: ExerciseState,
    /// While `pending`: what the provider call in flight will do.
    pub pending_action: Option<ExerciseAction>,
    /// The names to send (guessed from the profile until edited), or the names sent.
    pub first_name: PersonName,
    pub last_name: PersonName,
    /// Names cannot change once the user is added.
    pub names_locked: bool,
    /// The provider's reason when the last call was refused (while a call is retried, its
    /// job shows the last error).
    pub last_error: Option<String>,
    /// The outbox job of the last action (`GET /v1/outbox-jobs/{id}`).
    pub job_id: Option<JobId>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<ExerciseUserView> for ExerciseUserStateView {
    fn from(v: ExerciseUserView) -> Self {
        Self {
            user_id: v.user_id,
            email: v.email,
            user_status: v.user_status,
            state: v.state,
            pending_action: v.pending_action,
            first_name: v.names.first_name,
            last_name: v.names.last_name,
            names_locked: v.names_locked,
            last_error: v.last_error,
            job_id: v.job_id,
            updated_at: v.updated_at.map(utc),
        }
    }
}

page_of!(ExerciseUserPage, ExerciseUserStateView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListExerciseUsersQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The names to send to the provider.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExerciseNamesRequest {
    pub first_name: PersonName,
    pub last_name: PersonName,
}

impl ExerciseNamesRequest {
    pub fn names(self) -> ExerciseNames {
        ExerciseNames {
            first_name: self.first_name,
            last_name: self.last_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LaunchLinkView {
    /// Opens the exercise tool signed in as the user.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}
