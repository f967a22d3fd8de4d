//! A change or a dry run about a few users reads those users, not the whole site: none of
//! the statements they run walks the site's users through a `(site_id, …)` index of
//! `users`. Without statistics SQLite prefers such an index to a list of ids whenever the
//! site's condition is written on `users` beside `users.id IN (…)`, and then reads every
//! user of the site (at 10,000 users, 7–14 ms for a count that finds one row by id in
//! 0.06 ms). The statements are captured as they run and explained on SQLite; PostgreSQL,
//! which plans with statistics, runs the same operations for their answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use staffroom_domain::{
    AccessChange, LicencePlan, Outcome, Permission, UserId, UserPatch, UserStatus,
};
use staffroom_persistence::DbConnection;
use staffroom_persistence::access::ActorScope;
use staffroom_persistence::bulk::{BulkUpdate, Selection, apply_bulk_update};
use staffroom_persistence::users;
use support::{Db, NewUserExt, create_site, create_user, email, new_user, person, user_ctx};

/// The text of every statement the connection prepares, binds left out.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl Instrumentation for Statements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let text = query.to_string();
            let sql = text
                .split(" -- binds:")
                .next()
                .unwrap_or_default()
                .to_owned();
            self.0.lock().unwrap().push(sql);
        }
    }
}

impl Statements {
    /// Captures what `f` runs on `conn`.
    fn of(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection)) -> Vec<String> {
        let statements = Self::default();
        conn.set_instrumentation(statements.clone());
        f(conn);
        conn.set_instrumentation(diesel::connection::get_default_instrumentation());
        statements.0.lock().unwrap().clone()
    }
}

/// Fails, naming each statement and its plan, if SQLite's plan for any SELECT among
/// `statements` walks `users` by a `(site_id, …)` index on the site alone.
fn assert_no_site_walk(conn: &mut DbConnection, statements: &[String]) {
    if !matches!(conn, DbConnection::Sqlite(_)) {
        return;
    }
    let walks: Vec<String> = statements
        .iter()
        .filter(|s| s.trim_start().starts_with("SELECT"))
        .map(|sql| (sql, support::plan(conn, sql, &[], &[])))
        .filter(|(_, plan)| {
            plan.lines().any(|l| {
                l.contains("users USING")
                    && l.contains("INDEX users_site_")
                    && l.contains("site_id=?)")
            })
        })
        .map(|(sql, plan)| format!("{sql}\n  {}", plan.replace('\n', "\n  ")))
        .collect();
    assert!(walks.is_empty(), "{}", walks.join("\n"));
}

struct Fixture {
    db: Db,
    site: staffroom_domain::SiteId,
    ids: Vec<UserId>,
}

fn fixture() -> Fixture {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "walks", LicencePlan::Group { licences: 1 }).site_id;
    let ids = (0..40)
        .map(|n| {
            let user =
                new_user("Walk", &format!("User{n}"), &format!("w{n}@example.com")).non_clinical();
            create_user(&mut conn, site, user).id
        })
        .collect();
    drop(conn);
    Fixture { db, site, ids }
}

#[test]
fn a_bulk_dry_run_over_a_few_users_does_not_walk_the_site() {
    let f = fixture();
    let mut conn = f.db.conn();
    let actor = ActorScope {
        site_admin: true,
        clinic_admin: false,
        clinic_ids: Vec::new(),
    };
    let update = BulkUpdate {
        selection: Selection::Ids(f.ids[..3].to_vec()),
        changes: vec![AccessChange::AddPermission(Permission::ViewReports)],
        dry_run: true,
    };
    let statements = Statements::of(&mut conn, |conn| {
        let report = apply_bulk_update(conn, &user_ctx(f.site), &actor, update).unwrap();
        assert_eq!(report.outcome, Outcome::Success);
        assert_eq!(report.permissions.applied, 3);
    });
    assert!(statements.len() >= 4, "{statements:?}");
    assert_no_site_walk(&mut conn, &statements);
}

#[test]
fn a_status_change_does_not_walk_the_site() {
    let f = fixture();
    let mut conn = f.db.conn();
    let statements = Statements::of(&mut conn, |conn| {
        let user = users::set_status(
            conn,
            &user_ctx(f.site),
            f.ids[7],
            None,
            UserStatus::Inactive,
        )
        .unwrap();
        assert_eq!(user.status, UserStatus::Inactive);
    });
    assert!(
        statements.iter().any(|s| s.contains("user_permissions")),
        "the site administrators were not counted: {statements:?}"
    );
    assert_no_site_walk(&mut conn, &statements);
}

#[test]
fn a_profile_change_does_not_walk_the_site() {
    let f = fixture();
    let mut conn = f.db.conn();
    let statements = Statements::of(&mut conn, |conn| {
        let patch = UserPatch {
            last_name: Some(person("Renamed")),
            email: Some(email("renamed@example.com")),
            ..UserPatch::default()
        };
        let user = users::update(conn, &user_ctx(f.site), f.ids[9], None, patch).unwrap();
        assert_eq!(user.email, "renamed@example.com");
    });
    assert!(
        statements.iter().any(|s| s.contains("email_normalized")),
        "the email was not checked: {statements:?}"
    );
    assert_no_site_walk(&mut conn, &statements);
}
