//! Users: create and read, email uniqueness, profile updates with versions, and the status
//! rules (last site admin, licences on reactivation).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use diesel::prelude::*;
use staffroom_domain::{
    ClinicChoiceRefusal, LicenceError, LicencePlan, Permission, Profession, UserCreationRefusal,
    UserId, UserStatus, UserType,
};
use staffroom_persistence::audit::{self, AuditQuery};
use staffroom_persistence::schema::users as users_table;
use staffroom_persistence::usecase::Failure;
use staffroom_persistence::users::{self, UserPatch, UserQuery};
use staffroom_persistence::{Conflict, DbConnection, StoreError, clinics, logins, sites};
use support::{
    Db, NewUserExt, create_site, create_site_with_admin, create_user, email, entity, flex,
    new_user, person, user_ctx,
};

/// The texts of the audit actions about a user, oldest first.
fn actions_for(
    conn: &mut DbConnection,
    site: staffroom_domain::SiteId,
    id: UserId,
) -> Vec<&'static str> {
    let mut events = audit::list(
        conn,
        site,
        &AuditQuery {
            target_id: Some(id.to_string()),
            limit: 200,
            ..AuditQuery::default()
        },
    )
    .unwrap()
    .items;
    events.reverse();
    events.into_iter().map(|e| e.action.as_str()).collect()
}

fn user_count(conn: &mut DbConnection) -> i64 {
    users_table::table.count().get_result(conn).unwrap()
}

#[test]
fn creates_and_reads_a_user() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "alpha", flex(10));
    let new = new_user("Cara", "Smith", "Cara.Smith@Example.com")
        .title("Dr")
        .profession(Profession::Ot)
        .permissions(&[
            Permission::ViewReports,
            Permission::ManageSchedule,
            Permission::ViewReports,
        ])
        .password_hash("$argon2id$hash");
    let created = create_user(&mut conn, site.site_id, new);

    assert_eq!(created.site_id, site.site_id);
    assert_eq!(created.title.as_deref(), Some("Dr"));
    assert_eq!(created.first_name, "Cara");
    assert_eq!(created.last_name, "Smith");
    assert_eq!(
        created.email, "Cara.Smith@Example.com",
        "case kept for display"
    );
    assert_eq!(created.user_type, UserType::Clinical);
    assert_eq!(created.profession, Profession::Ot);
    assert_eq!(created.status, UserStatus::Active);
    assert_eq!(
        created.permissions,
        vec![Permission::ManageSchedule, Permission::ViewReports],
        "sorted and without duplicates"
    );
    assert_eq!(created.clinic_ids, vec![site.clinic_id]);
    assert_eq!(created.default_clinic_id, site.clinic_id);
    assert!(
        created.diary_enabled,
        "a clinical user has a diary from the start"
    );
    assert!(created.has_password);
    assert_eq!(created.last_login_at, None);
    assert_eq!(created.version, 1);
    assert_eq!(created.created_at, created.updated_at);

    let read = users::get(&mut conn, site.site_id, created.id).unwrap();
    assert_eq!(read, created);
    assert_eq!(
        actions_for(&mut conn, site.site_id, created.id),
        vec!["user.created"]
    );
}

#[test]
fn a_non_clinical_user_starts_without_a_diary_or_password() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "beta", flex(10));
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Cy", "Clerk", "cy@example.com").non_clinical(),
    );
    assert_eq!(user.user_type, UserType::NonClinical);
    assert_eq!(user.profession, Profession::Clerical);
    assert!(!user.diary_enabled);
    assert!(!user.has_password);
    assert!(user.permissions.is_empty());
}

#[test]
fn clinic_access_defaults_and_is_validated() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "gamma", flex(20));
    let other = create_site(&mut conn, "delta", flex(20));
    let ctx = user_ctx(site.site_id);
    let c1 = site.clinic_id;
    let c2 = clinics::create(&mut conn, &ctx, &entity("Second"), false)
        .unwrap()
        .id;

    let only_second = create_user(
        &mut conn,
        site.site_id,
        new_user("A", "One", "one@example.com").clinics(&[c2], None),
    );
    assert_eq!(only_second.clinic_ids, vec![c2]);
    assert_eq!(only_second.default_clinic_id, c2, "the first clinic given");

    let both = create_user(
        &mut conn,
        site.site_id,
        new_user("A", "Two", "two@example.com").clinics(&[c2, c1], Some(c2)),
    );
    let mut expected = vec![c1, c2];
    expected.sort();
    assert_eq!(both.clinic_ids, expected);
    assert_eq!(both.default_clinic_id, c2);

    let default_only = create_user(
        &mut conn,
        site.site_id,
        new_user("A", "Three", "three@example.com").clinics(&[], Some(c2)),
    );
    assert_eq!(default_only.clinic_ids, vec![c2]);
    assert_eq!(default_only.default_clinic_id, c2);

    let count = user_count(&mut conn);
    let refused = users::create(
        &mut conn,
        &ctx,
        new_user("A", "Four", "four@example.com").clinics(&[c1], Some(c2)),
    );
    match refused {
        Err(Failure::Refused(UserCreationRefusal::Clinics(refusals))) => {
            assert_eq!(refusals, vec![ClinicChoiceRefusal::DefaultNotInClinics]);
        }
        other => panic!("expected a clinic refusal, got {other:?}"),
    }
    let foreign = users::create(
        &mut conn,
        &ctx,
        new_user("A", "Five", "five@example.com")
            .clinics(&[other.clinic_id], Some(other.clinic_id)),
    );
    match foreign {
        Err(Failure::Refused(UserCreationRefusal::Clinics(refusals))) => assert_eq!(
            refusals,
            vec![
                ClinicChoiceRefusal::UnknownClinic,
                ClinicChoiceRefusal::UnknownDefaultClinic
            ]
        ),
        other => panic!("expected a clinic refusal, got {other:?}"),
    }
    assert_eq!(user_count(&mut conn), count, "refused users are not stored");
}

#[test]
fn users_of_another_site_are_not_found() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "one", flex(5));
    let other = create_site(&mut conn, "two", flex(5));
    assert!(matches!(
        users::get(&mut conn, other.site_id, site.admin_user_id),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        users::get(&mut conn, site.site_id, UserId::new()),
        Err(StoreError::NotFound)
    ));
    let patch = UserPatch {
        first_name: Some(person("Mallory")),
        ..UserPatch::default()
    };
    assert!(matches!(
        users::update(
            &mut conn,
            &user_ctx(other.site_id),
            site.admin_user_id,
            None,
            patch
        ),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        users::set_status(
            &mut conn,
            &user_ctx(other.site_id),
            site.admin_user_id,
            None,
            UserStatus::Inactive
        ),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        logins::record_login(&mut conn, other.site_id, site.admin_user_id),
        Err(Failure::Store(StoreError::NotFound))
    ));
    assert_eq!(
        users::get(&mut conn, site.site_id, site.admin_user_id)
            .unwrap()
            .version,
        1
    );
}

#[test]
fn email_is_unique_per_site_ignoring_case_but_not_across_sites() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "first", flex(10));
    let other = create_site(&mut conn, "second", flex(10));
    let fay = create_user(
        &mut conn,
        site.site_id,
        new_user("Fay", "Fox", "Fay@Example.com"),
    );

    let count = user_count(&mut conn);
    let duplicate = users::create(
        &mut conn,
        &user_ctx(site.site_id),
        new_user("Fay", "Again", "fay@example.COM"),
    );
    assert!(
        matches!(
            duplicate,
            Err(Failure::Refused(UserCreationRefusal::EmailTaken))
        ),
        "{duplicate:?}"
    );
    assert_eq!(user_count(&mut conn), count);

    let elsewhere = create_user(
        &mut conn,
        other.site_id,
        new_user("Fay", "Elsewhere", "FAY@example.com"),
    );
    assert_eq!(elsewhere.email, "FAY@example.com");

    // Taking another user's address by an update is refused too.
    let gil = create_user(
        &mut conn,
        site.site_id,
        new_user("Gil", "Gray", "gil@example.com"),
    );
    let steal = users::update(
        &mut conn,
        &user_ctx(site.site_id),
        gil.id,
        Some(1),
        UserPatch {
            email: Some(email("FAY@EXAMPLE.COM")),
            ..UserPatch::default()
        },
    );
    assert!(
        matches!(steal, Err(StoreError::Conflict(Conflict::EmailTaken))),
        "{steal:?}"
    );
    assert_eq!(
        users::get(&mut conn, site.site_id, gil.id).unwrap().version,
        1
    );

    // A user may change the case of their own address.
    let recased = users::update(
        &mut conn,
        &user_ctx(site.site_id),
        fay.id,
        Some(1),
        UserPatch {
            email: Some(email("fay@example.com")),
            ..UserPatch::default()
        },
    )
    .unwrap();
    assert_eq!(recased.email, "fay@example.com");
    assert_eq!(recased.version, 2);
}

#[test]
fn update_changes_the_profile_and_bumps_the_version() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "upd", flex(10));
    let ctx = user_ctx(site.site_id);
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Hal", "Hill", "hal@example.com").title("Mr"),
    );

    let updated = users::update(
        &mut conn,
        &ctx,
        user.id,
        Some(user.version),
        UserPatch {
            title: Some(Some(person("Dr"))),
            first_name: Some(person("Harold")),
            last_name: Some(person("Highmore")),
            email: Some(email("harold@example.com")),
            profession: Some(Profession::Slp),
        },
    )
    .unwrap();
    assert_eq!(updated.title.as_deref(), Some("Dr"));
    assert_eq!(updated.first_name, "Harold");
    assert_eq!(updated.last_name, "Highmore");
    assert_eq!(updated.email, "harold@example.com");
    assert_eq!(updated.profession, Profession::Slp);
    assert_eq!(updated.version, 2);
    assert!(updated.updated_at >= user.updated_at);
    assert_eq!(updated.created_at, user.created_at);
    assert_eq!(
        users::get(&mut conn, site.site_id, user.id).unwrap(),
        updated
    );

    // The search text follows the new name and address.
    let search = |conn: &mut DbConnection, q: &str| {
        users::list(
            conn,
            site.site_id,
            &UserQuery {
                q: Some(q.to_owned()),
                limit: 50,
                ..UserQuery::default()
            },
        )
        .unwrap()
        .items
        .into_iter()
        .map(|u| u.id)
        .collect::<Vec<_>>()
    };
    assert_eq!(search(&mut conn, "highmore"), vec![user.id]);
    assert_eq!(search(&mut conn, "harold@"), vec![user.id]);
    assert!(search(&mut conn, "hill").is_empty());
    assert!(search(&mut conn, "hal@").is_empty());

    // `title: Some(None)` clears the title.
    let cleared = users::update(
        &mut conn,
        &ctx,
        user.id,
        None,
        UserPatch {
            title: Some(None),
            ..UserPatch::default()
        },
    )
    .unwrap();
    assert_eq!(cleared.title, None);
    assert_eq!(cleared.version, 3);
    assert_eq!(
        actions_for(&mut conn, site.site_id, user.id),
        vec!["user.created", "user.updated", "user.updated"]
    );
}

#[test]
fn update_with_a_stale_version_is_refused() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "stale", flex(10));
    let ctx = user_ctx(site.site_id);
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Ivy", "Ives", "ivy@example.com"),
    );
    let patch = UserPatch {
        first_name: Some(person("Ivana")),
        ..UserPatch::default()
    };
    let stale = users::update(&mut conn, &ctx, user.id, Some(7), patch.clone());
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch { current: 1 })),
        "{stale:?}"
    );
    assert_eq!(users::get(&mut conn, site.site_id, user.id).unwrap(), user);

    let fresh = users::update(&mut conn, &ctx, user.id, Some(1), patch.clone()).unwrap();
    assert_eq!(fresh.version, 2);
    let again = users::update(&mut conn, &ctx, user.id, Some(1), patch);
    assert!(
        matches!(again, Err(StoreError::VersionMismatch { current: 2 })),
        "{again:?}"
    );
}

#[test]
fn a_no_op_update_keeps_the_version_and_writes_no_event() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "noop", flex(10));
    let ctx = user_ctx(site.site_id);
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Jo", "Jones", "jo@example.com").title("Ms"),
    );
    for patch in [
        UserPatch::default(),
        UserPatch {
            title: Some(Some(person("Ms"))),
            first_name: Some(person("Jo")),
            last_name: Some(person("Jones")),
            email: Some(email("jo@example.com")),
            profession: Some(Profession::Pt),
        },
    ] {
        let same = users::update(&mut conn, &ctx, user.id, Some(1), patch).unwrap();
        assert_eq!(same, user);
    }
    assert_eq!(users::get(&mut conn, site.site_id, user.id).unwrap(), user);
    assert_eq!(
        actions_for(&mut conn, site.site_id, user.id),
        vec!["user.created"]
    );
}

#[test]
fn deactivation_and_reactivation() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "status", flex(3));
    let ctx = user_ctx(site.site_id);
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Kit", "Kay", "kit@example.com"),
    );
    assert_eq!(
        sites::usage(&mut conn, site.site_id)
            .unwrap()
            .total_active(),
        2
    );

    let stale = users::set_status(&mut conn, &ctx, user.id, Some(9), UserStatus::Inactive);
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch { current: 1 })),
        "{stale:?}"
    );

    let inactive =
        users::set_status(&mut conn, &ctx, user.id, Some(1), UserStatus::Inactive).unwrap();
    assert_eq!(inactive.status, UserStatus::Inactive);
    assert_eq!(inactive.version, 2);
    assert_eq!(
        sites::usage(&mut conn, site.site_id)
            .unwrap()
            .total_active(),
        1,
        "an inactive user holds no licence"
    );

    // Setting the status a user already has changes nothing.
    let same = users::set_status(&mut conn, &ctx, user.id, None, UserStatus::Inactive).unwrap();
    assert_eq!(same, inactive);

    let active = users::set_status(&mut conn, &ctx, user.id, Some(2), UserStatus::Active).unwrap();
    assert_eq!(active.status, UserStatus::Active);
    assert_eq!(active.version, 3);
    assert_eq!(
        actions_for(&mut conn, site.site_id, user.id),
        vec!["user.created", "user.deactivated", "user.reactivated"]
    );
}

#[test]
fn the_last_active_site_admin_stays_active() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "admins", flex(5));
    let ctx = user_ctx(site.site_id);
    let refused = users::set_status(
        &mut conn,
        &ctx,
        site.admin_user_id,
        None,
        UserStatus::Inactive,
    );
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::LastAdmin))),
        "{refused:?}"
    );
    let admin = users::get(&mut conn, site.site_id, site.admin_user_id).unwrap();
    assert_eq!(admin.status, UserStatus::Active);
    assert_eq!(admin.version, 1);

    // An admin of another site does not count.
    create_site(&mut conn, "admins-elsewhere", flex(5));
    assert!(matches!(
        users::set_status(
            &mut conn,
            &ctx,
            site.admin_user_id,
            None,
            UserStatus::Inactive
        ),
        Err(StoreError::Conflict(Conflict::LastAdmin))
    ));

    let second = create_user(
        &mut conn,
        site.site_id,
        new_user("Lou", "Lane", "lou@example.com").permissions(&[Permission::SiteAdmin]),
    );
    users::set_status(
        &mut conn,
        &ctx,
        site.admin_user_id,
        None,
        UserStatus::Inactive,
    )
    .unwrap();
    // The first admin is inactive now, so the second is the last active one.
    assert!(matches!(
        users::set_status(&mut conn, &ctx, second.id, None, UserStatus::Inactive),
        Err(StoreError::Conflict(Conflict::LastAdmin))
    ));
    users::set_status(
        &mut conn,
        &ctx,
        site.admin_user_id,
        None,
        UserStatus::Active,
    )
    .unwrap();
    let second = users::set_status(&mut conn, &ctx, second.id, None, UserStatus::Inactive).unwrap();
    assert_eq!(second.status, UserStatus::Inactive);

    // Users without site_admin can always be deactivated.
    let clinic_admin = create_user(
        &mut conn,
        site.site_id,
        new_user("Max", "Moss", "max@example.com").permissions(&[Permission::ClinicAdmin]),
    );
    users::set_status(&mut conn, &ctx, clinic_admin.id, None, UserStatus::Inactive).unwrap();
}

fn limit_reached(total: u32, used: u32) -> LicenceError {
    LicenceError::LicenceLimitReached {
        licences_total: total,
        licences_used: used,
        needed: 1,
    }
}

#[test]
fn creation_respects_the_plan() {
    let db = Db::new();
    let mut conn = db.conn();

    // Flex: every active user needs a licence, inactive users hold none.
    let site = create_site(&mut conn, "flex", flex(2));
    let ctx = user_ctx(site.site_id);
    let nina = create_user(
        &mut conn,
        site.site_id,
        new_user("Nina", "N", "nina@example.com"),
    );
    let count = user_count(&mut conn);
    let refused = users::create(
        &mut conn,
        &ctx,
        new_user("Ola", "O", "ola@example.com").non_clinical(),
    );
    match refused {
        Err(Failure::Refused(UserCreationRefusal::Licence { error, .. })) => {
            assert_eq!(error, limit_reached(2, 2))
        }
        other => panic!("expected a licence refusal, got {other:?}"),
    }
    assert_eq!(user_count(&mut conn), count);
    users::set_status(&mut conn, &ctx, nina.id, None, UserStatus::Inactive).unwrap();
    create_user(
        &mut conn,
        site.site_id,
        new_user("Ola", "O", "ola@example.com").non_clinical(),
    );

    // Group: clinical users need a licence, non-clinical users are unlimited.
    let group = create_site(&mut conn, "group", LicencePlan::Group { licences: 1 });
    let ctx = user_ctx(group.site_id);
    for i in 0..3 {
        create_user(
            &mut conn,
            group.site_id,
            new_user("Nc", "User", &format!("nc{i}@example.com")).non_clinical(),
        );
    }
    match users::create(&mut conn, &ctx, new_user("Pia", "P", "pia@example.com")) {
        Err(Failure::Refused(UserCreationRefusal::Licence { error, .. })) => {
            assert_eq!(error, limit_reached(1, 1))
        }
        other => panic!("expected a licence refusal, got {other:?}"),
    }

    // Solo: one active clinical and one active non-clinical user.
    let solo = create_site(&mut conn, "solo", LicencePlan::Solo);
    let ctx = user_ctx(solo.site_id);
    create_user(
        &mut conn,
        solo.site_id,
        new_user("Que", "Q", "que@example.com").non_clinical(),
    );
    match users::create(
        &mut conn,
        &ctx,
        new_user("Rex", "R", "rex@example.com").non_clinical(),
    ) {
        Err(Failure::Refused(UserCreationRefusal::Licence { error, .. })) => assert_eq!(
            error,
            LicenceError::SoloSlotTaken {
                user_type: UserType::NonClinical
            }
        ),
        other => panic!("expected a solo refusal, got {other:?}"),
    }
    match users::create(&mut conn, &ctx, new_user("Sam", "S", "sam@example.com")) {
        Err(Failure::Refused(UserCreationRefusal::Licence { error, .. })) => assert_eq!(
            error,
            LicenceError::SoloSlotTaken {
                user_type: UserType::Clinical
            }
        ),
        other => panic!("expected a solo refusal, got {other:?}"),
    }
}

#[test]
fn reactivation_needs_a_licence() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "react", flex(2));
    let ctx = user_ctx(site.site_id);
    let first = create_user(
        &mut conn,
        site.site_id,
        new_user("Tia", "T", "tia@example.com"),
    );
    users::set_status(&mut conn, &ctx, first.id, None, UserStatus::Inactive).unwrap();
    let second = create_user(
        &mut conn,
        site.site_id,
        new_user("Uma", "U", "uma@example.com"),
    );

    let refused = users::set_status(&mut conn, &ctx, first.id, None, UserStatus::Active);
    match refused {
        Err(StoreError::Licence(e)) => assert_eq!(e.error, limit_reached(2, 2)),
        other => panic!("expected a licence refusal, got {other:?}"),
    }
    let first_now = users::get(&mut conn, site.site_id, first.id).unwrap();
    assert_eq!(first_now.status, UserStatus::Inactive);
    assert_eq!(first_now.version, 2);

    users::set_status(&mut conn, &ctx, second.id, None, UserStatus::Inactive).unwrap();
    let first_now = users::set_status(&mut conn, &ctx, first.id, None, UserStatus::Active).unwrap();
    assert_eq!(first_now.status, UserStatus::Active);

    // Solo: a clinical user cannot come back while another holds the clinical slot.
    let admin = new_user("Vic", "V", "vic@example.com").non_clinical();
    let solo = create_site_with_admin(&mut conn, "solo-react", LicencePlan::Solo, admin);
    let ctx = user_ctx(solo.site_id);
    let c1 = create_user(
        &mut conn,
        solo.site_id,
        new_user("Wes", "W", "wes@example.com"),
    );
    users::set_status(&mut conn, &ctx, c1.id, None, UserStatus::Inactive).unwrap();
    create_user(
        &mut conn,
        solo.site_id,
        new_user("Xia", "X", "xia@example.com"),
    );
    match users::set_status(&mut conn, &ctx, c1.id, None, UserStatus::Active) {
        Err(StoreError::Licence(e)) => assert_eq!(
            e.error,
            LicenceError::SoloSlotTaken {
                user_type: UserType::Clinical
            }
        ),
        other => panic!("expected a solo refusal, got {other:?}"),
    }

    // Group: non-clinical users come back even when every licence is taken.
    let group = create_site(&mut conn, "group-react", LicencePlan::Group { licences: 1 });
    let ctx = user_ctx(group.site_id);
    let nc = create_user(
        &mut conn,
        group.site_id,
        new_user("Yan", "Y", "yan@example.com").non_clinical(),
    );
    users::set_status(&mut conn, &ctx, nc.id, None, UserStatus::Inactive).unwrap();
    users::set_status(&mut conn, &ctx, nc.id, None, UserStatus::Active).unwrap();
}
