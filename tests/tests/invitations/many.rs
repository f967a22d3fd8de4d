//! Many invitations at once

use super::*;

/// Every email job of the site, through `GET /v1/outbox-jobs`, all pages.
async fn mail_jobs(app: &TestApp, token: &str) -> Vec<Value> {
    let mut jobs = Vec::new();
    let mut path = "/v1/outbox-jobs?kind=email.send&limit=200".to_owned();
    loop {
        let page = app.get(token, &path).await.expect(200).body;
        jobs.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/outbox-jobs?kind=email.send&limit=200&cursor={cursor}");
            }
            None => return jobs,
        }
    }
}

/// 500 users invited at the same moment: their mail jobs run side by side (in the requests
/// and in the worker), each storing its message in the database sink. Every write
/// transaction is a writer from its start, so none fails on the way from reading to
/// writing (`database is locked` on SQLite) and every message is stored on its job's
/// first attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_invitations_at_once_are_each_mailed_on_the_first_attempt() {
    const INVITED: usize = 500;
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created: Vec<Answer> = futures_util::future::join_all((0..INVITED).map(|n| {
        let admin = &admin;
        let app = &app;
        async move {
            // Non-clinical users need no licence on the group plan.
            let body = json!({
                "first_name": "Many",
                "last_name": "Invited",
                "email": format!("many.{n}@example.test"),
                "user_type": "non_clinical",
            });
            app.post(admin, "/v1/users", body).await
        }
    }))
    .await;
    for answer in &created {
        assert_eq!(answer.status.as_u16(), 201, "{:#}", answer.body);
        assert_eq!(answer.body["has_password"], false, "{:#}", answer.body);
    }

    let finished = app
        .eventually(Duration::from_secs(120), || async {
            let jobs = mail_jobs(&app, &admin).await;
            (jobs.len() == INVITED && jobs.iter().all(|j| j["status"] != "pending")).then_some(jobs)
        })
        .await
        .expect("every mail job finishes");
    let retried: Vec<&Value> = finished
        .iter()
        .filter(|j| j["status"] != "succeeded" || j["attempts"] != 1)
        .collect();
    assert!(
        retried.is_empty(),
        "{} of {INVITED} mail jobs needed more than one attempt or failed: {retried:#?}",
        retried.len()
    );
    let mail = app.mail(None);
    assert_eq!(mail.len(), INVITED);
    let recipients: BTreeSet<&str> = mail.iter().filter_map(|m| m["to"].as_str()).collect();
    let expected: Vec<String> = (0..INVITED)
        .map(|n| format!("many.{n}@example.test"))
        .collect();
    assert_eq!(
        recipients,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
}
