//! Changing users' permissions and clinic access: one user at a time (`set_permissions`,
//! `set_clinics`) or many (`crate::bulk`). Both ask the domain's access judge and apply
//! what it accepts with set-based statements (a handful per request, not one per user).

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use staffroom_domain::{
    AccessChange, Actor, ClinicId, FieldError, Mode, Permission, Refusal, SiteId, Subject, UserId,
    UserStatus, Verdict, judge,
};

use crate::audit::{self, Change};
use crate::backend::{self, CHUNK};
use crate::error::Conflict;
use crate::schema::{clinics, user_clinics, user_permissions, users};
use crate::tx::{AuditContext, check_version, now, write_tx};
use crate::users::{self as stored, User};
use crate::{DbConnection, StoreError, StoreResult};

/// Who changes access: the domain's `Actor`, owned so it can cross threads.
#[derive(Debug, Clone, Default)]
pub struct ActorScope {
    pub site_admin: bool,
    pub clinic_admin: bool,
    pub clinic_ids: Vec<ClinicId>,
}

impl ActorScope {
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            site_admin: self.site_admin,
            clinic_ids: &self.clinic_ids,
        }
    }
}

/// Applies accepted changes with set-based statements and bumps the changed users' versions.
pub(crate) fn apply_changes(
    conn: &mut DbConnection,
    site: SiteId,
    accepted: &[(UserId, AccessChange)],
) -> StoreResult<BTreeSet<UserId>> {
    let site_id = site.to_string();
    let mut grant_permissions = Vec::new();
    let mut grant_clinics = Vec::new();
    let mut revoke_permissions: BTreeMap<Permission, Vec<String>> = BTreeMap::new();
    let mut revoke_clinics: BTreeMap<ClinicId, Vec<String>> = BTreeMap::new();
    let mut changed = BTreeSet::new();
    for (user, change) in accepted {
        changed.insert(*user);
        match change {
            AccessChange::AddPermission(p) => {
                grant_permissions.push((user.to_string(), p.as_str()));
            }
            AccessChange::AddClinic(c) => {
                grant_clinics.push((user.to_string(), c.to_string()));
            }
            AccessChange::RemovePermission(p) => {
                revoke_permissions
                    .entry(*p)
                    .or_default()
                    .push(user.to_string());
            }
            AccessChange::RemoveClinic(c) => {
                revoke_clinics.entry(*c).or_default().push(user.to_string());
            }
        }
    }
    backend::insert_permissions(conn, &site_id, &grant_permissions)?;
    backend::insert_clinics(conn, &site_id, &grant_clinics)?;
    for (permission, ids) in &revoke_permissions {
        for chunk in ids.chunks(CHUNK) {
            diesel::delete(
                user_permissions::table
                    .filter(user_permissions::permission.eq(permission.as_str()))
                    .filter(user_permissions::user_id.eq_any(chunk)),
            )
            .execute(conn)?;
        }
    }
    for (clinic, ids) in &revoke_clinics {
        for chunk in ids.chunks(CHUNK) {
            diesel::delete(
                user_clinics::table
                    .filter(user_clinics::clinic_id.eq(clinic.to_string()))
                    .filter(user_clinics::user_id.eq_any(chunk)),
            )
            .execute(conn)?;
        }
    }
    let ids: Vec<String> = changed.iter().map(ToString::to_string).collect();
    let at = now();
    for chunk in ids.chunks(CHUNK) {
        diesel::update(users::table.filter(users::id.eq_any(chunk)))
            .set((
                users::version.eq(users::version + 1),
                users::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(changed)
}

fn subject(user: &User) -> Subject<'_> {
    Subject {
        profession: user.profession,
        permissions: &user.permissions,
        clinic_ids: &user.clinic_ids,
        default_clinic_id: user.default_clinic_id,
    }
}

/// Judges single-user changes; any refusal refuses the whole request, naming each change.
fn judge_all(
    actor: &ActorScope,
    subject: &Subject<'_>,
    changes: &[AccessChange],
    field: &str,
) -> StoreResult<Vec<AccessChange>> {
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for change in changes {
        match judge(&actor.actor(), subject, change, Mode::Single) {
            Verdict::Accepted => accepted.push(*change),
            Verdict::NoOp => {}
            Verdict::Refused(reason) => {
                let what = match change {
                    AccessChange::AddPermission(p) => format!("cannot add {p}"),
                    AccessChange::RemovePermission(p) => format!("cannot remove {p}"),
                    AccessChange::AddClinic(c) => format!("cannot add clinic {c}"),
                    AccessChange::RemoveClinic(c) => format!("cannot remove clinic {c}"),
                };
                refused.push(FieldError::new(
                    field,
                    reason.code(),
                    format!("{what}: {reason}"),
                ));
            }
        }
    }
    if refused.is_empty() {
        Ok(accepted)
    } else {
        Err(StoreError::Invalid(refused))
    }
}

/// Active users other than `except` holding `permission` (and, if given, `clinic`).
pub(crate) fn other_active_holders(
    conn: &mut DbConnection,
    site: SiteId,
    permission: Permission,
    clinic: Option<ClinicId>,
    except: UserId,
) -> StoreResult<i64> {
    let holders = user_permissions::table
        .filter(user_permissions::site_id.eq(site.to_string()))
        .filter(user_permissions::permission.eq(permission.as_str()))
        .select(user_permissions::user_id);
    let mut query = users::table
        .filter(users::site_id.eq(site.to_string()))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .filter(users::id.ne(except.to_string()))
        .filter(users::id.eq_any(holders))
        .into_boxed();
    if let Some(clinic) = clinic {
        let members = user_clinics::table
            .filter(user_clinics::clinic_id.eq(clinic.to_string()))
            .select(user_clinics::user_id);
        query = query.filter(users::id.eq_any(members));
    }
    Ok(query.count().get_result(conn)?)
}

/// SPEC §4 rule 5: never the last active `site_admin` of the site, nor the last active
/// `clinic_admin` of a clinic — whether by removing the permission or the clinic.
fn check_last_admins(
    conn: &mut DbConnection,
    user: &User,
    accepted: &[AccessChange],
) -> StoreResult<()> {
    if !user.is_active() {
        return Ok(());
    }
    let last = || StoreError::Conflict(Conflict::LastAdmin);
    let removes = |p| accepted.contains(&AccessChange::RemovePermission(p));
    if removes(Permission::SiteAdmin)
        && other_active_holders(conn, user.site_id, Permission::SiteAdmin, None, user.id)? == 0
    {
        return Err(last());
    }
    if user.has(Permission::ClinicAdmin) {
        let losing: Vec<ClinicId> = if removes(Permission::ClinicAdmin) {
            user.clinic_ids.clone()
        } else {
            accepted
                .iter()
                .filter_map(|c| match c {
                    AccessChange::RemoveClinic(c) => Some(*c),
                    _ => None,
                })
                .collect()
        };
        for clinic in losing {
            if other_active_holders(
                conn,
                user.site_id,
                Permission::ClinicAdmin,
                Some(clinic),
                user.id,
            )? == 0
            {
                return Err(last());
            }
        }
    }
    Ok(())
}

/// Replaces a user's permissions (`PUT /v1/users/{id}/permissions`).
pub fn set_permissions(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    actor: &ActorScope,
    id: UserId,
    expected_version: Option<i64>,
    desired: Vec<Permission>,
) -> StoreResult<User> {
    write_tx(conn, ctx.site_id, |conn| {
        let before = stored::get(conn, ctx.site_id, id)?;
        check_version(expected_version, before.version)?;
        let desired: BTreeSet<Permission> = desired.into_iter().collect();
        let held: BTreeSet<Permission> = before.permissions.iter().copied().collect();
        let changes: Vec<AccessChange> = desired
            .difference(&held)
            .map(|p| AccessChange::AddPermission(*p))
            .chain(
                held.difference(&desired)
                    .map(|p| AccessChange::RemovePermission(*p)),
            )
            .collect();
        let accepted = judge_all(actor, &subject(&before), &changes, "permissions")?;
        if accepted.is_empty() {
            return Ok(before);
        }
        check_last_admins(conn, &before, &accepted)?;
        let pairs: Vec<(UserId, AccessChange)> = accepted.iter().map(|c| (id, *c)).collect();
        apply_changes(conn, ctx.site_id, &pairs)?;
        let after = stored::get(conn, ctx.site_id, id)?;
        audit::record(
            conn,
            ctx,
            access_change("user.permissions_changed", &before, &after),
        )?;
        Ok(after)
    })
}

/// Replaces a user's clinic access and default clinic (`PUT /v1/users/{id}/clinics`).
pub fn set_clinics(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    actor: &ActorScope,
    id: UserId,
    expected_version: Option<i64>,
    desired: Vec<ClinicId>,
    default_clinic: ClinicId,
) -> StoreResult<User> {
    write_tx(conn, ctx.site_id, |conn| {
        let before = stored::get(conn, ctx.site_id, id)?;
        check_version(expected_version, before.version)?;
        let desired: BTreeSet<ClinicId> = desired.into_iter().collect();
        let known: i64 = clinics::table
            .filter(clinics::site_id.eq(ctx.site_id.to_string()))
            .filter(clinics::id.eq_any(desired.iter().map(ToString::to_string).collect::<Vec<_>>()))
            .count()
            .get_result(conn)?;
        if usize::try_from(known).unwrap_or(0) != desired.len() {
            return Err(StoreError::invalid(
                "clinic_ids",
                "unknown_clinic",
                "Every clinic must be a clinic of this site.",
            ));
        }
        if !desired.contains(&default_clinic) {
            return Err(if default_clinic == before.default_clinic_id {
                StoreError::invalid(
                    "clinic_ids",
                    Refusal::DefaultClinicProtected.code(),
                    "The user's default clinic cannot be removed; move the default first.",
                )
            } else {
                StoreError::invalid(
                    "default_clinic_id",
                    "not_in_clinic_ids",
                    "The default clinic must be one of clinic_ids.",
                )
            });
        }
        let held: BTreeSet<ClinicId> = before.clinic_ids.iter().copied().collect();
        let changes: Vec<AccessChange> = desired
            .difference(&held)
            .map(|c| AccessChange::AddClinic(*c))
            .chain(
                held.difference(&desired)
                    .map(|c| AccessChange::RemoveClinic(*c)),
            )
            .collect();
        // The default is judged as it will be: moving it away from a clinic lets that go.
        let judged_as = Subject {
            default_clinic_id: default_clinic,
            ..subject(&before)
        };
        let accepted = judge_all(actor, &judged_as, &changes, "clinic_ids")?;
        let default_moves = default_clinic != before.default_clinic_id;
        if accepted.is_empty() && !default_moves {
            return Ok(before);
        }
        check_last_admins(conn, &before, &accepted)?;
        let pairs: Vec<(UserId, AccessChange)> = accepted.iter().map(|c| (id, *c)).collect();
        apply_changes(conn, ctx.site_id, &pairs)?;
        if default_moves {
            let user = || users::table.find(id.to_string());
            diesel::update(user())
                .set(users::default_clinic_id.eq(default_clinic.to_string()))
                .execute(conn)?;
            if pairs.is_empty() {
                diesel::update(user())
                    .set((
                        users::version.eq(users::version + 1),
                        users::updated_at.eq(now()),
                    ))
                    .execute(conn)?;
            }
        }
        let after = stored::get(conn, ctx.site_id, id)?;
        audit::record(
            conn,
            ctx,
            access_change("user.clinics_changed", &before, &after),
        )?;
        Ok(after)
    })
}

fn access_change<'a>(action: &'a str, before: &User, after: &User) -> Change<'a> {
    Change {
        action,
        target_type: "user",
        target_id: Some(after.id.to_string()),
        before: Some(serde_json::json!({
            "permissions": before.permissions,
            "clinic_ids": before.clinic_ids,
            "default_clinic_id": before.default_clinic_id,
        })),
        after: Some(serde_json::json!({
            "permissions": after.permissions,
            "clinic_ids": after.clinic_ids,
            "default_clinic_id": after.default_clinic_id,
        })),
    }
}
