//! The exercise-prescription provider (SPEC §6.1): clinics are confirmed by their `clm_id`,
//! users are created (never linked), deleted, and given single-sign-on launch links.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ProviderResult;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseClinic {
    pub clm_id: String,
    pub name: String,
}

/// A user to create at the provider. `external_id` is Staffroom's user id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewExerciseUser {
    pub first_name: String,
    pub last_name: String,
    pub external_id: String,
}

/// A user as the provider holds it; `id` is the provider's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseUser {
    pub id: String,
    pub clm_id: String,
    pub first_name: String,
    pub last_name: String,
    pub external_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait ExerciseProvider: Send + Sync {
    /// Confirms a clinic id; an unknown one is a permanent `404 unknown_clinic`.
    async fn find_clinic(&self, clm_id: &str) -> ProviderResult<ExerciseClinic>;

    /// Creates a user at the clinic. Calls with the same `idempotency_key` create one user.
    async fn create_user(
        &self,
        clm_id: &str,
        user: &NewExerciseUser,
        idempotency_key: &str,
    ) -> ProviderResult<ExerciseUser>;

    /// Deletes a user; a user the provider does not know counts as deleted.
    async fn delete_user(
        &self,
        clm_id: &str,
        provider_user_id: &str,
        idempotency_key: &str,
    ) -> ProviderResult<()>;

    /// A single-sign-on link for the user.
    async fn launch(
        &self,
        clm_id: &str,
        provider_user_id: &str,
        idempotency_key: &str,
    ) -> ProviderResult<LaunchLink>;
}
