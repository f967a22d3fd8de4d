//! Human-entered names: people's names and titles ([`PersonName`]) and the names of sites,
//! clinics and service accounts ([`EntityName`]).
//!
//! Both are trimmed, non-empty, length-limited in Unicode characters and free of control and
//! invisible direction-override characters; any script is welcome ("Zoë", "Nguyễn", "O'Brien").

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::string_schema::string_schema;
use crate::validation::ParseError;

/// A person's first name, last name or title: 1–100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// Longest accepted name, in Unicode characters (SPEC §9).
    pub const MAX_CHARS: usize = 100;

    /// Parses a name; codes `required`, `too_long`, `invalid_characters`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse_text(input, Self::MAX_CHARS).map(Self)
    }

    /// The name as stored and displayed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a site, clinic or service account: 1–100 characters after trimming
/// (SPEC §9: names are 1–100 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EntityName(String);

impl EntityName {
    /// Longest accepted name, in Unicode characters.
    pub const MAX_CHARS: usize = 100;

    /// Parses a name; codes `required`, `too_long`, `invalid_characters`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse_text(input, Self::MAX_CHARS).map(Self)
    }

    /// The name as stored and displayed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The subject of a message to a patient: 1–200 characters after trimming, on one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageSubject(String);

impl MessageSubject {
    /// Longest accepted subject, in Unicode characters.
    pub const MAX_CHARS: usize = 200;

    /// Parses a subject; codes `required`, `too_long`, `invalid_characters`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse_text(input, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a message to a patient: 1–10,000 characters after trimming; line breaks and
/// tabs are kept, other control and invisible formatting characters are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageBody(String);

impl MessageBody {
    /// Longest accepted text, in Unicode characters.
    pub const MAX_CHARS: usize = 10_000;

    /// Parses a text; codes `required`, `too_long`, `invalid_characters`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let lines = input.replace(['\n', '\r', '\t'], " ");
        parse_text(&lines, Self::MAX_CHARS)?;
        Ok(Self(input.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A login name an identity provider gives a user (SCIM `userName`) that is not their email:
/// 1–254 characters after trimming, no control or invisible formatting characters. Unique in
/// the site with the users' emails, compared case-insensitively ([`UserName::normalized`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl UserName {
    /// Longest accepted login name, in Unicode characters (as long as an email address).
    pub const MAX_CHARS: usize = 254;

    /// Parses a login name; codes `required`, `too_long`, `invalid_characters`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse_text(input, Self::MAX_CHARS).map(Self)
    }

    /// The name as the identity provider sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name lower-cased: what uniqueness and filters compare.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

string_schema!(
    MessageSubject,
    length = 1..=200,
    description = "A message's subject, on one line; surrounding whitespace is trimmed.",
);
string_schema!(
    MessageBody,
    length = 1..=10000,
    description = "A message's text; line breaks are kept, surrounding whitespace is trimmed.",
);
string_schema!(
    PersonName,
    length = 1..=100,
    description = "A person's name or title; surrounding whitespace is trimmed.",
);
string_schema!(
    UserName,
    length = 1..=254,
    description = "A login name that is not an email address; surrounding whitespace is trimmed.",
);
string_schema!(
    EntityName,
    length = 1..=100,
    description =
        "The name of a site, clinic or service account; surrounding whitespace is trimmed.",
);

macro_rules! string_conversions {
    ($($name:ident),+) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;

            fn try_from(input: String) -> Result<Self, Self::Error> {
                Self::parse(&input)
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> Self {
                name.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )+};
}

string_conversions!(
    PersonName,
    EntityName,
    UserName,
    MessageSubject,
    MessageBody
);

/// Trims `input` and checks it is 1..=`max_chars` characters with no forbidden character.
fn parse_text(input: &str, max_chars: usize) -> Result<String, ParseError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new("required", "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(ParseError::new(
            "too_long",
            format!("must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(is_forbidden) {
        return Err(ParseError::new(
            "invalid_characters",
            "must not contain control or invisible formatting characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Control characters, line/paragraph separators and bidirectional overrides: they break
/// layouts and can disguise a name ("Trojan Source"), and no real name needs them.
fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<impl fmt::Debug, ParseError>) -> &'static str {
        result.unwrap_err().code
    }

    #[test]
    fn a_message_keeps_its_lines_and_a_subject_stays_on_one() {
        let body = MessageBody::parse("  Hello,\n\tsee you at 9.\r\n ").unwrap();
        assert_eq!(body.as_str(), "Hello,\n\tsee you at 9.");
        assert_eq!(code(MessageBody::parse(" \n ")), "required");
        assert_eq!(code(MessageBody::parse("a\u{202E}b")), "invalid_characters");
        let long = "x".repeat(MessageBody::MAX_CHARS + 1);
        assert_eq!(code(MessageBody::parse(&long)), "too_long");
        assert_eq!(
            code(MessageSubject::parse("two\nlines")),
            "invalid_characters"
        );
        assert_eq!(MessageSubject::parse(" Visit ").unwrap().as_str(), "Visit");
        let long = "x".repeat(MessageSubject::MAX_CHARS + 1);
        assert_eq!(code(MessageSubject::parse(&long)), "too_long");
    }

    #[test]
    fn a_user_name_is_kept_as_sent_and_compared_lower_cased() {
        let name = UserName::parse(" Ada.Lovelace ").unwrap();
        assert_eq!(name.as_str(), "Ada.Lovelace");
        assert_eq!(name.normalized(), "ada.lovelace");
        assert_eq!(code(UserName::parse("  ")), "required");
        assert_eq!(code(UserName::parse("a\u{202E}b")), "invalid_characters");
        let long = "x".repeat(UserName::MAX_CHARS + 1);
        assert_eq!(code(UserName::parse(&long)), "too_long");
    }

    #[test]
    fn accepts_names_in_any_script() {
        for name in [
            "Zoë",
            "O'Brien",
            "Nguyễn",
            "Anne-Marie",
            "李",
            "Dr.",
            "Ólafur Ørn",
            "X",
        ] {
            assert_eq!(PersonName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn keeps_joiners_used_by_real_scripts() {
        let persian = "\u{0645}\u{06CC}\u{200C}\u{0631}\u{0627}";
        assert_eq!(PersonName::parse(persian).unwrap().as_str(), persian);
    }

    #[test]
    fn trims_surrounding_whitespace() {
        assert_eq!(PersonName::parse("  Zoë \t\n").unwrap().as_str(), "Zoë");
        assert_eq!(EntityName::parse(" Main St ").unwrap().as_str(), "Main St");
    }

    #[test]
    fn empty_or_blank_is_required() {
        assert_eq!(code(PersonName::parse("")), "required");
        assert_eq!(code(PersonName::parse("   \t ")), "required");
        assert_eq!(code(EntityName::parse("")), "required");
    }

    #[test]
    fn person_name_length_boundary_is_100_characters() {
        assert!(PersonName::parse(&"a".repeat(100)).is_ok());
        assert_eq!(code(PersonName::parse(&"a".repeat(101))), "too_long");
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(PersonName::parse(&"ễ".repeat(100)).is_ok());
        assert_eq!(code(PersonName::parse(&"ễ".repeat(101))), "too_long");
    }

    #[test]
    fn length_is_measured_after_trimming() {
        let padded = format!("  {}  ", "a".repeat(100));
        assert_eq!(PersonName::parse(&padded).unwrap().as_str().len(), 100);
    }

    #[test]
    fn entity_name_length_boundary_is_100_characters() {
        assert!(EntityName::parse(&"a".repeat(100)).is_ok());
        assert_eq!(code(EntityName::parse(&"a".repeat(101))), "too_long");
    }

    #[test]
    fn rejects_control_and_override_characters() {
        for bad in [
            "Zo\u{0}ë",
            "Ann\nBell",
            "a\tb",
            "a\u{7F}b",
            "a\u{202E}b",
            "a\u{2066}b",
            "a\u{2028}b",
            "a\u{FEFF}b",
        ] {
            assert_eq!(
                code(PersonName::parse(bad)),
                "invalid_characters",
                "{bad:?}"
            );
            assert_eq!(
                code(EntityName::parse(bad)),
                "invalid_characters",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let name = PersonName::parse("Nguyễn").unwrap();
        let json = serde_json::to_string(&name).unwrap();
        assert_eq!(json, "\"Nguyễn\"");
        assert_eq!(serde_json::from_str::<PersonName>(&json).unwrap(), name);
        assert_eq!(
            serde_json::from_str::<PersonName>("\"  Zoë \"")
                .unwrap()
                .as_str(),
            "Zoë"
        );
        assert!(serde_json::from_str::<PersonName>("\"\"").is_err());
        assert!(serde_json::from_str::<EntityName>(&format!("\"{}\"", "a".repeat(201))).is_err());
    }

    #[test]
    fn displays_the_stored_text() {
        assert_eq!(
            EntityName::parse("Clinic Ø").unwrap().to_string(),
            "Clinic Ø"
        );
    }
}
