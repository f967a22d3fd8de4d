//! [`BulkUpdateUsers`] (SPEC §5): select up to 10,000 users, judge every (user, change)
//! pair with the domain's bulk fold, and apply what it accepts in one transaction with a
//! handful of set-based statements. A dry run judges the same way and writes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use serde::Serialize;
use staffroom_domain::{
    AccessChange, AuditAction, AuditTarget, BulkPlan, BulkRefusal, BulkReport, ClinicId,
    MAX_BULK_SELECTION, Permission, Selected, SiteId, Subject, UserId, UserStatus, decide_bulk,
};

use crate::audit::{self, Change};
use crate::backend::CHUNK;
use crate::grants::{ActorScope, apply_changes};
use crate::schema::{clinics, user_clinics, user_permissions, users};
use crate::tx::{AuditContext, read_transaction};
use crate::usecase::{self, Failure, UseCase};
use crate::user_rows::{User, UserQuery, filtered, in_order};
use crate::{DbConnection, StoreResult};

/// Most users one bulk request may select.
pub const MAX_SELECTION: usize = MAX_BULK_SELECTION;

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

/// Loads the users among `ids` that belong to the site, with their access, by id
/// ([`in_order`]: no site condition in SQL, which SQLite would serve by walking the site's
/// users; another site's row is dropped).
fn load(
    conn: &mut DbConnection,
    site: SiteId,
    ids: &[UserId],
) -> StoreResult<HashMap<UserId, User>> {
    let mut loaded = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        loaded.extend(in_order(conn, site, chunk)?.into_iter().map(|u| (u.id, u)));
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
            Ok(ids.iter().copied().filter(|id| seen.insert(*id)).collect())
        }
        Selection::Filter(query) => Ok(filtered(ctx.site_id, query)
            .select(users::id)
            .order(users::id.asc())
            .load(conn)?),
    }
}

/// Runs [`BulkUpdateUsers`] (without an idempotent answer to keep); a dry run through
/// [`dry_run`].
pub fn apply_bulk_update(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    actor: &ActorScope,
    update: BulkUpdate,
) -> Result<BulkReport, Failure<BulkRefusal>> {
    let use_case = BulkUpdateUsers {
        actor: actor.clone(),
        update,
    };
    if use_case.update.dry_run {
        return dry_run(conn, ctx, &use_case);
    }
    usecase::run(conn, ctx, use_case, |report| report, None)
}

/// A dry run of `use_case`: the same snapshot and judgement, read in one read-only
/// transaction that never takes the site lock, so it does not queue behind the site's
/// writers. Writes nothing.
pub fn dry_run(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    use_case: &BulkUpdateUsers,
) -> Result<BulkReport, Failure<BulkRefusal>> {
    read_transaction(conn, |conn| {
        let snapshot = use_case.load(conn, ctx)?;
        let plan = use_case.decide(snapshot).map_err(Failure::Refused)?;
        Ok(plan.report)
    })
}

/// The use-case of `POST /v1/users/bulk-update`: the selected users with their access, the
/// site's clinics and clinic administrators; the domain's [`decide_bulk`] judges every
/// (user, change) pair; the accepted ones are applied with set-based statements, with one
/// audit event for the update and one per changed user. A dry run writes nothing.
pub struct BulkUpdateUsers {
    pub actor: ActorScope,
    pub update: BulkUpdate,
}

/// What [`BulkUpdateUsers`] decides over.
pub struct BulkSnapshot {
    /// The selected ids, each once, in a stable order.
    ids: Vec<UserId>,
    loaded: HashMap<UserId, User>,
    site_clinics: BTreeSet<ClinicId>,
    clinic_admins: BTreeMap<ClinicId, BTreeSet<UserId>>,
}

impl UseCase for BulkUpdateUsers {
    type Snapshot = BulkSnapshot;
    type Decision = BulkPlan;
    type Refusal = BulkRefusal;
    type Output = BulkReport;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<BulkSnapshot> {
        let ids = selected_ids(conn, ctx, &self.update.selection)?;
        Ok(BulkSnapshot {
            loaded: load(conn, ctx.site_id, &ids)?,
            ids,
            site_clinics: clinics::table
                .filter(clinics::site_id.eq(ctx.site_id))
                .select(clinics::id)
                .load::<ClinicId>(conn)?
                .into_iter()
                .collect(),
            clinic_admins: active_clinic_admins(conn, ctx.site_id)?,
        })
    }

    fn decide(&self, snapshot: BulkSnapshot) -> Result<BulkPlan, BulkRefusal> {
        let actor = self.actor.actor();
        let administers = |user: &User| {
            actor.administers(
                self.actor.clinic_admin,
                &user.clinic_ids,
                user.has(Permission::SiteAdmin),
            )
        };
        let by_filter = matches!(self.update.selection, Selection::Filter(_));
        let mut selection: Vec<Selected<'_>> = Vec::with_capacity(snapshot.ids.len());
        for id in &snapshot.ids {
            match snapshot.loaded.get(id) {
                None => selection.push(Selected::Missing(*id)),
                // A filter selects only the users the actor administers.
                Some(user) if by_filter && !administers(user) => {}
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
        decide_bulk(
            &actor,
            &selection,
            &self.update.changes,
            &snapshot.site_clinics,
            &snapshot.clinic_admins,
            self.update.dry_run,
        )
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        plan: BulkPlan,
    ) -> StoreResult<BulkReport> {
        if self.update.dry_run || plan.accepted.is_empty() {
            return Ok(plan.report);
        }
        let changed = apply_changes(conn, ctx.site_id, &plan.accepted)?;
        let mut per_user: HashMap<UserId, Vec<&AccessChange>> = HashMap::new();
        for (user, change) in &plan.accepted {
            per_user.entry(*user).or_default().push(change);
        }
        let mut events = vec![Change::created(
            AuditAction::UsersBulkUpdated,
            AuditTarget::Site(ctx.site_id),
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
    }
}

/// The site's active clinic administrators per clinic, found from the grants of the site
/// (its users are the grants' users, so `users` is searched by id, not walked by site).
fn active_clinic_admins(
    conn: &mut DbConnection,
    site: SiteId,
) -> StoreResult<BTreeMap<ClinicId, BTreeSet<UserId>>> {
    let admins = user_permissions::table
        .filter(user_permissions::site_id.eq(site))
        .filter(user_permissions::permission.eq(Permission::ClinicAdmin))
        .select(user_permissions::user_id);
    let active = users::table
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
