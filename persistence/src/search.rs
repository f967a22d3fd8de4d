//! Stored text that lists search and sort by, computed in Rust so both backends compare
//! and order it alike: lower-cased search text, sort keys, and `LIKE` patterns over them.

/// A `LIKE` pattern matching `q` anywhere, lower-cased, with wildcards escaped by `\`.
pub(crate) fn like_pattern(q: &str) -> String {
    format!("%{}%", like_escaped(&q.to_lowercase()))
}

/// `q` with the `LIKE` wildcards escaped by `\`, to match as written.
pub(crate) fn like_escaped(q: &str) -> String {
    let mut escaped = String::with_capacity(q.len());
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Whether a trigram index can serve a search for `q`: three characters or more.
pub(crate) fn trigram_searchable(q: &str) -> bool {
    q.chars().nth(2).is_some()
}

/// The FTS5 query matching the rows whose text contains `q` (lower-cased), for the trigram
/// table over `users.search_text` on SQLite: a quoted phrase, which with that tokenizer is a
/// substring match (of three characters or more).
pub(crate) fn trigram_phrase(q: &str) -> String {
    format!("\"{}\"", q.to_lowercase().replace('"', "\"\""))
}

/// How many characters of each suffix `user_search_suffixes` keeps.
pub const SUFFIX_CHARS: usize = 16;

/// The statement pieces of the user search's condition, between its four bound values (the
/// site twice, the range's two bounds): the site's users having a suffix that starts with
/// `q`, found by a range scan of the suffix table's primary key. The site condition on
/// `users` is written so that no index serves it (`+`, `|| ''`): the matches drive the
/// query, else both planners walk every user of the site in sort order.
///
/// On SQLite the id is compared under `COLLATE RTRIM`, the collation of the covering index
/// `users_sort_keys` (id, site, sort keys): only that index serves the comparison, so a
/// match's site and sort value are read from it, not from its `users` row (without
/// statistics SQLite would take the primary key's index and then the row). Ids never end
/// in a space, so the comparison is the binary one.
pub const SUFFIX_MATCH_SQLITE: [&str; 5] = [
    "+users.site_id = ",
    " AND users.id COLLATE RTRIM IN (SELECT user_id FROM user_search_suffixes WHERE site_id = ",
    " AND suffix >= ",
    " AND suffix < ",
    ")",
];

/// [`SUFFIX_MATCH_SQLITE`] for PostgreSQL.
pub const SUFFIX_MATCH_POSTGRES: [&str; 5] = [
    "users.site_id || '' = ",
    " AND users.id IN (SELECT user_id FROM user_search_suffixes WHERE site_id = ",
    " AND suffix >= ",
    " AND suffix < ",
    ")",
];

/// The range of stored suffixes that start with `q` (lower-cased, cut to
/// [`SUFFIX_CHARS`]): from that prefix up to, not including, the prefix whose last character
/// is the next code point. Both backends order the suffixes by code point (SQLite's binary
/// collation, `COLLATE "C"` on PostgreSQL), so the range holds exactly the suffixes with
/// that prefix. `None` for a `q` of fewer than three characters, which no suffix serves.
/// The second value says whether `q` is longer than the stored suffixes, so that a match
/// must be rechecked against the whole text.
pub fn suffix_range(q: &str) -> Option<((String, String), bool)> {
    if !trigram_searchable(q) {
        return None;
    }
    let lower = q.to_lowercase();
    let prefix: String = lower.chars().take(SUFFIX_CHARS).collect();
    let truncated = prefix.len() < lower.len();
    let mut chars: Vec<char> = prefix.chars().collect();
    // The last character's successor; U+10FFFF has none, and is dropped until one does.
    let mut upper = None;
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            upper = Some(chars.into_iter().collect::<String>());
            break;
        }
    }
    Some(((prefix, upper?), truncated))
}

/// The key names sort by.
pub(crate) fn sort_key(name: &str) -> String {
    name.to_lowercase()
}

/// What a user list's `q` searches: title, names, email and the SCIM login name (when it is
/// not the email), lower-cased.
pub(crate) fn user_search_text(
    title: Option<&str>,
    first: &str,
    last: &str,
    email: &str,
    user_name: Option<&str>,
) -> String {
    [
        title.unwrap_or(""),
        first,
        last,
        email,
        user_name.unwrap_or(""),
    ]
    .join(" ")
    .trim()
    .to_lowercase()
}

/// What a clinic list's `q` searches: the name, lower-cased.
pub(crate) fn clinic_search_text(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigram_phrases_quote_and_need_three_characters() {
        assert_eq!(trigram_phrase("Okafor"), "\"okafor\"");
        assert_eq!(trigram_phrase("a\"b"), "\"a\"\"b\"");
        assert!(trigram_searchable("zoë"));
        assert!(!trigram_searchable("zö"));
        assert!(!trigram_searchable(""));
    }

    #[test]
    fn suffix_ranges_hold_exactly_the_prefixed_suffixes() {
        let ((low, high), long) = suffix_range("OKAFOR").unwrap();
        assert_eq!(
            (low.as_str(), high.as_str(), long),
            ("okafor", "okafos", false)
        );
        for inside in ["okafor", "okafor@bench.te", "okafor\u{10FFFF}"] {
            assert!(low.as_str() <= inside && inside < high.as_str(), "{inside}");
        }
        for outside in ["okafo", "okafos", "okafoq\u{10FFFF}"] {
            assert!(
                !(low.as_str() <= outside && outside < high.as_str()),
                "{outside}"
            );
        }
        let ((low, high), long) = suffix_range("u9987@bench.test.example").unwrap();
        assert_eq!(
            (low.as_str(), high.as_str(), long),
            ("u9987@bench.test", "u9987@bench.tesu", true)
        );
        // Before a surrogate the successor skips the surrogates.
        let ((_, high), _) = suffix_range("ab\u{D7FF}").unwrap();
        assert_eq!(high, "ab\u{E000}");
        assert!(suffix_range("ab").is_none());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Smith"), "%smith%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn user_search_text_skips_a_missing_title_and_holds_the_login_name() {
        assert_eq!(
            user_search_text(None, "Jane", "Doe", "Jane@X.org", None),
            "jane doe jane@x.org"
        );
        assert_eq!(
            user_search_text(Some("Dr."), "Jane", "Doe", "j@x.org", Some("JD")),
            "dr. jane doe j@x.org jd"
        );
    }
}
