//! Logins: who may log in with an email, and what a successful login records (the diary
//! follows a type change at the user's next login, SPEC §2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use diesel::prelude::*;
use staffroom_domain::{ActorKind, AuditAction, SiteId, UserId, UserStatus, UserType};
use staffroom_persistence::DbConnection;
use staffroom_persistence::audit::{self, AuditEventRow, AuditQuery};
use staffroom_persistence::schema::users as users_table;
use staffroom_persistence::{logins, users};
use support::{Db, NewUserExt, create_site, create_user, email, flex, new_user, user_ctx};

/// Changes the stored type behind the use-cases' back, as a type change does.
fn set_user_type(conn: &mut DbConnection, id: UserId, user_type: UserType) {
    let changed = diesel::update(users_table::table.find(id.to_string()))
        .set(users_table::user_type.eq(user_type.as_str()))
        .execute(conn)
        .unwrap();
    assert_eq!(changed, 1);
}

fn diary_events(conn: &mut DbConnection, site: SiteId, id: UserId) -> Vec<AuditEventRow> {
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
    events.retain(|e| {
        matches!(
            e.action,
            AuditAction::UserDiaryEnabled | AuditAction::UserDiaryDisabled
        )
    });
    events.reverse();
    events
}

#[test]
fn the_diary_follows_a_type_change_at_the_next_login() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "diary", flex(5));
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Ana", "Ash", "ana@example.com"),
    );
    assert!(user.diary_enabled);

    set_user_type(&mut conn, user.id, UserType::NonClinical);
    let before_login = users::get(&mut conn, site.site_id, user.id).unwrap();
    assert_eq!(before_login.user_type, UserType::NonClinical);
    assert!(
        before_login.diary_enabled,
        "nothing changes before the login"
    );

    let logged_in = logins::record_login(&mut conn, site.site_id, user.id).unwrap();
    assert!(!logged_in.diary_enabled);
    let first_login = logged_in.last_login_at.expect("last_login_at is recorded");
    assert_eq!(
        users::get(&mut conn, site.site_id, user.id).unwrap(),
        logged_in
    );

    let events = diary_events(&mut conn, site.site_id, user.id);
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.action, AuditAction::UserDiaryDisabled);
    assert_eq!(event.actor_kind, ActorKind::User);
    assert_eq!(
        event.actor_id.as_deref(),
        Some(user.id.to_string().as_str())
    );
    assert_eq!(event.target_type, "user");
    let before: serde_json::Value =
        serde_json::from_str(event.before_state.as_deref().unwrap()).unwrap();
    let after: serde_json::Value =
        serde_json::from_str(event.after_state.as_deref().unwrap()).unwrap();
    assert_eq!(before["diary_enabled"], true);
    assert_eq!(after["diary_enabled"], false);

    // A second login changes nothing about the diary and writes no event.
    let again = logins::record_login(&mut conn, site.site_id, user.id).unwrap();
    assert!(!again.diary_enabled);
    assert!(again.last_login_at.unwrap() >= first_login);
    assert_eq!(diary_events(&mut conn, site.site_id, user.id).len(), 1);

    // Back to clinical: the diary comes back at the next login.
    set_user_type(&mut conn, user.id, UserType::Clinical);
    assert!(
        !users::get(&mut conn, site.site_id, user.id)
            .unwrap()
            .diary_enabled
    );
    let back = logins::record_login(&mut conn, site.site_id, user.id).unwrap();
    assert!(back.diary_enabled);
    let actions: Vec<AuditAction> = diary_events(&mut conn, site.site_id, user.id)
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::UserDiaryDisabled,
            AuditAction::UserDiaryEnabled
        ]
    );
}

#[test]
fn a_login_without_a_type_change_writes_no_diary_event() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "steady", flex(5));
    let clinical = create_user(
        &mut conn,
        site.site_id,
        new_user("Bo", "Bay", "bo@example.com"),
    );
    let clerk = create_user(
        &mut conn,
        site.site_id,
        new_user("Cal", "Cox", "cal@example.com").non_clinical(),
    );
    for (user, diary) in [(clinical, true), (clerk, false)] {
        let logged_in = logins::record_login(&mut conn, site.site_id, user.id).unwrap();
        assert_eq!(logged_in.diary_enabled, diary);
        assert!(logged_in.last_login_at.is_some());
        assert!(diary_events(&mut conn, site.site_id, user.id).is_empty());
    }
}

/// The diary is part of what a client sees, and `version` is the user's ETag: a login
/// that flips `diary_enabled` changes the representation, so it must change the version.
#[test]
fn a_diary_change_at_login_changes_the_version() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "etag", flex(5));
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Di", "Dunn", "di@example.com"),
    );
    set_user_type(&mut conn, user.id, UserType::NonClinical);
    let logged_in = logins::record_login(&mut conn, site.site_id, user.id).unwrap();
    assert!(!logged_in.diary_enabled);
    assert!(
        logged_in.version > user.version,
        "diary_enabled changed but the version (ETag) stayed {}",
        logged_in.version
    );
}

#[test]
fn login_candidates_are_active_users_with_a_password() {
    let db = Db::new();
    let mut conn = db.conn();
    let a = create_site(&mut conn, "cand-a", flex(5));
    let b = create_site(&mut conn, "cand-b", flex(5));
    let c = create_site(&mut conn, "cand-c", flex(5));
    let d = create_site(&mut conn, "cand-d", flex(5));

    let in_a = create_user(
        &mut conn,
        a.site_id,
        new_user("Gus", "Gale", "Gus@Example.com").password_hash("hash-a"),
    );
    let in_b = create_user(
        &mut conn,
        b.site_id,
        new_user("Gus", "Gale", "gus@example.com").password_hash("hash-b"),
    );
    // No password yet (invited, never accepted).
    create_user(
        &mut conn,
        c.site_id,
        new_user("Gus", "Gale", "gus@example.com"),
    );
    // Deactivated.
    let in_d = create_user(
        &mut conn,
        d.site_id,
        new_user("Gus", "Gale", "gus@example.com").password_hash("hash-d"),
    );
    users::set_status(
        &mut conn,
        &user_ctx(d.site_id),
        in_d.id,
        None,
        UserStatus::Inactive,
    )
    .unwrap();

    let mut found: Vec<(UserId, SiteId, String)> =
        users::login_candidates(&mut conn, &email("GUS@EXAMPLE.COM"), None)
            .unwrap()
            .into_iter()
            .map(|c| (c.user_id, c.site_id, c.password_hash))
            .collect();
    found.sort();
    let mut expected = vec![
        (in_a.id, a.site_id, "hash-a".to_owned()),
        (in_b.id, b.site_id, "hash-b".to_owned()),
    ];
    expected.sort();
    assert_eq!(found, expected);

    let only_b =
        users::login_candidates(&mut conn, &email("gus@example.com"), Some(b.site_id)).unwrap();
    assert_eq!(only_b.len(), 1);
    assert_eq!(only_b[0].user_id, in_b.id);
    for site in [c.site_id, d.site_id] {
        assert!(
            users::login_candidates(&mut conn, &email("gus@example.com"), Some(site))
                .unwrap()
                .is_empty()
        );
    }
    assert!(
        users::login_candidates(&mut conn, &email("nobody@example.com"), None)
            .unwrap()
            .is_empty()
    );

    // Reactivated, the user may log in again.
    users::set_status(
        &mut conn,
        &user_ctx(d.site_id),
        in_d.id,
        None,
        UserStatus::Active,
    )
    .unwrap();
    assert_eq!(
        users::login_candidates(&mut conn, &email("gus@example.com"), Some(d.site_id))
            .unwrap()
            .len(),
        1
    );
}
