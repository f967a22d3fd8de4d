//! The embedded mail sink

use super::*;

fn message(to: &str, subject: &str) -> MailPayload {
    MailPayload {
        to: to.into(),
        subject: subject.into(),
        body: format!("Body of {subject}"),
    }
}

#[test]
fn mail_store_keeps_one_message_per_idempotency_key() {
    let db = Db::new();
    let mut conn = db.conn();
    let first = mail::store(&mut conn, "key-1", &message("a@example.com", "One")).unwrap();
    // A retry of the same send, even with another body, returns the first message.
    let again = mail::store(&mut conn, "key-1", &message("a@example.com", "Other")).unwrap();
    assert_eq!(again, first);
    assert_eq!(first.to_address, "a@example.com");
    assert_eq!(first.subject, "One");
    assert_eq!(first.body, "Body of One");
    let rows: i64 = sent_mail::table.count().get_result(&mut conn).unwrap();
    assert_eq!(rows, 1);
    let other = mail::store(&mut conn, "key-2", &message("a@example.com", "Two")).unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(mail::list(&mut conn, None).unwrap().len(), 2);
}

#[test]
fn mail_list_filters_by_recipient_case_insensitively_oldest_first() {
    let db = Db::new();
    let mut conn = db.conn();
    let a1 = mail::store(&mut conn, "k1", &message("Jane.Doe@Example.com", "A1")).unwrap();
    let b = mail::store(&mut conn, "k2", &message("bob@example.com", "B")).unwrap();
    let a2 = mail::store(&mut conn, "k3", &message("jane.doe@example.com", "A2")).unwrap();

    let subjects = |rows: Vec<mail::SentMailRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.subject).collect()
    };
    assert_eq!(
        subjects(mail::list(&mut conn, None).unwrap()),
        vec![a1.subject.clone(), b.subject.clone(), a2.subject.clone()]
    );
    for query in ["jane.doe@example.com", "JANE.DOE@EXAMPLE.COM"] {
        assert_eq!(
            subjects(mail::list(&mut conn, Some(query)).unwrap()),
            vec!["A1".to_owned(), "A2".to_owned()],
            "{query}"
        );
    }
    assert_eq!(
        subjects(mail::list(&mut conn, Some("Bob@Example.com")).unwrap()),
        vec!["B".to_owned()]
    );
    assert!(
        mail::list(&mut conn, Some("nobody@example.com"))
            .unwrap()
            .is_empty()
    );
    // What `staffroom mail list` prints for one message.
    let line = serde_json::to_value(&a1).unwrap();
    assert_eq!(line["to"], "Jane.Doe@Example.com");
    assert_eq!(line["subject"], "A1");
    assert_eq!(line["body"], "Body of A1");
    assert!(line["sent_at"].as_str().unwrap().ends_with('Z'), "{line}");
    assert!(line.get("idempotency_key").is_none(), "{line}");
}
