//! Users: their profile, type and status, the user list, logins, and the use-cases that
//! change them atomically with their audit events. The stored user and the reads other
//! use-cases share are in `crate::user_rows`; its types are re-exported here.

use diesel::prelude::*;
use staffroom_domain::{
    AuditAction, AuditTarget, ClinicId, Creator, Email, Permission, Profile, ProfileRefusal,
    ProfileSnapshot, SiteId, StatusChange, StatusRefusal, StatusSnapshot, TypeChangeSnapshot,
    UserCreation, UserCreationRefusal, UserCreationSnapshot, UserId, UserName, UserStatus,
    UserType, decide_profile_update, decide_status, decide_type_change, decide_user_creation,
};

use crate::audit::{self, Change};
use crate::error::Conflict;
use crate::grants::ActorScope;
use crate::invitation_rows::{self, NewInvitation};
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::users;
use crate::search::{sort_key, user_search_text};
use crate::tx::{AuditContext, now};
use crate::usecase::{self, Failure, UseCase};
use crate::user_rows::{self, email_taken, filtered, other_active_holders, user_name_taken};
use crate::{DbConnection, LicenceRefusal, StoreError, StoreResult, sites};

pub use crate::user_rows::{NewUser, User, UserQuery, UserSort, get};
pub use staffroom_domain::UserPatch;

/// A user list's cursor: the last row's sort value (empty in creation order, where the id
/// is the sort value) and its id.
type UserCursor = (String, UserId);

/// Applies the keyset cursor and the order: by one sort column then the id, or (creation
/// order) by the id alone.
macro_rules! keyset {
    ($query:expr, $q:expr) => {{
        let mut query = $query;
        if let Some(cursor) = &$q.cursor {
            let (_, id): UserCursor = decode_cursor(cursor)?;
            query = if $q.descending {
                query.filter(users::id.lt(id))
            } else {
                query.filter(users::id.gt(id))
            };
        }
        if $q.descending {
            query.order(users::id.desc())
        } else {
            query.order(users::id.asc())
        }
    }};
    ($query:expr, $col:expr, $q:expr) => {{
        let mut query = $query;
        if let Some(cursor) = &$q.cursor {
            let (value, id): UserCursor = decode_cursor(cursor)?;
            query = if $q.descending {
                query.filter(
                    $col.lt(value.clone())
                        .or($col.eq(value).and(users::id.lt(id))),
                )
            } else {
                query.filter(
                    $col.gt(value.clone())
                        .or($col.eq(value).and(users::id.gt(id))),
                )
            };
        }
        if $q.descending {
            query.order(($col.desc(), users::id.desc()))
        } else {
            query.order(($col.asc(), users::id.asc()))
        }
    }};
}

/// The site's users matching `q`, a page at a time in its order. The page is found by its
/// keys first (ids and sort values, from the sort index or the search's matches), and only
/// its own users are read in full.
pub fn list(conn: &mut DbConnection, site: SiteId, q: &UserQuery) -> StoreResult<Page<User>> {
    let query = filtered(site, q).limit(q.limit + 1);
    let keys: Vec<(UserId, String)> = match q.sort {
        UserSort::LastName => keyset!(
            query.select((users::id, users::sort_last_name)),
            users::sort_last_name,
            q
        )
        .load(conn)?,
        UserSort::FirstName => keyset!(
            query.select((users::id, users::sort_first_name)),
            users::sort_first_name,
            q
        )
        .load(conn)?,
        UserSort::Email => keyset!(
            query.select((users::id, users::email_normalized)),
            users::email_normalized,
            q
        )
        .load(conn)?,
        UserSort::CreatedAt => keyset!(query.select(users::id), q)
            .load::<UserId>(conn)?
            .into_iter()
            .map(|id| (id, String::new()))
            .collect(),
    };
    let page = page_from_rows(keys, q.limit, |(id, value)| (value.clone(), *id));
    let ids: Vec<UserId> = page.items.iter().map(|(id, _)| *id).collect();
    Ok(Page {
        items: user_rows::in_order(conn, site, &ids)?,
        next_cursor: page.next_cursor,
    })
}

/// Who creates a user: the access scope of SPEC §4 and, for a user, their default clinic.
#[derive(Debug, Clone, Default)]
pub struct CreatorScope {
    pub scope: ActorScope,
    pub default_clinic_id: Option<ClinicId>,
}

impl CreatorScope {
    /// A site administrator (the operator, a test).
    pub fn site_admin() -> Self {
        Self {
            scope: ActorScope {
                site_admin: true,
                ..ActorScope::default()
            },
            default_clinic_id: None,
        }
    }
}

/// `POST /v1/users`: creates a user and, when they have no password, invites them.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub creator: CreatorScope,
    pub new: NewUser,
    /// The invitation to send when the user has no password.
    pub invitation: Option<NewInvitation>,
}

impl UseCase for CreateUser {
    type Snapshot = UserCreationSnapshot;
    type Decision = UserCreation;
    type Refusal = UserCreationRefusal;
    type Output = User;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        user_rows::creation_snapshot(
            conn,
            ctx.site_id,
            &self.new.email,
            self.new.user_name.as_ref(),
        )
    }

    fn decide(&self, site: Self::Snapshot) -> Result<UserCreation, UserCreationRefusal> {
        let creator = Creator {
            actor: self.creator.scope.actor(),
            default_clinic_id: self.creator.default_clinic_id,
        };
        decide_user_creation(&creator, &self.new.request(), &site)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        decided: UserCreation,
    ) -> StoreResult<User> {
        let user = user_rows::insert(conn, ctx.site_id, self.new, decided)?;
        audit::record(conn, ctx, user_rows::created(&user))?;
        if let Some(invitation) = self.invitation.filter(|_| !user.has_password) {
            invitation_rows::invite(conn, ctx, &user, invitation)?;
        }
        Ok(user)
    }
}

/// Creates a user as a site administrator would, without invitation (for the operator's
/// tools and tests).
pub fn create(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    new: NewUser,
) -> Result<User, Failure<UserCreationRefusal>> {
    let create = CreateUser {
        creator: CreatorScope::site_admin(),
        new,
        invitation: None,
    };
    usecase::run(conn, ctx, create, |user| user, None)
}

/// `PATCH /v1/users/{id}`: changes a user's profile (`staffroom_domain::decide_profile_update`:
/// a free email, a profession the held permissions allow).
#[derive(Debug, Clone)]
pub struct UpdateProfile {
    pub id: UserId,
    pub expected_version: Option<i64>,
    pub patch: UserPatch,
    /// The identity provider's id to keep (`Some(None)` clears it); `None` leaves it. No
    /// rule reads it (SCIM `externalId`).
    pub external_id: Option<Option<String>>,
    /// A new login password, already hashed (SCIM `password`); never audited.
    pub password_hash: Option<String>,
    /// The SCIM login name to keep (`Some(None)`: the userName is the email); `None` leaves
    /// it. Unique in the site with the emails, like an email.
    pub user_name: Option<Option<UserName>>,
    /// SCIM `emails.primary` to keep as sent (`Some(None)`: not sent); `None` leaves it.
    pub email_primary: Option<Option<bool>>,
}

impl UpdateProfile {
    /// A change of the profile fields of `patch` only.
    pub fn profile(id: UserId, expected_version: Option<i64>, patch: UserPatch) -> Self {
        Self {
            id,
            expected_version,
            patch,
            external_id: None,
            password_hash: None,
            user_name: None,
            email_primary: None,
        }
    }

    /// The SCIM userName, lower-cased, the user will have: the login name, else the email.
    fn user_name_key(&self, user: &User) -> String {
        let name = match &self.user_name {
            Some(name) => name.as_ref().map(UserName::normalized),
            None => user.user_name.as_deref().map(str::to_lowercase),
        };
        name.unwrap_or_else(|| {
            self.patch
                .email
                .as_ref()
                .map_or_else(|| user.email.to_lowercase(), Email::normalized)
        })
    }
}

impl UseCase for UpdateProfile {
    type Snapshot = (User, ProfileSnapshot);
    type Decision = (User, Option<Profile>);
    type Refusal = ProfileRefusal;
    type Output = User;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        let user = user_rows::get_at(conn, ctx.site_id, self.id, self.expected_version)?;
        // A SCIM replace sends the email with the userName: a userName another user has
        // (their login name or email) refuses it as a taken email does.
        let email_taken = match &self.patch.email {
            Some(email) => {
                email_taken(conn, ctx.site_id, email, Some(self.id))?
                    || user_name_taken(
                        conn,
                        ctx.site_id,
                        &self.user_name_key(&user),
                        Some(self.id),
                    )?
            }
            None => false,
        };
        let snapshot = ProfileSnapshot {
            profile: Profile {
                title: user.title.clone(),
                first_name: user.first_name.clone(),
                last_name: user.last_name.clone(),
                email: user.email.clone(),
                profession: user.profession,
            },
            permissions: user.permissions.clone(),
            email_taken,
        };
        Ok((user, snapshot))
    }

    fn decide(&self, (user, snapshot): Self::Snapshot) -> Result<Self::Decision, ProfileRefusal> {
        decide_profile_update(&snapshot, &self.patch).map(|profile| (user, profile))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (before, profile): Self::Decision,
    ) -> StoreResult<User> {
        let external_id = self.external_id.filter(|id| *id != before.external_id);
        let user_name = self
            .user_name
            .map(|name| name.map(String::from))
            .filter(|name| *name != before.user_name);
        let email_primary = self
            .email_primary
            .filter(|primary| *primary != before.email_primary);
        let account_changed = external_id.is_some()
            || self.password_hash.is_some()
            || user_name.is_some()
            || email_primary.is_some();
        let kept_name = user_name
            .clone()
            .unwrap_or_else(|| before.user_name.clone());
        if account_changed {
            let search_text = user_name.as_ref().map(|name| {
                user_search_text(
                    before.title.as_deref(),
                    &before.first_name,
                    &before.last_name,
                    &before.email,
                    name.as_deref(),
                )
            });
            diesel::update(users::table.find(self.id))
                .set((
                    external_id.map(|id| users::external_id.eq(id)),
                    self.password_hash.map(|h| users::password_hash.eq(Some(h))),
                    user_name.as_ref().map(|name| {
                        users::user_name_normalized.eq(name.as_deref().map(str::to_lowercase))
                    }),
                    user_name.map(|name| users::user_name.eq(name)),
                    email_primary.map(|primary| users::email_primary.eq(primary)),
                    search_text.map(|text| users::search_text.eq(text)),
                    users::version.eq(users::version + 1),
                    users::updated_at.eq(now()),
                ))
                .execute(conn)?;
        }
        let Some(p) = profile else {
            return if account_changed {
                edited(conn, ctx, AuditAction::UserUpdated, &before)
            } else {
                Ok(before)
            };
        };
        let email_normalized = self
            .patch
            .email
            .map_or_else(|| before.email.to_lowercase(), |e| e.normalized());
        diesel::update(users::table.find(self.id))
            .set((
                users::search_text.eq(user_search_text(
                    p.title.as_deref(),
                    &p.first_name,
                    &p.last_name,
                    &p.email,
                    kept_name.as_deref(),
                )),
                users::title.eq(&p.title),
                users::sort_first_name.eq(sort_key(&p.first_name)),
                users::sort_last_name.eq(sort_key(&p.last_name)),
                users::first_name.eq(&p.first_name),
                users::last_name.eq(&p.last_name),
                users::email.eq(&p.email),
                users::email_normalized.eq(&email_normalized),
                users::profession.eq(p.profession),
                users::version.eq(users::version + 1),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        edited(conn, ctx, AuditAction::UserUpdated, &before)
    }
}

/// Runs [`UpdateProfile`] with its refusals as store errors (for the operator's tools and
/// tests).
pub fn update(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: UserId,
    expected_version: Option<i64>,
    patch: UserPatch,
) -> StoreResult<User> {
    let update = UpdateProfile::profile(id, expected_version, patch);
    usecase::run(conn, ctx, update, |user| user, None).map_err(|failure| match failure {
        Failure::Store(e) => e,
        Failure::Refused(ProfileRefusal::EmailTaken) => StoreError::Conflict(Conflict::EmailTaken),
        Failure::Refused(ProfileRefusal::ProfessionNotAllowed(refusal)) => {
            StoreError::Conflict(Conflict::ProfessionNotAllowed(refusal))
        }
    })
}

/// Reads the user again after a write and records `action` from `before` to them.
fn edited(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    action: AuditAction,
    before: &User,
) -> StoreResult<User> {
    let after = get(conn, ctx.site_id, before.id)?;
    audit::record(conn, ctx, user_change(action, before, &after))?;
    Ok(after)
}

fn user_change(action: AuditAction, before: &User, after: &User) -> Change {
    Change::edited(action, AuditTarget::User(after.id), before, after)
}

/// `POST /v1/users/{id}/deactivate` and `…/reactivate`: sets a user's status. Setting the
/// status a user already has changes nothing; reactivation needs a licence; the last
/// active site admin stays active (`staffroom_domain::decide_status`).
#[derive(Debug, Clone)]
pub struct SetStatus {
    pub id: UserId,
    pub expected_version: Option<i64>,
    pub status: UserStatus,
}

impl UseCase for SetStatus {
    type Snapshot = (User, StatusSnapshot);
    type Decision = (User, StatusChange);
    type Refusal = StatusRefusal;
    type Output = User;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        let user = user_rows::get_at(conn, ctx.site_id, self.id, self.expected_version)?;
        let others = other_active_holders(conn, ctx.site_id, Permission::SiteAdmin, None, user.id)?;
        let (plan, usage) = sites::plan_and_usage(conn, ctx.site_id)?;
        let site = StatusSnapshot {
            status: user.status,
            user_type: user.user_type,
            site_admin: user.has(Permission::SiteAdmin),
            other_site_admins: u64::try_from(others).unwrap_or(0),
            plan,
            usage,
        };
        Ok((user, site))
    }

    fn decide(&self, (user, site): Self::Snapshot) -> Result<Self::Decision, StatusRefusal> {
        decide_status(&site, self.status).map(|change| (user, change))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (before, change): Self::Decision,
    ) -> StoreResult<User> {
        let action = match change {
            StatusChange::Unchanged => return Ok(before),
            StatusChange::Deactivate => AuditAction::UserDeactivated,
            StatusChange::Reactivate => AuditAction::UserReactivated,
        };
        diesel::update(users::table.find(self.id))
            .set((
                users::status.eq(self.status),
                users::version.eq(users::version + 1),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        edited(conn, ctx, action, &before)
    }
}

/// `DELETE /scim/v2/Users/{id}` (RFC 7644 §3.6), after [`SetStatus`] deactivated the user
/// in the same transaction: marks the user deleted for SCIM. The record stays for history
/// and REST (SPEC §2), and its email stays taken; every `/scim/v2` operation on it answers
/// `404` from then on (`crate::scim_reads::user`). A user already deleted is not found.
#[derive(Debug, Clone)]
pub struct MarkScimDeleted {
    pub id: UserId,
}

impl UseCase for MarkScimDeleted {
    type Snapshot = User;
    type Decision = User;
    type Refusal = std::convert::Infallible;
    type Output = ();

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<User> {
        if user_rows::scim_deleted(conn, ctx.site_id, self.id)? {
            return Err(StoreError::NotFound);
        }
        get(conn, ctx.site_id, self.id)
    }

    fn decide(&self, user: User) -> Result<User, std::convert::Infallible> {
        Ok(user)
    }

    fn write(self, conn: &mut DbConnection, ctx: &AuditContext, before: User) -> StoreResult<()> {
        let at = now();
        diesel::update(users::table.find(self.id))
            .set((
                users::scim_deleted_at.eq(Some(at)),
                users::version.eq(users::version + 1),
                users::updated_at.eq(at),
            ))
            .execute(conn)?;
        edited(conn, ctx, AuditAction::UserScimDeleted, &before).map(|_| ())
    }
}

/// Runs [`SetStatus`] with its refusals as store errors (for the operator's tools and
/// tests).
pub fn set_status(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: UserId,
    expected_version: Option<i64>,
    status: UserStatus,
) -> StoreResult<User> {
    let set = SetStatus {
        id,
        expected_version,
        status,
    };
    usecase::run(conn, ctx, set, |user| user, None).map_err(|failure| match failure {
        Failure::Store(e) => e,
        Failure::Refused(StatusRefusal::LastAdmin) => StoreError::Conflict(Conflict::LastAdmin),
        Failure::Refused(StatusRefusal::Licence { error, plan, usage }) => {
            StoreError::Licence(Box::new(LicenceRefusal { error, plan, usage }))
        }
    })
}

/// `PUT /v1/users/{id}/type`: changes a user's type (site administrators, SPEC §2). The
/// type changes at once; the diary follows at the user's next login. An active user's
/// switch must fit the plan (`staffroom_domain::decide_type_change`).
#[derive(Debug, Clone)]
pub struct ChangeType {
    pub id: UserId,
    pub expected_version: Option<i64>,
    pub user_type: UserType,
}

impl UseCase for ChangeType {
    type Snapshot = (User, TypeChangeSnapshot);
    type Decision = (User, Option<UserType>);
    type Refusal = LicenceRefusal;
    type Output = User;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        let user = user_rows::get_at(conn, ctx.site_id, self.id, self.expected_version)?;
        let (plan, usage) = sites::plan_and_usage(conn, ctx.site_id)?;
        let snapshot = TypeChangeSnapshot {
            user_type: user.user_type,
            active: user.is_active(),
            plan,
            usage,
        };
        Ok((user, snapshot))
    }

    fn decide(&self, (user, site): Self::Snapshot) -> Result<Self::Decision, LicenceRefusal> {
        decide_type_change(&site, self.user_type).map(|change| (user, change))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (before, change): Self::Decision,
    ) -> StoreResult<User> {
        let Some(user_type) = change else {
            return Ok(before);
        };
        diesel::update(users::table.find(self.id))
            .set((
                users::user_type.eq(user_type),
                users::version.eq(users::version + 1),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        edited(conn, ctx, AuditAction::UserTypeChanged, &before)
    }
}

/// A user whose email and password may match a login attempt.
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    pub user_id: UserId,
    pub site_id: SiteId,
    pub password_hash: String,
}

/// Active users with a password and this email, in every site or in the one given.
pub fn login_candidates(
    conn: &mut DbConnection,
    email: &Email,
    site: Option<SiteId>,
) -> StoreResult<Vec<LoginCandidate>> {
    let mut query = users::table
        .filter(users::email_normalized.eq(email.normalized()))
        .filter(users::status.eq(UserStatus::Active))
        .filter(users::password_hash.is_not_null())
        .select((users::id, users::site_id, users::password_hash))
        .into_boxed();
    if let Some(site) = site {
        query = query.filter(users::site_id.eq(site));
    }
    Ok(query
        .load::<(UserId, SiteId, Option<String>)>(conn)?
        .into_iter()
        .map(|(user_id, site_id, hash)| LoginCandidate {
            user_id,
            site_id,
            password_hash: hash.unwrap_or_default(),
        })
        .collect())
}
