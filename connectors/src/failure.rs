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
        code: Option<String>,
        reason: String,
    },
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
                code: problem.and_then(|p| p.code),
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
                code: Some("invalid_clinic_id".into()),
                reason: "unknown clinic CLM-9".into()
            }
        );
        let e = ProviderError::from_response(409, "email already used");
        assert!(!e.is_transient());
        assert!(e.to_string().contains("email already used"));
    }

    #[test]
    fn an_empty_body_still_gives_a_reason() {
        let e = ProviderError::from_response(404, "");
        assert!(e.to_string().contains("HTTP 404"));
    }
}
