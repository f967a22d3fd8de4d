//! Invite, list, accept, resend, expiry, duplicates, delete and re-invite.

use super::*;
use staffroom_tests::fixtures::staff;
use staffroom_tests::send;

#[tokio::test]
async fn invite_accept_and_log_in_with_the_last_login_shown() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (clinician_id, doc) = clinician(&app, &admin, "doc@example.test").await;
    let email = "ada@example.test";
    let created = invite(&app, &doc, "Ada Assistant", email).await.expect(201);
    let id = id_of(&created.body);
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/me/assistants/{id}").as_str())
    );
    assert!(created.header("etag").is_some());

    let listed = my_assistants(&app, &doc).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let item = &listed[0];
    let keys: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "accepted_at",
            "email",
            "full_name",
            "id",
            "invited_at",
            "last_login_at",
            "status"
        ]
    );
    assert_eq!(item["status"], "pending");
    assert_eq!(item["full_name"], "Ada Assistant");
    assert_eq!(item["email"], email);
    assert!(item["invited_at"].is_string());
    assert!(item["accepted_at"].is_null() && item["last_login_at"].is_null());

    // The mail names the clinician; no login before accepting.
    let mail = app.mail_to(email, 1).await;
    assert!(
        mail[0]["body"]
            .as_str()
            .unwrap()
            .contains("Some Staff invites you")
    );
    login_answer(&app, email, CHOSEN)
        .await
        .expect_problem(401, "invalid_credentials");

    let accepted = accept(&app, &invitation_token(&mail[0]), CHOSEN)
        .await
        .expect(200);
    assert_eq!(accepted.body["assistant_id"], id.as_str());
    assert!(
        accepted.body.get("user_id").is_none(),
        "{:#}",
        accepted.body
    );
    let item = &my_assistants(&app, &doc).await[0];
    assert_eq!(item["status"], "accepted");
    assert!(item["accepted_at"].is_string() && item["last_login_at"].is_null());

    let token = app.login(email, CHOSEN).await;
    let me = app.get(&token, "/v1/me").await.expect(200);
    assert_eq!(me.body["kind"], "assistant");
    assert_eq!(me.body["assistant"]["email"], email);
    let item = &my_assistants(&app, &doc).await[0];
    assert!(item["last_login_at"].is_string(), "{item:#}");
    assert_eq!(my_clinicians(&app, &token).await, [clinician_id]);

    let read = app
        .get(&doc, &format!("/v1/me/assistants/{id}"))
        .await
        .expect(200);
    assert!(read.header("etag").is_some());
    for (action, actor) in [
        ("assistant.invited", "user"),
        ("assistant.accepted", "assistant"),
    ] {
        let events = app.audit_events(&admin, action).await;
        assert_eq!(events.len(), 1, "{action}: {events:#?}");
        assert_eq!(events[0]["target_type"], "assistant");
        assert_eq!(events[0]["target_id"], id.as_str());
        assert_eq!(events[0]["actor_kind"], actor);
    }
}

#[tokio::test]
async fn a_resend_kills_the_old_link_and_only_a_pending_assistant_is_resent() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, doc) = clinician(&app, &admin, "doc@example.test").await;
    let email = "rita@example.test";
    let id = invited(&app, &doc, "Rita Resent", email).await;
    let old = link(&app, email, 1).await;
    let resent = action(&app, &doc, &id, "resend").await.expect(200);
    assert_eq!(resent.body["status"], "pending");
    let new = link(&app, email, 2).await;
    assert_ne!(old, new);
    accept(&app, &old, CHOSEN)
        .await
        .expect_problem(404, "not_found");
    accept(&app, &new, CHOSEN).await.expect(200);
    action(&app, &doc, &id, "resend")
        .await
        .expect_problem(409, "assistant_not_pending");
    assert_eq!(app.audit_events(&admin, "assistant.resent").await.len(), 1);
}

#[tokio::test]
async fn an_expired_link_answers_410() {
    use diesel::prelude::*;
    use staffroom_persistence::schema::invitations;
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, doc) = clinician(&app, &admin, "doc@example.test").await;
    let email = "eve@example.test";
    let id = invited(&app, &doc, "Eve Expired", email).await;
    let token = link(&app, email, 1).await;
    let mut conn = app.pool.get().unwrap();
    // The link now expires the moment it was made.
    diesel::update(invitations::table.filter(invitations::assistant_id.eq(&id)))
        .set(invitations::expires_at.eq(invitations::created_at))
        .execute(&mut conn)
        .unwrap();
    accept(&app, &token, CHOSEN)
        .await
        .expect_problem(410, "invitation_expired");
    assert_eq!(my_assistants(&app, &doc).await[0]["status"], "pending");
}

#[tokio::test]
async fn duplicates_strangers_and_non_clinicians_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, doc) = clinician(&app, &admin, "doc@example.test").await;
    let (_, other) = clinician(&app, &admin, "other@example.test").await;
    let id = invited(&app, &doc, "Dana Dup", "dana@example.test").await;
    invite(&app, &doc, "Dana Again", "DANA@example.test")
        .await
        .expect_problem(409, "assistant_exists");
    // Another clinician may invite the same person; they see only their own.
    invited(&app, &other, "Dana Dup", "dana@example.test").await;
    assert_eq!(my_assistants(&app, &doc).await.len(), 1);
    for answer in [
        app.get(&other, &format!("/v1/me/assistants/{id}")).await,
        action(&app, &other, &id, "revoke").await,
        app.delete(&other, &format!("/v1/me/assistants/{id}")).await,
    ] {
        answer.expect_problem(404, "not_found");
    }
    let bad = invite(&app, &doc, "", "not-an-email").await.expect(422);
    let mut fields: Vec<String> = bad.field_errors().into_iter().map(|(f, _)| f).collect();
    fields.sort();
    assert_eq!(fields, ["email", "full_name"]);
    // The admin is non-clinical: no assistants.
    app.get(&admin, "/v1/me/assistants")
        .await
        .expect_problem(403, "forbidden");
    invite(&app, &admin, "Nope", "nope@example.test")
        .await
        .expect_problem(403, "forbidden");
    let clerk = staff(&app, &admin, "clerk@example.test")
        .profession("CLERICAL")
        .create()
        .await;
    assert!(!clerk.is_empty());
    let clerk = app.login("clerk@example.test", PASSWORD).await;
    app.get(&clerk, "/v1/me/assistants")
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn delete_is_permanent_and_a_new_invitation_makes_a_new_record() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, doc) = clinician(&app, &admin, "doc@example.test").await;
    let email = "del@example.test";
    let (id, _) = onboard(&app, &doc, email, 1).await;
    action(&app, &doc, &id, "revoke").await.expect(200);
    action(&app, &doc, &id, "revoke")
        .await
        .expect_problem(409, "assistant_revoked");
    // The revoked record does not block a new invitation, but a pending one would.
    let path = format!("/v1/me/assistants/{id}");
    app.delete(&doc, &path).await.expect(204);
    app.get(&doc, &path).await.expect_problem(404, "not_found");
    app.delete(&doc, &path)
        .await
        .expect_problem(404, "not_found");
    assert!(my_assistants(&app, &doc).await.is_empty());
    let again = invited(&app, &doc, "Del Again", email).await;
    assert_ne!(again, id);
    accept(&app, &link(&app, email, 2).await, CHOSEN)
        .await
        .expect(200);
    let listed = my_assistants(&app, &doc).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], again.as_str());
    assert_eq!(listed[0]["status"], "accepted");
    let deleted = app.audit_events(&admin, "assistant.deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["target_id"], id.as_str());
}

#[tokio::test]
async fn changes_honour_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, doc) = clinician(&app, &admin, "doc@example.test").await;
    let id = invited(&app, &doc, "Ida Ifmatch", "ida@example.test").await;
    let path = format!("/v1/me/assistants/{id}");
    let etag = app.get(&doc, &path).await.expect(200);
    let etag = etag.header("etag").unwrap().to_owned();
    let resent = send(
        &app,
        Method::POST,
        &format!("{path}/resend"),
        &doc,
        Some(&etag),
        None,
    )
    .await
    .expect(200);
    let fresh = resent.header("etag").unwrap().to_owned();
    assert_ne!(fresh, etag);
    for (method, suffix) in [(Method::POST, "/revoke"), (Method::DELETE, "")] {
        send(
            &app,
            method,
            &format!("{path}{suffix}"),
            &doc,
            Some(&etag),
            None,
        )
        .await
        .expect_problem(412, "precondition_failed");
    }
    assert_eq!(my_assistants(&app, &doc).await[0]["status"], "pending");
    send(&app, Method::DELETE, &path, &doc, Some(&fresh), None)
        .await
        .expect(204);
}
