//! Parse errors of single values and the per-field error list of a `422 validation_failed`.
//!
//! Parsers return a [`ParseError`]; request handlers collect them under field names with
//! [`FieldErrors`] so every bad field is reported at once (SPEC §9).

use serde::{Deserialize, Serialize};

/// Why one input value was refused: a stable snake_case `code` and a human message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Stable machine-readable code, e.g. `invalid_email`, `too_long`.
    pub code: &'static str,
    /// Human-readable explanation, safe to show to the caller.
    pub message: String,
}

impl ParseError {
    /// Builds a parse error from its code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Attaches this error to a request field.
    pub fn for_field(self, field: &str) -> FieldError {
        FieldError::new(field, self.code, self.message)
    }
}

/// One invalid field of a request, as listed in the `errors` of a validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"field": "email", "code": "invalid_email", "message": "must be an email address like name@example.com"}))
)]
pub struct FieldError {
    /// The request field, e.g. `email` or `users[3].first_name`.
    pub field: String,
    /// Stable machine-readable code a front end can map to its own message.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Collects field errors while a request is parsed, so all of them are reported together.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records a parse error under `field`.
    pub fn record(&mut self, field: &str, error: ParseError) {
        self.push(error.for_field(field));
    }

    /// Returns the parsed value, or records the error under `field` and returns `None`.
    pub fn field<T>(&mut self, field: &str, result: Result<T, ParseError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.record(field, error);
                None
            }
        }
    }

    /// Like [`FieldErrors::field`] for an optional input: `None` in gives `Some(None)` out.
    pub fn optional<T>(
        &mut self,
        field: &str,
        result: Option<Result<T, ParseError>>,
    ) -> Option<Option<T>> {
        match result {
            None => Some(None),
            Some(result) => self.field(field, result).map(Some),
        }
    }

    /// True when no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of recorded errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The recorded errors, in the order they were found.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok` when nothing was recorded, otherwise every recorded error.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(code: &'static str) -> Result<u32, ParseError> {
        Err(ParseError::new(code, "nope"))
    }

    #[test]
    fn field_returns_value_and_records_nothing_on_success() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.field("age", Ok::<_, ParseError>(3)), Some(3));
        assert!(errors.is_empty());
        assert_eq!(errors.finish(), Ok(()));
    }

    #[test]
    fn field_records_every_error_in_order() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.field("email", bad("invalid_email")), None);
        assert_eq!(errors.field("first_name", bad("required")), None);
        assert_eq!(errors.len(), 2);
        let list = errors.finish().unwrap_err();
        assert_eq!(
            list,
            vec![
                FieldError::new("email", "invalid_email", "nope"),
                FieldError::new("first_name", "required", "nope"),
            ]
        );
    }

    #[test]
    fn optional_passes_absent_values_through() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.optional::<u32>("title", None), Some(None));
        assert_eq!(errors.optional("title", Some(Ok(1))), Some(Some(1)));
        assert_eq!(errors.optional("title", Some(bad("too_long"))), None);
        assert_eq!(errors.into_vec().len(), 1);
    }

    #[test]
    fn parse_error_displays_its_message() {
        let error = ParseError::new("too_long", "must be at most 100 characters");
        assert_eq!(error.to_string(), "must be at most 100 characters");
    }

    #[test]
    fn field_error_serializes_with_the_documented_keys() {
        let json = serde_json::to_value(FieldError::new("email", "invalid_email", "bad")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"field": "email", "code": "invalid_email", "message": "bad"})
        );
    }
}
