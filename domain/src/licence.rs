//! The licence rules of SPEC §1 as one pure function, `plan.check(&usage, &change)`.
//!
//! The persistence layer reads a [`UsageSnapshot`] and calls `check` inside the same
//! transaction that applies the change, so two requests can never both take the last licence.

use serde::{Deserialize, Serialize};

use crate::plan::LicencePlan;
use crate::problem::ProblemCode;
use crate::user::UserType;

/// How many **active** users of each type a site has; inactive users hold no licence or slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageSnapshot {
    /// Active clinical users.
    pub clinical_active: u32,
    /// Active non-clinical users.
    pub non_clinical_active: u32,
}

impl UsageSnapshot {
    /// Active users of one type.
    pub const fn active(&self, user_type: UserType) -> u32 {
        match user_type {
            UserType::Clinical => self.clinical_active,
            UserType::NonClinical => self.non_clinical_active,
        }
    }

    /// Active users of both types.
    pub const fn total_active(&self) -> u32 {
        self.clinical_active
            .saturating_add(self.non_clinical_active)
    }
}

/// A change that may raise licence usage or lower the allowance, checked before it is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceChange {
    /// An active user of this type appears: created, activated or provisioned by SCIM.
    AddUser(UserType),
    /// An active user of this type is deactivated; always allowed.
    RemoveUser(UserType),
    /// An active user changes type.
    SwitchType {
        /// The user's current type.
        from: UserType,
        /// The requested type.
        to: UserType,
    },
    /// The site moves to another plan or licence count.
    ChangePlan(LicencePlan),
}

/// Why a licence check refused a change; each variant is one `409` problem code and carries
/// the numbers a screen needs ("you have 5 of 5 licences in use").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LicenceError {
    /// Every licence is in use.
    #[error(
        "all licences are in use: {licences_used} of {licences_total} used, {needed} more needed"
    )]
    LicenceLimitReached {
        /// Licences the plan provides.
        licences_total: u32,
        /// Licences in use now.
        licences_used: u32,
        /// Licences the change would take.
        needed: u32,
    },
    /// The solo plan's single slot for this user type is taken.
    #[error("the solo plan allows one active {user_type} user and that slot is taken")]
    SoloSlotTaken {
        /// The type whose slot is taken.
        user_type: UserType,
    },
    /// The current active users would not fit the requested plan.
    #[error(
        "the active users ({clinical_active} clinical, {non_clinical_active} non-clinical) need {licences_needed} licences and do not fit a plan with {licences_total}"
    )]
    PlanDoesNotFit {
        /// Licences the requested plan provides.
        licences_total: u32,
        /// Licences the current active users would use under the requested plan.
        licences_needed: u32,
        /// Active clinical users now.
        clinical_active: u32,
        /// Active non-clinical users now.
        non_clinical_active: u32,
    },
}

impl LicenceError {
    /// The problem code of this refusal.
    pub const fn code(&self) -> ProblemCode {
        match self {
            Self::LicenceLimitReached { .. } => ProblemCode::LicenceLimitReached,
            Self::SoloSlotTaken { .. } => ProblemCode::SoloSlotTaken,
            Self::PlanDoesNotFit { .. } => ProblemCode::PlanDoesNotFit,
        }
    }
}

impl LicencePlan {
    /// Decides whether `change` is allowed for a site with this plan and `usage` (SPEC §1).
    pub fn check(&self, usage: &UsageSnapshot, change: &LicenceChange) -> Result<(), LicenceError> {
        match *change {
            LicenceChange::RemoveUser(_) => Ok(()),
            LicenceChange::AddUser(user_type) => self.check_gain(usage, user_type),
            LicenceChange::SwitchType { from, to } if from == to => Ok(()),
            LicenceChange::SwitchType { to, .. } => match self {
                // Switching keeps the number of active users, which is all flex counts.
                Self::Flex { .. } => Ok(()),
                Self::Solo | Self::Group { .. } => self.check_gain(usage, to),
            },
            LicenceChange::ChangePlan(plan) if plan.fits(usage) => Ok(()),
            LicenceChange::ChangePlan(plan) => Err(LicenceError::PlanDoesNotFit {
                licences_total: plan.licences(),
                licences_needed: plan.licences_used(usage),
                clinical_active: usage.clinical_active,
                non_clinical_active: usage.non_clinical_active,
            }),
        }
    }

    /// Licences in use: every active user on flex, active clinical users on solo and group.
    pub const fn licences_used(&self, usage: &UsageSnapshot) -> u32 {
        match self {
            Self::Flex { .. } => usage.total_active(),
            Self::Solo | Self::Group { .. } => usage.clinical_active,
        }
    }

    /// Licences still free (zero when usage is at or over the allowance).
    pub const fn licences_available(&self, usage: &UsageSnapshot) -> u32 {
        self.licences().saturating_sub(self.licences_used(usage))
    }

    /// True when `usage` is within this plan's limits.
    pub const fn fits(&self, usage: &UsageSnapshot) -> bool {
        match self {
            Self::Flex { licences } => usage.total_active() <= *licences,
            Self::Solo => usage.clinical_active <= 1 && usage.non_clinical_active <= 1,
            Self::Group { licences } => usage.clinical_active <= *licences,
        }
    }

    /// Whether one more active user of `user_type` is allowed.
    fn check_gain(&self, usage: &UsageSnapshot, user_type: UserType) -> Result<(), LicenceError> {
        match self {
            Self::Solo if usage.active(user_type) >= 1 => {
                Err(LicenceError::SoloSlotTaken { user_type })
            }
            Self::Solo => Ok(()),
            Self::Group { .. } if user_type == UserType::NonClinical => Ok(()),
            Self::Flex { .. } | Self::Group { .. } => {
                let used = self.licences_used(usage);
                if used < self.licences() {
                    Ok(())
                } else {
                    Err(LicenceError::LicenceLimitReached {
                        licences_total: self.licences(),
                        licences_used: used,
                        needed: 1,
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
