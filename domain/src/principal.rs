//! Who a bearer token speaks for, carried in the token's `kind` claim (SPEC §3, §9).

use crate::string_enum::string_enum;

string_enum! {
    /// The kind of principal behind a request.
    pub enum PrincipalKind {
        /// A staff member logged in with email and password.
        User => "user",
        /// An assistant acting on a clinician's behalf.
        Assistant => "assistant",
        /// A service account of an integrator or provisioning script.
        Service => "service",
        /// A SCIM client (an identity provider).
        Scim => "scim",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_json_and_parse() {
        let wires: Vec<&str> = PrincipalKind::ALL
            .iter()
            .map(PrincipalKind::as_str)
            .collect();
        assert_eq!(wires, ["user", "assistant", "service", "scim"]);
        for value in PrincipalKind::ALL {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(
                serde_json::from_str::<PrincipalKind>(&json).unwrap(),
                *value
            );
            assert_eq!(value.as_str().parse::<PrincipalKind>().unwrap(), *value);
        }
        assert_eq!(
            PrincipalKind::parse("admin").unwrap_err().message,
            "must be one of: user, assistant, service, scim"
        );
    }
}
