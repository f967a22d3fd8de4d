//! ETags are the stored `version` of a resource, as a strong quoted tag: `"7"`.

/// Formats a version as an ETag header value.
pub fn format(version: i64) -> String {
    format!("\"{version}\"")
}

/// The versions an `If-Match` header value accepts: `None` for `*` (any current version).
/// A tag that is not one of ours can never match, so it becomes version `-1`.
pub fn parse_if_match(value: &str) -> Option<i64> {
    let value = value.trim();
    if value == "*" {
        return None;
    }
    let first = value.split(',').next().unwrap_or("").trim();
    let tag = first.strip_prefix("W/").unwrap_or(first);
    Some(
        tag.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|t| t.parse().ok())
            .unwrap_or(-1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(parse_if_match(&format(7)), Some(7));
        assert_eq!(parse_if_match("W/\"3\""), Some(3));
        assert_eq!(parse_if_match("*"), None);
        assert_eq!(parse_if_match("\"abc\""), Some(-1));
        assert_eq!(parse_if_match("7"), Some(-1));
    }
}
