//! SPEC §4: the judge of every change to a user's permissions and clinic access. Single-user
//! endpoints and bulk update ask the same judge, so no rule exists twice; bulk update is the
//! judge folded over a selection (see [`crate::bulk`]).

use serde::Serialize;

use crate::{ClinicId, FieldError, Permission, Profession};

/// One change to one user's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessChange {
    AddPermission(Permission),
    RemovePermission(Permission),
    AddClinic(ClinicId),
    RemoveClinic(ClinicId),
}

/// Whether a change is about permissions or clinics (the report counts them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChangeKind {
    Permission,
    Clinic,
}

impl AccessChange {
    pub const fn kind(&self) -> ChangeKind {
        match self {
            Self::AddPermission(_) | Self::RemovePermission(_) => ChangeKind::Permission,
            Self::AddClinic(_) | Self::RemoveClinic(_) => ChangeKind::Clinic,
        }
    }
}

/// Who asks: a site administrator (every clinic) or someone limited to their clinics.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub site_admin: bool,
    /// The actor's clinics; ignored for site administrators.
    pub clinic_ids: &'a [ClinicId],
}

impl Actor<'_> {
    fn has_clinic(&self, clinic: ClinicId) -> bool {
        self.site_admin || self.clinic_ids.contains(&clinic)
    }

    /// Site administrators administer everyone; a clinic administrator (`clinic_admin`
    /// given by the caller) those sharing a clinic with them, except site administrators.
    pub fn administers(
        &self,
        clinic_admin: bool,
        user_clinics: &[ClinicId],
        user_is_site_admin: bool,
    ) -> bool {
        self.site_admin
            || (clinic_admin
                && !user_is_site_admin
                && user_clinics.iter().any(|c| self.clinic_ids.contains(c)))
    }
}

/// The user a change is about, as stored.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub profession: Profession,
    pub permissions: &'a [Permission],
    pub clinic_ids: &'a [ClinicId],
    pub default_clinic_id: ClinicId,
}

/// Whether the change is one of a bulk update (where admin permissions are protected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Single,
    Bulk,
}

/// Why a change to a user's permissions or clinics is not made: a rule of the user's
/// profession or clinics, or the limits of what the caller administers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Refusal {
    /// Rule 5: bulk updates never remove `site_admin` or `clinic_admin`.
    #[error("site_admin and clinic_admin cannot be removed in a bulk update")]
    AdminPermissionProtected,
    /// Only site administrators grant or remove `site_admin`.
    #[error("only site administrators grant or remove site_admin")]
    PermissionNotGrantable,
    /// Rule 1: no SOAP-note permission for clerical or billing users.
    #[error("clerical and billing users cannot hold SOAP-note permissions")]
    SoapNotAllowedForProfession,
    /// Rule 2: assistants and students never finish SOAP notes.
    #[error("assistant and student professions cannot finish SOAP notes")]
    FinishNotesNotAllowedForProfession,
    /// Rule 3: an actor grants (or removes) only clinics they have access to.
    #[error("you can change access only to clinics you have access to")]
    ClinicNotAccessible,
    /// Rule 4: a user's default clinic cannot be removed from them.
    #[error("a user's default clinic cannot be removed")]
    DefaultClinicProtected,
    /// The actor does not administer this user (no shared clinic, or a site administrator).
    #[error("you do not administer this user")]
    NotAdministered,
    /// The id is not a user of the site.
    #[error("no such user in this site")]
    UserNotFound,
    /// Rule 5: the change would leave a clinic without an active clinic administrator.
    #[error("the clinic would be left without an active clinic administrator")]
    LastAdmin,
}

impl Refusal {
    /// The rule's field-level code: on the refused field of a `422 validation_failed`, and
    /// as the `reason` of a bulk report.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::AdminPermissionProtected => "admin_permission_protected",
            Self::PermissionNotGrantable => "permission_not_grantable",
            Self::SoapNotAllowedForProfession => "soap_not_allowed_for_profession",
            Self::FinishNotesNotAllowedForProfession => "finish_notes_not_allowed_for_profession",
            Self::ClinicNotAccessible => "clinic_not_accessible",
            Self::DefaultClinicProtected => "default_clinic_protected",
            Self::NotAdministered => "not_administered",
            Self::UserNotFound => "user_not_found",
            Self::LastAdmin => crate::ProblemCode::LastAdmin.as_str(),
        }
    }
}

impl Refusal {
    /// The status a single-user change refused for this reason answers, one per code: the
    /// rules of SPEC §4 are `422 validation_failed` with the code on the refused field;
    /// `last_admin` is the `409` conflict of that name; a user the caller does not
    /// administer is `403 forbidden`, and one not in the site `404 not_found` (in a bulk
    /// update all of them are reasons of the report, never the status of the request).
    pub const fn single_user_status(&self) -> u16 {
        match self {
            Self::AdminPermissionProtected
            | Self::PermissionNotGrantable
            | Self::SoapNotAllowedForProfession
            | Self::FinishNotesNotAllowedForProfession
            | Self::ClinicNotAccessible
            | Self::DefaultClinicProtected => 422,
            Self::LastAdmin => 409,
            Self::NotAdministered => 403,
            Self::UserNotFound => 404,
        }
    }

    /// Every reason, in declaration order.
    pub const ALL: [Self; 9] = [
        Self::AdminPermissionProtected,
        Self::PermissionNotGrantable,
        Self::SoapNotAllowedForProfession,
        Self::FinishNotesNotAllowedForProfession,
        Self::ClinicNotAccessible,
        Self::DefaultClinicProtected,
        Self::NotAdministered,
        Self::UserNotFound,
        Self::LastAdmin,
    ];
}

/// The judge's answer for one (user, change) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Adding what the user has, or removing what they lack: nothing to do, nothing refused.
    NoOp,
    Refused(Refusal),
}

/// Judges one change of one user's access (rules 1–5 of SPEC §4; rule 6 is
/// [`Profession::may_hold`] applied when the profession changes). The last-admin rule needs
/// the whole site and is checked where the change is stored.
pub fn judge(
    actor: &Actor<'_>,
    subject: &Subject<'_>,
    change: &AccessChange,
    mode: Mode,
) -> Verdict {
    use Verdict::{Accepted, NoOp, Refused};
    match *change {
        AccessChange::AddPermission(p) if subject.permissions.contains(&p) => NoOp,
        AccessChange::RemovePermission(p) if !subject.permissions.contains(&p) => NoOp,
        AccessChange::AddClinic(c) if subject.clinic_ids.contains(&c) => NoOp,
        AccessChange::RemoveClinic(c) if !subject.clinic_ids.contains(&c) => NoOp,
        AccessChange::AddPermission(p) => {
            if p == Permission::SiteAdmin && !actor.site_admin {
                return Refused(Refusal::PermissionNotGrantable);
            }
            match subject.profession.may_hold(p) {
                Ok(()) => Accepted,
                Err(refusal) => Refused(refusal.into()),
            }
        }
        AccessChange::RemovePermission(p) => {
            if p.is_admin() && mode == Mode::Bulk {
                Refused(Refusal::AdminPermissionProtected)
            } else if p == Permission::SiteAdmin && !actor.site_admin {
                Refused(Refusal::PermissionNotGrantable)
            } else {
                Accepted
            }
        }
        AccessChange::AddClinic(c) => {
            if actor.has_clinic(c) {
                Accepted
            } else {
                Refused(Refusal::ClinicNotAccessible)
            }
        }
        AccessChange::RemoveClinic(c) => {
            if !actor.has_clinic(c) {
                Refused(Refusal::ClinicNotAccessible)
            } else if c == subject.default_clinic_id {
                Refused(Refusal::DefaultClinicProtected)
            } else {
                Accepted
            }
        }
    }
}

/// Judges what creating a user grants: each permission and clinic is an addition to a user
/// who holds nothing yet. Returns every refused grant as a field error with the rule's
/// code — `permissions[i]`, `clinic_ids[i]` or `default_clinic_id` — so a refused creation
/// is `422 validation_failed` like every other single-user change.
pub fn judge_new_user(
    actor: &Actor<'_>,
    profession: Profession,
    permissions: &[Permission],
    clinic_ids: &[ClinicId],
    default_clinic_id: Option<ClinicId>,
) -> Vec<FieldError> {
    let nobody = Subject {
        profession,
        permissions: &[],
        clinic_ids: &[],
        // Additions never consult the default clinic.
        default_clinic_id: ClinicId::from_uuid(uuid::Uuid::nil()),
    };
    let permission_fields = permissions
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("permissions[{i}]"), AccessChange::AddPermission(*p)));
    let clinic_fields = clinic_ids
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("clinic_ids[{i}]"), AccessChange::AddClinic(*c)))
        .chain(
            default_clinic_id
                .filter(|d| !clinic_ids.contains(d))
                .map(|d| ("default_clinic_id".to_owned(), AccessChange::AddClinic(d))),
        );
    permission_fields
        .chain(clinic_fields)
        .filter_map(
            |(field, change)| match judge(actor, &nobody, &change, Mode::Single) {
                Verdict::Refused(reason) => {
                    Some(FieldError::new(field, reason.code(), reason.to_string()))
                }
                Verdict::Accepted | Verdict::NoOp => None,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests;
