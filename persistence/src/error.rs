//! The error type of every persistence function. It says what went wrong in terms of the
//! stored state; the API decides which HTTP status that is.

use staffroom_domain::{
    ExerciseRefusal, FieldError, LicenceError, LicencePlan, LicenceReport, ProfessionRefusal,
    UsageSnapshot,
};

/// A conflict between a request and the stored state, with its stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Another user of the site already has this email.
    EmailTaken,
    /// The clinic is some user's default clinic.
    ClinicInUse,
    /// The site's only clinic cannot be deleted.
    LastClinic,
    /// The operation would leave the site without an active site administrator.
    LastAdmin,
    /// The new profession may not hold a permission the user holds (SPEC §4 rule 6).
    ProfessionNotAllowed(ProfessionRefusal),
    /// The clinic has appointments, which must stay reachable in reports.
    ClinicHasAppointments,
    /// The user already has an appointment in that time.
    AppointmentOverlaps,
    /// The user has no diary (non-clinical, or not yet switched at login).
    DiaryDisabled,
    /// The exercise integration's rules refuse the action in the user's state.
    Exercise(ExerciseRefusal),
    /// Only active users are invited.
    UserInactive,
    /// The user already has a password; there is nothing to invite them to.
    PasswordAlreadySet,
}

impl Conflict {
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmailTaken => "email_taken",
            Self::ClinicInUse => "clinic_in_use",
            Self::LastClinic => "last_clinic",
            Self::LastAdmin => "last_admin",
            Self::ProfessionNotAllowed(refusal) => refusal.code(),
            Self::ClinicHasAppointments => "clinic_has_appointments",
            Self::AppointmentOverlaps => "appointment_overlaps",
            Self::DiaryDisabled => "diary_disabled",
            Self::Exercise(refusal) => refusal.code(),
            Self::UserInactive => "user_inactive",
            Self::PasswordAlreadySet => "password_already_set",
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            Self::EmailTaken => "Another user of this site already has this email address.",
            Self::ClinicInUse => {
                "The clinic is the default clinic of at least one user; change their default first."
            }
            Self::LastClinic => "A site needs at least one clinic.",
            Self::LastAdmin => "The site would be left without an active site administrator.",
            Self::ProfessionNotAllowed(_) => {
                "The user holds permissions the new profession may not hold; remove them first."
            }
            Self::ClinicHasAppointments => {
                "The clinic has appointments, which must stay visible in reports."
            }
            Self::AppointmentOverlaps => "The user already has an appointment at that time.",
            Self::DiaryDisabled => {
                "The user has no diary: non-clinical users have none, and a type change \
                 takes effect at the user's next login."
            }
            Self::Exercise(refusal) => refusal.message(),
            Self::UserInactive => "The user is inactive; reactivate them first.",
            Self::PasswordAlreadySet => {
                "The user has already set a password; an invitation would change nothing."
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {}", .0.code())]
    Conflict(Conflict),
    #[error("the stored version is {current}")]
    VersionMismatch { current: i64 },
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{}", .0.error)]
    Licence(Box<LicenceRefusal>),
    /// The thing asked for existed but is no longer usable (an expired invitation).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    /// The request cannot be carried out on this record (e.g. booking a non-clinical user).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("connection pool: {0}")]
    Pool(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

/// A change the licence rules refused, with the usage it was judged against, so the answer
/// can say "5 of 5 licences in use". For a plan change, `plan` is the requested plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceRefusal {
    pub error: LicenceError,
    pub plan: LicencePlan,
    pub usage: UsageSnapshot,
}

impl LicenceRefusal {
    pub fn report(&self) -> LicenceReport {
        self.plan.report(&self.usage)
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Pool(e.to_string())
    }
}

impl StoreError {
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message)])
    }

    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
