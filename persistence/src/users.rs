//! Users: their profile, type, status, permissions and clinic access, and the use-cases that
//! change them atomically with their audit events.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use staffroom_domain::{
    ClinicId, Email, FieldError, LicenceChange, Permission, PersonName, Profession, SiteId, UserId,
    UserStatus, UserType,
};

use crate::audit::{self, Change};
use crate::error::Conflict;
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::{user_clinics, user_permissions, users};
use crate::tx::{AuditContext, check_version, now, write_tx};
use crate::{DbConnection, StoreError, StoreResult, clinics, sites};

/// The backend type of `DbConnection` (either database).
type Backend = <DbConnection as diesel::Connection>::Backend;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    site_id: String,
    title: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    email_normalized: String,
    search_text: String,
    sort_first_name: String,
    sort_last_name: String,
    user_type: String,
    profession: String,
    status: String,
    default_clinic_id: String,
    diary_enabled: bool,
    password_hash: Option<String>,
    last_login_at: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
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
    pub last_login_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl User {
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }
}

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::corrupt(e)
}

impl UserRow {
    fn into_user(
        self,
        permissions: Vec<Permission>,
        clinic_ids: Vec<ClinicId>,
    ) -> StoreResult<User> {
        Ok(User {
            id: self.id.parse().map_err(corrupt)?,
            site_id: self.site_id.parse().map_err(corrupt)?,
            title: self.title,
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            user_type: self.user_type.parse().map_err(corrupt)?,
            profession: self.profession.parse().map_err(corrupt)?,
            status: self.status.parse().map_err(corrupt)?,
            permissions,
            clinic_ids,
            default_clinic_id: self.default_clinic_id.parse().map_err(corrupt)?,
            diary_enabled: self.diary_enabled,
            has_password: self.password_hash.is_some(),
            last_login_at: self.last_login_at,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Loads permissions and clinic access for a batch of rows (two queries, not two per user).
fn hydrate(conn: &mut DbConnection, rows: Vec<UserRow>) -> StoreResult<Vec<User>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&String> = rows.iter().map(|r| &r.id).collect();
    let mut permissions: HashMap<String, Vec<Permission>> = HashMap::new();
    for (user_id, permission) in user_permissions::table
        .filter(user_permissions::user_id.eq_any(&ids))
        .select((user_permissions::user_id, user_permissions::permission))
        .load::<(String, String)>(conn)?
    {
        permissions
            .entry(user_id)
            .or_default()
            .push(permission.parse().map_err(corrupt)?);
    }
    let mut clinic_ids: HashMap<String, Vec<ClinicId>> = HashMap::new();
    for (user_id, clinic_id) in user_clinics::table
        .filter(user_clinics::user_id.eq_any(&ids))
        .select((user_clinics::user_id, user_clinics::clinic_id))
        .order(user_clinics::clinic_id.asc())
        .load::<(String, String)>(conn)?
    {
        clinic_ids
            .entry(user_id)
            .or_default()
            .push(clinic_id.parse().map_err(corrupt)?);
    }
    rows.into_iter()
        .map(|row| {
            let mut perms = permissions.remove(&row.id).unwrap_or_default();
            perms.sort();
            let clinics = clinic_ids.remove(&row.id).unwrap_or_default();
            row.into_user(perms, clinics)
        })
        .collect()
}

pub fn get(conn: &mut DbConnection, site: SiteId, id: UserId) -> StoreResult<User> {
    let row = users::table
        .filter(users::site_id.eq(site.to_string()))
        .filter(users::id.eq(id.to_string()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    hydrate(conn, vec![row])?.pop().ok_or(StoreError::NotFound)
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

/// A `LIKE` pattern matching `q` anywhere, lower-cased, with wildcards escaped by `\`.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut pattern = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Applies the keyset cursor and the order for one sort column.
macro_rules! keyset {
    ($query:expr, $col:expr, $q:expr) => {{
        let mut query = $query;
        if let Some(cursor) = &$q.cursor {
            let (value, id): (String, String) = decode_cursor(cursor)?;
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

/// The site's users matching the filters of `q` (not its order or page).
pub(crate) fn filtered(site: SiteId, q: &UserQuery) -> users::BoxedQuery<'static, Backend> {
    let mut query = users::table
        .filter(users::site_id.eq(site.to_string()))
        .into_boxed();
    if let Some(v) = q.user_type {
        query = query.filter(users::user_type.eq(v.as_str()));
    }
    if let Some(v) = q.status {
        query = query.filter(users::status.eq(v.as_str()));
    }
    if let Some(v) = q.profession {
        query = query.filter(users::profession.eq(v.as_str()));
    }
    if let Some(clinic) = q.clinic_id {
        let members = user_clinics::table
            .filter(user_clinics::clinic_id.eq(clinic.to_string()))
            .select(user_clinics::user_id);
        query = query.filter(users::id.eq_any(members));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        query = query.filter(users::search_text.like(like_pattern(text)).escape('\\'));
    }
    query
}

pub fn list(conn: &mut DbConnection, site: SiteId, q: &UserQuery) -> StoreResult<Page<User>> {
    let query = filtered(site, q)
        .select(UserRow::as_select())
        .limit(q.limit + 1);
    let query = match q.sort {
        UserSort::LastName => keyset!(query, users::sort_last_name, q),
        UserSort::FirstName => keyset!(query, users::sort_first_name, q),
        UserSort::Email => keyset!(query, users::email_normalized, q),
        UserSort::CreatedAt => keyset!(query, users::id, q),
    };
    let rows = query.load(conn)?;
    let sort = q.sort;
    let page = page_from_rows(rows, q.limit, |r: &UserRow| {
        let value = match sort {
            UserSort::LastName => r.sort_last_name.clone(),
            UserSort::FirstName => r.sort_first_name.clone(),
            UserSort::Email => r.email_normalized.clone(),
            UserSort::CreatedAt => r.id.clone(),
        };
        (value, r.id.clone())
    });
    Ok(Page {
        items: hydrate(conn, page.items)?,
        next_cursor: page.next_cursor,
    })
}

/// A user to create; the password (if any) is already hashed.
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
}

/// The key names sort by: lower-cased in Rust, so both backends order alike.
fn sort_key(name: &str) -> String {
    name.to_lowercase()
}

fn search_text(title: Option<&str>, first: &str, last: &str, email: &str) -> String {
    [title.unwrap_or(""), first, last, email]
        .join(" ")
        .trim()
        .to_lowercase()
}

fn email_taken(
    conn: &mut DbConnection,
    site: SiteId,
    email: &Email,
    except: Option<UserId>,
) -> StoreResult<bool> {
    let mut query = users::table
        .filter(users::site_id.eq(site.to_string()))
        .filter(users::email_normalized.eq(email.normalized()))
        .select(users::id)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(users::id.ne(id.to_string()));
    }
    Ok(query.first::<String>(conn).optional()?.is_some())
}

/// Works out the clinic access of a new user: the given clinics (all of the site's), and a
/// default that is one of them; with none given, the site's first clinic.
fn resolve_clinics(
    site_clinics: &[ClinicId],
    requested: &[ClinicId],
    default: Option<ClinicId>,
) -> StoreResult<(Vec<ClinicId>, ClinicId)> {
    let mut errors = Vec::new();
    if requested.iter().any(|c| !site_clinics.contains(c)) {
        errors.push(FieldError::new(
            "clinic_ids",
            "unknown_clinic",
            "Every clinic must be a clinic of this site.",
        ));
    }
    if let Some(d) = default {
        if !site_clinics.contains(&d) {
            errors.push(FieldError::new(
                "default_clinic_id",
                "unknown_clinic",
                "The default clinic must be a clinic of this site.",
            ));
        } else if !requested.is_empty() && !requested.contains(&d) {
            errors.push(FieldError::new(
                "default_clinic_id",
                "not_in_clinic_ids",
                "The default clinic must be one of clinic_ids.",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    let mut clinics: Vec<ClinicId> = requested.to_vec();
    let default = match (default, clinics.first()) {
        (Some(d), _) => d,
        (None, Some(first)) => *first,
        (None, None) => *site_clinics
            .first()
            .ok_or_else(|| StoreError::corrupt("site without clinics"))?,
    };
    if !clinics.contains(&default) {
        clinics.push(default);
    }
    clinics.sort();
    clinics.dedup();
    Ok((clinics, default))
}

/// Inserts a user inside a transaction that already holds the site lock: checks the email,
/// the clinics and the licence, writes the rows and the audit event.
pub(crate) fn insert_locked(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    new: NewUser,
) -> StoreResult<User> {
    let site = ctx.site_id;
    if email_taken(conn, site, &new.email, None)? {
        return Err(StoreError::Conflict(Conflict::EmailTaken));
    }
    let site_clinics = clinics::ids(conn, site)?;
    let (clinic_ids, default_clinic) =
        resolve_clinics(&site_clinics, &new.clinic_ids, new.default_clinic_id)?;
    let refused: Vec<FieldError> = new
        .permissions
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            new.profession.may_hold(*p).err().map(|refusal| {
                FieldError::new(
                    format!("permissions[{i}]"),
                    refusal.code(),
                    refusal.to_string(),
                )
            })
        })
        .collect();
    if !refused.is_empty() {
        return Err(StoreError::Invalid(refused));
    }
    sites::check_licence(conn, site, &LicenceChange::AddUser(new.user_type))?;

    let at = now();
    let id = UserId::new();
    let title = new.title.as_ref().map(|t| t.as_str().to_owned());
    let row = UserRow {
        id: id.to_string(),
        site_id: site.to_string(),
        search_text: search_text(
            title.as_deref(),
            new.first_name.as_str(),
            new.last_name.as_str(),
            new.email.as_str(),
        ),
        title,
        sort_first_name: sort_key(new.first_name.as_str()),
        sort_last_name: sort_key(new.last_name.as_str()),
        first_name: new.first_name.as_str().to_owned(),
        last_name: new.last_name.as_str().to_owned(),
        email: new.email.as_str().to_owned(),
        email_normalized: new.email.normalized(),
        user_type: new.user_type.as_str().to_owned(),
        profession: new.profession.as_str().to_owned(),
        status: UserStatus::Active.as_str().to_owned(),
        default_clinic_id: default_clinic.to_string(),
        diary_enabled: new.user_type == UserType::Clinical,
        password_hash: new.password_hash,
        last_login_at: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)?;
    let mut permissions = new.permissions;
    permissions.sort();
    permissions.dedup();
    for permission in &permissions {
        diesel::insert_into(user_permissions::table)
            .values((
                user_permissions::user_id.eq(&row.id),
                user_permissions::site_id.eq(&row.site_id),
                user_permissions::permission.eq(permission.as_str()),
            ))
            .execute(conn)?;
    }
    for clinic in &clinic_ids {
        diesel::insert_into(user_clinics::table)
            .values((
                user_clinics::user_id.eq(&row.id),
                user_clinics::clinic_id.eq(clinic.to_string()),
                user_clinics::site_id.eq(&row.site_id),
            ))
            .execute(conn)?;
    }
    let user = row.into_user(permissions, clinic_ids)?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "user.created",
            target_type: "user",
            target_id: Some(id.to_string()),
            before: None,
            after: serde_json::to_value(&user).ok(),
        },
    )?;
    Ok(user)
}

/// Creates a user, enforcing email uniqueness, clinic access and the site's licence plan.
pub fn create(conn: &mut DbConnection, ctx: &AuditContext, new: NewUser) -> StoreResult<User> {
    write_tx(conn, ctx.site_id, |conn| insert_locked(conn, ctx, new))
}

/// Profile fields of `PATCH /v1/users/{id}`; `None` leaves a field as it is, and
/// `title: Some(None)` clears the title.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub title: Option<Option<PersonName>>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub email: Option<Email>,
    pub profession: Option<Profession>,
}

pub fn update(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: UserId,
    expected_version: Option<i64>,
    patch: UserPatch,
) -> StoreResult<User> {
    write_tx(conn, ctx.site_id, |conn| {
        let before = get(conn, ctx.site_id, id)?;
        check_version(expected_version, before.version)?;
        if let Some(email) = &patch.email
            && email_taken(conn, ctx.site_id, email, Some(id))?
        {
            return Err(StoreError::Conflict(Conflict::EmailTaken));
        }
        let title = match patch.title {
            Some(t) => t.map(|t| t.as_str().to_owned()),
            None => before.title.clone(),
        };
        let first_name = patch
            .first_name
            .map_or_else(|| before.first_name.clone(), |n| n.as_str().to_owned());
        let last_name = patch
            .last_name
            .map_or_else(|| before.last_name.clone(), |n| n.as_str().to_owned());
        let (email, email_normalized) = match &patch.email {
            Some(e) => (e.as_str().to_owned(), e.normalized()),
            None => (before.email.clone(), before.email.to_lowercase()),
        };
        let profession = patch.profession.unwrap_or(before.profession);
        if let Some((_, refusal)) = profession.refusals(&before.permissions).first() {
            return Err(StoreError::Conflict(Conflict::ProfessionNotAllowed(
                *refusal,
            )));
        }
        if title == before.title
            && first_name == before.first_name
            && last_name == before.last_name
            && email == before.email
            && profession == before.profession
        {
            return Ok(before);
        }
        diesel::update(users::table.find(id.to_string()))
            .set((
                users::search_text.eq(search_text(
                    title.as_deref(),
                    &first_name,
                    &last_name,
                    &email,
                )),
                users::title.eq(&title),
                users::sort_first_name.eq(sort_key(&first_name)),
                users::sort_last_name.eq(sort_key(&last_name)),
                users::first_name.eq(&first_name),
                users::last_name.eq(&last_name),
                users::email.eq(&email),
                users::email_normalized.eq(&email_normalized),
                users::profession.eq(profession.as_str()),
                users::version.eq(users::version + 1),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let after = get(conn, ctx.site_id, id)?;
        audit::record(conn, ctx, user_change("user.updated", &before, &after))?;
        Ok(after)
    })
}

fn user_change<'a>(action: &'a str, before: &User, after: &User) -> Change<'a> {
    Change {
        action,
        target_type: "user",
        target_id: Some(after.id.to_string()),
        before: serde_json::to_value(before).ok(),
        after: serde_json::to_value(after).ok(),
    }
}

/// Deactivates or reactivates a user. Setting the status a user already has changes
/// nothing; reactivation needs a licence; the last active site admin stays active.
pub fn set_status(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: UserId,
    expected_version: Option<i64>,
    status: UserStatus,
) -> StoreResult<User> {
    write_tx(conn, ctx.site_id, |conn| {
        let before = get(conn, ctx.site_id, id)?;
        check_version(expected_version, before.version)?;
        if before.status == status {
            return Ok(before);
        }
        let action = match status {
            UserStatus::Inactive => {
                if before.has(Permission::SiteAdmin)
                    && crate::access::other_active_holders(
                        conn,
                        ctx.site_id,
                        Permission::SiteAdmin,
                        None,
                        id,
                    )? == 0
                {
                    return Err(StoreError::Conflict(Conflict::LastAdmin));
                }
                "user.deactivated"
            }
            UserStatus::Active => {
                sites::check_licence(conn, ctx.site_id, &LicenceChange::AddUser(before.user_type))?;
                "user.reactivated"
            }
        };
        diesel::update(users::table.find(id.to_string()))
            .set((
                users::status.eq(status.as_str()),
                users::version.eq(users::version + 1),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let after = get(conn, ctx.site_id, id)?;
        audit::record(conn, ctx, user_change(action, &before, &after))?;
        Ok(after)
    })
}

/// Changes a user's type (site administrators, SPEC §2). The type changes at once; the
/// diary follows at the user's next login. For an active user the plan must allow the
/// switch; an inactive user holds no licence, so any switch is allowed.
pub fn change_type(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: UserId,
    expected_version: Option<i64>,
    user_type: UserType,
) -> StoreResult<User> {
    write_tx(conn, ctx.site_id, |conn| {
        let before = get(conn, ctx.site_id, id)?;
        check_version(expected_version, before.version)?;
        if before.user_type == user_type {
            return Ok(before);
        }
        if before.is_active() {
            let change = LicenceChange::SwitchType {
                from: before.user_type,
                to: user_type,
            };
            sites::check_licence(conn, ctx.site_id, &change)?;
        }
        diesel::update(users::table.find(id.to_string()))
            .set((
                users::user_type.eq(user_type.as_str()),
                users::version.eq(users::version + 1),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let after = get(conn, ctx.site_id, id)?;
        audit::record(conn, ctx, user_change("user.type_changed", &before, &after))?;
        Ok(after)
    })
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
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .filter(users::password_hash.is_not_null())
        .select((users::id, users::site_id, users::password_hash))
        .into_boxed();
    if let Some(site) = site {
        query = query.filter(users::site_id.eq(site.to_string()));
    }
    query
        .load::<(String, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, site, hash)| {
            Ok(LoginCandidate {
                user_id: id.parse().map_err(corrupt)?,
                site_id: site.parse().map_err(corrupt)?,
                password_hash: hash.unwrap_or_default(),
            })
        })
        .collect()
}

/// Records a successful login: `last_login_at`, and the diary follows the user's type.
pub fn record_login(conn: &mut DbConnection, site: SiteId, id: UserId) -> StoreResult<User> {
    write_tx(conn, site, |conn| {
        let before = get(conn, site, id)?;
        let diary = before.user_type == UserType::Clinical;
        // The diary flipping changes the representation, so it moves the version; a login
        // alone does not (it would fail administrators' If-Match for no reason).
        let at = now();
        let user = users::table.find(id.to_string());
        if diary == before.diary_enabled {
            diesel::update(user)
                .set(users::last_login_at.eq(Some(at)))
                .execute(conn)?;
        } else {
            diesel::update(user)
                .set((
                    users::last_login_at.eq(Some(at)),
                    users::diary_enabled.eq(diary),
                    users::version.eq(users::version + 1),
                    users::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
        let after = get(conn, site, id)?;
        if diary != before.diary_enabled {
            let ctx = AuditContext {
                site_id: site,
                actor_kind: "user".to_owned(),
                actor_id: Some(id.to_string()),
                on_behalf_of: None,
                request_id: None,
            };
            let action = if diary {
                "user.diary_enabled"
            } else {
                "user.diary_disabled"
            };
            audit::record(conn, &ctx, user_change(action, &before, &after))?;
        }
        Ok(after)
    })
}
