//! `apply_bulk_update` (SPEC §5): select up to 10,000 users, judge every (user, change)
//! pair with the domain's bulk fold, and apply what it accepts in one transaction with a
//! handful of set-based statements. A dry run judges the same way and writes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use staffroom_domain::{
    AccessChange, BulkReport, ClinicId, FieldError, Permission, Profession, Selected, Subject,
    UserId, UserStatus, plan_bulk,
};

use crate::access::{ActorScope, apply_changes};
use crate::audit::{self, Change};
use crate::backend::CHUNK;
use crate::schema::{clinics, user_clinics, user_permissions, users};
use crate::tx::{AuditContext, write_tx};
use crate::users::{UserQuery, filtered};
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

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::corrupt(e)
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
    site: &str,
    ids: &[String],
) -> StoreResult<HashMap<UserId, Loaded>> {
    let mut loaded = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(String, String, String)> = users::table
            .filter(users::site_id.eq(site))
            .filter(users::id.eq_any(chunk))
            .select((users::id, users::profession, users::default_clinic_id))
            .load(conn)?;
        for (id, profession, default_clinic_id) in rows {
            loaded.insert(
                id.parse().map_err(corrupt)?,
                Loaded {
                    profession: profession.parse().map_err(corrupt)?,
                    default_clinic_id: default_clinic_id.parse().map_err(corrupt)?,
                    permissions: Vec::new(),
                    clinic_ids: Vec::new(),
                },
            );
        }
        let permissions: Vec<(String, String)> = user_permissions::table
            .filter(user_permissions::user_id.eq_any(chunk))
            .select((user_permissions::user_id, user_permissions::permission))
            .load(conn)?;
        for (id, permission) in permissions {
            if let Some(user) = loaded.get_mut(&id.parse().map_err(corrupt)?) {
                user.permissions.push(permission.parse().map_err(corrupt)?);
            }
        }
        let clinics: Vec<(String, String)> = user_clinics::table
            .filter(user_clinics::user_id.eq_any(chunk))
            .select((user_clinics::user_id, user_clinics::clinic_id))
            .load(conn)?;
        for (id, clinic) in clinics {
            if let Some(user) = loaded.get_mut(&id.parse().map_err(corrupt)?) {
                user.clinic_ids.push(clinic.parse().map_err(corrupt)?);
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
        Selection::Filter(query) => filtered(ctx.site_id, query)
            .select(users::id)
            .order(users::id.asc())
            .load::<String>(conn)?
            .iter()
            .map(|id| id.parse().map_err(corrupt))
            .collect(),
    }
}

pub fn apply_bulk_update(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    actor: &ActorScope,
    update: BulkUpdate,
) -> StoreResult<BulkReport> {
    write_tx(conn, ctx.site_id, |conn| {
        let site = ctx.site_id.to_string();
        let ids = selected_ids(conn, ctx, &update.selection)?;
        let id_strings: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let loaded = load(conn, &site, &id_strings)?;
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
        check_clinics_of_site(conn, &site, &update.changes)?;
        let clinic_admins = active_clinic_admins(conn, &site)?;
        let plan = plan_bulk(
            &actor.actor(),
            &selection,
            &update.changes,
            &clinic_admins,
            update.dry_run,
        );
        if update.dry_run || plan.accepted.is_empty() {
            return Ok(plan.report);
        }
        let changed = apply_changes(conn, ctx.site_id, &plan.accepted)?;
        let mut per_user: HashMap<UserId, Vec<&AccessChange>> = HashMap::new();
        for (user, change) in &plan.accepted {
            per_user.entry(*user).or_default().push(change);
        }
        let mut events = vec![Change {
            action: "users.bulk_updated",
            target_type: "site",
            target_id: Some(site.clone()),
            before: None,
            after: serde_json::to_value(&plan.report).ok(),
        }];
        for user in &changed {
            let changes = per_user.remove(user).unwrap_or_default();
            events.push(Change {
                action: "user.access_changed",
                target_type: "user",
                target_id: Some(user.to_string()),
                before: None,
                after: Some(describe(&changes)),
            });
        }
        audit::record_all(conn, ctx, events)?;
        Ok(plan.report)
    })
}

/// Every clinic a change names must be a clinic of the site (`422 unknown_clinic`): a site
/// administrator has every clinic *of their site*, never another site's.
fn check_clinics_of_site(
    conn: &mut DbConnection,
    site: &str,
    changes: &[AccessChange],
) -> StoreResult<()> {
    let known: BTreeSet<String> = clinics::table
        .filter(clinics::site_id.eq(site))
        .select(clinics::id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let mut errors = Vec::new();
    for change in changes {
        let (field, clinic) = match change {
            AccessChange::AddClinic(c) => ("add_clinic_ids", c),
            AccessChange::RemoveClinic(c) => ("remove_clinic_ids", c),
            _ => continue,
        };
        if !known.contains(&clinic.to_string()) {
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
    site: &str,
) -> StoreResult<BTreeMap<ClinicId, BTreeSet<UserId>>> {
    let admins = user_permissions::table
        .filter(user_permissions::site_id.eq(site))
        .filter(user_permissions::permission.eq(Permission::ClinicAdmin.as_str()))
        .select(user_permissions::user_id);
    let active = users::table
        .filter(users::site_id.eq(site))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .filter(users::id.eq_any(admins))
        .select(users::id);
    let rows: Vec<(String, String)> = user_clinics::table
        .filter(user_clinics::user_id.eq_any(active))
        .select((user_clinics::clinic_id, user_clinics::user_id))
        .load(conn)?;
    let mut map: BTreeMap<ClinicId, BTreeSet<UserId>> = BTreeMap::new();
    for (clinic, user) in rows {
        map.entry(clinic.parse().map_err(corrupt)?)
            .or_default()
            .insert(user.parse().map_err(corrupt)?);
    }
    Ok(map)
}

/// The applied changes of one user, for their audit event: the lists that are not empty,
/// and `"bulk": true`.
fn describe(changes: &[&AccessChange]) -> serde_json::Value {
    let mut lists: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for change in changes {
        let (key, value) = match change {
            AccessChange::AddPermission(p) => ("added_permissions", p.as_str().to_owned()),
            AccessChange::RemovePermission(p) => ("removed_permissions", p.as_str().to_owned()),
            AccessChange::AddClinic(c) => ("added_clinic_ids", c.to_string()),
            AccessChange::RemoveClinic(c) => ("removed_clinic_ids", c.to_string()),
        };
        lists.entry(key).or_default().push(value);
    }
    let mut detail: serde_json::Map<String, serde_json::Value> = lists
        .into_iter()
        .map(|(key, values)| (key.to_owned(), values.into()))
        .collect();
    detail.insert("bulk".to_owned(), true.into());
    detail.into()
}
