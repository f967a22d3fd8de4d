//! The stored user: the `users` row, its hydration with permissions and clinic access into
//! a [`User`], and the reads and row writes that several use-cases share (a new user's rows,
//! the filters of a user list, who else holds a permission). Nothing here opens a
//! transaction or writes audit: that is the use-cases' part.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use staffroom_domain::{
    AuditAction, AuditTarget, ClinicId, Email, Permission, PersonName, Profession, SiteId,
    UserCreation, UserCreationRequest, UserCreationSnapshot, UserId, UserName, UserStatus,
    UserType,
};

use crate::audit::Change;
use crate::backend;
use crate::schema::{user_clinics, user_permissions, users};
use crate::search::{like_pattern, sort_key, suffix_range, user_search_text};
use crate::timestamps::StoredTimestamp;
use crate::tx::{check_version, now};
use crate::{DbConnection, StoreError, StoreResult, clinics, sites};

/// The backend type of `DbConnection` (either database).
type Backend = <DbConnection as diesel::Connection>::Backend;

/// The columns of a `users` row that a [`User`] is made of, as read and as written.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserColumns {
    pub(crate) id: UserId,
    site_id: SiteId,
    title: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    user_type: UserType,
    profession: Profession,
    status: UserStatus,
    default_clinic_id: ClinicId,
    diary_enabled: bool,
    external_id: Option<String>,
    last_login_at: Option<NaiveDateTime>,
    version: i64,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    updated_at: NaiveDateTime,
    user_name: Option<String>,
    email_primary: Option<bool>,
}

/// A user as read: its columns and whether it has a password. Not the hash, the search
/// text or the sort keys, which no answer sends and every read would copy.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    #[diesel(embed)]
    columns: UserColumns,
    #[diesel(select_expression = users::password_hash.is_not_null())]
    #[diesel(select_expression_type = diesel::dsl::IsNotNull<users::password_hash>)]
    has_password: bool,
}

/// A new `users` row: its columns and what only writes and searches use.
#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow {
    #[diesel(embed)]
    columns: UserColumns,
    email_normalized: String,
    search_text: String,
    sort_first_name: String,
    sort_last_name: String,
    password_hash: Option<String>,
    user_name_normalized: Option<String>,
}

/// A user with their permissions and clinic access.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct User {
    pub id: UserId,
    pub site_id: SiteId,
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub user_type: UserType,
    pub profession: Profession,
    pub status: UserStatus,
    pub permissions: Vec<Permission>,
    pub clinic_ids: Vec<ClinicId>,
    pub default_clinic_id: ClinicId,
    pub diary_enabled: bool,
    /// False until the user has set a password (by invitation or `initial_password`).
    pub has_password: bool,
    /// The identity provider's id of the user (SCIM `externalId`), if one was given.
    pub external_id: Option<String>,
    /// The SCIM `userName` when it is not the email (a login name of the identity provider);
    /// `None`: the userName is the email. Login stays by email.
    pub user_name: Option<String>,
    /// SCIM `emails.primary` as sent; `None`: never sent (read as `true`).
    pub email_primary: Option<bool>,
    pub last_login_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewUser {
    /// What the request asks the creation rules for.
    pub fn request(&self) -> UserCreationRequest {
        UserCreationRequest {
            user_type: self.user_type,
            profession: self.profession,
            permissions: self.permissions.clone(),
            clinic_ids: self.clinic_ids.clone(),
            default_clinic_id: self.default_clinic_id,
        }
    }
}

impl User {
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }
}

impl UserColumns {
    fn into_user(
        self,
        has_password: bool,
        permissions: Vec<Permission>,
        clinic_ids: Vec<ClinicId>,
    ) -> User {
        User {
            id: self.id,
            site_id: self.site_id,
            title: self.title,
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            user_type: self.user_type,
            profession: self.profession,
            status: self.status,
            permissions,
            clinic_ids,
            default_clinic_id: self.default_clinic_id,
            diary_enabled: self.diary_enabled,
            has_password,
            external_id: self.external_id,
            user_name: self.user_name,
            email_primary: self.email_primary,
            last_login_at: self.last_login_at,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Loads permissions and clinic access for a batch of rows (two queries, not two per user,
/// each one statement whatever the batch's size).
pub(crate) fn hydrate(conn: &mut DbConnection, rows: Vec<UserRow>) -> StoreResult<Vec<User>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<UserId> = rows.iter().map(|r| r.columns.id).collect();
    let mut permissions: HashMap<UserId, Vec<Permission>> = HashMap::new();
    for (user_id, permission) in backend::permissions_of(conn, &ids)? {
        permissions.entry(user_id).or_default().push(permission);
    }
    let mut clinic_ids: HashMap<UserId, Vec<ClinicId>> = HashMap::new();
    for (user_id, clinic_id) in backend::clinics_of(conn, &ids)? {
        clinic_ids.entry(user_id).or_default().push(clinic_id);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut perms = permissions.remove(&row.columns.id).unwrap_or_default();
            perms.sort();
            let clinics = clinic_ids.remove(&row.columns.id).unwrap_or_default();
            row.columns.into_user(row.has_password, perms, clinics)
        })
        .collect())
}

/// Whether a SCIM client deleted the user (`users.scim_deleted_at` set); `false` for a
/// user the site does not have.
pub fn scim_deleted(conn: &mut DbConnection, site: SiteId, id: UserId) -> StoreResult<bool> {
    let deleted: Option<Option<chrono::NaiveDateTime>> = users::table
        .filter(users::site_id.eq(site))
        .filter(users::id.eq(id))
        .select(users::scim_deleted_at)
        .first(conn)
        .optional()?;
    Ok(matches!(deleted, Some(Some(_))))
}

/// One user of the site; `NotFound` for another site's user.
pub fn get(conn: &mut DbConnection, site: SiteId, id: UserId) -> StoreResult<User> {
    let row = users::table
        .filter(users::site_id.eq(site))
        .filter(users::id.eq(id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    hydrate(conn, vec![row])?.pop().ok_or(StoreError::NotFound)
}

/// The users of `site` with the ids `ids`, in that order: the page a list found by its
/// keys, read in one statement whatever its length (a user gone since is left out).
pub(crate) fn in_order(
    conn: &mut DbConnection,
    site: SiteId,
    ids: &[UserId],
) -> StoreResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // No site condition in SQL: the planner would walk the site's users by it. The ids
    // come from a list of the site; a row of another site is dropped below all the same.
    let rows: Vec<UserRow> = match conn {
        DbConnection::Pg(c) => users::table
            .select(UserRow::as_select())
            .filter(users::id.eq_any(ids))
            .load(c)?,
        DbConnection::Sqlite(c) => users::table
            .select(UserRow::as_select())
            .filter(backend::in_json_array(users::id, ids)?)
            .load(c)?,
    };
    let mut by_id: HashMap<UserId, UserRow> = rows
        .into_iter()
        .filter(|r| r.columns.site_id == site)
        .map(|r| (r.columns.id, r))
        .collect();
    let ordered = ids.iter().filter_map(|id| by_id.remove(id)).collect();
    hydrate(conn, ordered)
}

/// Order of a user list; every order ends with the id so pages never skip or repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    #[default]
    LastName,
    FirstName,
    Email,
    /// Creation order (ids are time-ordered UUIDv7).
    CreatedAt,
}

#[derive(Debug, Clone)]
pub struct UserQuery {
    pub user_type: Option<UserType>,
    pub status: Option<UserStatus>,
    pub profession: Option<Profession>,
    pub clinic_id: Option<ClinicId>,
    /// Case-insensitive substring of name or email.
    pub q: Option<String>,
    pub sort: UserSort,
    pub descending: bool,
    pub limit: i64,
    pub cursor: Option<String>,
}

impl Default for UserQuery {
    fn default() -> Self {
        Self {
            user_type: None,
            status: None,
            profession: None,
            clinic_id: None,
            q: None,
            sort: UserSort::default(),
            descending: false,
            limit: crate::page::DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

impl UserQuery {
    /// Whether the list is a walk of one sort index, at most `limit + 1` keys whatever the
    /// site's size: sorted by a name or the email (each has a `(site_id, key, …)` index; the
    /// creation order is by id, which no index of the site serves), with no filter and no
    /// text, which could make it pass over many users that do not match before it fills a
    /// page.
    pub fn is_bounded(&self) -> bool {
        self.sort != UserSort::CreatedAt
            && self.user_type.is_none()
            && self.status.is_none()
            && self.profession.is_none()
            && self.clinic_id.is_none()
            && self.q.as_deref().is_none_or(|t| t.trim().is_empty())
    }
}

/// The site's users matching the filters of `q` (not its order or page), as a query for the
/// backend of `conn`.
///
/// A `q` of three characters or more is served by the suffix table `user_search_suffixes`
/// ([`crate::search::suffix_range`]): a range scan of the suffixes starting with `q`, so the
/// work grows with the matches and the logarithm of the site, not with the site; a `q`
/// longer than the stored suffixes is rechecked against the text. Shorter ones keep the
/// `LIKE` over the site's users, in sort order (they match most users, and the first page
/// is found early).
pub(crate) fn filtered(site: SiteId, q: &UserQuery) -> users::BoxedQuery<'static, Backend> {
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let mut query = match text.map(|t| (t, suffix_range(t))) {
        Some((text, Some(((low, high), truncated)))) => {
            let matched = users::table
                .filter(backend::SuffixMatch::new(site, low, high))
                .into_boxed();
            if truncated {
                matched.filter(users::search_text.like(like_pattern(text)).escape('\\'))
            } else {
                matched
            }
        }
        Some((text, None)) => users::table
            .filter(users::site_id.eq(site))
            .filter(users::search_text.like(like_pattern(text)).escape('\\'))
            .into_boxed(),
        None => users::table.filter(users::site_id.eq(site)).into_boxed(),
    };
    if let Some(v) = q.user_type {
        query = query.filter(users::user_type.eq(v));
    }
    if let Some(v) = q.status {
        query = query.filter(users::status.eq(v));
    }
    if let Some(v) = q.profession {
        query = query.filter(users::profession.eq(v));
    }
    if let Some(clinic) = q.clinic_id {
        let members = user_clinics::table
            .filter(user_clinics::clinic_id.eq(clinic))
            .select(user_clinics::user_id);
        query = query.filter(users::id.eq_any(members));
    }
    query
}

/// Whether another user of the site (than `except`) has this email.
pub(crate) fn email_taken(
    conn: &mut DbConnection,
    site: SiteId,
    email: &Email,
    except: Option<UserId>,
) -> StoreResult<bool> {
    let mut query = users::table
        .filter(users::site_id.eq(site))
        .filter(users::email_normalized.eq(email.normalized()))
        .select(users::id)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(users::id.ne(id));
    }
    Ok(query.first::<UserId>(conn).optional()?.is_some()
        || user_name_taken(conn, site, &email.normalized(), except)?)
}

/// The SCIM userName of a user, lower-cased: its login name, else its email. The unique
/// index `users_site_user_name` is on `(site_id, this)`.
pub(crate) const USER_NAME_KEY: &str =
    "coalesce(users.user_name_normalized, users.email_normalized)";

/// Whether another user of the site (than `except`) has the SCIM userName `key`
/// (lower-cased): userNames are unique across login names and emails.
pub(crate) fn user_name_taken(
    conn: &mut DbConnection,
    site: SiteId,
    key: &str,
    except: Option<UserId>,
) -> StoreResult<bool> {
    let mut query = users::table
        .filter(users::site_id.eq(site))
        .filter(diesel::dsl::sql::<diesel::sql_types::Text>(USER_NAME_KEY).eq(key.to_owned()))
        .select(users::id)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(users::id.ne(id));
    }
    Ok(query.first::<UserId>(conn).optional()?.is_some())
}

/// The user being changed, at the version the caller expects (`If-Match`).
pub(crate) fn get_at(
    conn: &mut DbConnection,
    site: SiteId,
    id: UserId,
    expected_version: Option<i64>,
) -> StoreResult<User> {
    let user = get(conn, site, id)?;
    check_version(expected_version, user.version)?;
    Ok(user)
}

/// Active users other than `except` holding `permission` (and, if given, `clinic`). The
/// site is the grants' (`user_permissions.site_id`): with it on `users` as well, SQLite
/// walks the site's users instead of looking up the holders.
pub(crate) fn other_active_holders(
    conn: &mut DbConnection,
    site: SiteId,
    permission: Permission,
    clinic: Option<ClinicId>,
    except: UserId,
) -> StoreResult<i64> {
    let holders = user_permissions::table
        .filter(user_permissions::site_id.eq(site))
        .filter(user_permissions::permission.eq(permission))
        .select(user_permissions::user_id);
    let mut query = users::table
        .filter(users::status.eq(UserStatus::Active))
        .filter(users::id.ne(except))
        .filter(users::id.eq_any(holders))
        .into_boxed();
    if let Some(clinic) = clinic {
        let members = user_clinics::table
            .filter(user_clinics::clinic_id.eq(clinic))
            .select(user_clinics::user_id);
        query = query.filter(users::id.eq_any(members));
    }
    Ok(query.count().get_result(conn)?)
}

/// A user to create, as asked; the password (if any) is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub title: Option<PersonName>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub email: Email,
    pub user_type: UserType,
    pub profession: Profession,
    pub permissions: Vec<Permission>,
    pub clinic_ids: Vec<ClinicId>,
    pub default_clinic_id: Option<ClinicId>,
    pub password_hash: Option<String>,
    /// The identity provider's id of the user (SCIM `externalId`).
    pub external_id: Option<String>,
    /// The SCIM `userName` when it is not the email; `None` for every other way of creating
    /// a user.
    pub user_name: Option<UserName>,
    /// SCIM `emails.primary` as sent; `None` for every other way of creating a user.
    pub email_primary: Option<bool>,
}

/// What a user creation decides on, read after the site lock.
pub(crate) fn creation_snapshot(
    conn: &mut DbConnection,
    site: SiteId,
    email: &Email,
    user_name: Option<&UserName>,
) -> StoreResult<UserCreationSnapshot> {
    let (plan, usage) = sites::plan_and_usage(conn, site)?;
    let key = user_name.map_or_else(|| email.normalized(), UserName::normalized);
    Ok(UserCreationSnapshot {
        email_taken: email_taken(conn, site, email, None)?
            || user_name_taken(conn, site, &key, None)?,
        site_clinics: clinics::ids(conn, site)?,
        plan,
        usage,
    })
}

/// Writes a new user of `site` as `decided` (its grants, clinics and diary), with the
/// profile and password of `new`. The caller holds the site lock and records [`created`].
pub(crate) fn insert(
    conn: &mut DbConnection,
    site: SiteId,
    new: NewUser,
    decided: UserCreation,
) -> StoreResult<User> {
    let at = now();
    let title = new.title.as_ref().map(|t| t.as_str().to_owned());
    let row = NewUserRow {
        search_text: user_search_text(
            title.as_deref(),
            new.first_name.as_str(),
            new.last_name.as_str(),
            new.email.as_str(),
            new.user_name.as_ref().map(UserName::as_str),
        ),
        sort_first_name: sort_key(new.first_name.as_str()),
        sort_last_name: sort_key(new.last_name.as_str()),
        email_normalized: new.email.normalized(),
        password_hash: new.password_hash,
        columns: UserColumns {
            id: UserId::new(),
            site_id: site,
            title,
            first_name: new.first_name.as_str().to_owned(),
            last_name: new.last_name.as_str().to_owned(),
            email: new.email.as_str().to_owned(),
            user_type: decided.user_type,
            profession: decided.profession,
            status: UserStatus::Active,
            default_clinic_id: decided.default_clinic_id,
            diary_enabled: decided.diary_enabled,
            external_id: new.external_id,
            last_login_at: None,
            version: 1,
            created_at: at,
            updated_at: at,
            user_name: new.user_name.as_ref().map(|n| n.as_str().to_owned()),
            email_primary: new.email_primary,
        },
        user_name_normalized: new.user_name.as_ref().map(UserName::normalized),
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)?;
    let id = row.columns.id;
    let grants: Vec<(UserId, Permission)> = decided.permissions.iter().map(|p| (id, *p)).collect();
    backend::insert_permissions(conn, site, &grants)?;
    let access: Vec<(UserId, ClinicId)> = decided.clinic_ids.iter().map(|c| (id, *c)).collect();
    backend::insert_clinics(conn, site, &access)?;
    let has_password = row.password_hash.is_some();
    Ok(row
        .columns
        .into_user(has_password, decided.permissions, decided.clinic_ids))
}

/// The audit event of a user written by [`insert`].
pub(crate) fn created(user: &User) -> Change {
    Change::created(AuditAction::UserCreated, AuditTarget::User(user.id), user)
}
