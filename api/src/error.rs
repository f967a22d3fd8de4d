//! `ApiError`: the one error type of the HTTP layer, rendered as an RFC 9457 problem
//! document (`application/problem+json`) with a stable `code`. Persistence, domain and
//! extractor errors all become an `ApiError` here, so every failure has the same shape.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};
use staffroom_domain::assistant::{AssistantRefusal, NotTheirClinician};
use staffroom_domain::imaging::{ImagingRefusal, UnknownReferral};
use staffroom_domain::{
    AcceptanceRefusal, AccessChange, AccessRefusal, BookingFieldRefusal, BookingRefusal,
    BulkRefusal, ClinicChoiceRefusal, ClinicDeletionRefusal, ClinicUpdateRefusal, ExerciseRefusal,
    FieldError, InvitationRefusal, MAX_APPOINTMENT_HOURS, ProblemCode, ProfileRefusal,
    RevocationRefusal, ServiceAccountRefusal, SignInRefusal, StatusRefusal, UserCreationRefusal,
};
use staffroom_persistence::usecase::Failure;
use staffroom_persistence::{Conflict, LicenceRefusal, StoreError, Unbookable};
use utoipa::ToSchema;

/// The media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document: the body of every error response, as sent. Some problems
/// carry further members that describe them (e.g. `licences_used`, `current_etag`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:staffroom:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type; the same for every problem of one `code`.
    pub title: String,
    /// The HTTP status code; one per `code`.
    pub status: u16,
    /// What went wrong in this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable, machine-readable code to map to a message or an action.
    pub code: ProblemCode,
    /// Per-field errors (`validation_failed`), all of them at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Further members that describe this problem.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

/// An error answered to the client: a problem code (which fixes the status), what went
/// wrong, and any field errors or extra members.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ProblemCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra members of the problem document (e.g. `licences_used`).
    pub extensions: Map<String, Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code.status(), self.code, self.detail)
    }
}

/// The HTTP status of a problem code.
pub fn status_of(code: ProblemCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl ApiError {
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            extensions: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn not_found() -> Self {
        Self::new(ProblemCode::NotFound, "No such resource in this site.")
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::Forbidden, detail)
    }

    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::InvalidToken, detail)
    }

    pub fn malformed_body(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::MalformedBody, detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are not valid.", many.len()),
        };
        Self {
            errors,
            ..Self::new(ProblemCode::ValidationFailed, detail)
        }
    }

    /// The same problem under another top-level `code` and `detail` (a refusal that names
    /// its field, such as `422 invalid_clinic_id`).
    pub fn with_code(mut self, code: ProblemCode, detail: impl Into<String>) -> Self {
        self.code = code;
        self.detail = detail.into();
        self
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn internal() -> Self {
        Self::new(
            ProblemCode::InternalError,
            "The server failed to handle the request; it has been logged.",
        )
    }

    /// The problem document this error is answered with.
    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("urn:staffroom:problem:{}", self.code),
            title: self.code.title().to_owned(),
            status: self.code.status(),
            detail: Some(self.detail.clone()),
            code: self.code,
            errors: self.errors.clone(),
            extensions: self.extensions.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.code)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(self.problem())
    }
}

impl From<&LicenceRefusal> for ApiError {
    /// `409` with the refusal's code, what the change needed, and the usage it was judged
    /// against (`licences_total`, `licences_used`, `licences_available`, counts by type).
    fn from(refusal: &LicenceRefusal) -> Self {
        let mut extensions = match serde_json::to_value(refusal.report()) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        extensions.remove("can_add_clinical");
        extensions.remove("can_add_non_clinical");
        extensions.remove("can_switch_to_clinical");
        extensions.remove("can_switch_to_non_clinical");
        if let Ok(Value::Object(details)) = serde_json::to_value(refusal.error) {
            for (key, value) in details {
                if key != "code" {
                    extensions.insert(key, value);
                }
            }
        }
        Self {
            extensions,
            ..Self::new(refusal.error.code(), refusal.error.to_string())
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict(c) => Self::from(c),
            StoreError::VersionMismatch { current } => Self::new(
                ProblemCode::PreconditionFailed,
                "The resource has changed since it was read (If-Match does not match).",
            )
            .with("current_etag", crate::etag::format(current)),
            StoreError::Invalid(errors) => Self::validation(errors),
            StoreError::Licence(refusal) => Self::from(refusal.as_ref()),
            StoreError::NotBookable(why) => Self::new(
                ProblemCode::NotBookable,
                match why {
                    Unbookable::Inactive => "The user is deactivated.",
                    Unbookable::NonClinical => "Non-clinical users cannot be booked.",
                    Unbookable::DiaryNotStarted => {
                        "The user's diary starts at their next login after becoming clinical."
                    }
                    Unbookable::NoClinicAccess => "The user does not work at this clinic.",
                },
            ),
            StoreError::SelectionTooLarge { selected, limit } => Self::new(
                ProblemCode::SelectionTooLarge,
                format!("{selected} users are selected; a bulk update takes at most {limit}."),
            ),
            StoreError::Pool(msg) => {
                tracing::error!(error = %msg, "database pool unavailable");
                Self::new(
                    ProblemCode::ServiceUnavailable,
                    "The database is not reachable right now; retry shortly.",
                )
            }
            other => {
                tracing::error!(error = %other, "persistence failure");
                Self::internal()
            }
        }
    }
}

impl From<Conflict> for ApiError {
    /// The problem and the words for a conflict with the stored state. A profession the
    /// held permissions forbid is a SPEC §4 refusal: `422` naming the field `profession`.
    fn from(conflict: Conflict) -> Self {
        let (code, detail) = match conflict {
            Conflict::EmailTaken => (
                ProblemCode::EmailTaken,
                "Another user of this site already has this email address.",
            ),
            Conflict::ClinicInUse => (
                ProblemCode::ClinicInUse,
                "The clinic is the default clinic of at least one user; change their default first.",
            ),
            Conflict::LastClinic => (ProblemCode::LastClinic, "A site needs at least one clinic."),
            Conflict::LastAdmin => (
                ProblemCode::LastAdmin,
                "The change would leave the site without an active site administrator, or a \
                 clinic without an active clinic administrator.",
            ),
            Conflict::ProfessionNotAllowed(refusal) => {
                return Self::field(
                    "profession",
                    refusal.code(),
                    format!("{refusal}; remove those permissions first."),
                );
            }
            Conflict::ClinicHasAppointments => (
                ProblemCode::ClinicHasAppointments,
                "The clinic has appointments, which must stay visible in reports.",
            ),
            Conflict::AppointmentOverlaps => (
                ProblemCode::AppointmentOverlaps,
                "The user already has an appointment at that time.",
            ),
            Conflict::DiaryDisabled => (
                ProblemCode::DiaryDisabled,
                "The user has no diary: non-clinical users have none, and a type change takes \
                 effect at the user's next login.",
            ),
            Conflict::Exercise(refusal) => return Self::from(refusal),
            Conflict::UserInactive => (
                ProblemCode::UserInactive,
                "The user is inactive; reactivate them first.",
            ),
            Conflict::PasswordAlreadySet => (
                ProblemCode::PasswordAlreadySet,
                "The user has already set a password; an invitation would change nothing.",
            ),
        };
        Self::new(code, detail)
    }
}

impl From<ExerciseRefusal> for ApiError {
    /// `409` with the refusal's code and the words for it.
    fn from(refusal: ExerciseRefusal) -> Self {
        let detail = match refusal {
            ExerciseRefusal::AlreadyAdded => {
                "The user is already added to the exercise provider; a deactivated user is \
                 reactivated instead."
            }
            ExerciseRefusal::NamesLocked => {
                "The names sent to the exercise provider cannot be changed once the user is added."
            }
            ExerciseRefusal::NotAdded => "The user has not been added to the exercise provider.",
            ExerciseRefusal::NotActive => "Only an active user can be deactivated.",
            ExerciseRefusal::NotDeactivated => "Only a deactivated user can be reactivated.",
            ExerciseRefusal::OperationPending => {
                "A provider call for this user is still in progress."
            }
            ExerciseRefusal::NotConnected => {
                "The site has not connected the exercise integration; PUT /v1/integrations/exercise first."
            }
            ExerciseRefusal::UserInactive => "The user is inactive; reactivate them first.",
        };
        Self::new(refusal.code(), detail)
    }
}

impl From<ImagingRefusal> for ApiError {
    /// The refusal's code (`409`, or `403 not_connected`) and the words for it.
    fn from(refusal: ImagingRefusal) -> Self {
        let detail = match refusal {
            ImagingRefusal::Disabled => {
                "The site has not switched the imaging integration on; ask a site administrator."
            }
            ImagingRefusal::AlreadyConnected => {
                "You are connected to the imaging provider already; a disconnected connection is \
                 reconnected instead."
            }
            ImagingRefusal::NotConnected => "You are not connected to the imaging provider.",
            ImagingRefusal::NotDisconnected => "Only a disconnected connection can be forgotten.",
            ImagingRefusal::OperationPending => {
                "A provider call for your connection is still in progress."
            }
        };
        Self::new(refusal.code(), detail)
    }
}

impl From<UnknownReferral> for ApiError {
    /// A signed report for a referral nobody made here: `404`.
    fn from(_: UnknownReferral) -> Self {
        Self::new(
            ProblemCode::NotFound,
            "No referral has this referral_id; nothing was changed.",
        )
    }
}

impl<R> From<Failure<R>> for ApiError
where
    ApiError: From<R>,
{
    fn from(failure: Failure<R>) -> Self {
        match failure {
            Failure::Refused(refusal) => Self::from(refusal),
            Failure::Store(e) => <Self as From<StoreError>>::from(e),
        }
    }
}

/// The field error of a refused clinic choice.
fn clinic_field_error(refusal: ClinicChoiceRefusal) -> FieldError {
    match refusal {
        ClinicChoiceRefusal::UnknownClinic => FieldError::new(
            "clinic_ids",
            "unknown_clinic",
            "Every clinic must be a clinic of this site.",
        ),
        ClinicChoiceRefusal::UnknownDefaultClinic => FieldError::new(
            "default_clinic_id",
            "unknown_clinic",
            "The default clinic must be a clinic of this site.",
        ),
        ClinicChoiceRefusal::DefaultNotInClinics => FieldError::new(
            "default_clinic_id",
            "not_in_clinic_ids",
            "The default clinic must be one of clinic_ids.",
        ),
    }
}

/// The field error of a change the access judge refused: under `permissions` or
/// `clinic_ids`, with the rule's code.
fn judged_field_error(change: AccessChange, reason: staffroom_domain::Refusal) -> FieldError {
    let (field, what) = match change {
        AccessChange::AddPermission(p) => ("permissions", format!("cannot add {p}")),
        AccessChange::RemovePermission(p) => ("permissions", format!("cannot remove {p}")),
        AccessChange::AddClinic(c) => ("clinic_ids", format!("cannot add clinic {c}")),
        AccessChange::RemoveClinic(c) => ("clinic_ids", format!("cannot remove clinic {c}")),
    };
    FieldError::new(field, reason.code(), format!("{what}: {reason}"))
}

impl From<AccessRefusal> for ApiError {
    /// `422 validation_failed` naming each refused field, or `409 last_admin`.
    fn from(refusal: AccessRefusal) -> Self {
        match refusal {
            AccessRefusal::Clinics(refusal) => Self::validation(vec![clinic_field_error(refusal)]),
            AccessRefusal::DefaultClinicRemoved => Self::field(
                "clinic_ids",
                staffroom_domain::Refusal::DefaultClinicProtected.code(),
                "The user's default clinic cannot be removed; move the default first.",
            ),
            AccessRefusal::Judged(refused) => Self::validation(
                refused
                    .into_iter()
                    .map(|(change, reason)| judged_field_error(change, reason))
                    .collect(),
            ),
            AccessRefusal::LastAdmin => Self::from(Conflict::LastAdmin),
        }
    }
}

impl From<BulkRefusal> for ApiError {
    fn from(refusal: BulkRefusal) -> Self {
        match refusal {
            BulkRefusal::SelectionTooLarge { selected, limit } => {
                Self::from(StoreError::SelectionTooLarge { selected, limit })
            }
            BulkRefusal::UnknownClinics(changes) => Self::validation(
                changes
                    .into_iter()
                    .filter_map(|change| match change {
                        AccessChange::AddClinic(c) => Some(("add_clinic_ids", c)),
                        AccessChange::RemoveClinic(c) => Some(("remove_clinic_ids", c)),
                        AccessChange::AddPermission(_) | AccessChange::RemovePermission(_) => None,
                    })
                    .map(|(field, clinic)| {
                        FieldError::new(
                            field,
                            "unknown_clinic",
                            format!("{clinic} is not a clinic of this site"),
                        )
                    })
                    .collect(),
            ),
        }
    }
}

impl From<RevocationRefusal> for ApiError {
    /// A revoked account no longer exists for the API.
    fn from(refusal: RevocationRefusal) -> Self {
        match refusal {
            RevocationRefusal::AlreadyRevoked => Self::not_found(),
        }
    }
}

impl From<SignInRefusal> for ApiError {
    /// Credentials that matched an account deactivated or revoked meanwhile are no longer
    /// credentials of an active account.
    fn from(refusal: SignInRefusal) -> Self {
        match refusal {
            SignInRefusal::NoLongerActive => Self::new(
                ProblemCode::InvalidCredentials,
                "The credentials do not match an active account.",
            ),
        }
    }
}

impl From<ServiceAccountRefusal> for ApiError {
    fn from(refusal: ServiceAccountRefusal) -> Self {
        match refusal {
            ServiceAccountRefusal::NotAllowed(_) => Self::field(
                "permissions",
                "not_allowed_for_service_account",
                "Service accounts have no clinics, so clinic_admin would administer nobody.",
            ),
        }
    }
}

impl From<UserCreationRefusal> for ApiError {
    fn from(refusal: UserCreationRefusal) -> Self {
        match refusal {
            UserCreationRefusal::Access(errors) => Self::validation(errors),
            UserCreationRefusal::EmailTaken => Self::from(Conflict::EmailTaken),
            UserCreationRefusal::Clinics(refusals) => {
                Self::validation(refusals.into_iter().map(clinic_field_error).collect())
            }
            UserCreationRefusal::Licence { error, plan, usage } => {
                Self::from(&LicenceRefusal { error, plan, usage })
            }
            UserCreationRefusal::SiteWithoutClinics => {
                tracing::error!("a site without clinics cannot take a user");
                Self::internal()
            }
        }
    }
}

impl From<LicenceRefusal> for ApiError {
    fn from(refusal: LicenceRefusal) -> Self {
        Self::from(&refusal)
    }
}

impl From<ProfileRefusal> for ApiError {
    fn from(refusal: ProfileRefusal) -> Self {
        Self::from(match refusal {
            ProfileRefusal::EmailTaken => Conflict::EmailTaken,
            ProfileRefusal::ProfessionNotAllowed(refusal) => {
                Conflict::ProfessionNotAllowed(refusal)
            }
        })
    }
}

impl From<StatusRefusal> for ApiError {
    fn from(refusal: StatusRefusal) -> Self {
        match refusal {
            StatusRefusal::LastAdmin => Self::from(Conflict::LastAdmin),
            StatusRefusal::Licence { error, plan, usage } => {
                Self::from(&LicenceRefusal { error, plan, usage })
            }
        }
    }
}

impl From<std::convert::Infallible> for ApiError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<ClinicUpdateRefusal> for ApiError {
    fn from(refusal: ClinicUpdateRefusal) -> Self {
        match refusal {
            ClinicUpdateRefusal::NotAccessible => {
                Self::forbidden("You can change only clinics you have access to.")
            }
        }
    }
}

impl From<ClinicDeletionRefusal> for ApiError {
    fn from(refusal: ClinicDeletionRefusal) -> Self {
        Self::from(match refusal {
            ClinicDeletionRefusal::LastClinic => Conflict::LastClinic,
            ClinicDeletionRefusal::InUse => Conflict::ClinicInUse,
            ClinicDeletionRefusal::HasAppointments => Conflict::ClinicHasAppointments,
        })
    }
}

impl From<AcceptanceRefusal> for ApiError {
    fn from(refusal: AcceptanceRefusal) -> Self {
        match refusal {
            AcceptanceRefusal::Unusable => Self::not_found(),
            AcceptanceRefusal::Expired => Self::new(
                ProblemCode::InvitationExpired,
                "The invitation has expired; ask an administrator to send a new one.",
            ),
            AcceptanceRefusal::UserInactive => Self::from(Conflict::UserInactive),
            AcceptanceRefusal::Withdrawn => Self::new(
                ProblemCode::InvitationWithdrawn,
                "The clinician withdrew this invitation (or is no longer an active clinician).",
            ),
        }
    }
}

impl From<AssistantRefusal> for ApiError {
    fn from(refusal: AssistantRefusal) -> Self {
        match refusal {
            AssistantRefusal::NotAClinician => {
                Self::forbidden("Only an active clinical user has assistants.")
            }
            AssistantRefusal::AssistantExists => Self::new(
                ProblemCode::AssistantExists,
                "This email is already a pending or accepted assistant of yours.",
            ),
            AssistantRefusal::NotPending => Self::new(
                ProblemCode::AssistantNotPending,
                "Only a pending assistant is sent a fresh invitation.",
            ),
            AssistantRefusal::AlreadyRevoked => Self::new(
                ProblemCode::AssistantRevoked,
                "The assistant is revoked already.",
            ),
        }
    }
}

impl From<NotTheirClinician> for ApiError {
    /// Nobody learns who is a clinician, or whom an assistant does not assist.
    fn from(_: NotTheirClinician) -> Self {
        Self::not_found()
    }
}

impl From<InvitationRefusal> for ApiError {
    fn from(refusal: InvitationRefusal) -> Self {
        Self::from(match refusal {
            InvitationRefusal::PasswordAlreadySet => Conflict::PasswordAlreadySet,
            InvitationRefusal::UserInactive => Conflict::UserInactive,
        })
    }
}

/// The field error of a refused booking field.
fn booking_field_error(refusal: BookingFieldRefusal) -> FieldError {
    let (field, code, message) = match refusal {
        BookingFieldRefusal::ClientRefRequired => ("client_ref", "required", "must not be empty"),
        BookingFieldRefusal::EndsNotAfterStart => {
            ("ends_at", "not_after_start", "must be after starts_at")
        }
        BookingFieldRefusal::TooLong => {
            return FieldError::new(
                "ends_at",
                "too_long",
                format!("appointments last at most {MAX_APPOINTMENT_HOURS} hours"),
            );
        }
        BookingFieldRefusal::UnknownUser => {
            ("user_id", "unknown_user", "No such user in this site.")
        }
        BookingFieldRefusal::UnknownClinic => (
            "clinic_id",
            "unknown_clinic",
            "No such clinic in this site.",
        ),
    };
    FieldError::new(field, code, message)
}

impl From<BookingRefusal> for ApiError {
    fn from(refusal: BookingRefusal) -> Self {
        match refusal {
            BookingRefusal::Fields(fields) => {
                Self::validation(fields.into_iter().map(booking_field_error).collect())
            }
            BookingRefusal::Unbookable(why) => Self::from(StoreError::NotBookable(why)),
            BookingRefusal::Overlaps => Self::from(Conflict::AppointmentOverlaps),
        }
    }
}
