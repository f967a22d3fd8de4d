//! Ids and string enums as SQL `TEXT` (feature `diesel`): the `ToSql`/`FromSql` impls the
//! `id_newtype!` and `string_enum!` macros ask for, and an audit target as its id, so
//! persistence binds and loads these types directly and the stored text is exactly their
//! wire text.

use std::fmt::Display;
use std::io::Write;
use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use uuid::Uuid;

use crate::audit::AuditTarget;
use crate::ids::{
    AppointmentId, AssistantId, ClinicId, ReferralId, ScimTokenId, ServiceAccountId, SiteId, UserId,
};

/// `FromSql` for a type stored as the text its `FromStr` reads, on any backend.
macro_rules! from_text {
    ($name:ty) => {
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                $crate::sql_text::parse_text::<Self, DB>(bytes)
            }
        }
    };
}

/// An id newtype as SQL text: read on any backend, written per backend (an id holds a UUID,
/// not text a binding could borrow).
macro_rules! id_as_text {
    ($name:ty) => {
        $crate::sql_text::from_text!($name);

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                $crate::sql_text::uuid_to_pg(&self.as_uuid(), out)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                $crate::sql_text::uuid_to_sqlite(&self.as_uuid(), out)
            }
        }
    };
}

/// A string enum as SQL text, its wire string, on any backend.
macro_rules! enum_as_text {
    ($name:ty) => {
        $crate::sql_text::from_text!($name);

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
}

pub(crate) use {enum_as_text, from_text, id_as_text};

/// Reads a stored text value through the type's `FromStr`; text that is not a value of the
/// type is a deserialization error naming the type.
pub(crate) fn parse_text<T, DB>(bytes: DB::RawValue<'_>) -> deserialize::Result<T>
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

/// An audit target binds as its id (the `target_id` column), on any backend its ids bind to.
impl<DB> ToSql<Text, DB> for AuditTarget
where
    DB: Backend,
    SiteId: ToSql<Text, DB>,
    ClinicId: ToSql<Text, DB>,
    UserId: ToSql<Text, DB>,
    AppointmentId: ToSql<Text, DB>,
    ServiceAccountId: ToSql<Text, DB>,
    ReferralId: ToSql<Text, DB>,
    AssistantId: ToSql<Text, DB>,
    ScimTokenId: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        match self {
            Self::Site(id) => <SiteId as ToSql<Text, DB>>::to_sql(id, out),
            Self::Clinic(id) => <ClinicId as ToSql<Text, DB>>::to_sql(id, out),
            Self::User(id) => <UserId as ToSql<Text, DB>>::to_sql(id, out),
            Self::Appointment(id) => <AppointmentId as ToSql<Text, DB>>::to_sql(id, out),
            Self::ServiceAccount(id) => <ServiceAccountId as ToSql<Text, DB>>::to_sql(id, out),
            Self::Referral(id) => <ReferralId as ToSql<Text, DB>>::to_sql(id, out),
            Self::Assistant(id) => <AssistantId as ToSql<Text, DB>>::to_sql(id, out),
            Self::ScimToken(id) => <ScimTokenId as ToSql<Text, DB>>::to_sql(id, out),
        }
    }
}
