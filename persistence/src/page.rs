//! Cursor pagination: a page of items and an opaque cursor that resumes after the last one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{StoreError, StoreResult};

/// Largest page a client may ask for.
pub const MAX_LIMIT: i64 = 200;
/// Page size when the client names none.
pub const DEFAULT_LIMIT: i64 = 50;

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says another page exists.
pub fn page_from_rows<T, K: Serialize>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> K,
) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|last| encode_cursor(&key(last)))
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

/// Clamps a requested page size into `1..=MAX_LIMIT`.
pub fn clamp_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Decodes a cursor made by `encode_cursor`; anything else is a validation error.
pub fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> StoreResult<K> {
    let invalid = || {
        StoreError::invalid(
            "cursor",
            "invalid_cursor",
            "The cursor is not one this list returned.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
    if text.contains("\\u0000") {
        return Err(invalid());
    }
    serde_json::from_str(text).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = encode_cursor(&("Smith", "id-1"));
        let back: (String, String) = decode_cursor(&c).unwrap();
        assert_eq!(back, ("Smith".to_owned(), "id-1".to_owned()));
    }

    #[test]
    fn garbage_cursor_is_invalid() {
        assert!(matches!(
            decode_cursor::<(String, String)>("not a cursor!"),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn extra_row_makes_a_cursor() {
        let page = page_from_rows(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(encode_cursor(&2)));
        assert_eq!(page_from_rows(vec![1, 2], 2, |n| *n).next_cursor, None);
    }
}
