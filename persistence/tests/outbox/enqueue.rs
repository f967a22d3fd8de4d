//! Enqueueing: a job is written in the caller's transaction, due at once.

use super::*;

#[test]
fn enqueue_writes_a_pending_job_due_now_with_its_own_idempotency_key() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, ctx) = new_site(&mut conn, "enqueue");
    let before = now();
    let first = enqueue(&mut conn, &ctx, 1);
    let second = enqueue(&mut conn, &ctx, 2);
    let after = now();

    let row = stored(&mut conn, first.id);
    assert_eq!(row, first, "what enqueue returns is what it stored");
    assert_eq!(row.site_id, site);
    assert_eq!(row.kind, JobKind::ExerciseCreateUser);
    assert_eq!(row.subject_id, Some(subject(1)));
    assert_eq!(row.payload().unwrap(), json!({"n": 1}));
    assert_eq!(row.status, JobStatus::Pending);
    assert_eq!(row.attempts, 0);
    assert!(before <= row.next_attempt_at && row.next_attempt_at <= after);
    assert_eq!((row.leased_until, row.lease_owner.as_ref()), (None, None));
    assert_eq!((row.last_error.as_ref(), row.result.as_ref()), (None, None));
    assert_eq!(row.finished_at, None);
    assert_eq!(row.actor_kind, ActorKind::User);
    assert_eq!(row.actor_id.as_deref(), Some("actor-1"));
    assert_eq!(row.audit_context(), ctx);
    assert!(!row.idempotency_key.is_empty());
    assert_ne!(first.idempotency_key, second.idempotency_key);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 2);
}

#[test]
fn enqueue_inside_a_transaction_that_rolls_back_leaves_no_job() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, ctx) = new_site(&mut conn, "rollback");
    let result: StoreResult<()> = write_transaction(&mut conn, |conn| {
        let job = enqueue(conn, &ctx, 1);
        // Visible inside the transaction…
        assert_eq!(stored(conn, job.id).id, job.id);
        Err(StoreError::NotFound)
    });
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    // …and gone with it.
    assert_eq!(job_count(&mut conn), 0);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 0);
    let page = outbox::list(&mut conn, site, &query(None, None)).unwrap();
    assert!(page.items.is_empty());
    assert!(
        outbox::claim_due(&mut conn, "w", long_lease(), 10)
            .unwrap()
            .is_empty()
    );
}
