//! What `/scim/v2` reads: a page of the site's users matching a SCIM filter (translated by
//! [`crate::scim_filter`] into indexed SQL), counted, sorted and cut by `startIndex` and
//! `count` in the database (an unfiltered list's total is the count the site keeps); the
//! clinics (SCIM Groups) with their members. Writes go through the REST use-cases. A user a SCIM client deleted (`users.scim_deleted_at`) is in none of
//! these: not found by id, not listed, not a Group's member.

use diesel::prelude::*;
use staffroom_domain::{ClinicId, SiteId, UserId};

use crate::clinics::{self, Clinic};
use crate::schema::{sites, user_clinics, users};
use crate::scim_filter::{Cond, Dialect, users_matching};
use crate::user_rows::{self, User, UserRow, hydrate};
use crate::{DbConnection, StoreError, StoreResult};

/// The attribute a user list is sorted by (`sortBy`); every order ends with the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScimUserSort {
    /// `meta.created`, the order of a list without `sortBy`.
    #[default]
    Created,
    LastModified,
    UserName,
    GivenName,
    FamilyName,
    ExternalId,
    Id,
}

/// A user's SCIM userName, lower-cased: the order of `sortBy=userName`.
fn user_name_key() -> diesel::expression::SqlLiteral<diesel::sql_types::Text> {
    diesel::dsl::sql::<diesel::sql_types::Text>(user_rows::USER_NAME_KEY)
}

/// The user `id` as SCIM sees it: not found once a SCIM client deleted it.
pub fn user(conn: &mut DbConnection, site: SiteId, id: UserId) -> StoreResult<User> {
    if user_rows::scim_deleted(conn, site, id)? {
        return Err(StoreError::NotFound);
    }
    user_rows::get(conn, site, id)
}

/// One page of a user list: how many match in all, and the page's users.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUserPage {
    pub total: i64,
    pub users: Vec<User>,
}

/// How many of the site's users SCIM shows match `cond`. Without a filter that is the count
/// the site keeps (`sites.scim_users`, maintained by triggers on `users`): counting would
/// visit every user of the site on every page. A filter is counted over its matches, which
/// its index finds.
fn total(conn: &mut DbConnection, dialect: Dialect, site: SiteId, cond: &Cond) -> StoreResult<i64> {
    if *cond == Cond::Const(true) {
        return sites::table
            .find(site)
            .select(sites::scim_users)
            .first(conn)
            .optional()?
            .ok_or(StoreError::NotFound);
    }
    Ok(users_matching(dialect, site, cond)
        .filter(users::scim_deleted_at.is_null())
        .count()
        .get_result(conn)?)
}

/// The site's users matching `cond`, sorted by `sort`, from the 1-based `start_index`, at
/// most `count` of them (`count` 0 asks for the total only).
pub fn users_page(
    conn: &mut DbConnection,
    site: SiteId,
    cond: &Cond,
    sort: ScimUserSort,
    descending: bool,
    start_index: i64,
    count: i64,
) -> StoreResult<ScimUserPage> {
    let dialect = Dialect::of(conn);
    let total = total(conn, dialect, site, cond)?;
    if count <= 0 {
        return Ok(ScimUserPage {
            total,
            users: Vec::new(),
        });
    }
    let query = users_matching(dialect, site, cond)
        .filter(users::scim_deleted_at.is_null())
        .select(UserRow::as_select())
        .offset(start_index.max(1) - 1)
        .limit(count);
    let query = match (sort, descending) {
        (ScimUserSort::Created, false) => query.order((users::created_at.asc(), users::id.asc())),
        (ScimUserSort::Created, true) => query.order((users::created_at.desc(), users::id.desc())),
        (ScimUserSort::LastModified, false) => {
            query.order((users::updated_at.asc(), users::id.asc()))
        }
        (ScimUserSort::LastModified, true) => {
            query.order((users::updated_at.desc(), users::id.desc()))
        }
        (ScimUserSort::UserName, false) => query.order((user_name_key().asc(), users::id.asc())),
        (ScimUserSort::UserName, true) => query.order((user_name_key().desc(), users::id.desc())),
        (ScimUserSort::GivenName, false) => {
            query.order((users::sort_first_name.asc(), users::id.asc()))
        }
        (ScimUserSort::GivenName, true) => {
            query.order((users::sort_first_name.desc(), users::id.desc()))
        }
        (ScimUserSort::FamilyName, false) => {
            query.order((users::sort_last_name.asc(), users::id.asc()))
        }
        (ScimUserSort::FamilyName, true) => {
            query.order((users::sort_last_name.desc(), users::id.desc()))
        }
        (ScimUserSort::ExternalId, false) => {
            query.order((users::external_id.asc(), users::id.asc()))
        }
        (ScimUserSort::ExternalId, true) => {
            query.order((users::external_id.desc(), users::id.desc()))
        }
        (ScimUserSort::Id, false) => query.order(users::id.asc()),
        (ScimUserSort::Id, true) => query.order(users::id.desc()),
    };
    let rows = query.load(conn)?;
    Ok(ScimUserPage {
        total,
        users: hydrate(conn, rows)?,
    })
}

/// A member of a clinic as a Group lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
}

/// A clinic with the users who have access to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicWithMembers {
    pub clinic: Clinic,
    pub members: Vec<Member>,
}

/// The members of `clinic`, oldest user first.
fn members(conn: &mut DbConnection, site: SiteId, clinic: ClinicId) -> StoreResult<Vec<Member>> {
    let rows: Vec<(UserId, String, String)> = user_clinics::table
        .inner_join(users::table.on(users::id.eq(user_clinics::user_id)))
        .filter(user_clinics::site_id.eq(site))
        .filter(user_clinics::clinic_id.eq(clinic))
        .filter(users::scim_deleted_at.is_null())
        .order((users::created_at.asc(), users::id.asc()))
        .select((users::id, users::first_name, users::last_name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, first_name, last_name)| Member {
            id,
            first_name,
            last_name,
        })
        .collect())
}

/// One clinic of the site with its members (`with_members: false` leaves them out, for
/// `excludedAttributes=members`).
pub fn clinic(
    conn: &mut DbConnection,
    site: SiteId,
    id: ClinicId,
    with_members: bool,
) -> StoreResult<ClinicWithMembers> {
    let clinic = clinics::get(conn, site, id)?;
    let members = if with_members {
        members(conn, site, id)?
    } else {
        Vec::new()
    };
    Ok(ClinicWithMembers { clinic, members })
}

/// Every clinic of the site, in creation order, with their members or without.
pub fn clinics(
    conn: &mut DbConnection,
    site: SiteId,
    with_members: bool,
) -> StoreResult<Vec<ClinicWithMembers>> {
    clinics::ids(conn, site)?
        .into_iter()
        .map(|id| clinic(conn, site, id, with_members))
        .collect()
}

/// The names of the site's clinics, for a user's `groups`.
pub fn clinic_names(conn: &mut DbConnection, site: SiteId) -> StoreResult<Vec<(ClinicId, String)>> {
    use crate::schema::clinics as table;
    Ok(table::table
        .filter(table::site_id.eq(site))
        .order(table::id.asc())
        .select((table::id, table::name))
        .load(conn)?)
}
