//! Typed identifiers, one newtype per entity, so a `UserId` can never be passed as a `SiteId`.
//!
//! All are UUIDs; new ones are v7 (time-ordered), which keeps database indexes compact and
//! makes ids usable as stable pagination keys. With feature `diesel` each is an SQL `TEXT`
//! value (hyphenated lowercase, as the API shows it).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_newtype {
    ($( $(#[$meta:meta])* $name:ident ),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        #[cfg_attr(feature = "diesel", derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow))]
        #[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered (UUID v7) id.
            #[expect(clippy::new_without_default, reason = "a random default id would be surprising")]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID, e.g. one read from storage.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            /// Hyphenated lowercase, e.g. `0190f0c4-7d1e-7c3a-9b7e-2f4d5c6a7b8c`.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(input).map(Self)
            }
        }

        #[cfg(feature = "diesel")]
        $crate::sql_text::id_as_text!($name);
    )+};
}

id_newtype! {
    /// Identifies a site (one practice account, the tenant).
    SiteId,
    /// Identifies a clinic (one location of a site).
    ClinicId,
    /// Identifies a user (a staff member of a site).
    UserId,
    /// Identifies a service account used by integrators and provisioning scripts.
    ServiceAccountId,
    /// Identifies an audit event.
    AuditEventId,
    /// Identifies an appointment (a booking of a clinical user).
    AppointmentId,
    /// Identifies an outbox job (one provider operation and its attempts).
    JobId,
    /// Identifies an invitation of a user to set their password.
    InvitationId,
    /// Identifies a message kept by the embedded email sink.
    SentMailId,
    /// Identifies a scan referral made through the imaging integration.
    ReferralId,
    /// Identifies one clinician's assistant (the record the clinician lists and manages).
    AssistantId,
    /// Identifies an assistant's sign-in account: one person, who may assist several
    /// clinicians of the site.
    AssistantAccountId,
    /// Identifies a SCIM token, the long-lived bearer token of an identity provider.
    ScimTokenId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_v7_and_time_ordered() {
        let first = UserId::new();
        let second = UserId::new();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert!(first < second);
    }

    #[test]
    fn display_and_from_str_round_trip() {
        let id = SiteId::new();
        let text = id.to_string();
        assert_eq!(text, text.to_lowercase());
        assert_eq!(text.len(), 36);
        assert_eq!(text.parse::<SiteId>().unwrap(), id);
    }

    #[test]
    fn from_str_accepts_uppercase_and_rejects_garbage() {
        let id: ClinicId = "67E55044-10B1-426F-9247-BB680E5FE0C8".parse().unwrap();
        assert_eq!(id.to_string(), "67e55044-10b1-426f-9247-bb680e5fe0c8");
        assert!("not-a-uuid".parse::<ClinicId>().is_err());
        assert!("".parse::<ClinicId>().is_err());
    }

    #[test]
    fn serializes_as_a_bare_string() {
        let uuid = Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        let id = AuditEventId::from_uuid(uuid);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"67e55044-10b1-426f-9247-bb680e5fe0c8\"");
        assert_eq!(serde_json::from_str::<AuditEventId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<AuditEventId>("\"nope\"").is_err());
    }

    #[test]
    fn conversions_preserve_the_uuid() {
        let uuid = Uuid::now_v7();
        let id = ServiceAccountId::from(uuid);
        assert_eq!(Uuid::from(id), uuid);
        assert_eq!(id.as_uuid(), uuid);
    }
}
