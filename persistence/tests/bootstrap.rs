//! Operator bootstrap: a site, its first clinic and its first site administrator, audited
//! as the system.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use staffroom_domain::{ActorKind, AuditAction, LicencePlan, Permission, UserStatus, UserType};
use staffroom_persistence::audit::{self, AuditQuery};
use staffroom_persistence::{clinics, sites, users};
use support::{Db, NewUserExt, create_site, create_site_with_admin, new_user};

#[test]
fn creates_the_site_its_clinic_and_its_admin() {
    let db = Db::new();
    let mut conn = db.conn();
    let created = create_site(&mut conn, "north", LicencePlan::Group { licences: 3 });

    let site = sites::get(&mut conn, created.site_id).unwrap();
    assert_eq!(site.id, created.site_id);
    assert_eq!(site.name, "north");
    assert_eq!(site.plan, LicencePlan::Group { licences: 3 });
    assert_eq!(site.settings.timezone, "UTC");
    assert_eq!(site.version, 1);

    let clinic_list = clinics::list(&mut conn, created.site_id, None, 50, None).unwrap();
    assert_eq!(clinic_list.items.len(), 1);
    let clinic = &clinic_list.items[0];
    assert_eq!(clinic.id, created.clinic_id);
    assert_eq!(clinic.name, "north main clinic");
    assert!(!clinic.assistants_may_finish_notes);

    let admin = users::get(&mut conn, created.site_id, created.admin_user_id).unwrap();
    assert_eq!(admin.email, "admin-north@example.com");
    assert_eq!(admin.permissions, vec![Permission::SiteAdmin]);
    assert_eq!(admin.clinic_ids, vec![created.clinic_id]);
    assert_eq!(admin.default_clinic_id, created.clinic_id);
    assert_eq!(admin.status, UserStatus::Active);
    assert_eq!(admin.user_type, UserType::Clinical);
    assert!(admin.diary_enabled);
    assert_eq!(admin.version, 1);
}

#[test]
fn keeps_the_admins_other_permissions() {
    let db = Db::new();
    let mut conn = db.conn();
    let admin = new_user("Bea", "Boss", "bea@example.com")
        .non_clinical()
        .permissions(&[Permission::ViewReports, Permission::SiteAdmin]);
    let created = create_site_with_admin(&mut conn, "south", LicencePlan::Solo, admin);
    let admin = users::get(&mut conn, created.site_id, created.admin_user_id).unwrap();
    assert_eq!(
        admin.permissions,
        vec![Permission::SiteAdmin, Permission::ViewReports]
    );
    assert_eq!(admin.user_type, UserType::NonClinical);
    assert!(!admin.diary_enabled);
}

#[test]
fn audits_the_site_and_the_admin_as_the_system() {
    let db = Db::new();
    let mut conn = db.conn();
    let created = create_site(&mut conn, "east", LicencePlan::Flex { licences: 2 });
    let events = audit::list(
        &mut conn,
        created.site_id,
        &AuditQuery {
            limit: 50,
            ..AuditQuery::default()
        },
    )
    .unwrap()
    .items;
    let mut actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(actions, vec!["site.created", "user.created"]);
    for event in &events {
        assert_eq!(event.actor_kind, ActorKind::System, "{}", event.action);
        assert_eq!(event.actor_id, None);
        assert_eq!(event.site_id, created.site_id);
    }
    let site_created = events
        .iter()
        .find(|e| e.action == AuditAction::SiteCreated)
        .unwrap();
    assert_eq!(site_created.target_type, "site");
    assert_eq!(
        site_created.target_id.as_deref(),
        Some(created.site_id.to_string().as_str())
    );
    let user_created = events
        .iter()
        .find(|e| e.action == AuditAction::UserCreated)
        .unwrap();
    assert_eq!(user_created.target_type, "user");
    assert_eq!(
        user_created.target_id.as_deref(),
        Some(created.admin_user_id.to_string().as_str())
    );
    let after: serde_json::Value =
        serde_json::from_str(user_created.after_state.as_deref().unwrap()).unwrap();
    assert_eq!(after["permissions"], serde_json::json!(["site_admin"]));
    assert!(
        after.get("password_hash").is_none() && after.get("has_password").is_some(),
        "the audit snapshot never carries the password hash"
    );
}
