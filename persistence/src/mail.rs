//! Email: messages go out through the outbox (`email.send` jobs), and the embedded email
//! sink keeps what it "sends" in `sent_mail`, read back by `staffroom mail list`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use staffroom_domain::{JobKind, SentMailId, UserId};

use crate::outbox::{self, JobRow};
use crate::schema::{outbox_jobs, sent_mail};
use crate::tx::{AuditContext, now, write_transaction};
use crate::{DbConnection, StoreError, StoreResult};

/// What an `email.send` job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailPayload {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Queues a message inside the caller's transaction.
pub fn queue(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    subject_id: Option<UserId>,
    to: &str,
    subject: &str,
    body: &str,
) -> StoreResult<JobRow> {
    let payload = MailPayload {
        to: to.to_owned(),
        subject: subject.to_owned(),
        body: body.to_owned(),
    };
    outbox::enqueue(
        conn,
        ctx,
        JobKind::EmailSend,
        subject_id,
        &serde_json::to_value(&payload).map_err(StoreError::corrupt)?,
    )
}

/// What a finished `email.send` job keeps of its body: the message may carry a secret (an
/// invitation token), and once the provider has it (or refused it for good) the outbox
/// needs no copy.
pub const BODY_REMOVED: &str = "[removed once the job finished]";

/// The effect of a finished `email.send` job, run in the transaction that records it:
/// replaces the body kept in the job's payload by [`BODY_REMOVED`].
pub fn settle(conn: &mut DbConnection, job: &JobRow) -> StoreResult<()> {
    let mut payload: MailPayload =
        serde_json::from_str(&job.payload).map_err(StoreError::corrupt)?;
    payload.body = BODY_REMOVED.to_owned();
    let payload = serde_json::to_string(&payload).map_err(StoreError::corrupt)?;
    diesel::update(outbox_jobs::table.find(job.id))
        .set(outbox_jobs::payload.eq(payload))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = sent_mail)]
pub struct SentMailRow {
    pub id: SentMailId,
    #[serde(skip)]
    pub idempotency_key: String,
    #[serde(rename = "to")]
    pub to_address: String,
    pub subject: String,
    pub body: String,
    #[serde(serialize_with = "utc")]
    pub sent_at: NaiveDateTime,
}

fn utc<S: serde::Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &at.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    )
}

/// The embedded sink's "send": keeps the message once per idempotency key and returns the
/// stored one (a retry returns the first).
pub fn store(
    conn: &mut DbConnection,
    idempotency_key: &str,
    message: &MailPayload,
) -> StoreResult<SentMailRow> {
    write_transaction(conn, |conn| {
        let existing = sent_mail::table
            .filter(sent_mail::idempotency_key.eq(idempotency_key))
            .select(SentMailRow::as_select())
            .first(conn)
            .optional()?;
        if let Some(existing) = existing {
            return Ok(existing);
        }
        let row = SentMailRow {
            id: SentMailId::new(),
            idempotency_key: idempotency_key.to_owned(),
            to_address: message.to.clone(),
            subject: message.subject.clone(),
            body: message.body.clone(),
            sent_at: now(),
        };
        diesel::insert_into(sent_mail::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    })
}

/// Keeps several messages in one transaction, each as [`store`] keeps one: the sink's
/// answer to a batch of `email.send` jobs sent at once, one commit for all of them.
pub fn store_all(
    conn: &mut DbConnection,
    messages: &[(String, MailPayload)],
) -> StoreResult<Vec<SentMailRow>> {
    write_transaction(conn, |conn| {
        messages
            .iter()
            .map(|(key, message)| store(conn, key, message))
            .collect()
    })
}

/// Mail kept by the sink, oldest first; with `to`, only mail to that address
/// (case-insensitive).
pub fn list(conn: &mut DbConnection, to: Option<&str>) -> StoreResult<Vec<SentMailRow>> {
    let rows: Vec<SentMailRow> = sent_mail::table
        .select(SentMailRow::as_select())
        .order((sent_mail::sent_at.asc(), sent_mail::id.asc()))
        .load(conn)?;
    Ok(match to {
        Some(to) => rows
            .into_iter()
            .filter(|r| r.to_address.eq_ignore_ascii_case(to))
            .collect(),
        None => rows,
    })
}
