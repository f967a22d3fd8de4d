//! SPEC §5: bulk update is the access judge folded over a selection. The fold decides, for
//! every (user, change) pair, whether it is applied, refused (and why) or a no-op, and
//! builds the report the screen shows: green (`success`), yellow (`partial`), red (`failed`).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use crate::access::{AccessChange, Actor, ChangeKind, Mode, Refusal, Subject, Verdict, judge};
use crate::{ClinicId, UserId};

/// One selected id, as found in the site.
#[derive(Debug, Clone, Copy)]
pub enum Selected<'a> {
    /// A user of the site; `administered` says whether the actor may change them.
    Found {
        id: UserId,
        subject: Subject<'a>,
        administered: bool,
    },
    /// The id is not a user of the site.
    Missing(UserId),
}

impl Selected<'_> {
    pub const fn id(&self) -> UserId {
        match self {
            Self::Found { id, .. } | Self::Missing(id) => *id,
        }
    }

    /// The judge's verdict on `change` for this user, in bulk mode.
    fn verdict(&self, actor: &Actor<'_>, change: &AccessChange) -> Verdict {
        match self {
            Self::Missing(_) => Verdict::Refused(Refusal::UserNotFound),
            Self::Found {
                administered: false,
                ..
            } => Verdict::Refused(Refusal::NotAdministered),
            Self::Found { subject, .. } => judge(actor, subject, change, Mode::Bulk),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    /// Nothing refused (also when every change was a no-op).
    Success,
    /// Some changes applied, some refused.
    Partial,
    /// Something refused and nothing applied.
    Failed,
}

/// Counts of (user, change) pairs of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeCounts {
    pub applied: u64,
    pub refused: u64,
    pub no_op: u64,
}

/// Refused (user, change) pairs sharing a reason and kind, enough to say "3 clinic changes
/// were not made: default clinic cannot be removed".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefusalGroup {
    pub reason: Refusal,
    pub kind: ChangeKind,
    /// Refused (user, change) pairs.
    pub count: u64,
    /// The users concerned, each once.
    pub user_ids: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkReport {
    pub outcome: Outcome,
    pub dry_run: bool,
    /// Users selected (explicit ids, or the filter's matches).
    pub selected: u64,
    /// Users with at least one applied change.
    pub users_updated: u64,
    pub permissions: ChangeCounts,
    pub clinics: ChangeCounts,
    pub refusals: Vec<RefusalGroup>,
}

/// The judged selection: the report and the changes to apply.
#[derive(Debug, Clone)]
pub struct BulkPlan {
    pub report: BulkReport,
    pub accepted: Vec<(UserId, AccessChange)>,
}

/// Most users one bulk request may select.
pub const MAX_BULK_SELECTION: usize = 10_000;

/// Why a bulk update is refused as a whole, before any (user, change) pair is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkRefusal {
    /// More users are selected than one request may change.
    SelectionTooLarge { selected: usize, limit: usize },
    /// The changes that name a clinic that is not one of the site's: a site administrator
    /// has every clinic *of their site*, never another site's.
    UnknownClinics(Vec<AccessChange>),
}

/// A bulk update over `selection`: refused as a whole when it selects more than
/// [`MAX_BULK_SELECTION`] users or names a clinic outside `site_clinics`, else judged pair
/// by pair with [`plan_bulk`].
pub fn decide_bulk(
    actor: &Actor<'_>,
    selection: &[Selected<'_>],
    changes: &[AccessChange],
    site_clinics: &BTreeSet<ClinicId>,
    clinic_admins: &BTreeMap<ClinicId, BTreeSet<UserId>>,
    dry_run: bool,
) -> Result<BulkPlan, BulkRefusal> {
    if selection.len() > MAX_BULK_SELECTION {
        return Err(BulkRefusal::SelectionTooLarge {
            selected: selection.len(),
            limit: MAX_BULK_SELECTION,
        });
    }
    let unknown: Vec<AccessChange> = changes
        .iter()
        .filter(|change| match change {
            AccessChange::AddClinic(c) | AccessChange::RemoveClinic(c) => !site_clinics.contains(c),
            AccessChange::AddPermission(_) | AccessChange::RemovePermission(_) => false,
        })
        .copied()
        .collect();
    if !unknown.is_empty() {
        return Err(BulkRefusal::UnknownClinics(unknown));
    }
    Ok(plan_bulk(actor, selection, changes, clinic_admins, dry_run))
}

/// Judges every (selected user, change) pair. Duplicate changes count once.
/// `clinic_admins` lists, per clinic, the site's active clinic administrators having it
/// (selected or not): a clinic never loses its last one (rule 5).
pub fn plan_bulk(
    actor: &Actor<'_>,
    selection: &[Selected<'_>],
    changes: &[AccessChange],
    clinic_admins: &BTreeMap<ClinicId, BTreeSet<UserId>>,
    dry_run: bool,
) -> BulkPlan {
    let mut seen = HashSet::new();
    let changes: Vec<AccessChange> = changes
        .iter()
        .copied()
        .filter(|c| seen.insert(*c))
        .collect();
    let mut judged: Vec<(UserId, AccessChange, Verdict)> = selection
        .iter()
        .flat_map(|selected| {
            changes
                .iter()
                .map(move |change| (selected.id(), *change, selected.verdict(actor, change)))
        })
        .collect();
    protect_last_clinic_admins(&mut judged, clinic_admins);

    let mut permissions = ChangeCounts::default();
    let mut clinics = ChangeCounts::default();
    let mut groups: BTreeMap<(Refusal, ChangeKind), (u64, BTreeSet<UserId>)> = BTreeMap::new();
    let mut accepted = Vec::new();
    let mut updated = HashSet::new();
    for (id, change, verdict) in judged {
        let counts = match change.kind() {
            ChangeKind::Permission => &mut permissions,
            ChangeKind::Clinic => &mut clinics,
        };
        match verdict {
            Verdict::Accepted => {
                counts.applied += 1;
                accepted.push((id, change));
                updated.insert(id);
            }
            Verdict::NoOp => counts.no_op += 1,
            Verdict::Refused(reason) => {
                counts.refused += 1;
                let group = groups.entry((reason, change.kind())).or_default();
                group.0 += 1;
                group.1.insert(id);
            }
        }
    }
    let applied = permissions.applied + clinics.applied;
    let refused = permissions.refused + clinics.refused;
    let outcome = match (applied, refused) {
        (_, 0) => Outcome::Success,
        (0, _) => Outcome::Failed,
        _ => Outcome::Partial,
    };
    BulkPlan {
        report: BulkReport {
            outcome,
            dry_run,
            selected: selection.len() as u64,
            users_updated: updated.len() as u64,
            permissions,
            clinics,
            refusals: groups
                .into_iter()
                .map(|((reason, kind), (count, users))| RefusalGroup {
                    reason,
                    kind,
                    count,
                    user_ids: users.into_iter().collect(),
                })
                .collect(),
        },
        accepted,
    }
}

/// Refuses accepted clinic removals that would leave a clinic without any of its active
/// clinic administrators — counting every administrator losing it in this request.
fn protect_last_clinic_admins(
    judged: &mut [(UserId, AccessChange, Verdict)],
    clinic_admins: &BTreeMap<ClinicId, BTreeSet<UserId>>,
) {
    let mut losing: BTreeMap<ClinicId, BTreeSet<UserId>> = BTreeMap::new();
    for (user, change, verdict) in judged.iter() {
        if let (AccessChange::RemoveClinic(clinic), Verdict::Accepted) = (change, verdict)
            && clinic_admins
                .get(clinic)
                .is_some_and(|admins| admins.contains(user))
        {
            losing.entry(*clinic).or_default().insert(*user);
        }
    }
    for (clinic, losers) in losing {
        let keeps_one = clinic_admins
            .get(&clinic)
            .is_some_and(|admins| admins.difference(&losers).next().is_some());
        if keeps_one {
            continue;
        }
        for (user, change, verdict) in judged.iter_mut() {
            if *change == AccessChange::RemoveClinic(clinic) && losers.contains(user) {
                *verdict = Verdict::Refused(Refusal::LastAdmin);
            }
        }
    }
}

#[cfg(test)]
mod tests;
