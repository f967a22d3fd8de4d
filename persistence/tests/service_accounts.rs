//! Service accounts: created with a hashed secret, found by client id until revoked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use staffroom_domain::{Permission, RevocationRefusal, ServiceAccountId};
use staffroom_persistence::audit::{self, AuditQuery};
use staffroom_persistence::service_accounts::{self, NewServiceAccount};
use staffroom_persistence::usecase::Failure;
use staffroom_persistence::{DbConnection, StoreError};
use support::{Db, create_site, entity, flex, user_ctx};

fn new_account(name: &str, client_id: &str, permissions: &[Permission]) -> NewServiceAccount {
    NewServiceAccount {
        name: entity(name),
        permissions: permissions.to_vec(),
        client_id: client_id.to_owned(),
        secret_hash: format!("digest-of-{client_id}"),
    }
}

fn listed(conn: &mut DbConnection, site: staffroom_domain::SiteId) -> Vec<ServiceAccountId> {
    service_accounts::list(conn, site, 50, None)
        .unwrap()
        .items
        .into_iter()
        .map(|a| a.id)
        .collect()
}

#[test]
fn creates_finds_lists_and_revokes() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "svc", flex(5));
    let other = create_site(&mut conn, "svc-other", flex(5));
    let ctx = user_ctx(site.site_id);

    let sync = service_accounts::create(
        &mut conn,
        &ctx,
        new_account(
            "Payroll sync",
            "client-sync",
            &[
                Permission::ViewReports,
                Permission::ManageBilling,
                Permission::ViewReports,
            ],
        ),
    )
    .unwrap();
    assert_eq!(sync.site_id, site.site_id);
    assert_eq!(sync.name, "Payroll sync");
    assert_eq!(sync.client_id, "client-sync");
    assert_eq!(
        sync.permissions,
        vec![Permission::ViewReports, Permission::ManageBilling],
        "sorted by the catalogue order, without duplicates"
    );
    assert!(sync.is_active());
    let provisioner = service_accounts::create(
        &mut conn,
        &ctx,
        new_account("Provisioner", "client-prov", &[Permission::SiteAdmin]),
    )
    .unwrap();

    assert_eq!(
        service_accounts::get(&mut conn, site.site_id, sync.id).unwrap(),
        sync
    );
    assert!(matches!(
        service_accounts::get(&mut conn, other.site_id, sync.id),
        Err(StoreError::NotFound)
    ));
    let (found, digest) = service_accounts::find_by_client_id(&mut conn, "client-sync")
        .unwrap()
        .expect("found by client id");
    assert_eq!(found, sync);
    assert_eq!(digest, "digest-of-client-sync");
    assert!(
        service_accounts::find_by_client_id(&mut conn, "client-unknown")
            .unwrap()
            .is_none()
    );

    assert_eq!(
        listed(&mut conn, site.site_id),
        vec![sync.id, provisioner.id]
    );
    assert!(listed(&mut conn, other.site_id).is_empty());
    let first = service_accounts::list(&mut conn, site.site_id, 1, None).unwrap();
    assert_eq!(first.items.len(), 1);
    let second =
        service_accounts::list(&mut conn, site.site_id, 1, first.next_cursor.as_deref()).unwrap();
    assert_eq!(second.items[0].id, provisioner.id);
    assert_eq!(second.next_cursor, None);

    // Another site cannot revoke it.
    assert!(matches!(
        service_accounts::revoke(&mut conn, &user_ctx(other.site_id), sync.id),
        Err(Failure::Store(StoreError::NotFound))
    ));
    service_accounts::revoke(&mut conn, &ctx, sync.id).unwrap();
    assert!(
        service_accounts::find_by_client_id(&mut conn, "client-sync")
            .unwrap()
            .is_none(),
        "a revoked account is not found by its client id"
    );
    assert_eq!(listed(&mut conn, site.site_id), vec![provisioner.id]);
    let revoked = service_accounts::get(&mut conn, site.site_id, sync.id).unwrap();
    assert!(!revoked.is_active());
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        service_accounts::revoke(&mut conn, &ctx, sync.id),
        Err(Failure::Refused(RevocationRefusal::AlreadyRevoked))
    ));
    assert!(
        service_accounts::find_by_client_id(&mut conn, "client-prov")
            .unwrap()
            .is_some()
    );

    let mut actions: Vec<&str> = audit::list(
        &mut conn,
        site.site_id,
        &AuditQuery {
            target_id: Some(sync.id.to_string()),
            limit: 50,
            ..AuditQuery::default()
        },
    )
    .unwrap()
    .items
    .into_iter()
    .map(|e| e.action.as_str())
    .collect();
    actions.reverse();
    assert_eq!(
        actions,
        vec!["service_account.created", "service_account.revoked"]
    );
}

#[test]
fn the_secret_digest_never_reaches_the_audit_log() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "svc-audit", flex(5));
    let ctx = user_ctx(site.site_id);
    let account = service_accounts::create(
        &mut conn,
        &ctx,
        new_account("Script", "client-script", &[Permission::ViewReports]),
    )
    .unwrap();
    service_accounts::revoke(&mut conn, &ctx, account.id).unwrap();
    let events = audit::list(
        &mut conn,
        site.site_id,
        &AuditQuery {
            target_type: Some("service_account".to_owned()),
            limit: 50,
            ..AuditQuery::default()
        },
    )
    .unwrap()
    .items;
    assert_eq!(events.len(), 2);
    for event in events {
        for state in [event.before_state, event.after_state]
            .into_iter()
            .flatten()
        {
            assert!(!state.contains("digest-of-"), "{state}");
        }
    }
}
