//! `apply_bulk_update` is one transaction (SPEC §5: "an infrastructure failure applies
//! nothing"): a failure injected after some of the set-based writes have run — in the middle
//! of the clinic inserts, or at the final audit insert — must leave every user as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use staffroom_domain::{AccessChange, ClinicId, LicencePlan, Outcome, Permission, SiteId, UserId};
use staffroom_persistence::DbConnection;
use staffroom_persistence::access::ActorScope;
use staffroom_persistence::bulk::{BulkUpdate, Selection, apply_bulk_update};
use staffroom_persistence::clinics;
use staffroom_persistence::schema::{audit_events, user_clinics, user_permissions, users};
use staffroom_persistence::tx::write_tx;
use support::{Db, NewUserExt, create_site, create_user, entity, new_user, user_ctx};

/// More users than one 1,000-row chunk, so several statements run before the failure.
const USERS: usize = 1_200;

struct Fixture {
    db: Db,
    site: SiteId,
    north: ClinicId,
    ids: Vec<UserId>,
}

fn fixture() -> Fixture {
    let db = Db::new();
    let mut conn = db.conn();
    // Non-clinical users need no licence on the group plan.
    let site = create_site(&mut conn, "bulk", LicencePlan::Group { licences: 1 }).site_id;
    let north = clinics::create(&mut conn, &user_ctx(site), &entity("North"), false)
        .unwrap()
        .id;
    let ids = (0..USERS)
        .map(|n| {
            create_user(
                &mut conn,
                site,
                new_user("Bulk", &format!("User{n}"), &format!("user{n}@example.com"))
                    .non_clinical(),
            )
            .id
        })
        .collect();
    drop(conn);
    Fixture {
        db,
        site,
        north,
        ids,
    }
}

fn site_admin() -> ActorScope {
    ActorScope {
        site_admin: true,
        clinic_admin: false,
        clinic_ids: Vec::new(),
    }
}

fn update(f: &Fixture) -> BulkUpdate {
    BulkUpdate {
        selection: Selection::Ids(f.ids.clone()),
        changes: vec![
            AccessChange::AddPermission(Permission::ViewReports),
            AccessChange::AddPermission(Permission::ManageSchedule),
            AccessChange::AddClinic(f.north),
        ],
        dry_run: false,
    }
}

/// What the bulk update would change: rows granted, versions bumped, events written.
#[derive(Debug, PartialEq, Eq)]
struct Written {
    permissions: i64,
    north_members: i64,
    bumped_versions: i64,
    access_events: i64,
    bulk_events: i64,
}

fn written(conn: &mut DbConnection, f: &Fixture) -> Written {
    let site = f.site.to_string();
    let events = |conn: &mut DbConnection, action: &str| -> i64 {
        audit_events::table
            .filter(audit_events::site_id.eq(&site))
            .filter(audit_events::action.eq(action))
            .count()
            .get_result(conn)
            .unwrap()
    };
    Written {
        permissions: user_permissions::table
            .filter(user_permissions::site_id.eq(&site))
            .filter(user_permissions::permission.eq_any(["view_reports", "manage_schedule"]))
            .count()
            .get_result(conn)
            .unwrap(),
        north_members: user_clinics::table
            .filter(user_clinics::clinic_id.eq(f.north.to_string()))
            .count()
            .get_result(conn)
            .unwrap(),
        bumped_versions: users::table
            .filter(users::site_id.eq(&site))
            .filter(users::version.ne(1))
            .count()
            .get_result(conn)
            .unwrap(),
        access_events: events(conn, "user.access_changed"),
        bulk_events: events(conn, "users.bulk_updated"),
    }
}

const NOTHING: Written = Written {
    permissions: 0,
    north_members: 0,
    bumped_versions: 0,
    access_events: 0,
    bulk_events: 0,
};

#[test]
fn without_a_failure_everything_is_applied() {
    // The control: the same request, with nothing injected, writes what the other tests
    // expect to be rolled back.
    let f = fixture();
    let mut conn = f.db.conn();
    assert_eq!(written(&mut conn, &f), NOTHING);
    let report =
        apply_bulk_update(&mut conn, &user_ctx(f.site), &site_admin(), update(&f)).unwrap();
    assert_eq!(report.outcome, Outcome::Success);
    assert_eq!(report.users_updated, USERS as u64);
    assert_eq!(report.permissions.applied, 2 * USERS as u64);
    assert_eq!(report.clinics.applied, USERS as u64);
    let n = i64::try_from(USERS).unwrap();
    assert_eq!(
        written(&mut conn, &f),
        Written {
            permissions: 2 * n,
            north_members: n,
            bumped_versions: n,
            access_events: n,
            bulk_events: 1,
        }
    );
}

#[test]
fn a_failure_at_the_final_audit_insert_applies_nothing() {
    let f = fixture();
    let mut conn = f.db.conn();
    // Every write of the bulk update but the last (its audit events) can run.
    conn.batch_execute("ALTER TABLE audit_events RENAME TO audit_events_away")
        .unwrap();
    let result = apply_bulk_update(&mut conn, &user_ctx(f.site), &site_admin(), update(&f));
    conn.batch_execute("ALTER TABLE audit_events_away RENAME TO audit_events")
        .unwrap();
    let error = format!("{:?}", result.expect_err("the bulk update succeeded"));
    assert!(error.contains("audit_events"), "another failure: {error}");
    assert_eq!(written(&mut conn, &f), NOTHING);
    // The database is usable afterwards, and the same request then applies everything.
    let report =
        apply_bulk_update(&mut conn, &user_ctx(f.site), &site_admin(), update(&f)).unwrap();
    assert_eq!(report.users_updated, USERS as u64);
}

#[test]
fn a_failure_in_the_middle_of_the_clinic_writes_applies_nothing() {
    let f = fixture();
    let mut conn = f.db.conn();
    // The clinic row of a user in the second 1,000-row chunk fails: by then the permission
    // rows and the first chunk of clinic rows are written.
    let victim = f.ids[USERS - 10];
    let trigger = if f.db.database.backend() == "postgres" {
        format!(
            "CREATE FUNCTION staffroom_test_fail() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER staffroom_test_fail BEFORE INSERT ON user_clinics FOR EACH ROW \
             WHEN (NEW.user_id = '{victim}') EXECUTE FUNCTION staffroom_test_fail();"
        )
    } else {
        format!(
            "CREATE TRIGGER staffroom_test_fail BEFORE INSERT ON user_clinics \
             WHEN NEW.user_id = '{victim}' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        )
    };
    conn.batch_execute(&trigger).unwrap();
    let result = apply_bulk_update(&mut conn, &user_ctx(f.site), &site_admin(), update(&f));
    let error = format!("{:?}", result.expect_err("the bulk update succeeded"));
    assert!(
        error.contains("injected failure"),
        "another failure: {error}"
    );
    assert_eq!(written(&mut conn, &f), NOTHING);

    // A dry run is unaffected by the trigger: it writes nothing.
    let mut dry = update(&f);
    dry.dry_run = true;
    let report = apply_bulk_update(&mut conn, &user_ctx(f.site), &site_admin(), dry).unwrap();
    assert_eq!(report.users_updated, USERS as u64);
    assert_eq!(written(&mut conn, &f), NOTHING);
}

#[test]
fn a_dry_run_does_not_wait_for_the_site_lock() {
    let f = fixture();
    let (locked, held) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (waited, report) = std::thread::scope(|s| {
        let (db, site) = (&f.db, f.site);
        let holder = s.spawn(move || {
            let mut conn = db.conn();
            write_tx(&mut conn, site, |_| {
                locked.send(()).unwrap();
                // Held until the dry run has answered (or for long enough to show it waited).
                released.recv_timeout(Duration::from_secs(30)).ok();
                Ok(())
            })
            .unwrap();
        });
        held.recv().unwrap();
        let mut conn = f.db.conn();
        let mut dry = update(&f);
        dry.dry_run = true;
        let started = Instant::now();
        let report = apply_bulk_update(&mut conn, &user_ctx(f.site), &site_admin(), dry);
        let waited = started.elapsed();
        release.send(()).unwrap();
        holder.join().unwrap();
        (waited, report)
    });
    let report = report.expect("the dry run answers while the site lock is held");
    assert_eq!(report.users_updated, USERS as u64);
    assert!(
        waited < Duration::from_secs(5),
        "the dry run waited {waited:?} for the site lock"
    );
    let mut conn = f.db.conn();
    assert_eq!(written(&mut conn, &f), NOTHING);
}
