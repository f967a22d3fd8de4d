//! Site-wide settings stored with each site.

use serde::{Deserialize, Serialize};

use crate::validation::ParseError;

/// Settings of a site; missing keys take their defaults so stored settings can grow, and
/// unknown keys are refused (`unknown_field`) rather than dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteSettings {
    /// IANA time-zone name used for the site's diaries and reports, e.g. `Europe/Dublin`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = r"^[A-Za-z0-9_+\-/]+$",
            example = "Europe/Dublin"
        )
    )]
    pub timezone: String,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            timezone: "UTC".to_owned(),
        }
    }
}

impl SiteSettings {
    /// Longest accepted time-zone name.
    pub const MAX_TIMEZONE_CHARS: usize = 64;

    /// Checks the time-zone name's shape; codes `required`, `too_long`, `invalid_timezone`.
    pub fn validate(&self) -> Result<(), ParseError> {
        let timezone = self.timezone.as_str();
        if timezone.is_empty() {
            return Err(ParseError::new("required", "must not be empty"));
        }
        if timezone.chars().count() > Self::MAX_TIMEZONE_CHARS {
            return Err(ParseError::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_TIMEZONE_CHARS),
            ));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '/');
        if !timezone.chars().all(allowed) {
            return Err(ParseError::new(
                "invalid_timezone",
                "must be a time-zone name like Europe/Dublin or UTC",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(timezone: &str) -> SiteSettings {
        SiteSettings {
            timezone: timezone.to_owned(),
        }
    }

    #[test]
    fn default_is_utc_and_valid() {
        assert_eq!(SiteSettings::default().timezone, "UTC");
        assert_eq!(SiteSettings::default().validate(), Ok(()));
    }

    #[test]
    fn accepts_iana_names() {
        for tz in [
            "Europe/Dublin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
            "Etc/GMT-14",
            "America/Port-au-Prince",
        ] {
            assert_eq!(settings(tz).validate(), Ok(()), "{tz}");
        }
    }

    #[test]
    fn refuses_bad_names_with_codes() {
        assert_eq!(settings("").validate().unwrap_err().code, "required");
        assert!(settings(&"A".repeat(64)).validate().is_ok());
        assert_eq!(
            settings(&"A".repeat(65)).validate().unwrap_err().code,
            "too_long"
        );
        for bad in [
            "Europe/Dublin ",
            "Europe\\Dublin",
            "UTC;DROP",
            "Zürich",
            "../etc/passwd.",
        ] {
            assert_eq!(
                settings(bad).validate().unwrap_err().code,
                "invalid_timezone",
                "{bad}"
            );
        }
    }

    #[test]
    fn serde_uses_defaults_for_missing_keys() {
        let parsed: SiteSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, SiteSettings::default());
        assert!(serde_json::from_str::<SiteSettings>(r#"{"no_such_setting": true}"#).is_err());
        let json = serde_json::to_value(settings("Europe/Dublin")).unwrap();
        assert_eq!(json, serde_json::json!({"timezone": "Europe/Dublin"}));
    }
}
