//! Creating a user (SPEC §1, §2, §4): one pure decision over what the request asks and a
//! snapshot of the site read after the site lock. It says which user to write, or why not.

use crate::{
    Actor, ClinicId, FieldError, LicenceChange, LicenceError, LicencePlan, Permission, Profession,
    UsageSnapshot, UserType, judge_new_user,
};

/// What the request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCreationRequest {
    pub user_type: UserType,
    pub profession: Profession,
    pub permissions: Vec<Permission>,
    pub clinic_ids: Vec<ClinicId>,
    pub default_clinic_id: Option<ClinicId>,
}

/// Who creates the user, as the access rules see them.
#[derive(Debug, Clone, Copy)]
pub struct Creator<'a> {
    pub actor: Actor<'a>,
    /// The creator's own default clinic, when they are a user.
    pub default_clinic_id: Option<ClinicId>,
}

/// What the site holds that the decision reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCreationSnapshot {
    /// Another user of the site has the requested email.
    pub email_taken: bool,
    /// The site's clinics, oldest first.
    pub site_clinics: Vec<ClinicId>,
    pub plan: LicencePlan,
    pub usage: UsageSnapshot,
}

/// The user to write: active, with these grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCreation {
    pub user_type: UserType,
    pub profession: Profession,
    /// Sorted, without repeats.
    pub permissions: Vec<Permission>,
    /// Sorted, without repeats; holds the default clinic.
    pub clinic_ids: Vec<ClinicId>,
    pub default_clinic_id: ClinicId,
    pub diary_enabled: bool,
}

/// Why a clinic field of the request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClinicChoiceRefusal {
    /// A `clinic_ids` entry is not a clinic of the site.
    UnknownClinic,
    /// `default_clinic_id` is not a clinic of the site.
    UnknownDefaultClinic,
    /// `default_clinic_id` is not one of the `clinic_ids` given.
    DefaultNotInClinics,
}

/// Why the user is not created, in the order the rules are asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCreationRefusal {
    /// The access rules refuse what the creation grants (SPEC §4: `site_admin` only from a
    /// site administrator, clinics only those the creator has access to, the profession's
    /// permissions): each refused grant as a field error with its rule's code.
    Access(Vec<FieldError>),
    /// Another user of the site has this email.
    EmailTaken,
    /// The clinic fields do not name the site's clinics consistently.
    Clinics(Vec<ClinicChoiceRefusal>),
    /// The plan has no licence for the new user, judged on this plan and usage.
    Licence {
        error: LicenceError,
        plan: LicencePlan,
        usage: UsageSnapshot,
    },
    /// The site has no clinic at all (the stored data is broken).
    SiteWithoutClinics,
}

/// The clinics a creator limited to their clinics gives when the request names none: the
/// requested default, or else their own default clinic.
fn requested_clinics(creator: &Creator<'_>, request: &UserCreationRequest) -> Vec<ClinicId> {
    if creator.actor.site_admin || !request.clinic_ids.is_empty() {
        return request.clinic_ids.clone();
    }
    request
        .default_clinic_id
        .or(creator.default_clinic_id)
        .into_iter()
        .collect()
}

fn clinic_refusals(
    site: &[ClinicId],
    requested: &[ClinicId],
    default: Option<ClinicId>,
) -> Vec<ClinicChoiceRefusal> {
    let mut refusals = Vec::new();
    if requested.iter().any(|c| !site.contains(c)) {
        refusals.push(ClinicChoiceRefusal::UnknownClinic);
    }
    match default {
        Some(d) if !site.contains(&d) => refusals.push(ClinicChoiceRefusal::UnknownDefaultClinic),
        Some(d) if !requested.is_empty() && !requested.contains(&d) => {
            refusals.push(ClinicChoiceRefusal::DefaultNotInClinics);
        }
        _ => {}
    }
    refusals
}

/// Decides a user creation: the access rules on what it grants, a free email, the clinics
/// of the site, the profession's permissions, then a licence under the plan. A new user
/// has a diary when clinical; their default clinic is the one named, else the first of
/// their clinics, else the site's first clinic.
pub fn decide_user_creation(
    creator: &Creator<'_>,
    request: &UserCreationRequest,
    site: &UserCreationSnapshot,
) -> Result<UserCreation, UserCreationRefusal> {
    let requested = requested_clinics(creator, request);
    let refused = judge_new_user(
        &creator.actor,
        request.profession,
        &request.permissions,
        &request.clinic_ids,
        request.default_clinic_id,
    );
    // Every grant the access rules refuse (the profession's permissions among them) is
    // listed at once, before the email, clinics and licence are judged.
    if !refused.is_empty() {
        return Err(UserCreationRefusal::Access(refused));
    }
    if site.email_taken {
        return Err(UserCreationRefusal::EmailTaken);
    }
    let clinics = clinic_refusals(&site.site_clinics, &requested, request.default_clinic_id);
    if !clinics.is_empty() {
        return Err(UserCreationRefusal::Clinics(clinics));
    }
    site.plan
        .check(&site.usage, &LicenceChange::AddUser(request.user_type))
        .map_err(|error| UserCreationRefusal::Licence {
            error,
            plan: site.plan,
            usage: site.usage,
        })?;
    let default_clinic_id = match (request.default_clinic_id, requested.first()) {
        (Some(d), _) => d,
        (None, Some(first)) => *first,
        (None, None) => *site
            .site_clinics
            .first()
            .ok_or(UserCreationRefusal::SiteWithoutClinics)?,
    };
    let mut clinic_ids = requested;
    clinic_ids.push(default_clinic_id);
    clinic_ids.sort();
    clinic_ids.dedup();
    let mut permissions = request.permissions.clone();
    permissions.sort();
    permissions.dedup();
    Ok(UserCreation {
        user_type: request.user_type,
        profession: request.profession,
        permissions,
        clinic_ids,
        default_clinic_id,
        diary_enabled: request.user_type.has_diary(),
    })
}

#[cfg(test)]
mod tests;
