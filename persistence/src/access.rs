//! Replacing one user's permissions or clinic access (`ReplaceAccess`): the domain decides
//! (`staffroom_domain::decide_access_replacement`), and `crate::grants` writes what it
//! accepts, as for a bulk update (`crate::bulk`).

use std::collections::BTreeSet;

use diesel::prelude::*;
use staffroom_domain::{
    AccessDecision, AccessRefusal, AccessReplacement, AccessSnapshot, AdminCover, AuditAction,
    AuditTarget, ClinicId, Permission, UserId, decide_access_replacement,
};

use crate::audit::{self, Change};
use crate::grants::apply_changes;
use crate::schema::{clinics, users};
use crate::tx::{AuditContext, now};
use crate::usecase::UseCase;
use crate::user_rows::{self as stored, User, other_active_holders};
use crate::{DbConnection, StoreResult};

pub use crate::grants::ActorScope;

/// `PUT /v1/users/{id}/permissions` and `PUT /v1/users/{id}/clinics`: replaces a user's
/// permissions, or their clinics and default clinic, all or nothing.
#[derive(Debug, Clone)]
pub struct ReplaceAccess {
    pub actor: ActorScope,
    pub id: UserId,
    pub expected_version: Option<i64>,
    pub wanted: AccessReplacement,
}

impl UseCase for ReplaceAccess {
    type Snapshot = (User, AccessSnapshot);
    type Decision = (User, AccessDecision);
    type Refusal = AccessRefusal;
    type Output = User;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        let user = stored::get_at(conn, ctx.site_id, self.id, self.expected_version)?;
        let unknown_clinic = match &self.wanted {
            AccessReplacement::Permissions(_) => false,
            AccessReplacement::Clinics { clinic_ids, .. } => {
                let desired: BTreeSet<ClinicId> = clinic_ids.iter().copied().collect();
                let known: i64 = clinics::table
                    .filter(clinics::site_id.eq(ctx.site_id))
                    .filter(clinics::id.eq_any(&desired))
                    .count()
                    .get_result(conn)?;
                usize::try_from(known).unwrap_or(0) != desired.len()
            }
        };
        let snapshot = AccessSnapshot {
            active: user.is_active(),
            profession: user.profession,
            permissions: user.permissions.clone(),
            clinic_ids: user.clinic_ids.clone(),
            default_clinic_id: user.default_clinic_id,
            cover: admin_cover(conn, &user)?,
            unknown_clinic,
        };
        Ok((user, snapshot))
    }

    fn decide(&self, (user, snapshot): Self::Snapshot) -> Result<Self::Decision, AccessRefusal> {
        decide_access_replacement(&self.actor.actor(), &snapshot, &self.wanted)
            .map(|decision| (user, decision))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (before, decision): Self::Decision,
    ) -> StoreResult<User> {
        if decision.changes_nothing() {
            return Ok(before);
        }
        let id = self.id;
        let pairs: Vec<(UserId, _)> = decision.accepted.iter().map(|c| (id, *c)).collect();
        apply_changes(conn, ctx.site_id, &pairs)?;
        if let Some(default_clinic) = decision.new_default_clinic {
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
        let action = match self.wanted {
            AccessReplacement::Permissions(_) => AuditAction::UserPermissionsChanged,
            AccessReplacement::Clinics { .. } => AuditAction::UserClinicsChanged,
        };
        audit::record(conn, ctx, access_change(action, &before, &after))?;
        Ok(after)
    }
}

/// The other active administrators rule 5 counts for `user` (see `AccessSnapshot::cover`).
fn admin_cover(conn: &mut DbConnection, user: &User) -> StoreResult<AdminCover> {
    let mut cover = AdminCover::default();
    if !user.is_active() {
        return Ok(cover);
    }
    let others = |conn: &mut DbConnection, permission, clinic| {
        other_active_holders(conn, user.site_id, permission, clinic, user.id)
            .map(|n| u64::try_from(n).unwrap_or(0))
    };
    if user.has(Permission::SiteAdmin) {
        cover.site_admins = others(conn, Permission::SiteAdmin, None)?;
    }
    if user.has(Permission::ClinicAdmin) {
        for clinic in &user.clinic_ids {
            let n = others(conn, Permission::ClinicAdmin, Some(*clinic))?;
            cover.clinic_admins.insert(*clinic, n);
        }
    }
    Ok(cover)
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
