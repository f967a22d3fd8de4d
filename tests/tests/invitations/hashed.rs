//! 7. Tokens are stored hashed

use super::*;

#[tokio::test]
async fn tokens_are_stored_only_as_digests() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "hana.hashed@example.test";
    let id = invite(&app, &admin, "Hana", email).await;
    mail_to(&app, email, 1).await;
    resend(&app, &admin, &id).await.expect(201);
    let mail = mail_to(&app, email, 2).await;
    let tokens: Vec<String> = mail.iter().map(token_in).collect();
    assert_ne!(tokens[0], tokens[1]);

    let rows = invitation_rows(&app, &id);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for (row, token) in rows.iter().zip(&tokens) {
        assert_ne!(&row.token_hash, token);
        for t in &tokens {
            assert!(!row.token_hash.contains(t.as_str()), "{row:#?}");
        }
        assert_eq!(row.token_hash.len(), 64, "{row:#?}");
        assert!(
            row.token_hash
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{row:#?}"
        );
        // SHA-256 of the emailed token, as the server computes it.
        assert_eq!(
            row.token_hash,
            staffroom_api::auth::password::digest(token),
            "{row:#?}"
        );
    }

    // Neither the audit trail nor any answer carries a token.
    accept(&app, &tokens[1], CHOSEN).await.expect(200);
    let mut conn = app.pool.get().unwrap();
    let states: Vec<(Option<String>, Option<String>)> = audit_events::table
        .select((audit_events::before_state, audit_events::after_state))
        .load(&mut conn)
        .unwrap();
    for state in states {
        let text = format!("{state:?}");
        for token in &tokens {
            assert!(
                !text.contains(token.as_str()),
                "a token in the audit: {text}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Plaintext copies of the token
// ---------------------------------------------------------------------------------------

/// SPEC §7: invitation tokens are stored hashed. The email has to carry the raw token, but
/// once the outbox has handed it to the email sink the server's own tables should not keep a
/// usable copy for the link's whole lifetime.
#[tokio::test]
async fn the_outbox_keeps_no_usable_token_after_sending() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "olly.outbox@example.test";
    let id = invite(&app, &admin, "Olly", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);
    let jobs = app
        .eventually(WITHIN, || async {
            let mut conn = app.pool.get().unwrap();
            let jobs: Vec<(String, String)> = outbox_jobs::table
                .filter(outbox_jobs::subject_id.eq(&id))
                .select((outbox_jobs::status, outbox_jobs::payload))
                .load(&mut conn)
                .unwrap();
            jobs.iter()
                .all(|(status, _)| status == "succeeded")
                .then_some(jobs)
        })
        .await
        .expect("the invitation job succeeds");
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    for (_, payload) in &jobs {
        assert!(
            !payload.contains(token.as_str()),
            "a delivered job still holds the token: {payload}"
        );
    }
    // The token is usable, so the stored copy matters.
    accept(&app, &token, CHOSEN).await.expect(200);
}
