//! Acting on a clinician's behalf: a patient message through the email connector.

use super::*;

#[tokio::test]
async fn an_assistant_sends_for_an_assisted_clinician_only_and_the_event_names_both() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (doc_id, doc) = clinician(&app, &admin, "doc@example.test").await;
    let (stranger_id, _) = clinician(&app, &admin, "stranger@example.test").await;
    let (_, token) = onboard(&app, &doc, "ada@example.test", 1).await;
    let me = app.get(&token, "/v1/me").await.expect(200).body;
    let account = me["assistant"]["id"].as_str().unwrap().to_owned();

    let sent = message(&app, &token, &doc_id).await.expect(202);
    assert_eq!(sent.body["clinician_id"], doc_id.as_str());
    assert_eq!(sent.body["to"], "patient@example.test");
    let mail = app.mail_to("patient@example.test", 1).await;
    assert_eq!(mail[0]["subject"], "Before your visit");
    assert!(
        mail[0]["body"]
            .as_str()
            .unwrap()
            .contains("See you on Monday.")
    );

    let events = app.audit_events(&admin, "patient_message.sent").await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["actor_kind"], "assistant");
    assert_eq!(events[0]["actor_id"], account.as_str());
    assert_eq!(events[0]["on_behalf_of"], doc_id.as_str());
    assert_eq!(events[0]["target_id"], doc_id.as_str());
    assert!(events[0]["after"].get("body").is_none(), "{:#}", events[0]);

    // A clinician they do not assist, a non-clinician, an unknown id: 404.
    let nowhere = uuid::Uuid::now_v7().to_string();
    for id in [&stranger_id, &app.site.admin_id.to_string(), &nowhere] {
        message(&app, &token, id)
            .await
            .expect_problem(404, "not_found");
    }
    assert_eq!(
        app.audit_events(&admin, "patient_message.sent").await.len(),
        1
    );
}

#[tokio::test]
async fn the_clinician_sends_for_themself_and_no_one_else_may() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (doc_id, doc) = clinician(&app, &admin, "doc@example.test").await;
    let (_, other) = clinician(&app, &admin, "other@example.test").await;
    message(&app, &doc, &doc_id).await.expect(202);
    let events = app.audit_events(&admin, "patient_message.sent").await;
    assert_eq!(events[0]["actor_id"], doc_id.as_str());
    assert!(events[0]["on_behalf_of"].is_null(), "{:#}", events[0]);
    message(&app, &other, &doc_id)
        .await
        .expect_problem(404, "not_found");
    message(&app, &admin, &doc_id)
        .await
        .expect_problem(404, "not_found");
    let service = app.service_token(&admin, &["site_admin"]).await;
    message(&app, &service, &doc_id)
        .await
        .expect_problem(403, "forbidden");
    let bad = app
        .post(
            &doc,
            &format!("/v1/clinicians/{doc_id}/patient-messages"),
            json!({ "to": "nobody", "subject": "", "body": "" }),
        )
        .await
        .expect(422);
    let mut fields: Vec<String> = bad.field_errors().into_iter().map(|(f, _)| f).collect();
    fields.sort();
    assert_eq!(fields, ["body", "subject", "to"]);
    let one_line = app
        .post(
            &doc,
            &format!("/v1/clinicians/{doc_id}/patient-messages"),
            json!({ "to": "p@example.test", "subject": "two\nlines", "body": "text" }),
        )
        .await
        .expect(422);
    let fields: Vec<String> = one_line
        .field_errors()
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, ["subject"]);
    assert_eq!(
        app.audit_events(&admin, "patient_message.sent").await.len(),
        1
    );
}
