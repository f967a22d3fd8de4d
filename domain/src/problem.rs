//! Every problem `code` the API answers with, declared once: its wire name, HTTP status,
//! title and when it is answered. The API renders problem documents from it, documents its
//! error responses from it, and `docs/errors.md` is generated from it
//! ([`ProblemCode::reference_page`]). The status is a plain `u16`: this crate knows no HTTP
//! framework, the API converts.
//!
//! Field-level codes inside `errors` (`invalid_email`, `too_long`, the §4 rule codes of
//! [`crate::Refusal`], …) are a separate vocabulary: they say what is wrong with one field.

use crate::string_enum::string_enum;

/// Declares [`ProblemCode`] from one table row per code: a [`string_enum!`] of the wire
/// names, plus the status, title and description of each.
macro_rules! problem_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $variant:ident => ($wire:tt, $status:tt, $title:tt, $when:tt) ),+ $(,)?
        }
    ) => {
        string_enum! {
            $(#[$meta])*
            pub enum $name {
                $( #[doc = $when] $variant => $wire, )+
            }
        }

        impl $name {
            /// The HTTP status this code is always answered with.
            pub const fn status(self) -> u16 {
                match self {
                    $( Self::$variant => $status, )+
                }
            }

            /// The problem type's short summary (the document's `title`).
            pub const fn title(self) -> &'static str {
                match self {
                    $( Self::$variant => $title, )+
                }
            }

            /// When the API answers with this code (one line, for the error reference).
            pub const fn description(self) -> &'static str {
                match self {
                    $( Self::$variant => $when, )+
                }
            }
        }
    };
}

problem_codes! {
    /// Stable, machine-readable code of a problem document; each code has one HTTP status
    /// wherever it appears. Each error response of an operation lists the codes it carries
    /// and when.
    pub enum ProblemCode {
        MalformedBody => ("malformed_body", 400, "Malformed body",
            "The body is not parseable JSON (or form data where a form is accepted), or could not be read."),
        InvalidToken => ("invalid_token", 401, "Invalid token",
            "The bearer token is missing, forged, expired or revoked, or its principal is gone or inactive."),
        InvalidCredentials => ("invalid_credentials", 401, "Invalid credentials",
            "A login or token exchange whose credentials match no active account."),
        InvalidSignature => ("invalid_signature", 401, "Invalid signature",
            "A webhook delivery whose signature is missing or does not verify, or whose timestamp is stale; nothing changed."),
        Forbidden => ("forbidden", 403, "Forbidden",
            "The principal lacks the permission, or the target is outside what it administers."),
        NotConnected => ("not_connected", 403, "Not connected",
            "The caller has no connection to the imaging provider (connect it first), or only a disconnected one."),
        NotProvisioned => ("not_provisioned", 403, "Not provisioned",
            "The calling user has not been added to the exercise-prescription tool."),
        NotFound => ("not_found", 404, "Not found",
            "No such resource in the caller's site (ids that are not UUIDs included), or no such route."),
        MethodNotAllowed => ("method_not_allowed", 405, "Method not allowed",
            "The path does not take this method; `Allow` and `allowed_methods` list those it takes."),
        EmailTaken => ("email_taken", 409, "Email taken",
            "Another user of the site already has this email address."),
        SiteRequired => ("site_required", 409, "Site required",
            "The credentials match users of several sites; send `site_id` to choose one."),
        LicenceLimitReached => ("licence_limit_reached", 409, "Licence limit reached",
            "Every licence of the plan is in use; the body carries the usage and what was `needed`."),
        SoloSlotTaken => ("solo_slot_taken", 409, "Solo slot taken",
            "The solo plan's one active user of this type already exists."),
        PlanDoesNotFit => ("plan_does_not_fit", 409, "Plan does not fit",
            "The active users would not fit the requested plan or licence count."),
        LastAdmin => ("last_admin", 409, "Last administrator",
            "The change would leave the site without an active site administrator, or a clinic without a clinic administrator."),
        ClinicInUse => ("clinic_in_use", 409, "Clinic in use",
            "The clinic is some user's default clinic; change their default first."),
        LastClinic => ("last_clinic", 409, "Last clinic",
            "A site keeps at least one clinic."),
        ClinicHasAppointments => ("clinic_has_appointments", 409, "Clinic has appointments",
            "The clinic has appointments, which must stay reachable in reports."),
        AppointmentOverlaps => ("appointment_overlaps", 409, "Appointment overlaps",
            "The user already has an appointment at that time."),
        DiaryDisabled => ("diary_disabled", 409, "Diary disabled",
            "The user has no diary: non-clinical, or made clinical and not logged in since."),
        UserInactive => ("user_inactive", 409, "User inactive",
            "The user is inactive; reactivate them first."),
        PasswordAlreadySet => ("password_already_set", 409, "Password already set",
            "The user has set a password already; an invitation would change nothing."),
        AlreadyAdded => ("already_added", 409, "Already added",
            "The user is already at the exercise provider; a deactivated user is reactivated instead."),
        NamesLocked => ("names_locked", 409, "Names locked",
            "The names sent to the exercise provider cannot change once the user is added."),
        NotAdded => ("not_added", 409, "Not added",
            "The user has not been added to the exercise provider."),
        NotActive => ("not_active", 409, "Not active at the provider",
            "Only a user active at the exercise provider can be deactivated there."),
        NotDeactivated => ("not_deactivated", 409, "Not deactivated",
            "Only a user deactivated at the exercise provider can be reactivated there."),
        OperationPending => ("operation_pending", 409, "Operation pending",
            "A provider call for this user is still in progress."),
        IntegrationNotConnected => ("integration_not_connected", 409, "Integration not connected",
            "The site has not connected the exercise integration (`PUT /v1/integrations/exercise`)."),
        ImagingDisabled => ("imaging_disabled", 409, "Imaging disabled",
            "The site has not switched the imaging integration on (`PUT /v1/integrations/imaging`)."),
        AlreadyConnected => ("already_connected", 409, "Already connected",
            "The caller's imaging connection exists already; reconnect a disconnected one instead."),
        NotDisconnected => ("not_disconnected", 409, "Not disconnected",
            "Only a disconnected imaging connection can be forgotten."),
        EmailInUse => ("email_in_use", 409, "Email in use",
            "Another user of the imaging provider already has this email; nothing was changed."),
        AssistantExists => ("assistant_exists", 409, "Assistant exists",
            "The email is already a pending or accepted assistant of this clinician."),
        AssistantNotPending => ("assistant_not_pending", 409, "Assistant not pending",
            "Only a pending assistant (invited, not yet accepted) is sent a fresh invitation."),
        AssistantRevoked => ("assistant_revoked", 409, "Assistant revoked",
            "The assistant is revoked already; delete the record, or invite the email again."),
        IdempotencyKeyInUse => ("idempotency_key_in_use", 409, "Idempotency key in use",
            "A request with this `Idempotency-Key` is still being processed; retry shortly."),
        InvitationExpired => ("invitation_expired", 410, "Invitation expired",
            "The invitation has expired; an administrator can send a new one."),
        InvitationWithdrawn => ("invitation_withdrawn", 410, "Invitation withdrawn",
            "The assistant's invitation was withdrawn: the clinician revoked or deleted the assistant, or is no longer an active clinician."),
        PreconditionFailed => ("precondition_failed", 412, "Precondition failed",
            "`If-Match` does not match the current `ETag`, which `current_etag` gives."),
        BodyTooLarge => ("body_too_large", 413, "Body too large",
            "The body is larger than the configured limit, which `limit_bytes` gives."),
        UnsupportedMediaType => ("unsupported_media_type", 415, "Unsupported media type",
            "The body is not `application/json` (nor a form, where a form is accepted)."),
        ValidationFailed => ("validation_failed", 422, "Validation failed",
            "Fields are not valid or a permission or clinic rule refuses the change; `errors` names each field with its own code."),
        InvalidClinicId => ("invalid_clinic_id", 422, "Invalid clinic id",
            "The exercise provider does not know the `clm_id`; `errors` names the field too."),
        NotBookable => ("not_bookable", 422, "Not bookable",
            "The user cannot be booked: inactive, non-clinical, diary not started, or no access to the clinic."),
        SelectionTooLarge => ("selection_too_large", 422, "Selection too large",
            "A bulk update selects more users than one request may change."),
        IdempotencyKeyReused => ("idempotency_key_reused", 422, "Idempotency key reused",
            "This `Idempotency-Key` was used with a different request."),
        ImmutableField => ("immutable_field", 422, "Immutable field",
            "The imaging connection's title and names never change; `errors` names each field sent (connect with another email instead)."),
        ProviderRefused => ("provider_refused", 422, "Provider refused",
            "The provider refused the request; `detail` gives its reason and `provider_code` its code."),
        PreconditionRequired => ("precondition_required", 428, "Precondition required",
            "This deployment requires `If-Match` on every change."),
        RateLimited => ("rate_limited", 429, "Rate limited",
            "Too many requests from this credential or address; retry after `Retry-After` seconds."),
        InternalError => ("internal_error", 500, "Internal error",
            "The server failed; the cause is logged under the request id, never disclosed."),
        ServiceUnavailable => ("service_unavailable", 503, "Service unavailable",
            "The database is not reachable right now; retry after `Retry-After` seconds."),
        ProviderUnavailable => ("provider_unavailable", 503, "Provider unavailable",
            "A provider is not answering, or stayed unavailable until the request was given up."),
        HashingBusy => ("hashing_busy", 503, "Hashing busy",
            "Too many passwords are being hashed or checked at once (logging in, accepting an invitation, creating a user with `initial_password`); retry after `Retry-After` seconds."),
    }
}

impl ProblemCode {
    /// The codes answered with `status`, in declaration order.
    pub fn with_status(status: u16) -> impl Iterator<Item = Self> {
        Self::ALL
            .iter()
            .copied()
            .filter(move |c| c.status() == status)
    }

    /// `docs/errors.md`: every code with its status, title and when it is answered.
    pub fn reference_page() -> String {
        let mut page = String::from(
            "# Problem codes\n\n\
             Generated from `ProblemCode` (`domain/src/problem.rs`); do not edit by hand. Regenerate\n\
             with `STAFFROOM_WRITE_ERRORS_PAGE=1 cargo test -p staffroom-domain --test errors_page`.\n\n\
             Every error is an RFC 9457 problem document (`application/problem+json`) with a stable\n\
             `code`, the `status` below, the `title` below and `type` `urn:staffroom:problem:<code>`.\n\
             A code is always answered with the same status. `validation_failed` lists each bad\n\
             field in `errors` with a field-level code (`invalid_email`, `too_long`,\n\
             `soap_not_allowed_for_profession`, …).\n\n\
             | code | status | title | when |\n\
             |---|---|---|---|\n",
        );
        for code in Self::ALL {
            page.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                code.as_str(),
                code.status(),
                code.title(),
                code.description()
            ));
        }
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One status per code: the whole table, so a change of status is a visible decision.
    #[test]
    fn every_code_has_its_one_status() {
        let table: Vec<(&str, u16)> = ProblemCode::ALL
            .iter()
            .map(|c| (c.as_str(), c.status()))
            .collect();
        assert_eq!(
            table,
            [
                ("malformed_body", 400),
                ("invalid_token", 401),
                ("invalid_credentials", 401),
                ("invalid_signature", 401),
                ("forbidden", 403),
                ("not_connected", 403),
                ("not_provisioned", 403),
                ("not_found", 404),
                ("method_not_allowed", 405),
                ("email_taken", 409),
                ("site_required", 409),
                ("licence_limit_reached", 409),
                ("solo_slot_taken", 409),
                ("plan_does_not_fit", 409),
                ("last_admin", 409),
                ("clinic_in_use", 409),
                ("last_clinic", 409),
                ("clinic_has_appointments", 409),
                ("appointment_overlaps", 409),
                ("diary_disabled", 409),
                ("user_inactive", 409),
                ("password_already_set", 409),
                ("already_added", 409),
                ("names_locked", 409),
                ("not_added", 409),
                ("not_active", 409),
                ("not_deactivated", 409),
                ("operation_pending", 409),
                ("integration_not_connected", 409),
                ("imaging_disabled", 409),
                ("already_connected", 409),
                ("not_disconnected", 409),
                ("email_in_use", 409),
                ("assistant_exists", 409),
                ("assistant_not_pending", 409),
                ("assistant_revoked", 409),
                ("idempotency_key_in_use", 409),
                ("invitation_expired", 410),
                ("invitation_withdrawn", 410),
                ("precondition_failed", 412),
                ("body_too_large", 413),
                ("unsupported_media_type", 415),
                ("validation_failed", 422),
                ("invalid_clinic_id", 422),
                ("not_bookable", 422),
                ("selection_too_large", 422),
                ("idempotency_key_reused", 422),
                ("immutable_field", 422),
                ("provider_refused", 422),
                ("precondition_required", 428),
                ("rate_limited", 429),
                ("internal_error", 500),
                ("service_unavailable", 503),
                ("provider_unavailable", 503),
                ("hashing_busy", 503),
            ]
        );
    }

    #[test]
    fn wire_names_are_unique_snake_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ProblemCode::ALL {
            let wire = code.as_str();
            assert!(seen.insert(wire), "{wire} declared twice");
            assert!(
                wire.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{wire}"
            );
            assert_eq!(ProblemCode::parse(wire), Ok(*code));
            assert_eq!(serde_json::to_value(code).unwrap(), wire);
            assert!(!code.title().is_empty() && !code.description().is_empty());
        }
        assert!(ProblemCode::parse("no_such_code").is_err());
    }

    #[test]
    fn the_reference_page_lists_every_code() {
        let page = ProblemCode::reference_page();
        for code in ProblemCode::ALL {
            let row = format!("| `{}` | {} | {} |", code, code.status(), code.title());
            assert!(page.contains(&row), "{row}");
        }
    }
}
