//! Finishing: outcomes under a fence on the owner token; the effect runs once, for a final outcome.

use super::*;

#[test]
fn finish_succeeded_records_the_result_and_runs_the_effect_once() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "succeeded");
    let job = enqueue(&mut conn, &ctx, 1);
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, job.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let before = now();
    let outcome = Outcome::Succeeded {
        result: json!({"id": "EXU-1", "n": 7}),
    };
    let (finished, ran) = finish_noting(&mut conn, &claimed, &owner, &outcome);
    assert!(finished.unwrap());
    assert_eq!(ran, 1, "the effect runs for a final outcome");

    let row = stored(&mut conn, job.id);
    assert_eq!(row.status, JobStatus::Succeeded);
    let result: Value = serde_json::from_str(row.result.as_deref().unwrap()).unwrap();
    assert_eq!(result, json!({"id": "EXU-1", "n": 7}));
    assert_eq!(row.leased_until, None, "the lease is released");
    assert!(row.finished_at.is_some_and(|at| at >= before));
    assert_eq!(row.attempts, 1);
    assert_eq!(row.last_error, None);
    assert_eq!(row.version, claimed.version + 1);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 0);

    // Finishing twice (a duplicate delivery of the same outcome) changes nothing.
    let (again, ran) = finish_noting(&mut conn, &claimed, &owner, &outcome);
    assert!(!again.unwrap());
    assert_eq!(ran, 0);
    assert_eq!(stored(&mut conn, job.id), row);
}

#[test]
fn finish_failed_records_the_error_and_runs_the_effect_once() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "failed");
    let job = enqueue(&mut conn, &ctx, 1);
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, job.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let before = now();
    let outcome = Outcome::Failed {
        error: "invalid_name: too long".into(),
    };
    let (finished, ran) = finish_noting(&mut conn, &claimed, &owner, &outcome);
    assert!(finished.unwrap());
    assert_eq!(ran, 1);

    let row = stored(&mut conn, job.id);
    assert_eq!(row.status, JobStatus::Failed);
    assert_eq!(row.last_error.as_deref(), Some("invalid_name: too long"));
    assert_eq!(row.result, None);
    assert_eq!(row.leased_until, None);
    assert!(row.finished_at.is_some_and(|at| at >= before));
    assert_eq!(row.attempts, 1);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 0);
}

#[test]
fn finish_retry_at_reschedules_without_running_the_effect() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "retry");
    let job = enqueue(&mut conn, &ctx, 1);
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, job.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let retry_at = now() + Duration::hours(1);
    let outcome = Outcome::RetryAt {
        at: retry_at,
        error: "503 simulated_failure".into(),
    };
    let (finished, ran) = finish_noting(&mut conn, &claimed, &owner, &outcome);
    assert!(finished.unwrap());
    assert_eq!(ran, 0, "a retry is not final: no effect");

    let row = stored(&mut conn, job.id);
    assert_eq!(row.status, JobStatus::Pending);
    assert_eq!(row.next_attempt_at, retry_at);
    assert_eq!(row.last_error.as_deref(), Some("503 simulated_failure"));
    assert_eq!(row.leased_until, None, "the lease is released");
    assert_eq!(row.finished_at, None);
    assert_eq!(row.result, None);
    assert_eq!(row.attempts, 1);
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 1);

    // Not due before its time, by id or in a batch…
    let other = outbox::new_owner("w2");
    assert_eq!(
        outbox::claim(&mut conn, job.id, &other, long_lease()).unwrap(),
        None
    );
    assert!(
        outbox::claim_due(&mut conn, "w2", long_lease(), 10)
            .unwrap()
            .is_empty()
    );
    // …and due again once its time has come: the next attempt is the second.
    set_due(&mut conn, job.id, now() - Duration::seconds(1));
    let retried = outbox::claim(&mut conn, job.id, &other, long_lease())
        .unwrap()
        .expect("due again");
    assert_eq!(retried.attempts, 2);
    assert_eq!(retried.last_error.as_deref(), Some("503 simulated_failure"));
    let (finished, ran) = finish_noting(
        &mut conn,
        &retried,
        &other,
        &Outcome::Succeeded { result: json!({}) },
    );
    assert_eq!((finished.unwrap(), ran), (true, 1));
    assert_eq!(stored(&mut conn, job.id).status, JobStatus::Succeeded);
}

#[test]
fn a_stale_owner_cannot_finish_a_job_taken_over_and_its_effect_never_runs() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "stale");
    let outcomes = [
        Outcome::Succeeded {
            result: json!({"id": "EXU-stale"}),
        },
        Outcome::Failed {
            error: "stale failure".into(),
        },
        Outcome::RetryAt {
            at: now() + Duration::hours(1),
            error: "stale retry".into(),
        },
    ];
    for (n, outcome) in outcomes.iter().enumerate() {
        let job = enqueue(&mut conn, &ctx, n);
        let stale = outbox::new_owner("slow-worker");
        let stale_job = outbox::claim(&mut conn, job.id, &stale, tiny_lease())
            .unwrap()
            .unwrap();
        let_leases_expire();
        let fresh = outbox::new_owner("fast-worker");
        let fresh_job = outbox::claim(&mut conn, job.id, &fresh, long_lease())
            .unwrap()
            .expect("the expired lease is taken over");
        let before = stored(&mut conn, job.id);

        let (finished, ran) = finish_noting(&mut conn, &stale_job, &stale, outcome);
        assert!(!finished.unwrap(), "{outcome:?}: the lease was lost");
        assert_eq!(ran, 0, "{outcome:?}: a stale owner's effect must not run");
        assert_eq!(
            stored(&mut conn, job.id),
            before,
            "{outcome:?}: a stale owner changes nothing"
        );

        // The owner that took it over still can, and does so once.
        let (finished, ran) = finish_noting(
            &mut conn,
            &fresh_job,
            &fresh,
            &Outcome::Succeeded {
                result: json!({"by": "fresh"}),
            },
        );
        assert_eq!((finished.unwrap(), ran), (true, 1));
        let row = stored(&mut conn, job.id);
        assert_eq!(row.status, JobStatus::Succeeded);
        assert_eq!(row.result.as_deref(), Some(r#"{"by":"fresh"}"#));
        assert_eq!(row.attempts, 2);

        // And once it is finished, the stale owner is still refused.
        let (finished, ran) = finish_noting(&mut conn, &stale_job, &stale, outcome);
        assert_eq!((finished.unwrap(), ran), (false, 0));
        assert_eq!(stored(&mut conn, job.id), row);
    }
}

#[test]
fn an_effect_that_fails_rolls_the_outcome_back() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "effect-fails");
    let job = enqueue(&mut conn, &ctx, 1);
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, job.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let before = stored(&mut conn, job.id);
    let result = outbox::finish(
        &mut conn,
        &claimed,
        &owner,
        &Outcome::Succeeded { result: json!({}) },
        |conn, _, _| {
            // A write of the effect that must be rolled back with the outcome.
            enqueue(conn, &ctx, 99);
            Err(StoreError::NotFound)
        },
    );
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(stored(&mut conn, job.id), before, "the job is unchanged");
    assert_eq!(job_count(&mut conn), 1, "the effect's write is gone");
    // Still owned: the worker can record the outcome again.
    let (finished, ran) = finish_noting(
        &mut conn,
        &claimed,
        &owner,
        &Outcome::Succeeded { result: json!({}) },
    );
    assert_eq!((finished.unwrap(), ran), (true, 1));
}
