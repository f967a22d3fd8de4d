//! A user's profession, which limits the SOAP-note permissions they may hold (SPEC §4).

use crate::string_enum::string_enum;

string_enum! {
    /// The discipline a user works in, carried as its uppercase abbreviation.
    pub enum Profession {
        /// Physical therapist.
        Pt => "PT",
        /// Occupational therapist.
        Ot => "OT",
        /// Speech-language pathologist.
        Slp => "SLP",
        /// Athletic trainer.
        Atc => "ATC",
        /// Physical therapist assistant.
        Pta => "PTA",
        /// Certified occupational therapy assistant.
        Cota => "COTA",
        /// Speech-language pathology assistant.
        Slpa => "SLPA",
        /// Rehabilitation therapy technician.
        Rtt => "RTT",
        /// Student physical therapist.
        Spt => "SPT",
        /// Student occupational therapist.
        Sot => "SOT",
        /// Student speech-language pathologist.
        Sslp => "SSLP",
        /// Front-desk and administrative staff.
        Clerical => "CLERICAL",
        /// Billing staff.
        Billing => "BILLING",
        /// Any other role.
        Other => "OTHER",
    }
}

impl Profession {
    /// Assistants and students may never hold `finish_soap_notes` (SPEC §4 rule 2).
    pub const fn is_assistant_or_student(&self) -> bool {
        matches!(
            self,
            Self::Pta | Self::Cota | Self::Slpa | Self::Rtt | Self::Spt | Self::Sot | Self::Sslp
        )
    }

    /// Clerical and billing staff may hold no SOAP-note permission (SPEC §4 rule 1).
    pub const fn is_clerical_or_billing(&self) -> bool {
        matches!(self, Self::Clerical | Self::Billing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_are_the_uppercase_abbreviations() {
        let wires: Vec<&str> = Profession::ALL.iter().map(Profession::as_str).collect();
        assert_eq!(
            wires,
            [
                "PT", "OT", "SLP", "ATC", "PTA", "COTA", "SLPA", "RTT", "SPT", "SOT", "SSLP",
                "CLERICAL", "BILLING", "OTHER"
            ]
        );
    }

    #[test]
    fn every_value_round_trips_through_json_and_parse() {
        for value in Profession::ALL {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{}\"", value.as_str()));
            assert_eq!(serde_json::from_str::<Profession>(&json).unwrap(), *value);
            assert_eq!(Profession::parse(value.as_str()).unwrap(), *value);
            assert_eq!(value.to_string().parse::<Profession>().unwrap(), *value);
        }
    }

    #[test]
    fn parsing_is_exact() {
        let error = Profession::parse("pt").unwrap_err();
        assert_eq!(error.code, "invalid_value");
        assert!(error.message.contains("PT, OT, SLP"));
        assert!(error.message.ends_with("OTHER"));
        assert!(serde_json::from_str::<Profession>("\"Pt\"").is_err());
    }

    #[test]
    fn assistant_and_student_professions() {
        let group: Vec<Profession> = Profession::ALL
            .iter()
            .copied()
            .filter(Profession::is_assistant_or_student)
            .collect();
        assert_eq!(
            group,
            [
                Profession::Pta,
                Profession::Cota,
                Profession::Slpa,
                Profession::Rtt,
                Profession::Spt,
                Profession::Sot,
                Profession::Sslp
            ]
        );
    }

    #[test]
    fn clerical_and_billing_professions() {
        let group: Vec<Profession> = Profession::ALL
            .iter()
            .copied()
            .filter(Profession::is_clerical_or_billing)
            .collect();
        assert_eq!(group, [Profession::Clerical, Profession::Billing]);
    }
}
