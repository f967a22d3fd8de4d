//! Timestamps read without chrono's format-string parser. SQLite holds a `TIMESTAMP` as the
//! text Diesel wrote, `YYYY-MM-DD HH:MM:SS.ffffff`; Diesel reads it back by trying up to 18
//! `strftime` formats with `NaiveDateTime::parse_from_str`, which interprets the format
//! string on every value. A user list reads two per user. [`StoredTimestamp`] parses that
//! one fixed form by hand and leaves any other (a value written by hand, a Julian day
//! number) to Diesel's reading, so it reads whatever Diesel reads.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::{Sqlite, SqliteType};

use crate::connection::{MultiBackend, MultiRawValue};

/// A `TIMESTAMP` column read as a `NaiveDateTime` (`#[diesel(deserialize_as = …)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub(crate) struct StoredTimestamp(NaiveDateTime);

impl From<StoredTimestamp> for NaiveDateTime {
    fn from(t: StoredTimestamp) -> Self {
        t.0
    }
}

impl FromSql<Timestamp, Sqlite> for StoredTimestamp {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if value.value_type() == Some(SqliteType::Text)
            && let Some(at) = parse_stored(value.read_text())
        {
            return Ok(Self(at));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

/// PostgreSQL sends a timestamp as a binary count of microseconds: nothing to gain there.
impl FromSql<Timestamp, Pg> for StoredTimestamp {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, MultiBackend> for StoredTimestamp {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1 to 9 digits, the text Diesel
/// writes a `NaiveDateTime` as on SQLite; `None` for anything else.
fn parse_stored(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied();
    if b.len() < 19
        || at(4) != Some(b'-')
        || at(7) != Some(b'-')
        || at(10) != Some(b' ')
        || at(13) != Some(b':')
        || at(16) != Some(b':')
    {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b.get(from..to)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match at(19) {
        None => 0,
        Some(b'.') => {
            let digits = u32::try_from(b.len() - 20)
                .ok()
                .filter(|d| (1..=9).contains(d))?;
            number(20, b.len())? * 10u32.pow(9 - digits)
        }
        Some(_) => return None,
    };
    let year = i32::try_from(number(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5, 7)?, number(8, 10)?)?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").ok()
    }

    #[test]
    fn reads_what_diesel_writes_as_chrono_does() {
        let written = [
            NaiveDate::from_ymd_opt(2026, 12, 7)
                .and_then(|d| d.and_hms_micro_opt(9, 59, 43, 123_456)),
            NaiveDate::from_ymd_opt(1999, 1, 31).and_then(|d| d.and_hms_opt(0, 0, 0)),
            NaiveDate::from_ymd_opt(2024, 2, 29).and_then(|d| d.and_hms_nano_opt(23, 59, 59, 7)),
        ];
        for at in written.into_iter().map(Option::unwrap) {
            let text = at.format("%F %T%.f").to_string();
            assert_eq!(parse_stored(&text), Some(at), "{text}");
            assert_eq!(parse_stored(&text), chrono(&text), "{text}");
        }
        for text in ["2026-12-07 09:59:43.1", "2026-12-07 09:59:43.000000001"] {
            assert_eq!(parse_stored(text), chrono(text), "{text}");
            assert!(parse_stored(text).is_some());
        }
    }

    #[test]
    fn leaves_every_other_form_to_diesel() {
        for text in [
            "",
            "2026-12-07",
            "2026-12-07T09:59:43",
            "2026-12-07 09:59:43Z",
            "2026-12-07 09:59:43.",
            "2026-12-07 09:59:43.1234567890",
            "2026-12-07 09:59:43+01:00",
            "2026-13-07 09:59:43",
            "2026-02-30 09:59:43",
            "2026-12-07 24:00:00",
            "2026-12-07 09:5x:43",
            "+2026-12-07 09:59:43",
            "2461382.5",
        ] {
            assert_eq!(parse_stored(text), None, "{text}");
        }
    }
}
