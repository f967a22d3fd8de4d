//! The imaging (scan-referral) provider (SPEC §6.2): users with unique emails, whose names
//! never change, and the referrals they make.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ProviderResult;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewImagingUser {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub marketing_opt_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagingUser {
    pub id: String,
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub marketing_opt_in: bool,
}

/// The only details a user may change at the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagingUserUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketing_opt_in: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReferral {
    pub patient_name: String,
    pub body_part: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Where the provider posts reports and images (Staffroom's webhook).
    pub callback_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub id: String,
    pub user_id: String,
    pub patient_name: String,
    pub body_part: String,
    pub notes: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait ImagingProvider: Send + Sync {
    /// Creates a user; an email already used answers a permanent `409 email_in_use`.
    async fn create_user(
        &self,
        user: &NewImagingUser,
        idempotency_key: &str,
    ) -> ProviderResult<ImagingUser>;

    /// The user with this email, if any (case-insensitive).
    async fn find_user_by_email(&self, email: &str) -> ProviderResult<Option<ImagingUser>>;

    async fn get_user(&self, provider_user_id: &str) -> ProviderResult<ImagingUser>;

    async fn update_user(
        &self,
        provider_user_id: &str,
        update: &ImagingUserUpdate,
        idempotency_key: &str,
    ) -> ProviderResult<ImagingUser>;

    async fn create_referral(
        &self,
        provider_user_id: &str,
        referral: &NewReferral,
        idempotency_key: &str,
    ) -> ProviderResult<Referral>;
}
