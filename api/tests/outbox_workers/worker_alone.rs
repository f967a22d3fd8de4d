//! 2 and 3. `staffroom worker` alone, and `staffroom mail list`

use super::*;

/// What the worker scenario leaves behind.
struct WorkerScenario {
    db: TestDatabase,
    data: tempfile::TempDir,
    providers: String,
    site: SiteId,
    email: String,
    user_id: String,
    /// The process ids of the worker-less `serve` and of the `staffroom worker`.
    server_pid: u32,
    worker_pid: u32,
}

/// A `serve` without an outbox worker leaves an add pending after its inline attempt
/// failed; it stays pending, though the provider is back, until a `staffroom worker`
/// (alone, same settings) runs it and its notice. The worker stops cleanly on SIGTERM.
/// The tests below check what each of them is about in what it leaves behind.
async fn worker_scenario(sim: &SimHandle) -> WorkerScenario {
    let providers = sim.base_url();
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    let settings = [
        // `true`, not `1`: see `the_no_outbox_worker_switch_accepts_1`.
        ("STAFFROOM_NO_OUTBOX_WORKER", "true"),
        ("STAFFROOM_PROVIDER_BUDGET_MS", "1"),
    ];
    let mut server = serve(&db, data.path(), &providers, "serve", &settings);
    server.wait_listening();
    let site = bootstrap(&db, data.path(), &providers)["site_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let base = server.base.clone();
    let api = Api::login(&base).await;
    api.connect_exercise(&base).await;
    let email = "Solo.Worker@Outbox.test".to_owned();
    let user_id = api.create_user(&base, &email).await;

    sim.set_faults(Faults {
        fail_next: 1000,
        ..Faults::default()
    });
    let (status, body) = api.add_exercise_user(&base, &user_id, "Solo").await;
    assert_eq!(status, 202, "{body:#}");
    assert_eq!(body["state"], "pending", "{body:#}");
    let job_id = body["job_id"].as_str().unwrap().to_owned();
    // The inline attempt fails (503) and is recorded as a retry that nobody runs here.
    let job = eventually(
        Duration::from_secs(10),
        "the inline attempt recorded",
        || async {
            let job = api.job(&base, &job_id).await;
            if job["attempts"] == 1 && job["last_error"].is_string() && job["running"] == false {
                Ok(job)
            } else {
                Err(job.to_string())
            }
        },
    )
    .await;
    assert_eq!(job["status"], "pending", "{job:#}");
    assert_eq!(job["kind"], "exercise.create_user", "{job:#}");
    sim.clear_faults();

    // The provider is back, but this process works no outbox: nothing moves.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let still = api.exercise_user(&base, &user_id).await;
    assert_eq!(still["state"], "pending", "{still:#}");
    let job = api.job(&base, &job_id).await;
    assert_eq!(
        (&job["status"], &job["attempts"]),
        (&json!("pending"), &json!(1)),
        "{job:#}"
    );
    assert!(
        sim.state()["exercise"]["users"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A worker alone, with the same settings, finishes it.
    let mut cmd = staffroom(&db, data.path(), &providers, &settings);
    cmd.arg("worker");
    let mut worker = spawn(cmd, data.path(), "worker");
    worker.wait_first_line("staffroom worker running");
    let worker_pid = worker.child.id();
    let active = eventually(Duration::from_secs(30), "the user active", || async {
        let user = api.exercise_user(&base, &user_id).await;
        if user["state"] == "active" {
            Ok(user)
        } else {
            Err(user.to_string())
        }
    })
    .await;
    assert_eq!(active["last_error"], Value::Null, "{active:#}");
    let job = api.job(&base, &job_id).await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(job["attempts"], 2, "{job:#}");
    let held = sim.state();
    let users = held["exercise"]["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "{held:#}");
    assert_eq!(users[0]["external_id"], user_id.as_str());
    assert_eq!(users[0]["first_name"], "Solo");

    // The worker also sends the notice the add queued.
    eventually(Duration::from_secs(30), "the notice sent", || async {
        let jobs = api.jobs(&base, "email.send").await;
        match jobs.as_slice() {
            [job] if job["status"] == "succeeded" => Ok(()),
            _ => Err(format!("{jobs:?}")),
        }
    })
    .await;

    let status = worker.terminate();
    assert!(
        status.success(),
        "the worker exits cleanly on SIGTERM: {status:?}\n{}",
        worker.log()
    );
    let server_pid = server.child.id();
    drop(server);
    WorkerScenario {
        db,
        data,
        providers,
        site,
        email,
        user_id,
        server_pid,
        worker_pid,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staffroom_worker_alone_runs_the_jobs_a_serve_without_worker_left_pending() {
    let started = Instant::now();
    let sim = start_sim().await;
    let scenario = worker_scenario(&sim).await;
    let (server, worker) = (scenario.server_pid, scenario.worker_pid);
    // The add: its first attempt ran inline in the request (in `serve`), the retry that
    // succeeded in the worker process.
    let adds = job_rows(&scenario.db, scenario.site, JobKind::ExerciseCreateUser);
    let [add] = adds.as_slice() else {
        panic!("one add job: {adds:#?}")
    };
    assert_eq!(add.subject_id, Some(scenario.user_id.parse().unwrap()));
    assert_eq!(
        (add.status, add.attempts),
        (JobStatus::Succeeded, 2),
        "{add:#?}"
    );
    assert!(
        leased_by(add, worker) && !leased_by(add, server),
        "the add's last attempt was the worker's ({worker}), not serve's ({server}): {add:#?}"
    );
    // The notice the add queued: run once, by the worker alone.
    let notices = job_rows(&scenario.db, scenario.site, JobKind::EmailSend);
    let [notice] = notices.as_slice() else {
        panic!("one notice job: {notices:#?}")
    };
    assert_eq!(
        (notice.status, notice.attempts),
        (JobStatus::Succeeded, 1),
        "{notice:#?}"
    );
    assert!(
        leased_by(notice, worker),
        "the notice was sent by the worker ({worker}), not serve ({server}): {notice:#?}"
    );
    eprintln!(
        "{}: worker scenario in {:?}",
        scenario.db.backend(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_list_prints_the_notice_the_worker_sent() {
    let sim = start_sim().await;
    let s = worker_scenario(&sim).await;
    for to in [
        s.email.clone(),
        s.email.to_lowercase(),
        s.email.to_uppercase(),
    ] {
        let mail = mail_list(&s.db, s.data.path(), &s.providers, Some(&to));
        let notices: Vec<&Value> = mail
            .iter()
            .filter(|m| m["subject"] == ADDED_SUBJECT)
            .collect();
        assert_eq!(notices.len(), 1, "--to {to}: {mail:#?}");
        let notice = notices[0];
        assert!(
            notice["to"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(&s.email),
            "{notice:#}"
        );
        assert!(
            notice["body"].as_str().unwrap().contains("Pat"),
            "greets the user by their first name: {notice:#}"
        );
        let sent_at = notice["sent_at"].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(sent_at)
            .unwrap_or_else(|e| panic!("sent_at {sent_at}: {e}"));
        for message in &mail {
            for field in ["to", "subject", "body", "sent_at"] {
                assert!(message[field].is_string(), "{field}: {message:#}");
            }
        }
    }
    // Nothing for anyone else, and the whole list holds this one notice.
    assert!(
        mail_list(
            &s.db,
            s.data.path(),
            &s.providers,
            Some("nobody@outbox.test")
        )
        .is_empty()
    );
    let all = mail_list(&s.db, s.data.path(), &s.providers, None);
    let notices: Vec<&Value> = all
        .iter()
        .filter(|m| m["subject"] == ADDED_SUBJECT)
        .collect();
    assert_eq!(notices.len(), 1, "{all:#?}");
}

/// Boolean switches read from the environment should accept what deployments write for
/// "set" (`1`), as docs/decisions.md promises: "every `serve` process works the outbox
/// unless `STAFFROOM_NO_OUTBOX_WORKER` is set". With `1` (and with `true`) a `serve` leaves
/// a due job untouched; the same job is sent at once by a `serve` without the switch.
#[test]
fn the_no_outbox_worker_switch_accepts_1() {
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    // No provider is called (mail goes to the database sink): the URL only has to be set.
    let providers = "http://127.0.0.1:9";
    let site: SiteId = bootstrap(&db, data.path(), providers)["site_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let pool = db.pool(1).unwrap();
    let job_of = |id: JobId| outbox::get(&mut pool.get().unwrap(), site, id).unwrap();
    let mut queued = Vec::new();
    for value in ["1", "true"] {
        let mut server = serve(
            &db,
            data.path(),
            providers,
            &format!("serve-{value}"),
            &[("STAFFROOM_NO_OUTBOX_WORKER", value)],
        );
        server.wait_listening();
        let to = format!("switch-{value}@outbox.test");
        let job = mail::queue(
            &mut pool.get().unwrap(),
            &AuditContext::system(site),
            None,
            &to,
            "Switch",
            "Sent only by a process that works the outbox.",
        )
        .unwrap();
        // 50 polls of a worker (every 20 ms) would have run it.
        std::thread::sleep(Duration::from_secs(1));
        let row = job_of(job.id);
        assert_eq!(
            (row.status, row.attempts, row.lease_owner.as_deref()),
            (JobStatus::Pending, 0, None),
            "STAFFROOM_NO_OUTBOX_WORKER={value}: the job was touched: {row:#?}"
        );
        queued.push((job.id, to));
        drop(server);
    }
    assert!(mail_list(&db, data.path(), providers, None).is_empty());

    // The control: without the switch, `serve` works the outbox and sends both.
    let mut server = serve(&db, data.path(), providers, "serve-worker", &[]);
    server.wait_listening();
    let deadline = Instant::now() + Duration::from_secs(10);
    for (id, _) in &queued {
        while job_of(*id).status == JobStatus::Pending && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let row = job_of(*id);
        assert_eq!(row.status, JobStatus::Succeeded, "{row:#?}");
        assert!(leased_by(&row, server.child.id()), "{row:#?}");
    }
    let sent: BTreeSet<String> = mail_list(&db, data.path(), providers, None)
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = queued.into_iter().map(|(_, to)| to).collect();
    assert_eq!(sent, expected);
}

/// `202` means "pending: the provider has not answered yet" (the OpenAPI description of the
/// add's `202`), so its body must show `pending`. The handler decides `202` from the inline
/// run (over budget) but reads the state to return afterwards, when the call running on in
/// the background may already have finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_202_answer_always_shows_pending() {
    let sim = start_sim().await;
    let providers = sim.base_url();
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut server = serve(
        &db,
        data.path(),
        &providers,
        "serve",
        &[("STAFFROOM_PROVIDER_BUDGET_MS", "0")],
    );
    server.wait_listening();
    bootstrap(&db, data.path(), &providers);
    let base = server.base.clone();
    let api = Api::login(&base).await;
    api.connect_exercise(&base).await;
    let creates = (0..USERS).map(|i| {
        let api = &api;
        let base = &base;
        async move { api.create_user(base, &format!("race{i}@outbox.test")).await }
    });
    let ids: Vec<String> = join_all(creates).await;
    // A short provider delay, and all adds at once: the answers are read under load.
    sim.set_faults(Faults {
        latency_ms: 20,
        ..Faults::default()
    });
    let adds = ids
        .iter()
        .map(|id| api.add_exercise_user(&base, id, "Race"));
    let answers = join_all(adds).await;
    let pending = answers.iter().filter(|(status, _)| *status == 202).count();
    assert!(pending > 0, "no add answered 202: {answers:#?}");
    let wrong: Vec<String> = answers
        .into_iter()
        .enumerate()
        .filter(|(_, (status, body))| *status == 202 && body["state"] != "pending")
        .map(|(i, (_, body))| format!("add {i}: 202 with state {}", body["state"]))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
