//! Email addresses as users type them, with the lowercase form that makes them unique per site.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::string_schema::string_schema;
use crate::validation::ParseError;

/// A syntactically plausible email address, trimmed, with its original case kept for display.
///
/// Uniqueness within a site is case-insensitive: compare [`Email::normalized`] forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Longest accepted address, in characters (RFC 5321 path limit).
    pub const MAX_CHARS: usize = 254;
    /// Longest accepted part before the `@` (RFC 5321).
    pub const MAX_LOCAL_CHARS: usize = 64;
    const MIN_CHARS: usize = 3;

    /// Parses an address; codes `invalid_email` and `too_long`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let email = input.trim();
        let length = email.chars().count();
        if length > Self::MAX_CHARS {
            return Err(ParseError::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if length < Self::MIN_CHARS || email.chars().any(is_forbidden) {
            return Err(invalid());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid());
        };
        if local.is_empty() || domain.contains('@') || !is_domain(domain) {
            return Err(invalid());
        }
        if local.chars().count() > Self::MAX_LOCAL_CHARS {
            return Err(ParseError::new(
                "too_long",
                format!(
                    "the part before @ must be at most {} characters",
                    Self::MAX_LOCAL_CHARS
                ),
            ));
        }
        Ok(Self(email.to_owned()))
    }

    /// The address as entered (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase form used to decide whether two addresses are the same.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

string_schema!(
    Email,
    length = 3..=254,
    format = Email,
    description = "An email address; unique within a site, compared case-insensitively.",
);

fn invalid() -> ParseError {
    ParseError::new(
        "invalid_email",
        "must be an email address like name@example.com",
    )
}

/// Whitespace, control characters and the specials that are never valid unquoted in an
/// address (quoted local parts are not accepted: no mail provider a clinic uses needs them).
fn is_forbidden(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '<' | '>' | '(' | ')' | '[' | ']' | '\\' | ',' | ';' | ':' | '"'
        )
}

/// At least two non-empty dot-separated labels, none starting or ending with a hyphen.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = ParseError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(input: &str) -> &'static str {
        Email::parse(input).unwrap_err().code
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "a@b.co",
            "jane.doe@example.com",
            "Jane.Doe+clinic@Example.COM",
            "o'brien@clinic.ie",
            "first_last-1@sub.domain.example.org",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            "zoë@exämple.de",
            "x@1.2",
        ] {
            assert_eq!(Email::parse(ok).unwrap().as_str(), ok, "{ok}");
        }
    }

    #[test]
    fn trims_and_keeps_case_for_display() {
        let email = Email::parse("  Jane.Doe@Example.COM \n").unwrap();
        assert_eq!(email.as_str(), "Jane.Doe@Example.COM");
        assert_eq!(email.to_string(), "Jane.Doe@Example.COM");
        assert_eq!(email.normalized(), "jane.doe@example.com");
    }

    #[test]
    fn normalized_forms_match_across_case() {
        let a = Email::parse("ZOË@Example.com").unwrap();
        let b = Email::parse("zoë@example.COM").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.normalized(), b.normalized());
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "a@",
            "@b",
            "a@b",
            "ab",
            "@b.c",
            "plainaddress",
            "a@@b.com",
            "a@b@c.com",
            "a b@c.com",
            "a@b .com",
            "a@b.com\u{0}",
            "a\u{7}@b.com",
            "a@.com",
            "a@b.",
            "a@b..com",
            "a@-b.com",
            "a@b-.com",
            "<a@b.com>",
            "Jane <a@b.com>",
            "a,b@c.com",
            "a@[1.2.3.4]",
            "\"a\"@b.com",
        ] {
            assert_eq!(code(bad), "invalid_email", "{bad:?}");
        }
    }

    #[test]
    fn total_length_boundary_is_254_characters() {
        let domain = format!("{}.com", "d".repeat(254 - 64 - 1 - 4));
        let at_limit = format!("{}@{domain}", "l".repeat(64));
        assert_eq!(at_limit.len(), 254);
        assert!(Email::parse(&at_limit).is_ok());
        let over = format!("{}@d{domain}", "l".repeat(64));
        assert_eq!(over.len(), 255);
        assert_eq!(code(&over), "too_long");
    }

    #[test]
    fn local_part_boundary_is_64_characters() {
        assert!(Email::parse(&format!("{}@example.com", "l".repeat(64))).is_ok());
        assert_eq!(code(&format!("{}@example.com", "l".repeat(65))), "too_long");
    }

    #[test]
    fn shortest_address_is_three_characters_plus_a_dot_domain() {
        assert_eq!(code("a@b"), "invalid_email");
        assert!(Email::parse("a@b.c").is_ok());
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let email = Email::parse("Jane@Example.com").unwrap();
        let json = serde_json::to_string(&email).unwrap();
        assert_eq!(json, "\"Jane@Example.com\"");
        assert_eq!(serde_json::from_str::<Email>(&json).unwrap(), email);
        let error = serde_json::from_str::<Email>("\"nope\"").unwrap_err();
        assert!(error.to_string().contains("email address"));
    }
}
