//! Changing one user's permissions and clinic access (`set_permissions`, `set_clinics`):
//! the domain's access judge decides, and `crate::grants` writes what it accepts, as for
//! a bulk update (`crate::bulk`).

use std::collections::BTreeSet;

use diesel::prelude::*;
use staffroom_domain::{
    AccessChange, AdminCover, AdminHolder, AuditAction, AuditTarget, ClinicId, FieldError, Mode,
    Permission, Refusal, Subject, UserId, Verdict, clinics_losing_admin, judge, leaves_last_admin,
};

use crate::audit::{self, Change};
use crate::error::Conflict;
use crate::grants::apply_changes;
use crate::schema::{clinics, users};
use crate::tx::{AuditContext, check_version, now, write_tx};
use crate::user_rows::{self as stored, User, other_active_holders};
use crate::{DbConnection, StoreError, StoreResult};

pub use crate::grants::ActorScope;

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

/// SPEC §4 rule 5 (`staffroom_domain::leaves_last_admin`) over the other active admins of
/// the user's site and of the clinics the changes take from them.
fn check_last_admins(
    conn: &mut DbConnection,
    user: &User,
    accepted: &[AccessChange],
) -> StoreResult<()> {
    let holder = AdminHolder {
        active: user.is_active(),
        permissions: &user.permissions,
        clinic_ids: &user.clinic_ids,
    };
    if !holder.active {
        return Ok(());
    }
    let mut cover = AdminCover {
        site_admins: other_admins(conn, user, Permission::SiteAdmin, None)?,
        ..AdminCover::default()
    };
    for clinic in clinics_losing_admin(&holder, accepted) {
        let others = other_admins(conn, user, Permission::ClinicAdmin, Some(clinic))?;
        cover.clinic_admins.insert(clinic, others);
    }
    if leaves_last_admin(&holder, accepted, &cover) {
        return Err(StoreError::Conflict(Conflict::LastAdmin));
    }
    Ok(())
}

fn other_admins(
    conn: &mut DbConnection,
    user: &User,
    permission: Permission,
    clinic: Option<ClinicId>,
) -> StoreResult<u64> {
    let n = other_active_holders(conn, user.site_id, permission, clinic, user.id)?;
    Ok(u64::try_from(n).unwrap_or(0))
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
            access_change(AuditAction::UserPermissionsChanged, &before, &after),
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
            .filter(clinics::site_id.eq(ctx.site_id))
            .filter(clinics::id.eq_any(&desired))
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
            let user = || users::table.find(id);
            diesel::update(user())
                .set(users::default_clinic_id.eq(default_clinic))
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
            access_change(AuditAction::UserClinicsChanged, &before, &after),
        )?;
        Ok(after)
    })
}

fn access_change(action: AuditAction, before: &User, after: &User) -> Change {
    Change {
        action,
        target: AuditTarget::User(after.id),
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
