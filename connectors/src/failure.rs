//! How a provider call failed, sorted by what the caller should do about it.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Worth retrying: the provider was unreachable, slow, overloaded or failing.
    #[error("provider unavailable: {reason}")]
    Transient { reason: String },
    /// Retrying cannot help: the provider refused the request, and says why.
    #[error("provider refused the request ({status}): {reason}")]
    Permanent {
        status: u16,
        /// The provider's machine-readable code, when it sent one.
        code: Option<ProviderCode>,
        reason: String,
    },
}

macro_rules! provider_codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// A refusal's machine-readable code (`WIRE.md`), parsed once from the provider's
        /// answer so callers match variants, not text; a code this crate does not know
        /// stays as sent in [`ProviderCode::Other`].
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum ProviderCode {
            $($(#[$doc])* $variant,)*
            /// A code not listed above, as the provider sent it.
            Other(String),
        }

        impl ProviderCode {
            pub fn parse(code: &str) -> Self {
                match code {
                    $($text => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(code) => code,
                }
            }
        }
    };
}

provider_codes! {
    /// The provider does not know the clinic id.
    UnknownClinic => "unknown_clinic",
    /// The provider does not know the user.
    UnknownUser => "unknown_user",
    /// A name is empty or too long.
    InvalidName => "invalid_name",
    EmailInUse => "email_in_use",
    ImmutableField => "immutable_field",
    InvalidRecipient => "invalid_recipient",
    /// The idempotency key was used before with another request.
    IdempotencyKeyReused => "idempotency_key_reused",
    /// Not sent: the idempotency key is empty or too long.
    InvalidIdempotencyKey => "invalid_idempotency_key",
    /// Not sent: an id cannot be a path segment (such as `.` or `..`).
    InvalidIdentifier => "invalid_identifier",
    /// Not sent: the client's configuration is not usable.
    InvalidConfig => "invalid_config",
    /// Not sent: the request body cannot be written.
    InvalidRequest => "invalid_request",
    /// Not sent: the job's stored payload does not read.
    UnreadableJob => "unreadable_job",
}

impl std::fmt::Display for ProviderCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error body providers send: `{"code": "...", "message": "..."}` (both optional).
#[derive(Debug, Deserialize)]
struct ProviderProblem {
    code: Option<String>,
    message: Option<String>,
}

impl ProviderError {
    /// Classifies a non-success HTTP answer by status, keeping the provider's reason.
    pub fn from_response(status: u16, body: &str) -> Self {
        let problem = serde_json::from_str::<ProviderProblem>(body).ok();
        let reason = problem
            .as_ref()
            .and_then(|p| p.message.clone())
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| {
                let text: String = body.chars().take(200).collect();
                if text.trim().is_empty() {
                    format!("HTTP {status}")
                } else {
                    text
                }
            });
        if status >= 500 || status == 429 || status == 408 {
            Self::Transient {
                reason: format!("HTTP {status}: {reason}"),
            }
        } else {
            Self::Permanent {
                status,
                code: problem
                    .and_then(|p| p.code)
                    .map(|c| ProviderCode::parse(&c)),
                reason,
            }
        }
    }

    /// A failure to get any answer (connection refused, reset, timeout).
    pub fn unreachable(reason: impl Into<String>) -> Self {
        Self::Transient {
            reason: reason.into(),
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_and_throttling_are_transient() {
        for status in [500, 502, 503, 504, 429, 408] {
            assert!(
                ProviderError::from_response(status, "").is_transient(),
                "{status}"
            );
        }
        assert!(ProviderError::unreachable("connection refused").is_transient());
    }

    #[test]
    fn client_errors_are_permanent_with_the_providers_reason() {
        let e = ProviderError::from_response(
            422,
            r#"{"code": "invalid_clinic_id", "message": "unknown clinic CLM-9"}"#,
        );
        assert_eq!(
            e,
            ProviderError::Permanent {
                status: 422,
                code: Some(ProviderCode::Other("invalid_clinic_id".into())),
                reason: "unknown clinic CLM-9".into()
            }
        );
        let e = ProviderError::from_response(409, "email already used");
        assert!(!e.is_transient());
        assert!(e.to_string().contains("email already used"));
    }

    #[test]
    fn known_codes_parse_to_their_variant_and_others_are_kept_as_sent() {
        let e = ProviderError::from_response(404, r#"{"code": "unknown_clinic"}"#);
        assert!(matches!(
            e,
            ProviderError::Permanent {
                code: Some(ProviderCode::UnknownClinic),
                ..
            }
        ));
        for code in [
            "unknown_user",
            "invalid_identifier",
            "unreadable_job",
            "brand_new",
        ] {
            assert_eq!(ProviderCode::parse(code).as_str(), code);
        }
        assert_eq!(
            ProviderCode::parse("brand_new"),
            ProviderCode::Other("brand_new".into())
        );
    }

    #[test]
    fn an_empty_body_still_gives_a_reason() {
        let e = ProviderError::from_response(404, "");
        assert!(e.to_string().contains("HTTP 404"));
    }
}
