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

/// The key names sort by.
pub(crate) fn sort_key(name: &str) -> String {
    name.to_lowercase()
}

/// What a user list's `q` searches: title, names and email, lower-cased.
pub(crate) fn user_search_text(
    title: Option<&str>,
    first: &str,
    last: &str,
    email: &str,
) -> String {
    [title.unwrap_or(""), first, last, email]
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
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Smith"), "%smith%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn user_search_text_skips_a_missing_title() {
        assert_eq!(
            user_search_text(None, "Jane", "Doe", "Jane@X.org"),
            "jane doe jane@x.org"
        );
        assert_eq!(
            user_search_text(Some("Dr."), "Jane", "Doe", "j@x.org"),
            "dr. jane doe j@x.org"
        );
    }
}
