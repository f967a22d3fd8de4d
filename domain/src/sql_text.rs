//! Ids and string enums as SQL `TEXT` (feature `diesel`): the `ToSql`/`FromSql` bodies the
//! `id_newtype!` and `string_enum!` macros call, so persistence binds and loads these types
//! directly and the stored text is exactly their wire text.

use std::fmt::Display;
use std::io::Write;
use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use uuid::Uuid;

/// Reads a stored text value through the type's `FromStr`; text that is not a value of the
/// type is a deserialization error naming the type.
pub(crate) fn from_text<T, DB>(bytes: DB::RawValue<'_>) -> deserialize::Result<T>
where
    T: FromStr,
    T::Err: Display,
    DB: Backend,
    String: FromSql<Text, DB>,
{
    let text = String::from_sql(bytes)?;
    text.parse()
        .map_err(|e| format!("{text:?} is not a {}: {e}", std::any::type_name::<T>()).into())
}

/// Writes a UUID as PostgreSQL text: hyphenated lowercase.
pub(crate) fn uuid_to_pg(uuid: &Uuid, out: &mut Output<'_, '_, Pg>) -> serialize::Result {
    write!(out, "{}", uuid.hyphenated())?;
    Ok(IsNull::No)
}

/// Binds a UUID as SQLite text: hyphenated lowercase, owned because the id holds no text
/// the binding could borrow.
pub(crate) fn uuid_to_sqlite(uuid: &Uuid, out: &mut Output<'_, '_, Sqlite>) -> serialize::Result {
    out.set_value(uuid.hyphenated().to_string());
    Ok(IsNull::No)
}
