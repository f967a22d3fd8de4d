//! Plain-text passwords on their way to the hasher: never printed, serialized or logged.

use std::fmt;

use serde::Deserialize;

use crate::string_schema::string_schema;
use crate::validation::ParseError;

/// A candidate password of 8–128 characters, kept exactly as typed (no trimming).
///
/// Deliberately has no `Serialize` or `Display`, and its `Debug` hides the value, so it
/// cannot leak into a response or a log line by accident.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN_CHARS: usize = 8;
    /// Longest accepted password, in characters (bounds the hashing cost).
    pub const MAX_CHARS: usize = 128;

    /// Parses a password; codes `too_short` and `too_long`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let length = input.chars().count();
        if length < Self::MIN_CHARS {
            return Err(ParseError::new(
                "too_short",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if length > Self::MAX_CHARS {
            return Err(ParseError::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// The secret itself, for the password hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

string_schema!(
    Password,
    length = 8..=128,
    format = Password,
    write_only = true,
    description = "A password; never returned by the API.",
);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl TryFrom<String> for Password {
    type Error = ParseError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(input: &str) -> &'static str {
        Password::parse(input).unwrap_err().code
    }

    #[test]
    fn length_boundaries() {
        assert_eq!(code(""), "too_short");
        assert_eq!(code("1234567"), "too_short");
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"p".repeat(128)).is_ok());
        assert_eq!(code(&"p".repeat(129)), "too_long");
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(Password::parse("ééééééée").is_ok());
        assert_eq!(code("éééé"), "too_short");
        assert_eq!(code(&"é".repeat(129)), "too_long");
    }

    #[test]
    fn keeps_the_value_exactly_including_spaces() {
        let password = Password::parse("  secret pass  ").unwrap();
        assert_eq!(password.expose(), "  secret pass  ");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let password = Password::parse("hunter2hunter2").unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
        assert_eq!(format!("{:?}", Some(password)), "Some(Password(***))");
    }

    #[test]
    fn deserializes_through_parse() {
        let password: Password = serde_json::from_str("\"correct horse\"").unwrap();
        assert_eq!(password.expose(), "correct horse");
        assert!(serde_json::from_str::<Password>("\"short\"").is_err());
    }
}
