//! Idempotency keys: the first request with a key reserves it (`pending`), runs, and stores
//! its answer; a retry with the same key and body gets that answer back. A key is scoped to
//! one principal and kept for [`RETENTION_HOURS`].

use chrono::{Duration, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::schema::idempotency_keys;
use crate::tx::now;
use crate::{DbConnection, StoreResult};

/// How long answers are remembered.
pub const RETENTION_HOURS: i64 = 24;
/// After this long a `pending` reservation is considered abandoned (its request died).
pub const PENDING_TIMEOUT_SECONDS: i64 = 60;

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// Headers worth replaying (`ETag`, `Location`, `Content-Type`), as name/value pairs.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A key a request has reserved (`Reservation::Fresh`): the principal's scope and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldKey {
    pub scope: String,
    pub key: String,
}

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key is new (or its earlier holder died): run the request, then `complete`.
    Fresh,
    /// The same request already completed: answer this.
    Replay(StoredResponse),
    /// The key was used with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// Where the request holding a key stands, stored as `pending` or `done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
enum KeyState {
    /// Reserved by a request that is running (or died).
    Pending,
    /// Its answer is stored.
    Done,
}

impl KeyState {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
        }
    }
}

impl<DB> ToSql<Text, DB> for KeyState
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
    }
}

impl<DB> FromSql<Text, DB> for KeyState
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        match String::from_sql(bytes)?.as_str() {
            "pending" => Ok(Self::Pending),
            "done" => Ok(Self::Done),
            other => Err(format!("{other:?} is not an idempotency key state").into()),
        }
    }
}

#[derive(Debug, Queryable)]
struct Row {
    request_hash: String,
    state: KeyState,
    status: Option<i64>,
    response_headers: Option<String>,
    response_body: Option<String>,
    created_at: NaiveDateTime,
}

fn is_unique_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Reserves `key` for `scope`, or says why the request must not run.
pub fn reserve(
    conn: &mut DbConnection,
    scope: &str,
    key: &str,
    request_hash: &str,
) -> StoreResult<Reservation> {
    let at = now();
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(at - Duration::hours(RETENTION_HOURS))),
    )
    .execute(conn)?;
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq(scope),
            idempotency_keys::idem_key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::state.eq(KeyState::Pending),
            idempotency_keys::version.eq(1),
            idempotency_keys::created_at.eq(at),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => return Ok(Reservation::Fresh),
        Err(e) if is_unique_violation(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let row: Row = idempotency_keys::table
        .find((scope, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::state,
            idempotency_keys::status,
            idempotency_keys::response_headers,
            idempotency_keys::response_body,
            idempotency_keys::created_at,
        ))
        .first(conn)?;
    if row.request_hash != request_hash {
        return Ok(Reservation::Mismatch);
    }
    if row.state == KeyState::Done {
        let headers = row
            .response_headers
            .and_then(|h| serde_json::from_str(&h).ok())
            .unwrap_or_default();
        return Ok(Reservation::Replay(StoredResponse {
            status: u16::try_from(row.status.unwrap_or(200)).unwrap_or(200),
            headers,
            body: row.response_body.unwrap_or_default(),
        }));
    }
    if row.created_at > at - Duration::seconds(PENDING_TIMEOUT_SECONDS) {
        return Ok(Reservation::InFlight);
    }
    // The earlier holder died: take the reservation over, unless someone else just did.
    let taken = diesel::update(
        idempotency_keys::table
            .find((scope, key))
            .filter(idempotency_keys::state.eq(KeyState::Pending))
            .filter(idempotency_keys::created_at.eq(row.created_at)),
    )
    .set((
        idempotency_keys::created_at.eq(at),
        idempotency_keys::version.eq(idempotency_keys::version + 1),
    ))
    .execute(conn)?;
    Ok(if taken == 1 {
        Reservation::Fresh
    } else {
        Reservation::InFlight
    })
}

/// Stores the answer of a request that ran under `held`. A use-case calls it inside its own
/// transaction (`usecase::run`), so the answer commits with the change it describes.
pub fn complete(
    conn: &mut DbConnection,
    held: &HeldKey,
    response: &StoredResponse,
) -> StoreResult<()> {
    diesel::update(idempotency_keys::table.find((&held.scope, &held.key)))
        .set((
            idempotency_keys::state.eq(KeyState::Done),
            idempotency_keys::status.eq(Some(i64::from(response.status))),
            idempotency_keys::response_headers.eq(Some(
                serde_json::to_string(&response.headers).unwrap_or_default(),
            )),
            idempotency_keys::response_body.eq(Some(&response.body)),
            idempotency_keys::version.eq(idempotency_keys::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Frees a reservation whose request did not succeed, so that a retry runs again.
pub fn release(conn: &mut DbConnection, scope: &str, key: &str) -> StoreResult<()> {
    diesel::delete(
        idempotency_keys::table
            .find((scope, key))
            .filter(idempotency_keys::state.eq(KeyState::Pending)),
    )
    .execute(conn)?;
    Ok(())
}

/// Forgets the answer stored under `held`, whatever its state: a request whose first
/// answer was provisional (committed with its change) and whose final answer is a problem
/// keeps no answer, so that a retry acts again, as for any refused request.
pub fn forget(conn: &mut DbConnection, held: &HeldKey) -> StoreResult<()> {
    diesel::delete(idempotency_keys::table.find((&held.scope, &held.key))).execute(conn)?;
    Ok(())
}
