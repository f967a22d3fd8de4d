//! Permission and clinic grants written for many users at once: what a single-user change
//! (`crate::access`) or a bulk update (`crate::bulk`) applies once the domain's access judge
//! accepted it, with set-based statements (a handful per request, not one per user).

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use staffroom_domain::{AccessChange, Actor, ClinicId, Permission, SiteId, UserId};

use crate::backend::{self, CHUNK};
use crate::schema::{user_clinics, user_permissions, users};
use crate::tx::now;
use crate::{DbConnection, StoreResult};

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
    let mut grant_permissions = Vec::new();
    let mut grant_clinics = Vec::new();
    let mut revoke_permissions: BTreeMap<Permission, Vec<UserId>> = BTreeMap::new();
    let mut revoke_clinics: BTreeMap<ClinicId, Vec<UserId>> = BTreeMap::new();
    let mut changed = BTreeSet::new();
    for (user, change) in accepted {
        changed.insert(*user);
        match change {
            AccessChange::AddPermission(p) => grant_permissions.push((*user, *p)),
            AccessChange::AddClinic(c) => grant_clinics.push((*user, *c)),
            AccessChange::RemovePermission(p) => {
                revoke_permissions.entry(*p).or_default().push(*user);
            }
            AccessChange::RemoveClinic(c) => revoke_clinics.entry(*c).or_default().push(*user),
        }
    }
    backend::insert_permissions(conn, site, &grant_permissions)?;
    backend::insert_clinics(conn, site, &grant_clinics)?;
    for (permission, ids) in &revoke_permissions {
        for chunk in ids.chunks(CHUNK) {
            diesel::delete(
                user_permissions::table
                    .filter(user_permissions::permission.eq(permission))
                    .filter(user_permissions::user_id.eq_any(chunk)),
            )
            .execute(conn)?;
        }
    }
    for (clinic, ids) in &revoke_clinics {
        for chunk in ids.chunks(CHUNK) {
            diesel::delete(
                user_clinics::table
                    .filter(user_clinics::clinic_id.eq(clinic))
                    .filter(user_clinics::user_id.eq_any(chunk)),
            )
            .execute(conn)?;
        }
    }
    let ids: Vec<UserId> = changed.iter().copied().collect();
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
