//! Shapes shared by several features: timestamps, list pages, and response helpers.

use actix_web::HttpResponse;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use staffroom_persistence::page::MAX_LIMIT;

use crate::answer::Answer;
use crate::error::ApiError;

/// Stored UTC timestamps as RFC 3339 with `Z`.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// `200` with the body and its `ETag`.
pub fn with_etag<T: Serialize>(version: i64, body: &T) -> HttpResponse {
    Answer::with_etag(version, body).into_response()
}

/// `201` with `Location`, `ETag` and the body.
pub fn created<T: Serialize>(location: String, version: i64, body: &T) -> HttpResponse {
    Answer::created(location, version, body).into_response()
}

/// Checks a `limit` query parameter: `1..=200`, default 50.
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(staffroom_persistence::page::DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field(
            "limit",
            "out_of_range",
            format!("limit must be between 1 and {MAX_LIMIT}."),
        )),
    }
}

/// Checks a text query parameter against the `max_length` its `IntoParams` documents.
pub fn query_text(name: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    if value.is_some_and(|s| s.chars().count() > max) {
        return Err(ApiError::field(
            name,
            "too_long",
            format!("{name} is at most {max} characters."),
        ));
    }
    Ok(())
}

/// Declares a list response `{items, next_cursor}` for one item type.
macro_rules! page_of {
    ($name:ident, $item:ty) => {
        #[doc = concat!("A page of ", stringify!($item), "; pass `next_cursor` as `cursor` for the next one.")]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Opaque cursor of the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }

        impl $name {
            pub fn from_page<T>(page: staffroom_persistence::page::Page<T>) -> Self
            where
                $item: From<T>,
            {
                Self {
                    items: page.items.into_iter().map(<$item>::from).collect(),
                    next_cursor: page.next_cursor,
                }
            }
        }
    };
}
pub(crate) use page_of;

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}
