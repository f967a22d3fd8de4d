//! The error type of every persistence function. It says what went wrong in terms of the
//! stored state; the API decides which HTTP status that is.

use staffroom_domain::{ExerciseRefusal, FieldError, ProfessionRefusal};

pub use staffroom_domain::{LicenceRefusal, Unbookable};

/// A conflict between a request and the stored state. It names what conflicts; the API
/// chooses the problem code, status and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Another user of the site already has this email.
    EmailTaken,
    /// The clinic is some user's default clinic.
    ClinicInUse,
    /// The site's only clinic cannot be deleted.
    LastClinic,
    /// The operation would leave the site without an active site administrator, or a clinic
    /// without an active clinic administrator.
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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("the stored version is {current}")]
    VersionMismatch { current: i64 },
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{}", .0.error)]
    Licence(Box<LicenceRefusal>),
    /// The user cannot be booked.
    #[error("the user cannot be booked: {0:?}")]
    NotBookable(Unbookable),
    /// A bulk selection larger than one request may change.
    #[error("{selected} users are selected; at most {limit} are allowed")]
    SelectionTooLarge { selected: usize, limit: usize },
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("connection pool: {0}")]
    Pool(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
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
