//! 1. Two processes, one outbox

use super::*;

/// Two `serve` processes work one outbox against a slow, flaky provider: every add ends
/// `active`, the provider holds each user exactly once, and no job ever had two attempts in
/// flight at once.
///
/// What guarantees it: a job is worked only under a lease taken by one guarded `UPDATE`
/// (`status = 'pending' AND due AND (leased_until IS NULL OR leased_until < now)`), held
/// far longer than a provider call may take, and its outcome is recorded only under the
/// same owner token. `persistence/tests/outbox.rs` races claims on both backends to prove
/// that exclusivity directly; here the recording proxy checks it end to end, and the
/// simulator's idempotency would in any case turn a second attempt of one job into a replay
/// rather than a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_serve_processes_work_each_job_once_and_create_no_duplicates() {
    let started = Instant::now();
    let sim = start_sim().await;
    let (providers, calls) = start_proxy(sim.base_url());
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    // A budget of 0 ms: the request claims its job and starts the call in the background,
    // but answers `202 pending` at once; retries are left to the two processes' workers.
    let fast = [("STAFFROOM_PROVIDER_BUDGET_MS", "0")];
    let mut a = serve(&db, data.path(), &providers, "a", &fast);
    let mut b = serve(&db, data.path(), &providers, "b", &fast);
    a.wait_listening();
    b.wait_listening();
    let site = bootstrap(&db, data.path(), &providers)["site_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bases = [a.base.clone(), b.base.clone()];

    let api = Api::login(&bases[0]).await;
    api.connect_exercise(&bases[1]).await;
    let creates = (0..USERS).map(|i| {
        let (api, base) = (&api, &bases[i % 2]);
        async move {
            api.create_user(base, &format!("worker{i}@outbox.test"))
                .await
        }
    });
    let ids: Vec<String> = join_all(creates).await;

    // Slow and flaky from now on: every call takes 200 ms, 30 % of them fail with a 503.
    sim.set_faults(Faults {
        latency_ms: 200,
        fail_rate: 0.3,
        ..Faults::default()
    });
    let adds = ids.iter().enumerate().map(|(i, id)| {
        let (api, base) = (&api, &bases[i % 2]);
        async move { api.add_exercise_user(base, id, &format!("Pat{i}")).await }
    });
    for (i, (status, body)) in join_all(adds).await.into_iter().enumerate() {
        // The budget is 0 ms, so the answer is `202 pending`, unless the background call
        // already finished when the state was read (under load): then `200 active`.
        match (status, body["state"].as_str()) {
            (202, Some("pending")) => assert_eq!(body["pending_action"], "add", "{body:#}"),
            (200, Some("active")) => {}
            _ => panic!("add {i} answers at once, {status}: {body:#}"),
        }
    }

    let polls = std::sync::atomic::AtomicUsize::new(0);
    let states = eventually(Duration::from_secs(60), "every user active", || async {
        // Ask each process in turn.
        let base = &bases[polls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2];
        let states = api.exercise_states(base).await;
        if ids.iter().all(|id| states[id]["state"] == "active") {
            Ok(states)
        } else {
            Err(format!("{:?}", states_summary(&states, &ids)))
        }
    })
    .await;
    for id in &ids {
        assert_eq!(states[id]["last_error"], Value::Null, "{:#}", states[id]);
    }
    sim.clear_faults();

    // The provider holds exactly one user per Staffroom user.
    let held = sim.state();
    let mut by_external: BTreeMap<String, usize> = BTreeMap::new();
    for user in held["exercise"]["users"].as_array().unwrap() {
        assert_eq!(user["clm_id"], CLM_ID, "{user:#}");
        *by_external
            .entry(user["external_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let duplicated: Vec<_> = by_external.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicated.is_empty(),
        "duplicates at the provider: {duplicated:?}"
    );
    let expected: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let held_ids: BTreeSet<&str> = by_external.keys().map(String::as_str).collect();
    assert_eq!(held_ids, expected);

    // Every job succeeded; its attempts are the calls the provider really got for its key,
    // and no two of them were ever in flight together.
    let jobs = api.jobs(&bases[1], "exercise.create_user").await;
    assert_eq!(jobs.len(), USERS);
    let (overlaps, made) = {
        let recorded = calls.lock().unwrap();
        (recorded.overlaps.clone(), recorded.made.clone())
    };
    assert!(
        overlaps.is_empty(),
        "attempts of one job ran at the same time: {overlaps:?}"
    );
    assert_eq!(made.len(), USERS, "one idempotency key per job: {made:?}");
    let mut attempts_total = 0;
    for job in &jobs {
        assert_eq!(job["status"], "succeeded", "{job:#}");
        assert_eq!(job["running"], false, "{job:#}");
        assert!(job["finished_at"].is_string(), "{job:#}");
        let attempts = usize::try_from(job["attempts"].as_u64().unwrap()).unwrap();
        assert!((1..=20).contains(&attempts), "{job:#}");
        // Every attempt is one provider call with the job's key (`staffroom-job-{id}`,
        // docs/decisions.md), so a retry never creates a second user.
        let key = format!("staffroom-job-{}", job["id"].as_str().unwrap());
        assert_eq!(made.get(&key), Some(&attempts), "calls with {key}: {job:#}");
        attempts_total += attempts;
    }
    let retried = jobs
        .iter()
        .filter(|j| j["attempts"].as_u64().unwrap() > 1)
        .count();

    // Each user got exactly one notice, through the database sink.
    let notices = eventually(Duration::from_secs(30), "every notice sent", || async {
        let jobs = api.jobs(&bases[0], "email.send").await;
        let sent = jobs.iter().filter(|j| j["status"] == "succeeded").count();
        if jobs.len() == USERS && sent == USERS {
            Ok(jobs)
        } else {
            Err(format!("{} jobs, {sent} sent", jobs.len()))
        }
    })
    .await;
    assert_eq!(notices.len(), USERS);
    let mail = mail_list(&db, data.path(), &providers, None);
    let mut per_recipient: BTreeMap<String, usize> = BTreeMap::new();
    for message in mail.iter().filter(|m| m["subject"] == ADDED_SUBJECT) {
        *per_recipient
            .entry(message["to"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_recipient.len(), USERS, "{per_recipient:?}");
    assert!(per_recipient.values().all(|n| *n == 1), "{per_recipient:?}");

    // Which process made each job's last attempt (lease owners are `host:pid/token`; the
    // add went to process `i % 2`): always one of the two.
    let rows = job_rows(&db, site.parse().unwrap(), JobKind::ExerciseCreateUser);
    let pids = [a.child.id(), b.child.id()];
    let mut by_other = 0;
    let mut finished_by = [0_usize; 2];
    for row in &rows {
        let owner = row.lease_owner.as_deref().unwrap_or_default();
        let finisher = pids
            .iter()
            .position(|pid| owner.contains(&format!(":{pid}/")))
            .unwrap_or_else(|| panic!("owner {owner} is neither process {pids:?}"));
        finished_by[finisher] += 1;
        let asked = ids
            .iter()
            .position(|id| row.subject_id == Some(id.parse().unwrap()))
            .unwrap();
        by_other += usize::from(finisher != asked % 2);
    }
    // Both processes worked the outbox: each finished some of the jobs.
    assert!(
        finished_by.iter().all(|n| *n > 0),
        "jobs finished by process a and b: {finished_by:?}"
    );
    eprintln!(
        "{}: {USERS} adds over two processes, {attempts_total} attempts ({retried} jobs \
         retried, {by_other} finished by the process the add did not go to), done in {:?}",
        db.backend(),
        started.elapsed()
    );
    drop((a, b));
}
