//! The site lock under real concurrency: many connections racing for a site's last licence
//! must produce exactly one winner and a clean licence refusal for everyone else, on both
//! backends, round after round (SPEC §1: "two concurrent requests competing for the last
//! licence must never both succeed").
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Barrier, Mutex, MutexGuard};
use std::time::Instant;

use diesel::prelude::*;
use staffroom_domain::{
    LicenceError, LicencePlan, Permission, PlanKind, SiteId, UserCreationRefusal, UserStatus,
    UserType,
};
use staffroom_persistence::schema::{sites, users as users_table};
use staffroom_persistence::tx::{AuditContext, write_tx};
use staffroom_persistence::usecase::Failure;
use staffroom_persistence::users::{self, NewUser, User};
use staffroom_persistence::{
    Conflict, DbConnection, LicenceRefusal, Pool, StoreError, StoreResult,
};
use support::{
    Db, NewUserExt, create_site, create_site_with_admin, create_user, flex, new_user, user_ctx,
};

/// Connections racing in each round.
const THREADS: usize = 20;
/// Rounds of the main races.
const ROUNDS: usize = 50;

/// One race test at a time, so the connections of all of them never exceed what a local
/// PostgreSQL allows (each holds a pool of `THREADS + 1`).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn racing_db() -> Db {
    // One connection more than the racers, for the set-up between rounds.
    Db::with_pool_size(u32::try_from(THREADS).unwrap() + 1)
}

/// Runs `attempt` on `THREADS` threads, each with its own pooled connection, released
/// together by a barrier; returns the results in thread order.
fn race<T: Send>(
    pool: &Pool,
    attempt: impl Fn(usize, &mut DbConnection) -> StoreResult<T> + Sync,
) -> Vec<StoreResult<T>> {
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let (barrier, attempt) = (&barrier, &attempt);
                s.spawn(move || {
                    // Check out before the barrier, so the race is between transactions,
                    // not between pool check-outs; wait even on failure so nobody hangs.
                    let conn = pool.get();
                    barrier.wait();
                    let mut conn = conn.expect("a pooled connection for every racer");
                    attempt(i, &mut conn)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("racer panicked"))
            .collect()
    })
}

/// Asserts one winner and `expected` as every loser's refusal; returns the winner's index.
/// Creates a user as a site administrator, its refusals as the store errors the
/// assertions below compare.
fn create(conn: &mut DbConnection, ctx: &AuditContext, new: NewUser) -> StoreResult<User> {
    users::create(conn, ctx, new).map_err(|failure| match failure {
        Failure::Store(e) => e,
        Failure::Refused(UserCreationRefusal::EmailTaken) => {
            StoreError::Conflict(Conflict::EmailTaken)
        }
        Failure::Refused(UserCreationRefusal::Licence { error, plan, usage }) => {
            StoreError::Licence(Box::new(LicenceRefusal { error, plan, usage }))
        }
        Failure::Refused(other) => panic!("unexpected refusal {other:?}"),
    })
}

fn assert_one_winner<T>(
    round: usize,
    results: &[StoreResult<T>],
    expected: &LicenceError,
) -> usize {
    let winners: Vec<usize> = (0..results.len()).filter(|i| results[*i].is_ok()).collect();
    let unexpected: Vec<String> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r {
            Ok(_) => None,
            Err(StoreError::Licence(e)) if e.error == *expected => None,
            Err(e) => Some(format!("racer {i}: {e:?}")),
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "round {round}: losers must get {expected:?}, got {unexpected:#?}"
    );
    assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
    winners[0]
}

/// Every site of the database is within its plan.
fn assert_no_site_over_its_plan(conn: &mut DbConnection) {
    let all: Vec<(String, String, i64)> = sites::table
        .select((sites::id, sites::plan, sites::licences))
        .load(conn)
        .unwrap();
    assert!(!all.is_empty());
    for (id, plan, licences) in all {
        let plan = LicencePlan::from_parts(
            PlanKind::parse(&plan).unwrap(),
            Some(u32::try_from(licences).unwrap()),
        )
        .unwrap();
        let site: SiteId = id.parse().unwrap();
        let usage = staffroom_persistence::sites::usage(conn, site).unwrap();
        assert!(plan.fits(&usage), "site {site} on {plan:?} has {usage:?}");
    }
}

fn users_of(conn: &mut DbConnection, site: SiteId) -> i64 {
    users_table::table
        .filter(users_table::site_id.eq(site.to_string()))
        .count()
        .get_result(conn)
        .unwrap()
}

fn limit_reached(total: u32) -> LicenceError {
    LicenceError::LicenceLimitReached {
        licences_total: total,
        licences_used: total,
        needed: 1,
    }
}

#[test]
fn concurrent_creates_take_the_last_licence_once() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    let started = Instant::now();
    for round in 0..ROUNDS {
        // Flex 3: the admin and one user hold two licences, one is free.
        let site = create_site(&mut setup, &format!("create-race-{round}"), flex(3)).site_id;
        create_user(
            &mut setup,
            site,
            new_user("Held", "Licence", &format!("held{round}@example.com")),
        );
        let results = race(&db.pool, |i, conn| {
            let new = new_user("Racer", "Racer", &format!("r{round}t{i}@example.com"));
            let new = if i % 2 == 0 { new } else { new.non_clinical() };
            create(conn, &user_ctx(site), new)
        });
        let winner = assert_one_winner(round, &results, &limit_reached(3));
        let created = results[winner].as_ref().unwrap();
        assert_eq!(
            users::get(&mut setup, site, created.id).unwrap().status,
            UserStatus::Active
        );
        let usage = staffroom_persistence::sites::usage(&mut setup, site).unwrap();
        assert_eq!(usage.total_active(), 3, "round {round}");
        assert_eq!(users_of(&mut setup, site), 3, "losers leave no rows");
    }
    eprintln!(
        "{}: {ROUNDS} create races of {THREADS} in {:?}",
        db.database.backend(),
        started.elapsed()
    );
    assert_no_site_over_its_plan(&mut setup);
}

#[test]
fn concurrent_reactivations_take_the_last_licence_once() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    // Flex 2: the admin holds one licence; twenty inactive users want the other.
    let site = create_site(&mut setup, "reactivation-race", flex(2)).site_id;
    let ctx = user_ctx(site);
    let sleepers: Vec<User> = (0..THREADS)
        .map(|i| {
            let user = create_user(
                &mut setup,
                site,
                new_user("Sleeper", "Sleeper", &format!("sleeper{i}@example.com")),
            );
            users::set_status(&mut setup, &ctx, user.id, None, UserStatus::Inactive).unwrap()
        })
        .collect();

    let started = Instant::now();
    for round in 0..ROUNDS {
        let results = race(&db.pool, |i, conn| {
            users::set_status(conn, &ctx, sleepers[i].id, None, UserStatus::Active)
        });
        let winner = assert_one_winner(round, &results, &limit_reached(2));
        let usage = staffroom_persistence::sites::usage(&mut setup, site).unwrap();
        assert_eq!(usage.total_active(), 2, "round {round}");
        for (i, user) in sleepers.iter().enumerate() {
            let status = users::get(&mut setup, site, user.id).unwrap().status;
            let expected = if i == winner {
                UserStatus::Active
            } else {
                UserStatus::Inactive
            };
            assert_eq!(status, expected, "round {round}, user {i}");
        }
        // Free the licence again for the next round.
        users::set_status(
            &mut setup,
            &ctx,
            sleepers[winner].id,
            None,
            UserStatus::Inactive,
        )
        .unwrap();
    }
    eprintln!(
        "{}: {ROUNDS} reactivation races of {THREADS} in {:?}",
        db.database.backend(),
        started.elapsed()
    );
    assert_no_site_over_its_plan(&mut setup);
}

#[test]
fn creates_and_reactivations_racing_together_take_the_last_licence_once() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    for round in 0..10 {
        let site = create_site(&mut setup, &format!("mixed-race-{round}"), flex(2)).site_id;
        let ctx = user_ctx(site);
        // Half the racers reactivate a user of their own, half create a new one.
        let sleepers: Vec<User> = (0..THREADS / 2)
            .map(|i| {
                let user = create_user(
                    &mut setup,
                    site,
                    new_user("Sleeper", "Sleeper", &format!("m{round}s{i}@example.com")),
                );
                users::set_status(&mut setup, &ctx, user.id, None, UserStatus::Inactive).unwrap()
            })
            .collect();
        let results = race(&db.pool, |i, conn| {
            if i % 2 == 0 {
                users::set_status(conn, &ctx, sleepers[i / 2].id, None, UserStatus::Active)
            } else {
                let new = new_user("Racer", "Racer", &format!("m{round}t{i}@example.com"));
                create(conn, &ctx, new)
            }
        });
        assert_one_winner(round, &results, &limit_reached(2));
        let usage = staffroom_persistence::sites::usage(&mut setup, site).unwrap();
        assert_eq!(usage.total_active(), 2, "round {round}");
    }
    assert_no_site_over_its_plan(&mut setup);
}

#[test]
fn concurrent_creates_take_the_solo_clinical_slot_once() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    for round in 0..10 {
        // Solo with a non-clinical admin: the clinical slot is free.
        let admin = new_user("Desk", "Admin", &format!("desk{round}@example.com")).non_clinical();
        let site = create_site_with_admin(
            &mut setup,
            &format!("solo-race-{round}"),
            LicencePlan::Solo,
            admin,
        )
        .site_id;
        let results = race(&db.pool, |i, conn| {
            let new = new_user("Racer", "Racer", &format!("s{round}t{i}@example.com"));
            create(conn, &user_ctx(site), new)
        });
        let expected = LicenceError::SoloSlotTaken {
            user_type: UserType::Clinical,
        };
        assert_one_winner(round, &results, &expected);
        let usage = staffroom_persistence::sites::usage(&mut setup, site).unwrap();
        assert_eq!((usage.clinical_active, usage.non_clinical_active), (1, 1));
    }
    assert_no_site_over_its_plan(&mut setup);
}

#[test]
fn concurrent_creates_with_one_email_store_it_once() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    for round in 0..10 {
        let site = create_site(&mut setup, &format!("email-race-{round}"), flex(50)).site_id;
        let results = race(&db.pool, |i, conn| {
            // The same address in a different case for each racer.
            let address = if i % 2 == 0 {
                "same@example.com"
            } else {
                "SAME@example.com"
            };
            create(conn, &user_ctx(site), new_user("Twin", "Twin", address))
        });
        let winners = results.iter().filter(|r| r.is_ok()).count();
        let unexpected: Vec<String> = results
            .iter()
            .filter_map(|r| match r {
                Ok(_) | Err(StoreError::Conflict(Conflict::EmailTaken)) => None,
                Err(e) => Some(format!("{e:?}")),
            })
            .collect();
        assert!(unexpected.is_empty(), "round {round}: {unexpected:#?}");
        assert_eq!(winners, 1, "round {round}");
        assert_eq!(users_of(&mut setup, site), 2);
    }
}

#[test]
fn concurrent_deactivations_keep_one_site_admin() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    for round in 0..5 {
        let created = create_site(&mut setup, &format!("admin-race-{round}"), flex(50));
        let site = created.site_id;
        let mut admins = vec![created.admin_user_id];
        for i in 1..THREADS {
            let admin = new_user("Boss", "Boss", &format!("boss{round}-{i}@example.com"))
                .permissions(&[Permission::SiteAdmin]);
            admins.push(create_user(&mut setup, site, admin).id);
        }
        let results = race(&db.pool, |i, conn| {
            users::set_status(conn, &user_ctx(site), admins[i], None, UserStatus::Inactive)
        });
        let refused: Vec<usize> = (0..THREADS).filter(|i| results[*i].is_err()).collect();
        let unexpected: Vec<String> = results
            .iter()
            .filter_map(|r| match r {
                Ok(_) | Err(StoreError::Conflict(Conflict::LastAdmin)) => None,
                Err(e) => Some(format!("{e:?}")),
            })
            .collect();
        assert!(unexpected.is_empty(), "round {round}: {unexpected:#?}");
        assert_eq!(refused.len(), 1, "round {round}: exactly one admin stays");
        let last = users::get(&mut setup, site, admins[refused[0]]).unwrap();
        assert_eq!(last.status, UserStatus::Active);
    }
}

#[test]
fn writers_of_different_sites_all_succeed_together() {
    let _serial = serial();
    let db = racing_db();
    let mut setup = db.conn();
    for round in 0..3 {
        let sites: Vec<SiteId> = (0..THREADS)
            .map(|i| create_site(&mut setup, &format!("apart-{round}-{i}"), flex(2)).site_id)
            .collect();
        let results = race(&db.pool, |i, conn| {
            let new = new_user("Racer", "Racer", &format!("a{round}t{i}@example.com"));
            create(conn, &user_ctx(sites[i]), new)
        });
        let failures: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| format!("{e:?}")))
            .collect();
        assert!(failures.is_empty(), "round {round}: {failures:#?}");
    }
    assert_no_site_over_its_plan(&mut setup);
}

#[test]
fn a_write_transaction_on_an_unknown_site_is_not_found() {
    let db = Db::new();
    let mut conn = db.conn();
    let result = write_tx(&mut conn, SiteId::new(), |_| Ok(()));
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

#[test]
fn a_failed_write_transaction_leaves_nothing_behind() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "rollback", flex(5)).site_id;
    let before = users_of(&mut conn, site);
    let result: StoreResult<()> = write_tx(&mut conn, site, |conn| {
        create(
            conn,
            &user_ctx(site),
            new_user("Gone", "Soon", "gone@example.com"),
        )?;
        Err(StoreError::NotFound)
    });
    assert!(result.is_err());
    assert_eq!(users_of(&mut conn, site), before);
}
