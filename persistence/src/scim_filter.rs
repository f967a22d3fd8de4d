//! SCIM User filters (RFC 7644 §3.4.2.2) translated into SQL over `users`, so that the
//! database finds the matching users through its indexes:
//!
//! - `eq`, `gt`, `ge`, `lt`, `le` compare a column served by a B-tree (`userName` →
//!   `coalesce(user_name_normalized, email_normalized)`, the unique expression index
//!   `users_site_user_name`; `emails` → `email_normalized`, `name.givenName` →
//!   `sort_first_name`, `name.familyName` → `sort_last_name`, `externalId`, `id`,
//!   `meta.created`, `meta.lastModified`);
//! - `co`, `sw`, `ew` of three characters or more on text that `search_text` holds (user
//!   name and email, names, title) are narrowed by the trigram index (SQLite: FTS5 `users_search`;
//!   PostgreSQL: pg_trgm over `search_text`), then rechecked exactly on the column;
//! - `userType` and `active` have a few values: the comparison is decided here for each
//!   and becomes a test of the stored value.
//!
//! Every condition is two-valued (an absent value is tested with `IS NOT NULL`), so `not`
//! is the plain complement and `ne` is `not eq`: an absent `title` is `ne "Dr"`.
//! Attributes that are not case-exact (all but `id` and `externalId`) compare lower-cased;
//! `title`, the one such column not stored lower-cased, goes through SQL `lower()`, which
//! SQLite applies to ASCII letters only.

use std::fmt;

use chrono::{DateTime, NaiveDateTime};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamp};
use staffroom_domain::{SiteId, UserId};
use staffroom_scim::filter::{AttrPath, CompValue, CompareOp, Filter};

use crate::schema::users;
use crate::search::{like_escaped, trigram_phrase, trigram_searchable};
use crate::user_rows::USER_NAME_KEY;
use crate::{DbConnection, StoreResult};

/// The backend type of `DbConnection` (either database).
type Backend = <DbConnection as diesel::Connection>::Backend;

/// The schema URI of SCIM's core User, which may qualify an attribute path.
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// Which SQL the translation writes where the backends differ (the trigram index, and
/// case-exact patterns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect of this connection.
    pub fn of(conn: &DbConnection) -> Self {
        match conn {
            DbConnection::Sqlite(_) => Self::Sqlite,
            DbConnection::Pg(_) => Self::Postgres,
        }
    }
}

/// A filter this store cannot run: an unknown attribute, or a value or operator that does
/// not suit it (SCIM's `400` with `scimType` `invalidFilter`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedFilter(pub String);

impl fmt::Display for UnsupportedFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnsupportedFilter {}

/// A value bound to a statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Time(NaiveDateTime),
}

/// A translated filter: SQL conditions over `users`, each with at most one parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `before ? after` (or `before after` without a parameter); `trigram` when it is the
    /// trigram index's narrowing.
    Leaf {
        before: String,
        bind: Option<Bind>,
        after: &'static str,
        trigram: bool,
    },
    Const(bool),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    fn sql(text: String) -> Self {
        Self::Leaf {
            before: text,
            bind: None,
            after: "",
            trigram: false,
        }
    }

    fn bound(before: String, bind: Bind, after: &'static str) -> Self {
        Self::Leaf {
            before,
            bind: Some(bind),
            after,
            trigram: false,
        }
    }

    fn and(a: Self, b: Self) -> Self {
        Self::And(Box::new(a), Box::new(b))
    }

    fn or(a: Self, b: Self) -> Self {
        Self::Or(Box::new(a), Box::new(b))
    }

    fn not(a: Self) -> Self {
        Self::Not(Box::new(a))
    }

    /// Whether the whole filter is narrowed by the trigram index: a trigram condition that
    /// every match must meet (one of the top-level `and`s).
    pub fn narrowed_by_trigram(&self) -> bool {
        match self {
            Self::Leaf { trigram, .. } => *trigram,
            Self::And(a, b) => a.narrowed_by_trigram() || b.narrowed_by_trigram(),
            _ => false,
        }
    }

    /// The condition as a Diesel expression, parameters bound.
    fn expression(&self) -> Box<dyn BoxableExpression<users::table, Backend, SqlType = Bool>> {
        match self {
            Self::Const(true) => Box::new(sql::<Bool>("1 = 1")),
            Self::Const(false) => Box::new(sql::<Bool>("1 = 0")),
            Self::Leaf {
                before,
                bind: None,
                after,
                ..
            } => Box::new(sql::<Bool>(&format!("{before}{after}"))),
            Self::Leaf {
                before,
                bind: Some(Bind::Text(v)),
                after,
                ..
            } => Box::new(sql::<Bool>(before).bind::<Text, _>(v.clone()).sql(after)),
            Self::Leaf {
                before,
                bind: Some(Bind::Time(v)),
                after,
                ..
            } => Box::new(sql::<Bool>(before).bind::<Timestamp, _>(*v).sql(after)),
            Self::And(a, b) => Box::new(a.expression().and(b.expression())),
            Self::Or(a, b) => Box::new(a.expression().or(b.expression())),
            Self::Not(a) => Box::new(diesel::dsl::not(a.expression())),
        }
    }
}

/// The SQL with each parameter written as a literal: what the tests read and `EXPLAIN`.
impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Const(true) => f.write_str("1 = 1"),
            Self::Const(false) => f.write_str("1 = 0"),
            Self::Leaf {
                before,
                bind,
                after,
                ..
            } => {
                f.write_str(before)?;
                match bind {
                    Some(Bind::Text(v)) => write!(f, "'{}'", v.replace('\'', "''"))?,
                    Some(Bind::Time(v)) => write!(f, "'{}'", v.format("%Y-%m-%d %H:%M:%S%.f"))?,
                    None => {}
                }
                f.write_str(after)
            }
            Self::And(a, b) => write!(f, "({a} AND {b})"),
            Self::Or(a, b) => write!(f, "({a} OR {b})"),
            Self::Not(a) => write!(f, "NOT ({a})"),
        }
    }
}

/// The site condition: on the site's rows, written so that the planner does not pick a
/// `site_id` index over the trigram index when the filter is narrowed by it.
fn site_condition(dialect: Dialect, cond: &Cond) -> &'static str {
    match (dialect, cond.narrowed_by_trigram()) {
        (Dialect::Sqlite, true) => "+users.site_id = ",
        (Dialect::Postgres, true) => "users.site_id || '' = ",
        (_, false) => "users.site_id = ",
    }
}

/// The site's users matching `cond`.
pub fn users_matching(
    dialect: Dialect,
    site: SiteId,
    cond: &Cond,
) -> users::BoxedQuery<'static, Backend> {
    users::table
        .filter(sql::<Bool>(site_condition(dialect, cond)).bind::<Text, _>(site))
        .filter(cond.expression())
        .into_boxed()
}

/// The ids of the site's users matching `cond`, oldest first.
pub fn matching_ids(
    conn: &mut DbConnection,
    site: SiteId,
    cond: &Cond,
) -> StoreResult<Vec<UserId>> {
    Ok(users_matching(Dialect::of(conn), site, cond)
        .order((users::created_at.asc(), users::id.asc()))
        .select(users::id)
        .load(conn)?)
}

/// The `WHERE` clause of [`users_matching`] with the parameters written as literals, for
/// `EXPLAIN` and for reading.
pub fn where_clause(dialect: Dialect, site: SiteId, cond: &Cond) -> String {
    format!(
        "{}'{}' AND {cond}",
        site_condition(dialect, cond),
        site.to_string().replace('\'', "''")
    )
}

/// Translates a SCIM User filter into SQL for `dialect`.
pub fn translate(filter: &Filter, dialect: Dialect) -> Result<Cond, UnsupportedFilter> {
    Translator {
        dialect,
        scope: Scope::User,
    }
    .filter(filter)
}

/// Where attribute names are looked up: the User, or inside `emails[…]`.
#[derive(Clone, Copy)]
enum Scope {
    User,
    Emails,
}

/// A text column.
#[derive(Clone, Copy)]
struct Column {
    name: &'static str,
    nullable: bool,
    /// Compared as sent; otherwise both sides lower-cased.
    case_exact: bool,
    /// Stored lower-cased already (otherwise `lower()` applies when not case-exact).
    stored_lower: bool,
    /// Lower-cased inside `search_text`, so the trigram index can narrow substrings.
    in_search_text: bool,
}

const fn text(name: &'static str, stored_lower: bool, in_search_text: bool) -> Column {
    Column {
        name,
        nullable: false,
        case_exact: false,
        stored_lower,
        in_search_text,
    }
}

const EMAIL: Column = text("users.email_normalized", true, true);
/// The userName: the login name when there is one, else the email; served by the unique
/// expression index `users_site_user_name`, and held in `search_text` for `co`/`sw`/`ew`.
const USER_NAME: Column = text(USER_NAME_KEY, true, true);
const GIVEN_NAME: Column = text("users.sort_first_name", true, true);
const FAMILY_NAME: Column = text("users.sort_last_name", true, true);
const TITLE: Column = Column {
    nullable: true,
    ..text("users.title", false, true)
};
const EXTERNAL_ID: Column = Column {
    nullable: true,
    case_exact: true,
    ..text("users.external_id", false, false)
};
const ID: Column = Column {
    case_exact: true,
    ..text("users.id", false, false)
};

/// What an attribute path names.
enum Attr {
    Text(Column),
    Time(&'static str),
    /// A few values: the SCIM value and the SQL condition that holds for it.
    Choice(&'static [(Choice, &'static str)]),
}

/// A value of an attribute of a few values.
#[derive(Clone, Copy)]
enum Choice {
    Str(&'static str),
    Bool(bool),
}

const USER_TYPES: &[(Choice, &str)] = &[
    (Choice::Str("Clinical"), "users.user_type = 'clinical'"),
    (
        Choice::Str("Non-Clinical"),
        "users.user_type = 'non_clinical'",
    ),
];

struct Translator {
    dialect: Dialect,
    scope: Scope,
}

impl Translator {
    fn filter(&self, filter: &Filter) -> Result<Cond, UnsupportedFilter> {
        Ok(match filter {
            Filter::And(a, b) => Cond::and(self.filter(a)?, self.filter(b)?),
            Filter::Or(a, b) => Cond::or(self.filter(a)?, self.filter(b)?),
            Filter::Not(a) => Cond::not(self.filter(a)?),
            Filter::Present(path) => self.with_value_filter(path, |t| t.present(path))?,
            Filter::Compare(path, op, value) => {
                self.with_value_filter(path, |t| t.compare(path, *op, value))?
            }
            Filter::Any(path, inner) => self.any(path, inner)?,
        })
    }

    /// `emails[type eq "work"].value eq "…"`: the value filter, and the comparison.
    fn with_value_filter(
        &self,
        path: &AttrPath,
        then: impl FnOnce(&Self) -> Result<Cond, UnsupportedFilter>,
    ) -> Result<Cond, UnsupportedFilter> {
        let cond = then(self)?;
        match &path.value_filter {
            Some(inner) => Ok(Cond::and(self.any(path, inner)?, cond)),
            None => Ok(cond),
        }
    }

    /// `emails[…]`: the user's one email (work, primary) matches the inner filter.
    fn any(&self, path: &AttrPath, inner: &Filter) -> Result<Cond, UnsupportedFilter> {
        if !matches!(self.scope, Scope::User)
            || !path.attr.eq_ignore_ascii_case("emails")
            || !qualified_by_user(path)
        {
            return Err(unsupported(format!(
                "{} has no value filter here; only emails[…] does",
                path.attr
            )));
        }
        Translator {
            dialect: self.dialect,
            scope: Scope::Emails,
        }
        .filter(inner)
    }

    fn attr(&self, path: &AttrPath) -> Result<Attr, UnsupportedFilter> {
        if !qualified_by_user(path) {
            return Err(unsupported(format!(
                "{} is not an attribute of {USER_SCHEMA}",
                path_name(path)
            )));
        }
        let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);
        let attr = path.attr.to_ascii_lowercase();
        let found = match (self.scope, attr.as_str(), sub.as_deref()) {
            (Scope::User, "username", None) => Some(Attr::Text(USER_NAME)),
            (Scope::User, "emails", None | Some("value")) => Some(Attr::Text(EMAIL)),
            (Scope::Emails, "value", None) => Some(Attr::Text(EMAIL)),
            (Scope::User, "emails", Some("type")) | (Scope::Emails, "type", None) => {
                Some(Attr::Choice(&[(Choice::Str("work"), "1 = 1")]))
            }
            (Scope::User, "emails", Some("primary")) | (Scope::Emails, "primary", None) => {
                Some(Attr::Choice(&[(Choice::Bool(true), "1 = 1")]))
            }
            (Scope::User, "name", Some("givenname")) => Some(Attr::Text(GIVEN_NAME)),
            (Scope::User, "name", Some("familyname")) => Some(Attr::Text(FAMILY_NAME)),
            (Scope::User, "title", None) => Some(Attr::Text(TITLE)),
            (Scope::User, "externalid", None) => Some(Attr::Text(EXTERNAL_ID)),
            (Scope::User, "id", None) => Some(Attr::Text(ID)),
            (Scope::User, "usertype", None) => Some(Attr::Choice(USER_TYPES)),
            (Scope::User, "active", None) => Some(Attr::Choice(&[
                (Choice::Bool(true), "users.status = 'active'"),
                (Choice::Bool(false), "users.status <> 'active'"),
            ])),
            (Scope::User, "meta", Some("created")) => Some(Attr::Time("users.created_at")),
            (Scope::User, "meta", Some("lastmodified")) => Some(Attr::Time("users.updated_at")),
            _ => None,
        };
        found.ok_or_else(|| unsupported(format!("{} cannot be filtered on", path_name(path))))
    }

    fn present(&self, path: &AttrPath) -> Result<Cond, UnsupportedFilter> {
        Ok(match self.attr(path)? {
            Attr::Text(c) if c.nullable => {
                Cond::sql(format!("({0} IS NOT NULL AND {0} <> '')", c.name))
            }
            Attr::Text(c) => Cond::sql(format!("{} <> ''", c.name)),
            Attr::Time(_) | Attr::Choice(_) => Cond::Const(true),
        })
    }

    fn compare(
        &self,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<Cond, UnsupportedFilter> {
        let attr = self.attr(path)?;
        if op == CompareOp::Ne {
            return Ok(Cond::not(self.compare(path, CompareOp::Eq, value)?));
        }
        match attr {
            Attr::Text(column) => match value {
                CompValue::Str(v) => Ok(self.text(column, op, v)),
                _ => Err(unsupported(format!("{} takes a string", path_name(path)))),
            },
            Attr::Time(column) => time(column, op, value).ok_or_else(|| {
                unsupported(format!(
                    "{} takes a date-time compared with eq, ne, gt, ge, lt or le",
                    path_name(path)
                ))
            }),
            Attr::Choice(choices) => choice(path, choices, op, value),
        }
    }

    fn text(&self, c: Column, op: CompareOp, v: &str) -> Cond {
        let folded = if c.case_exact {
            v.to_owned()
        } else {
            v.to_lowercase()
        };
        let expr = if c.case_exact || c.stored_lower {
            c.name.to_owned()
        } else {
            format!("lower({})", c.name)
        };
        let cmp = |sign: &str| format!("{expr} {sign} ");
        let cond = match op {
            CompareOp::Eq | CompareOp::Ne => Cond::bound(cmp("="), Bind::Text(folded), ""),
            CompareOp::Gt => Cond::bound(cmp(">"), Bind::Text(folded), ""),
            CompareOp::Ge => Cond::bound(cmp(">="), Bind::Text(folded), ""),
            CompareOp::Lt => Cond::bound(cmp("<"), Bind::Text(folded), ""),
            CompareOp::Le => Cond::bound(cmp("<="), Bind::Text(folded), ""),
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                let leading = matches!(op, CompareOp::Co | CompareOp::Ew);
                let trailing = matches!(op, CompareOp::Co | CompareOp::Sw);
                let pattern = self.pattern(c, &expr, &folded, leading, trailing);
                if c.in_search_text && trigram_searchable(v) {
                    Cond::and(self.trigram(v), pattern)
                } else {
                    pattern
                }
            }
        };
        if c.nullable {
            Cond::and(Cond::sql(format!("{} IS NOT NULL", c.name)), cond)
        } else {
            cond
        }
    }

    /// The exact substring test: `LIKE` (case-sensitive on PostgreSQL, and both sides
    /// lower-cased where case does not matter); `GLOB` for case-exact text on SQLite, whose
    /// `LIKE` ignores ASCII case.
    fn pattern(&self, c: Column, expr: &str, v: &str, leading: bool, trailing: bool) -> Cond {
        let wrap = |body: String, any: &str| {
            format!(
                "{}{body}{}",
                if leading { any } else { "" },
                if trailing { any } else { "" }
            )
        };
        if c.case_exact && self.dialect == Dialect::Sqlite {
            let body: String = v
                .chars()
                .map(|ch| match ch {
                    '*' | '?' | '[' => format!("[{ch}]"),
                    _ => ch.to_string(),
                })
                .collect();
            Cond::bound(format!("{expr} GLOB "), Bind::Text(wrap(body, "*")), "")
        } else {
            Cond::bound(
                format!("{expr} LIKE "),
                Bind::Text(wrap(like_escaped(v), "%")),
                " ESCAPE '\\'",
            )
        }
    }

    /// The trigram index's narrowing to rows whose `search_text` contains `v`.
    fn trigram(&self, v: &str) -> Cond {
        let (before, bind, after) = match self.dialect {
            Dialect::Sqlite => (
                "users.rowid IN (SELECT rowid FROM users_search WHERE users_search MATCH ",
                trigram_phrase(v),
                ")",
            ),
            Dialect::Postgres => (
                "users.search_text LIKE ",
                format!("%{}%", like_escaped(&v.to_lowercase())),
                " ESCAPE '\\'",
            ),
        };
        Cond::Leaf {
            before: before.to_owned(),
            bind: Some(Bind::Text(bind)),
            after,
            trigram: true,
        }
    }
}

/// A date-time comparison, or `None` when the operator or value does not suit one.
fn time(column: &str, op: CompareOp, value: &CompValue) -> Option<Cond> {
    let CompValue::Str(v) = value else {
        return None;
    };
    let at = DateTime::parse_from_rfc3339(v).ok()?.naive_utc();
    let sign = match op {
        CompareOp::Eq | CompareOp::Ne => "=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => return None,
    };
    Some(Cond::bound(format!("{column} {sign} "), Bind::Time(at), ""))
}

/// An attribute of a few values: which of them the comparison holds for, decided here.
fn choice(
    path: &AttrPath,
    choices: &[(Choice, &'static str)],
    op: CompareOp,
    value: &CompValue,
) -> Result<Cond, UnsupportedFilter> {
    let mut held = Vec::new();
    for (candidate, sql) in choices {
        let holds = holds(*candidate, op, value).ok_or_else(|| {
            unsupported(format!(
                "{} cannot be compared with {op:?} and that value",
                path_name(path)
            ))
        })?;
        if holds {
            held.push(*sql);
        }
    }
    if held.len() == choices.len() {
        return Ok(Cond::Const(true));
    }
    Ok(held
        .into_iter()
        .map(|sql| Cond::sql(sql.to_owned()))
        .reduce(Cond::or)
        .unwrap_or(Cond::Const(false)))
}

/// Whether `candidate op value` holds; `None` when they cannot be compared so.
fn holds(candidate: Choice, op: CompareOp, value: &CompValue) -> Option<bool> {
    match (candidate, value) {
        (Choice::Bool(a), CompValue::Bool(b)) => match op {
            CompareOp::Eq => Some(a == *b),
            CompareOp::Ne => Some(a != *b),
            _ => None,
        },
        (Choice::Str(a), CompValue::Str(b)) => {
            let (a, b) = (a.to_lowercase(), b.to_lowercase());
            Some(match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
            })
        }
        _ => None,
    }
}

fn qualified_by_user(path: &AttrPath) -> bool {
    path.uri
        .as_deref()
        .is_none_or(|uri| uri.eq_ignore_ascii_case(USER_SCHEMA))
}

fn path_name(path: &AttrPath) -> String {
    match &path.sub_attr {
        Some(sub) => format!("{}.{sub}", path.attr),
        None => path.attr.clone(),
    }
}

fn unsupported(message: String) -> UnsupportedFilter {
    UnsupportedFilter(message)
}

#[cfg(test)]
mod tests {
    use staffroom_scim::filter::parse_filter;

    use super::*;

    fn sql(dialect: Dialect, filter: &str) -> String {
        let parsed = parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        translate(&parsed, dialect)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .to_string()
    }

    #[test]
    fn filters_become_the_sql_of_both_backends() {
        use Dialect::{Postgres, Sqlite};
        let fts = "users.rowid IN (SELECT rowid FROM users_search WHERE users_search MATCH";
        let cases: &[(Dialect, &str, &str)] = &[
            (
                Sqlite,
                r#"userName eq "Bob@X.org""#,
                "coalesce(users.user_name_normalized, users.email_normalized) = 'bob@x.org'",
            ),
            (
                Postgres,
                r#"userName eq "Bob@X.org""#,
                "coalesce(users.user_name_normalized, users.email_normalized) = 'bob@x.org'",
            ),
            (
                Sqlite,
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName ne "a@b.c""#,
                "NOT (coalesce(users.user_name_normalized, users.email_normalized) = 'a@b.c')",
            ),
            (
                Sqlite,
                r#"userName co "Bak""#,
                &format!(
                    "({fts} '\"bak\"') AND coalesce(users.user_name_normalized, users.email_normalized) LIKE '%bak%' ESCAPE '\\')"
                ),
            ),
            (
                Postgres,
                r#"userName co "Bak""#,
                "(users.search_text LIKE '%bak%' ESCAPE '\\' AND coalesce(users.user_name_normalized, users.email_normalized) LIKE '%bak%' ESCAPE '\\')",
            ),
            (
                Sqlite,
                r#"userName sw "b_""#,
                "coalesce(users.user_name_normalized, users.email_normalized) LIKE 'b\\_%' ESCAPE '\\'",
            ),
            (
                Postgres,
                r#"name.familyName ew "er""#,
                "users.sort_last_name LIKE '%er' ESCAPE '\\'",
            ),
            (
                Sqlite,
                r#"name.givenName gt "B""#,
                "users.sort_first_name > 'b'",
            ),
            (
                Sqlite,
                r#"title eq "Dr""#,
                "(users.title IS NOT NULL AND lower(users.title) = 'dr')",
            ),
            (
                Sqlite,
                "title pr",
                "(users.title IS NOT NULL AND users.title <> '')",
            ),
            (
                Sqlite,
                r#"externalId co "Ab*""#,
                "(users.external_id IS NOT NULL AND users.external_id GLOB '*Ab[*]*')",
            ),
            (
                Postgres,
                r#"externalId sw "Ab%""#,
                "(users.external_id IS NOT NULL AND users.external_id LIKE 'Ab\\%%' ESCAPE '\\')",
            ),
            (Postgres, r#"id eq "0193""#, "users.id = '0193'"),
            (
                Sqlite,
                r#"userType eq "clinical""#,
                "users.user_type = 'clinical'",
            ),
            (Sqlite, r#"userType co "clinical""#, "1 = 1"),
            (
                Sqlite,
                r#"userType sw "Non""#,
                "users.user_type = 'non_clinical'",
            ),
            (Sqlite, r#"userType eq "Admin""#, "1 = 0"),
            (Sqlite, "active eq false", "users.status <> 'active'"),
            (Sqlite, "active ne false", "NOT (users.status <> 'active')"),
            (Sqlite, "active pr", "1 = 1"),
            (
                Sqlite,
                r#"meta.lastModified gt "2026-12-07T10:00:00+01:00""#,
                "users.updated_at > '2026-12-07 09:00:00'",
            ),
            (
                Sqlite,
                r#"emails[type eq "work" and value eq "A@B.c"]"#,
                "(1 = 1 AND users.email_normalized = 'a@b.c')",
            ),
            (
                Sqlite,
                r#"emails[type eq "work"].value eq "a@b.c""#,
                "(1 = 1 AND users.email_normalized = 'a@b.c')",
            ),
            (Sqlite, r#"emails[type eq "home"]"#, "1 = 0"),
            (
                Sqlite,
                r#"not (active eq true) or (userType eq "Clinical" and name.familyName eq "O'Neil")"#,
                "(NOT (users.status = 'active') OR (users.user_type = 'clinical' AND users.sort_last_name = 'o''neil'))",
            ),
        ];
        for (dialect, filter, expected) in cases {
            assert_eq!(&sql(*dialect, filter), expected, "{dialect:?} {filter}");
        }
    }

    #[test]
    fn unsupported_filters_say_why() {
        let cases = [
            (r#"displayName eq "x""#, "displayName cannot be filtered on"),
            (r#"nickName pr"#, "nickName cannot be filtered on"),
            (r#"urn:x:y:userName eq "x""#, "is not an attribute of"),
            (r#"userName eq 3"#, "userName takes a string"),
            (r#"userName eq null"#, "userName takes a string"),
            (
                r#"meta.created co "2026""#,
                "meta.created takes a date-time",
            ),
            (
                r#"meta.created gt "yesterday""#,
                "meta.created takes a date-time",
            ),
            (r#"active gt true"#, "active cannot be compared"),
            (r#"active eq "yes""#, "active cannot be compared"),
            (r#"name[givenName eq "x"]"#, "only emails[…] does"),
        ];
        for (filter, message) in cases {
            let parsed = parse_filter(filter).unwrap();
            let error = translate(&parsed, Dialect::Sqlite).unwrap_err();
            assert!(error.0.contains(message), "{filter}: {error}");
        }
    }

    #[test]
    fn only_a_conjunct_of_three_characters_or_more_narrows_by_trigram() {
        let narrowed = |f: &str| {
            translate(&parse_filter(f).unwrap(), Dialect::Sqlite)
                .unwrap()
                .narrowed_by_trigram()
        };
        assert!(narrowed(r#"userName co "bak""#));
        assert!(narrowed(r#"active eq true and title sw "Doc""#));
        assert!(!narrowed(r#"userName co "ba""#));
        assert!(!narrowed(r#"userName co "bak" or active eq true"#));
        assert!(!narrowed(r#"externalId co "abc""#));
    }

    #[test]
    fn the_where_clause_qualifies_the_site() {
        let cond = translate(
            &parse_filter(r#"userName co "bak""#).unwrap(),
            Dialect::Postgres,
        )
        .unwrap();
        let site = SiteId::new();
        assert!(
            where_clause(Dialect::Postgres, site, &cond)
                .starts_with(&format!("users.site_id || '' = '{site}' AND ("))
        );
    }
}
