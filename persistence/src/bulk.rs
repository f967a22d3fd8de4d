//! `apply_bulk_update` (SPEC §5): select up to 10,000 users, judge every (user, change)
//! pair with the domain's bulk fold, and apply what it accepts in one transaction with a
//! handful of set-based statements. A dry run judges the same way and writes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use serde::Serialize;
use staffroom_domain::{
    AccessChange, AuditAction, AuditTarget, BulkPlan, BulkReport, ClinicId, FieldError, Permission,
    Profession, Selected, SiteId, Subject, UserId, UserStatus, plan_bulk,
};

use crate::audit::{self, Change};
use crate::backend::CHUNK;
use crate::grants::{ActorScope, apply_changes};
use crate::schema::{clinics, user_clinics, user_permissions, users};
use crate::tx::{AuditContext, read_transaction, write_tx};
use crate::user_rows::{UserQuery, filtered};
use crate::{DbConnection, StoreError, StoreResult};

/// Most users one bulk request may select.
pub const MAX_SELECTION: usize = 10_000;

/// Which users a bulk update is about.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Explicit ids; those the actor does not administer, or that are not users of the
    /// site, are refused per user.
    Ids(Vec<UserId>),
    /// Every user matching the filter that the actor administers (`select_all`).
    Filter(UserQuery),
}

#[derive(Debug, Clone)]
pub struct BulkUpdate {
    pub selection: Selection,
    pub changes: Vec<AccessChange>,
    pub dry_run: bool,
}

/// What the judge needs of one stored user.
struct Loaded {
    profession: Profession,
    default_clinic_id: ClinicId,
    permissions: Vec<Permission>,
    clinic_ids: Vec<ClinicId>,
}

fn too_large(n: usize) -> StoreError {
    StoreError::SelectionTooLarge {
        selected: n,
        limit: MAX_SELECTION,
    }
}

/// Loads the users among `ids` that belong to the site, with their access.
fn load(
    conn: &mut DbConnection,
    site: SiteId,
    ids: &[UserId],
) -> StoreResult<HashMap<UserId, Loaded>> {
    let mut loaded = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(UserId, Profession, ClinicId)> = users::table
            .filter(users::site_id.eq(site))
            .filter(users::id.eq_any(chunk))
            .select((users::id, users::profession, users::default_clinic_id))
            .load(conn)?;
        for (id, profession, default_clinic_id) in rows {
            loaded.insert(
                id,
                Loaded {
                    profession,
                    default_clinic_id,
                    permissions: Vec::new(),
                    clinic_ids: Vec::new(),
                },
            );
        }
        let permissions: Vec<(UserId, Permission)> = user_permissions::table
            .filter(user_permissions::user_id.eq_any(chunk))
            .select((user_permissions::user_id, user_permissions::permission))
            .load(conn)?;
        for (id, permission) in permissions {
            if let Some(user) = loaded.get_mut(&id) {
                user.permissions.push(permission);
            }
        }
        let clinics: Vec<(UserId, ClinicId)> = user_clinics::table
            .filter(user_clinics::user_id.eq_any(chunk))
            .select((user_clinics::user_id, user_clinics::clinic_id))
            .load(conn)?;
        for (id, clinic) in clinics {
            if let Some(user) = loaded.get_mut(&id) {
                user.clinic_ids.push(clinic);
            }
        }
    }
    Ok(loaded)
}

/// The ids a selection names, in a stable order, before the actor's scope is applied.
fn selected_ids(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    selection: &Selection,
) -> StoreResult<Vec<UserId>> {
    match selection {
        Selection::Ids(ids) => {
            let mut seen = BTreeSet::new();
            let ids: Vec<UserId> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
            if ids.len() > MAX_SELECTION {
                return Err(too_large(ids.len()));
            }
            Ok(ids)
        }
        Selection::Filter(query) => Ok(filtered(conn, ctx.site_id, query)
            .select(users::id)
            .order(users::id.asc())
            .load(conn)?),
    }
}

/// Judges `update` over what the site holds now: the selection, its users and the clinic
/// administrators the rules count. Reads only.
fn plan(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    actor: &ActorScope,
    update: &BulkUpdate,
) -> StoreResult<BulkPlan> {
    let site = ctx.site_id;
    let ids = selected_ids(conn, ctx, &update.selection)?;
    let loaded = load(conn, site, &ids)?;
    let administers = |user: &Loaded| {
        actor.actor().administers(
            actor.clinic_admin,
            &user.clinic_ids,
            user.permissions.contains(&Permission::SiteAdmin),
        )
    };
    let mut selection: Vec<Selected<'_>> = Vec::with_capacity(ids.len());
    for id in &ids {
        match loaded.get(id) {
            None => selection.push(Selected::Missing(*id)),
            // A filter selects only the users the actor administers.
            Some(user)
                if matches!(update.selection, Selection::Filter(_)) && !administers(user) => {}
            Some(user) => selection.push(Selected::Found {
                id: *id,
                subject: Subject {
                    profession: user.profession,
                    permissions: &user.permissions,
                    clinic_ids: &user.clinic_ids,
                    default_clinic_id: user.default_clinic_id,
                },
                administered: administers(user),
            }),
        }
    }
    if selection.len() > MAX_SELECTION {
        return Err(too_large(selection.len()));
    }
    check_clinics_of_site(conn, site, &update.changes)?;
    let clinic_admins = active_clinic_admins(conn, site)?;
    Ok(plan_bulk(
        &actor.actor(),
        &selection,
        &update.changes,
        &clinic_admins,
        update.dry_run,
    ))
}

/// `POST /v1/users/bulk-update`. A dry run reads one snapshot of the site and never takes
/// the site lock, so it does not queue behind the site's writers; an update judges and
/// writes under the lock.
pub fn apply_bulk_update(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    actor: &ActorScope,
    update: BulkUpdate,
) -> StoreResult<BulkReport> {
    if update.dry_run {
        return read_transaction(conn, |conn| {
            plan(conn, ctx, actor, &update).map(|plan| plan.report)
        });
    }
    write_tx(conn, ctx.site_id, |conn| {
        let site = ctx.site_id;
        let plan = plan(conn, ctx, actor, &update)?;
        if plan.accepted.is_empty() {
            return Ok(plan.report);
        }
        let changed = apply_changes(conn, ctx.site_id, &plan.accepted)?;
        let mut per_user: HashMap<UserId, Vec<&AccessChange>> = HashMap::new();
        for (user, change) in &plan.accepted {
            per_user.entry(*user).or_default().push(change);
        }
        let mut events = vec![Change::created(
            AuditAction::UsersBulkUpdated,
            AuditTarget::Site(site),
            &plan.report,
        )];
        for user in &changed {
            let changes = per_user.remove(user).unwrap_or_default();
            events.push(Change::created(
                AuditAction::UserAccessChanged,
                AuditTarget::User(*user),
                &AccessDetail::of(&changes),
            ));
        }
        audit::record_all(conn, ctx, events)?;
        Ok(plan.report)
    })
}

/// Every clinic a change names must be a clinic of the site (`422 unknown_clinic`): a site
/// administrator has every clinic *of their site*, never another site's.
fn check_clinics_of_site(
    conn: &mut DbConnection,
    site: SiteId,
    changes: &[AccessChange],
) -> StoreResult<()> {
    let known: BTreeSet<ClinicId> = clinics::table
        .filter(clinics::site_id.eq(site))
        .select(clinics::id)
        .load::<ClinicId>(conn)?
        .into_iter()
        .collect();
    let mut errors = Vec::new();
    for change in changes {
        let (field, clinic) = match change {
            AccessChange::AddClinic(c) => ("add_clinic_ids", c),
            AccessChange::RemoveClinic(c) => ("remove_clinic_ids", c),
            _ => continue,
        };
        if !known.contains(clinic) {
            errors.push(FieldError::new(
                field,
                "unknown_clinic",
                format!("{clinic} is not a clinic of this site"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errors))
    }
}

/// The site's active clinic administrators per clinic.
fn active_clinic_admins(
    conn: &mut DbConnection,
    site: SiteId,
) -> StoreResult<BTreeMap<ClinicId, BTreeSet<UserId>>> {
    let admins = user_permissions::table
        .filter(user_permissions::site_id.eq(site))
        .filter(user_permissions::permission.eq(Permission::ClinicAdmin))
        .select(user_permissions::user_id);
    let active = users::table
        .filter(users::site_id.eq(site))
        .filter(users::status.eq(UserStatus::Active))
        .filter(users::id.eq_any(admins))
        .select(users::id);
    let rows: Vec<(ClinicId, UserId)> = user_clinics::table
        .filter(user_clinics::user_id.eq_any(active))
        .select((user_clinics::clinic_id, user_clinics::user_id))
        .load(conn)?;
    let mut map: BTreeMap<ClinicId, BTreeSet<UserId>> = BTreeMap::new();
    for (clinic, user) in rows {
        map.entry(clinic).or_default().insert(user);
    }
    Ok(map)
}

/// The applied changes of one user, for their audit event: the lists that are not empty,
/// and `"bulk": true`.
#[derive(Debug, Default, Serialize)]
struct AccessDetail {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    added_clinic_ids: Vec<ClinicId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    added_permissions: Vec<Permission>,
    bulk: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    removed_clinic_ids: Vec<ClinicId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    removed_permissions: Vec<Permission>,
}

impl AccessDetail {
    fn of(changes: &[&AccessChange]) -> Self {
        let mut detail = Self {
            bulk: true,
            ..Self::default()
        };
        for change in changes {
            match change {
                AccessChange::AddPermission(p) => detail.added_permissions.push(*p),
                AccessChange::RemovePermission(p) => detail.removed_permissions.push(*p),
                AccessChange::AddClinic(c) => detail.added_clinic_ids.push(*c),
                AccessChange::RemoveClinic(c) => detail.removed_clinic_ids.push(*c),
            }
        }
        detail
    }
}
