//! The permission catalogue served by `GET /v1/permissions` (SPEC §4).

use serde::{Deserialize, Serialize};

use crate::string_enum::string_enum;

string_enum! {
    /// Something a user may be allowed to do; a user holds a set of these.
    pub enum Permission {
        /// Administers the whole site.
        SiteAdmin => "site_admin",
        /// Administers the users of the clinics the holder belongs to.
        ClinicAdmin => "clinic_admin",
        /// Starts SOAP notes.
        StartSoapNotes => "start_soap_notes",
        /// Forwards SOAP notes for review.
        ForwardSoapNotes => "forward_soap_notes",
        /// Finishes (signs) SOAP notes.
        FinishSoapNotes => "finish_soap_notes",
        /// Manages the schedule.
        ManageSchedule => "manage_schedule",
        /// Views reports.
        ViewReports => "view_reports",
        /// Manages billing.
        ManageBilling => "manage_billing",
        /// Reads the site's users, the permission catalogue and professions.
        ViewUsers => "view_users",
        /// Reads the site's clinics.
        ViewClinics => "view_clinics",
        /// Reads the site, its settings and licence usage.
        ViewSite => "view_site",
        /// Reads the audit feed.
        ViewAudit => "view_audit",
    }
}

impl Permission {
    /// The three SOAP-note permissions, restricted by profession (SPEC §4 rules 1–2).
    pub const fn is_soap_note(&self) -> bool {
        matches!(
            self,
            Self::StartSoapNotes | Self::ForwardSoapNotes | Self::FinishSoapNotes
        )
    }

    /// The admin permissions, which a bulk update never removes (SPEC §4 rule 5).
    pub const fn is_admin(&self) -> bool {
        matches!(self, Self::SiteAdmin | Self::ClinicAdmin)
    }

    /// Whether a service account may hold it: not `clinic_admin`, since accounts have no
    /// clinics and it would administer nobody.
    pub const fn service_account_may_hold(&self) -> bool {
        !matches!(self, Self::ClinicAdmin)
    }

    /// Short label for an admin screen.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::SiteAdmin => "Site administrator",
            Self::ClinicAdmin => "Clinic administrator",
            Self::StartSoapNotes => "Start SOAP notes",
            Self::ForwardSoapNotes => "Forward SOAP notes",
            Self::FinishSoapNotes => "Finish SOAP notes",
            Self::ManageSchedule => "Manage schedule",
            Self::ViewReports => "View reports",
            Self::ManageBilling => "Manage billing",
            Self::ViewUsers => "View users",
            Self::ViewClinics => "View clinics",
            Self::ViewSite => "View site",
            Self::ViewAudit => "View audit feed",
        }
    }

    /// One-sentence explanation for an admin screen.
    pub const fn description(&self) -> &'static str {
        match self {
            Self::SiteAdmin => "Manages every user, clinic, plan and setting of the site.",
            Self::ClinicAdmin => "Manages the users who share at least one clinic with them.",
            Self::StartSoapNotes => "Starts SOAP notes for clients.",
            Self::ForwardSoapNotes => "Forwards SOAP notes to a clinician for review.",
            Self::FinishSoapNotes => {
                "Finishes and signs SOAP notes; never for assistants or students."
            }
            Self::ManageSchedule => "Books, moves and cancels appointments.",
            Self::ViewReports => "Views the site's reports.",
            Self::ManageBilling => "Manages invoices and payments.",
            Self::ViewUsers => {
                "Reads the site's users; every user has this read, service accounts need it."
            }
            Self::ViewClinics => {
                "Reads the site's clinics; every user has this read, service accounts need it."
            }
            Self::ViewSite => {
                "Reads the site, its settings and licence usage; every user has this read, \
                 service accounts need it."
            }
            Self::ViewAudit => "Reads the audit feed (site administrators read it anyway).",
        }
    }

    /// Every permission with its label and flags, for `GET /v1/permissions`.
    pub fn catalogue() -> Vec<PermissionInfo> {
        Self::ALL.iter().map(|p| PermissionInfo::of(*p)).collect()
    }
}

/// One entry of the permission catalogue, so screens need not hard-code labels or groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PermissionInfo {
    /// The permission's key, as used in a user's `permissions`.
    pub key: Permission,
    /// Short label for display.
    pub label: String,
    /// One-sentence explanation.
    pub description: String,
    /// True for the SOAP-note permissions, which professions restrict.
    pub soap_note: bool,
    /// True for the admin permissions, which a bulk update never removes.
    pub admin: bool,
}

impl PermissionInfo {
    /// The catalogue entry of one permission.
    pub fn of(permission: Permission) -> Self {
        Self {
            key: permission,
            label: permission.label().to_owned(),
            description: permission.description().to_owned(),
            soap_note: permission.is_soap_note(),
            admin: permission.is_admin(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_json_and_parse() {
        let wires: Vec<&str> = Permission::ALL.iter().map(Permission::as_str).collect();
        assert_eq!(
            wires,
            [
                "site_admin",
                "clinic_admin",
                "start_soap_notes",
                "forward_soap_notes",
                "finish_soap_notes",
                "manage_schedule",
                "view_reports",
                "manage_billing",
                "view_users",
                "view_clinics",
                "view_site",
                "view_audit"
            ]
        );
        for value in Permission::ALL {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(serde_json::from_str::<Permission>(&json).unwrap(), *value);
            assert_eq!(value.as_str().parse::<Permission>().unwrap(), *value);
        }
    }

    #[test]
    fn unknown_permission_is_invalid() {
        let error = Permission::parse("superuser").unwrap_err();
        assert_eq!(error.code, "invalid_value");
        assert!(error.message.contains("site_admin"));
    }

    #[test]
    fn soap_note_and_admin_groups() {
        let soap: Vec<Permission> = Permission::ALL
            .iter()
            .copied()
            .filter(Permission::is_soap_note)
            .collect();
        assert_eq!(
            soap,
            [
                Permission::StartSoapNotes,
                Permission::ForwardSoapNotes,
                Permission::FinishSoapNotes
            ]
        );
        let admin: Vec<Permission> = Permission::ALL
            .iter()
            .copied()
            .filter(Permission::is_admin)
            .collect();
        assert_eq!(admin, [Permission::SiteAdmin, Permission::ClinicAdmin]);
    }

    #[test]
    fn catalogue_lists_every_permission_once_with_its_flags() {
        let catalogue = Permission::catalogue();
        assert_eq!(catalogue.len(), Permission::ALL.len());
        for (info, permission) in catalogue.iter().zip(Permission::ALL) {
            assert_eq!(info.key, *permission);
            assert!(!info.label.is_empty());
            assert!(!info.description.is_empty());
            assert_eq!(info.soap_note, permission.is_soap_note());
            assert_eq!(info.admin, permission.is_admin());
        }
    }

    #[test]
    fn catalogue_entry_serializes_with_the_documented_keys() {
        let json = serde_json::to_value(PermissionInfo::of(Permission::FinishSoapNotes)).unwrap();
        assert_eq!(json["key"], "finish_soap_notes");
        assert_eq!(json["label"], "Finish SOAP notes");
        assert_eq!(json["soap_note"], true);
        assert_eq!(json["admin"], false);
    }
}
