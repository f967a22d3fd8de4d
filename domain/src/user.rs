//! The kind and state of a user account, which drive licence usage (SPEC §1–§2).

use crate::string_enum::string_enum;

string_enum! {
    /// Clinical users have a diary and need a licence on every plan; non-clinical users
    /// (front desk, billing) cannot be booked.
    pub enum UserType {
        /// Treats clients and can be booked.
        Clinical => "clinical",
        /// Front desk, billing and other staff who cannot be booked.
        NonClinical => "non_clinical",
    }
}

string_enum! {
    /// Whether an account may log in and holds a licence; inactive accounts keep their history.
    pub enum UserStatus {
        /// Can log in and holds a licence or slot.
        Active => "active",
        /// Deactivated: kept for history and reports, holds no licence.
        Inactive => "inactive",
    }
}

impl UserType {
    /// Whether a user of this type has a diary (clinical users are booked; SPEC §2). A new
    /// user starts with it; a type change reaches it at the user's next login.
    pub const fn has_diary(self) -> bool {
        matches!(self, Self::Clinical)
    }

    /// The other type, i.e. the target of a type switch.
    pub const fn other(&self) -> Self {
        match self {
            Self::Clinical => Self::NonClinical,
            Self::NonClinical => Self::Clinical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_type_wire_strings_round_trip() {
        for (value, wire) in [
            (UserType::Clinical, "clinical"),
            (UserType::NonClinical, "non_clinical"),
        ] {
            assert_eq!(value.as_str(), wire);
            assert_eq!(value.to_string(), wire);
            assert_eq!(UserType::parse(wire).unwrap(), value);
            assert_eq!(wire.parse::<UserType>().unwrap(), value);
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{wire}\""));
            assert_eq!(serde_json::from_str::<UserType>(&json).unwrap(), value);
        }
        assert_eq!(UserType::ALL.len(), 2);
    }

    #[test]
    fn user_status_wire_strings_round_trip() {
        for value in UserStatus::ALL {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{}\"", value.as_str()));
            assert_eq!(serde_json::from_str::<UserStatus>(&json).unwrap(), *value);
        }
        assert_eq!(UserStatus::parse("inactive").unwrap(), UserStatus::Inactive);
    }

    #[test]
    fn unknown_values_are_invalid_and_list_the_allowed_ones() {
        let error = UserType::parse("Clinical").unwrap_err();
        assert_eq!(error.code, "invalid_value");
        assert_eq!(error.message, "must be one of: clinical, non_clinical");
        assert_eq!(UserStatus::parse("").unwrap_err().code, "invalid_value");
        assert!(serde_json::from_str::<UserType>("\"nonclinical\"").is_err());
    }

    #[test]
    fn other_flips_the_type() {
        assert_eq!(UserType::Clinical.other(), UserType::NonClinical);
        assert_eq!(UserType::NonClinical.other(), UserType::Clinical);
    }
}
