//! Clinics: create, update with versions, and delete, which is refused for the last clinic
//! and for anyone's default clinic and otherwise removes every user's access to it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use staffroom_domain::{AuditAction, ClinicId, UserStatus};
use staffroom_persistence::audit::{self, AuditQuery};
use staffroom_persistence::clinics::{self, ClinicPatch};
use staffroom_persistence::users::{self, UserQuery};
use staffroom_persistence::{Conflict, StoreError};
use support::{Db, NewUserExt, create_site, create_user, entity, flex, new_user, user_ctx};

#[test]
fn creates_updates_and_lists_clinics() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "clinics", flex(5));
    let other = create_site(&mut conn, "clinics-other", flex(5));
    let ctx = user_ctx(site.site_id);

    let clinic = clinics::create(&mut conn, &ctx, &entity("Harbour Road"), true).unwrap();
    assert_eq!(clinic.site_id, site.site_id);
    assert_eq!(clinic.name, "Harbour Road");
    assert!(clinic.assistants_may_finish_notes);
    assert_eq!(clinic.version, 1);
    assert_eq!(
        clinics::get(&mut conn, site.site_id, clinic.id).unwrap(),
        clinic
    );
    assert!(matches!(
        clinics::get(&mut conn, other.site_id, clinic.id),
        Err(StoreError::NotFound)
    ));

    let stale = clinics::update(
        &mut conn,
        &ctx,
        clinic.id,
        Some(4),
        ClinicPatch {
            name: Some(entity("Harbour St")),
            ..ClinicPatch::default()
        },
    );
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch { current: 1 })
    ));
    let same = clinics::update(
        &mut conn,
        &ctx,
        clinic.id,
        Some(1),
        ClinicPatch {
            name: Some(entity("Harbour Road")),
            assistants_may_finish_notes: Some(true),
        },
    )
    .unwrap();
    assert_eq!(same, clinic, "a no-op keeps the version");
    let renamed = clinics::update(
        &mut conn,
        &ctx,
        clinic.id,
        Some(1),
        ClinicPatch {
            name: Some(entity("Harbour St")),
            assistants_may_finish_notes: Some(false),
        },
    )
    .unwrap();
    assert_eq!(renamed.name, "Harbour St");
    assert!(!renamed.assistants_may_finish_notes);
    assert_eq!(renamed.version, 2);

    let all = clinics::list(&mut conn, site.site_id, None, 50, None).unwrap();
    let listed: Vec<ClinicId> = all.items.iter().map(|c| c.id).collect();
    assert_eq!(listed, vec![site.clinic_id, clinic.id], "creation order");
    let found = clinics::list(&mut conn, site.site_id, Some("bour"), 50, None).unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, clinic.id);
    let first = clinics::list(&mut conn, site.site_id, None, 1, None).unwrap();
    assert_eq!(first.items[0].id, site.clinic_id);
    let second = clinics::list(
        &mut conn,
        site.site_id,
        None,
        1,
        first.next_cursor.as_deref(),
    )
    .unwrap();
    assert_eq!(second.items[0].id, clinic.id);
    assert_eq!(second.next_cursor, None);

    let mut actions: Vec<AuditAction> = audit::list(
        &mut conn,
        site.site_id,
        &AuditQuery {
            target_id: Some(clinic.id.to_string()),
            limit: 50,
            ..AuditQuery::default()
        },
    )
    .unwrap()
    .items
    .into_iter()
    .map(|e| e.action)
    .collect();
    actions.reverse();
    assert_eq!(
        actions,
        vec![AuditAction::ClinicCreated, AuditAction::ClinicUpdated]
    );
}

/// The clinic filter is a case-insensitive name search, the same on both backends (the
/// user list's `q` is case-insensitive too).
#[test]
fn clinic_search_ignores_case() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "clinic-search", flex(5));
    let ctx = user_ctx(site.site_id);
    let clinic = clinics::create(&mut conn, &ctx, &entity("Harbour Road"), false).unwrap();
    for q in ["Harbour", "harbour", "HARBOUR ROAD", "bour r"] {
        let found: Vec<ClinicId> = clinics::list(&mut conn, site.site_id, Some(q), 50, None)
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(
            found,
            vec![clinic.id],
            "q = {q:?} on {}",
            db.database.backend()
        );
    }
    let literal = clinics::list(&mut conn, site.site_id, Some("%"), 50, None).unwrap();
    assert!(literal.items.is_empty(), "% is literal");
}

#[test]
fn the_last_clinic_cannot_be_deleted() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "last-clinic", flex(5));
    let refused = clinics::delete(&mut conn, &user_ctx(site.site_id), site.clinic_id, None);
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::LastClinic))),
        "{refused:?}"
    );
    assert!(clinics::get(&mut conn, site.site_id, site.clinic_id).is_ok());
}

#[test]
fn a_default_clinic_cannot_be_deleted() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "default-clinic", flex(5));
    let ctx = user_ctx(site.site_id);
    let second = clinics::create(&mut conn, &ctx, &entity("Second"), false).unwrap();

    // The main clinic is the admin's default.
    let refused = clinics::delete(&mut conn, &ctx, site.clinic_id, None);
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::ClinicInUse))),
        "{refused:?}"
    );

    // Also when the only user who has it as default is inactive.
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Ray", "Rey", "ray@example.com").clinics(&[second.id], None),
    );
    users::set_status(&mut conn, &ctx, user.id, None, UserStatus::Inactive).unwrap();
    let refused = clinics::delete(&mut conn, &ctx, second.id, None);
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::ClinicInUse))),
        "{refused:?}"
    );
    assert!(clinics::get(&mut conn, site.site_id, second.id).is_ok());
    assert_eq!(
        users::get(&mut conn, site.site_id, user.id)
            .unwrap()
            .clinic_ids,
        vec![second.id]
    );
}

#[test]
fn deleting_a_clinic_removes_access_and_bumps_those_users() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "delete-clinic", flex(10));
    let other = create_site(&mut conn, "delete-clinic-other", flex(10));
    let ctx = user_ctx(site.site_id);
    let main = site.clinic_id;
    let doomed = clinics::create(&mut conn, &ctx, &entity("Doomed"), false).unwrap();

    let with_access = create_user(
        &mut conn,
        site.site_id,
        new_user("Sue", "Sun", "sue@example.com").clinics(&[main, doomed.id], Some(main)),
    );
    let inactive_with_access = create_user(
        &mut conn,
        site.site_id,
        new_user("Tim", "Tan", "tim@example.com").clinics(&[main, doomed.id], Some(main)),
    );
    let inactive_with_access = users::set_status(
        &mut conn,
        &ctx,
        inactive_with_access.id,
        None,
        UserStatus::Inactive,
    )
    .unwrap();
    let without = create_user(
        &mut conn,
        site.site_id,
        new_user("Una", "Ude", "una@example.com"),
    );

    // Another site cannot delete it, nor with a stale version.
    assert!(matches!(
        clinics::delete(&mut conn, &user_ctx(other.site_id), doomed.id, None),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        clinics::delete(&mut conn, &ctx, doomed.id, Some(2)),
        Err(StoreError::VersionMismatch { current: 1 })
    ));

    clinics::delete(&mut conn, &ctx, doomed.id, Some(1)).unwrap();

    assert!(matches!(
        clinics::get(&mut conn, site.site_id, doomed.id),
        Err(StoreError::NotFound)
    ));
    for before in [&with_access, &inactive_with_access] {
        let after = users::get(&mut conn, site.site_id, before.id).unwrap();
        assert_eq!(after.clinic_ids, vec![main]);
        assert_eq!(after.default_clinic_id, main);
        assert_eq!(after.version, before.version + 1, "{}", before.email);
    }
    let untouched = users::get(&mut conn, site.site_id, without.id).unwrap();
    assert_eq!(untouched, without);
    let admin = users::get(&mut conn, site.site_id, site.admin_user_id).unwrap();
    assert_eq!(admin.version, 1);

    let in_doomed = users::list(
        &mut conn,
        site.site_id,
        &UserQuery {
            clinic_id: Some(doomed.id),
            limit: 50,
            ..UserQuery::default()
        },
    )
    .unwrap();
    assert!(in_doomed.items.is_empty());

    let events = audit::list(
        &mut conn,
        site.site_id,
        &AuditQuery {
            action: Some(AuditAction::ClinicDeleted),
            limit: 50,
            ..AuditQuery::default()
        },
    )
    .unwrap()
    .items;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].target_id.as_deref(),
        Some(doomed.id.to_string().as_str())
    );
    let after: serde_json::Value =
        serde_json::from_str(events[0].after_state.as_deref().unwrap()).unwrap();
    assert_eq!(after["user_access_removed"], 2);

    // Deleting it again: it is gone.
    assert!(matches!(
        clinics::delete(&mut conn, &ctx, doomed.id, None),
        Err(StoreError::NotFound)
    ));
}
