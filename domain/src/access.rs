//! SPEC §4: the judge of every change to a user's permissions and clinic access. Single-user
//! endpoints and bulk update ask the same judge, so no rule exists twice; bulk update is the
//! judge folded over a selection (see [`crate::bulk`]).

use serde::Serialize;

use crate::{ClinicId, Permission, Profession};

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
/// who holds nothing yet. Returns the refused grants with their reasons.
pub fn judge_new_user(
    actor: &Actor<'_>,
    profession: Profession,
    permissions: &[Permission],
    clinics: &[ClinicId],
) -> Vec<(AccessChange, Refusal)> {
    let nobody = Subject {
        profession,
        permissions: &[],
        clinic_ids: &[],
        // Additions never consult the default clinic.
        default_clinic_id: ClinicId::from_uuid(uuid::Uuid::nil()),
    };
    permissions
        .iter()
        .map(|p| AccessChange::AddPermission(*p))
        .chain(clinics.iter().map(|c| AccessChange::AddClinic(*c)))
        .filter_map(
            |change| match judge(actor, &nobody, &change, Mode::Single) {
                Verdict::Refused(reason) => Some((change, reason)),
                Verdict::Accepted | Verdict::NoOp => None,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests;
