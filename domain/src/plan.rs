//! A site's licence plan (SPEC §1, seed 003): `flex` and `group` carry a licence count,
//! `solo` is one clinician plus one non-clinical user.

use serde::{Deserialize, Serialize};

use crate::string_enum::string_enum;
use crate::validation::ParseError;

string_enum! {
    /// The kind of a plan without its licence count, e.g. for filters and form fields.
    pub enum PlanKind {
        /// Every active user needs a licence.
        Flex => "flex",
        /// One clinical and one non-clinical user.
        Solo => "solo",
        /// Only clinical users need a licence.
        Group => "group",
    }
}

/// A site's plan, as JSON `{"plan": "flex", "licences": 5}` or `{"plan": "solo"}`.
///
/// Flex and group carry 1–100000 licences; solo always has one (the clinical user's). Its
/// OpenAPI schema, one named schema per plan, is in `plan_schema.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "plan", rename_all = "snake_case", try_from = "PlanInput")]
pub enum LicencePlan {
    /// Every active user, clinical or not, needs one of `licences`.
    Flex { licences: u32 },
    /// At most one active clinical and one active non-clinical user.
    Solo,
    /// Active clinical users need one of `licences`; non-clinical users are unlimited.
    Group { licences: u32 },
}

impl LicencePlan {
    /// Largest licence count a plan may carry.
    pub const MAX_LICENCES: u32 = 100_000;

    /// The kind of this plan.
    pub const fn kind(&self) -> PlanKind {
        match self {
            Self::Flex { .. } => PlanKind::Flex,
            Self::Solo => PlanKind::Solo,
            Self::Group { .. } => PlanKind::Group,
        }
    }

    /// Licences the plan provides; solo provides the one clinical licence.
    pub const fn licences(&self) -> u32 {
        match self {
            Self::Flex { licences } | Self::Group { licences } => *licences,
            Self::Solo => 1,
        }
    }

    /// Builds a plan from form-like parts; deserialization goes through here too. Flex and
    /// group need `licences` in 1..=100000 (`required`, `out_of_range`); solo accepts only
    /// none or 1 (`not_allowed`).
    pub fn from_parts(kind: PlanKind, licences: Option<u32>) -> Result<Self, ParseError> {
        match (kind, licences) {
            (PlanKind::Solo, None | Some(1)) => Ok(Self::Solo),
            (PlanKind::Solo, Some(_)) => Err(ParseError::new(
                "not_allowed",
                "the solo plan has exactly one licence; omit `licences`",
            )),
            (PlanKind::Flex | PlanKind::Group, None) => Err(ParseError::new(
                "required",
                format!("the {kind} plan needs a number of licences"),
            )),
            (PlanKind::Flex | PlanKind::Group, Some(n))
                if !(1..=Self::MAX_LICENCES).contains(&n) =>
            {
                Err(out_of_range())
            }
            (PlanKind::Flex, Some(licences)) => Ok(Self::Flex { licences }),
            (PlanKind::Group, Some(licences)) => Ok(Self::Group { licences }),
        }
    }
}

fn out_of_range() -> ParseError {
    ParseError::new(
        "out_of_range",
        format!(
            "licences must be between 1 and {}",
            LicencePlan::MAX_LICENCES
        ),
    )
}

/// The wire form accepted before validation; wide integers so that a negative or huge
/// count is reported as `out_of_range` rather than as a type error.
#[derive(Deserialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
enum PlanInput {
    Flex {
        #[serde(default)]
        licences: Option<i64>,
    },
    Solo {
        #[serde(default)]
        licences: Option<i64>,
    },
    Group {
        #[serde(default)]
        licences: Option<i64>,
    },
}

impl TryFrom<PlanInput> for LicencePlan {
    type Error = ParseError;

    fn try_from(input: PlanInput) -> Result<Self, Self::Error> {
        let (kind, licences) = match input {
            PlanInput::Flex { licences } => (PlanKind::Flex, licences),
            PlanInput::Solo { licences } => (PlanKind::Solo, licences),
            PlanInput::Group { licences } => (PlanKind::Group, licences),
        };
        let licences = match licences.map(u32::try_from).transpose() {
            Ok(licences) => licences,
            Err(_) if kind == PlanKind::Solo => Some(0),
            Err(_) => return Err(out_of_range()),
        };
        Self::from_parts(kind, licences)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn code(result: Result<LicencePlan, ParseError>) -> &'static str {
        result.unwrap_err().code
    }

    #[test]
    fn from_parts_builds_each_plan() {
        assert_eq!(
            LicencePlan::from_parts(PlanKind::Flex, Some(5)),
            Ok(LicencePlan::Flex { licences: 5 })
        );
        assert_eq!(
            LicencePlan::from_parts(PlanKind::Group, Some(100_000)),
            Ok(LicencePlan::Group { licences: 100_000 })
        );
        assert_eq!(
            LicencePlan::from_parts(PlanKind::Solo, None),
            Ok(LicencePlan::Solo)
        );
        assert_eq!(
            LicencePlan::from_parts(PlanKind::Solo, Some(1)),
            Ok(LicencePlan::Solo)
        );
    }

    #[test]
    fn from_parts_refuses_bad_licence_counts() {
        for kind in [PlanKind::Flex, PlanKind::Group] {
            assert_eq!(code(LicencePlan::from_parts(kind, None)), "required");
            assert_eq!(code(LicencePlan::from_parts(kind, Some(0))), "out_of_range");
            assert_eq!(
                code(LicencePlan::from_parts(kind, Some(100_001))),
                "out_of_range"
            );
            assert!(LicencePlan::from_parts(kind, Some(1)).is_ok());
        }
        assert_eq!(
            code(LicencePlan::from_parts(PlanKind::Solo, Some(2))),
            "not_allowed"
        );
        assert_eq!(
            code(LicencePlan::from_parts(PlanKind::Solo, Some(0))),
            "not_allowed"
        );
    }

    #[test]
    fn kind_and_licences() {
        assert_eq!(LicencePlan::Flex { licences: 3 }.kind(), PlanKind::Flex);
        assert_eq!(LicencePlan::Solo.kind(), PlanKind::Solo);
        assert_eq!(LicencePlan::Group { licences: 7 }.kind(), PlanKind::Group);
        assert_eq!(LicencePlan::Flex { licences: 3 }.licences(), 3);
        assert_eq!(LicencePlan::Solo.licences(), 1);
        assert_eq!(LicencePlan::Group { licences: 7 }.licences(), 7);
    }

    #[test]
    fn serializes_internally_tagged() {
        assert_eq!(
            serde_json::to_value(LicencePlan::Flex { licences: 5 }).unwrap(),
            json!({"plan": "flex", "licences": 5})
        );
        assert_eq!(
            serde_json::to_value(LicencePlan::Solo).unwrap(),
            json!({"plan": "solo"})
        );
        assert_eq!(
            serde_json::to_value(LicencePlan::Group { licences: 2 }).unwrap(),
            json!({"plan": "group", "licences": 2})
        );
    }

    #[test]
    fn deserializes_and_round_trips() {
        for plan in [
            LicencePlan::Flex { licences: 5 },
            LicencePlan::Solo,
            LicencePlan::Group { licences: 100_000 },
        ] {
            let json = serde_json::to_string(&plan).unwrap();
            assert_eq!(serde_json::from_str::<LicencePlan>(&json).unwrap(), plan);
        }
        let solo: LicencePlan =
            serde_json::from_value(json!({"plan": "solo", "licences": 1})).unwrap();
        assert_eq!(solo, LicencePlan::Solo);
    }

    #[test]
    fn deserializing_validates_with_the_same_rules() {
        for (input, message) in [
            (json!({"plan": "flex"}), "needs a number of licences"),
            (
                json!({"plan": "group", "licences": 0}),
                "between 1 and 100000",
            ),
            (
                json!({"plan": "group", "licences": -3}),
                "between 1 and 100000",
            ),
            (
                json!({"plan": "flex", "licences": 5_000_000_000_i64}),
                "between 1 and 100000",
            ),
            (
                json!({"plan": "solo", "licences": 2}),
                "exactly one licence",
            ),
            (
                json!({"plan": "solo", "licences": -1}),
                "exactly one licence",
            ),
        ] {
            let error = serde_json::from_value::<LicencePlan>(input.clone()).unwrap_err();
            assert!(error.to_string().contains(message), "{input}: {error}");
        }
        assert!(serde_json::from_value::<LicencePlan>(json!({"plan": "enterprise"})).is_err());
        assert!(serde_json::from_value::<LicencePlan>(json!({"licences": 5})).is_err());
    }

    #[test]
    fn plan_kind_round_trips() {
        for kind in PlanKind::ALL {
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<PlanKind>(&json).unwrap(), *kind);
            assert_eq!(PlanKind::parse(kind.as_str()).unwrap(), *kind);
        }
        let error = PlanKind::parse("enterprise").unwrap_err();
        assert_eq!(error.code, "invalid_value");
        assert_eq!(error.message, "must be one of: flex, solo, group");
    }
}
