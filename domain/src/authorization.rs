//! Who may call which operation (SPEC §3): one declaration, [`Operation::needs`], read by
//! the check every request passes ([`allows`]) and by the OpenAPI document, which states on
//! each operation what it needs.
//!
//! People keep what their role gives them: every user of a site reads its staff
//! directory, clinics, site and appointments; administration needs `site_admin` or
//! `clinic_admin`. A service account may do exactly what its permissions grant, reading
//! included: with none it can only ask `GET /v1/me`.

use crate::string_enum::string_enum;
use crate::{Permission, PrincipalKind};

/// What an operation needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Any authenticated principal.
    Nothing,
    /// Every person of the site may; a service account needs `service_needs` (or
    /// `site_admin`, which grants every read).
    People { service_needs: Permission },
    /// The caller, person or service account, holds one of these permissions.
    AnyOf(&'static [Permission]),
    /// Only a person: the operation acts as the calling user.
    PersonOnly,
    /// Only an assistant: the operation reads the calling assistant's own links.
    AssistantOnly,
    /// A user or an assistant: the operation acts for a clinician's patients, and the
    /// handler admits only the clinician and their accepted assistants (others `404`).
    ForPatients,
    /// Only a SCIM client (a token of kind `scim`): the `/scim/v2` protocol, which acts
    /// for the site's identity provider as a site administrator would.
    ScimClient,
}

const SITE_ADMIN: &[Permission] = &[Permission::SiteAdmin];
const ADMIN: &[Permission] = &[Permission::SiteAdmin, Permission::ClinicAdmin];
const AUDIT: &[Permission] = &[Permission::SiteAdmin, Permission::ViewAudit];

/// Whether a principal of `kind` holding `held` may call an operation that needs `needs`.
/// A SCIM client opens the SCIM operations only, and nothing else opens them.
pub fn allows(kind: PrincipalKind, held: &[Permission], needs: Needs) -> bool {
    let person = kind == PrincipalKind::User;
    let known = matches!(kind, PrincipalKind::User | PrincipalKind::Service);
    match needs {
        Needs::ScimClient => kind == PrincipalKind::Scim,
        Needs::Nothing => kind != PrincipalKind::Scim,
        Needs::People { service_needs } => {
            person
                || (kind == PrincipalKind::Service
                    && (held.contains(&service_needs) || held.contains(&Permission::SiteAdmin)))
        }
        Needs::AnyOf(any) => known && any.iter().any(|p| held.contains(p)),
        Needs::PersonOnly => person,
        Needs::AssistantOnly => kind == PrincipalKind::Assistant,
        Needs::ForPatients => person || kind == PrincipalKind::Assistant,
    }
}

impl Needs {
    /// The permissions that would let a service account call the operation (empty: none
    /// does, or none is needed — see [`Needs::Nothing`]).
    pub fn service_permissions(&self) -> Vec<Permission> {
        match *self {
            Self::Nothing
            | Self::PersonOnly
            | Self::AssistantOnly
            | Self::ForPatients
            | Self::ScimClient => Vec::new(),
            Self::People { service_needs } => vec![service_needs],
            Self::AnyOf(any) => any
                .iter()
                .copied()
                .filter(Permission::service_account_may_hold)
                .collect(),
        }
    }

    /// One sentence for the operation's description in the OpenAPI document.
    pub fn sentence(&self) -> String {
        let list = |ps: &[Permission]| {
            ps.iter()
                .map(|p| format!("`{}`", p.as_str()))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        match *self {
            Self::Nothing => "**Permission:** none; any valid token but a SCIM token.".to_owned(),
            Self::ScimClient => "**Permission:** a SCIM token of the site (`POST \
                                 /v1/scim-tokens`); every other token is refused (`401`)."
                .to_owned(),
            Self::People { service_needs } => format!(
                "**Permission:** every user of the site; a service account needs {} (or \
                 `site_admin`).",
                list(&[service_needs])
            ),
            Self::AnyOf(any) if any.iter().all(Permission::service_account_may_hold) => {
                format!("**Permission:** {}.", list(any))
            }
            Self::AnyOf(any) => format!(
                "**Permission:** {}; a service account needs {}.",
                list(any),
                list(&self.service_permissions())
            ),
            Self::PersonOnly => {
                "**Permission:** users only; service accounts are refused (`403 forbidden`)."
                    .to_owned()
            }
            Self::AssistantOnly => "**Permission:** assistants only; users and service \
                                    accounts are refused (`403 forbidden`)."
                .to_owned(),
            Self::ForPatients => "**Permission:** the clinician and their accepted assistants \
                                  (anyone else `404`); service accounts are refused (`403 \
                                  forbidden`)."
                .to_owned(),
        }
    }
}

string_enum! {
    /// Every operation that needs a bearer token, by its OpenAPI `operationId`.
    pub enum Operation {
        GetMe => "get_me",
        ListPermissions => "list_permissions",
        GetSite => "get_site",
        UpdateSite => "update_site",
        GetLicences => "get_licences",
        ChangePlan => "change_plan",
        ListClinics => "list_clinics",
        GetClinic => "get_clinic",
        CreateClinic => "create_clinic",
        UpdateClinic => "update_clinic",
        DeleteClinic => "delete_clinic",
        ListUsers => "list_users",
        GetUser => "get_user",
        CreateUser => "create_user",
        UpdateUser => "update_user",
        DeactivateUser => "deactivate_user",
        ReactivateUser => "reactivate_user",
        ChangeUserType => "change_user_type",
        SetUserPermissions => "set_user_permissions",
        SetUserClinics => "set_user_clinics",
        ResendInvitation => "resend_invitation",
        BulkUpdateUsers => "bulk_update_users",
        BookAppointment => "book_appointment",
        GetDiary => "get_diary",
        GetAppointmentReport => "get_appointment_report",
        ListServiceAccounts => "list_service_accounts",
        GetServiceAccount => "get_service_account",
        CreateServiceAccount => "create_service_account",
        DeleteServiceAccount => "delete_service_account",
        ListScimTokens => "list_scim_tokens",
        GetScimToken => "get_scim_token",
        CreateScimToken => "create_scim_token",
        DeleteScimToken => "delete_scim_token",
        GetScimServiceProviderConfig => "get_scim_service_provider_config",
        ListScimSchemas => "list_scim_schemas",
        GetScimSchema => "get_scim_schema",
        ListScimResourceTypes => "list_scim_resource_types",
        GetScimResourceType => "get_scim_resource_type",
        ListScimUsers => "list_scim_users",
        SearchScimUsers => "search_scim_users",
        SearchScimResources => "search_scim_resources",
        GetScimUser => "get_scim_user",
        CreateScimUser => "create_scim_user",
        ReplaceScimUser => "replace_scim_user",
        PatchScimUser => "patch_scim_user",
        DeleteScimUser => "delete_scim_user",
        ListScimGroups => "list_scim_groups",
        GetScimGroup => "get_scim_group",
        CreateScimGroup => "create_scim_group",
        ReplaceScimGroup => "replace_scim_group",
        PatchScimGroup => "patch_scim_group",
        DeleteScimGroup => "delete_scim_group",
        ListAuditEvents => "list_audit_events",
        ListOutboxJobs => "list_outbox_jobs",
        GetOutboxJob => "get_outbox_job",
        GetExerciseIntegration => "get_exercise_integration",
        ConnectExerciseIntegration => "connect_exercise_integration",
        DisconnectExerciseIntegration => "disconnect_exercise_integration",
        ListExerciseUsers => "list_exercise_users",
        GetExerciseUser => "get_exercise_user",
        AddExerciseUser => "add_exercise_user",
        RenameExerciseUser => "rename_exercise_user",
        DeactivateExerciseUser => "deactivate_exercise_user",
        ReactivateExerciseUser => "reactivate_exercise_user",
        GetExerciseLaunchLink => "get_exercise_launch_link",
        GetImagingIntegration => "get_imaging_integration",
        SetImagingIntegration => "set_imaging_integration",
        GetMyImagingConnection => "get_my_imaging_connection",
        ConnectMyImaging => "connect_my_imaging",
        UpdateMyImaging => "update_my_imaging",
        ReconnectMyImaging => "reconnect_my_imaging",
        DisconnectMyImaging => "disconnect_my_imaging",
        ForgetMyImaging => "forget_my_imaging",
        ListReferrals => "list_referrals",
        CreateReferral => "create_referral",
        GetReferral => "get_referral",
        ListMyAssistants => "list_my_assistants",
        GetMyAssistant => "get_my_assistant",
        InviteAssistant => "invite_assistant",
        ResendAssistantInvitation => "resend_assistant_invitation",
        RevokeAssistant => "revoke_assistant",
        DeleteAssistant => "delete_assistant",
        ListMyClinicians => "list_my_clinicians",
        SendPatientMessage => "send_patient_message",
    }
}

impl Operation {
    /// What the operation needs of its caller.
    pub const fn needs(&self) -> Needs {
        use Operation as O;
        const fn people(service_needs: Permission) -> Needs {
            Needs::People { service_needs }
        }
        match self {
            O::GetMe => Needs::Nothing,
            // The permission catalogue and professions: the vocabulary of users' records.
            O::ListPermissions | O::ListUsers | O::GetUser => people(Permission::ViewUsers),
            O::GetSite
            | O::GetLicences
            | O::GetImagingIntegration
            | O::ListReferrals
            | O::GetReferral => people(Permission::ViewSite),
            O::ListClinics | O::GetClinic => people(Permission::ViewClinics),
            // A diary is one user's part of the appointment report.
            O::GetDiary | O::GetAppointmentReport => people(Permission::ViewReports),
            O::BookAppointment => people(Permission::ManageSchedule),
            O::CreateUser
            | O::UpdateUser
            | O::DeactivateUser
            | O::ReactivateUser
            | O::SetUserPermissions
            | O::SetUserClinics
            | O::ResendInvitation
            | O::BulkUpdateUsers
            | O::UpdateClinic => Needs::AnyOf(ADMIN),
            O::ListAuditEvents => Needs::AnyOf(AUDIT),
            O::UpdateSite
            | O::ChangePlan
            | O::CreateClinic
            | O::DeleteClinic
            | O::ChangeUserType
            | O::ListServiceAccounts
            | O::GetServiceAccount
            | O::CreateServiceAccount
            | O::DeleteServiceAccount
            | O::ListScimTokens
            | O::GetScimToken
            | O::CreateScimToken
            | O::DeleteScimToken
            | O::ListOutboxJobs
            | O::GetOutboxJob
            | O::GetExerciseIntegration
            | O::ConnectExerciseIntegration
            | O::DisconnectExerciseIntegration
            | O::ListExerciseUsers
            | O::GetExerciseUser
            | O::AddExerciseUser
            | O::RenameExerciseUser
            | O::DeactivateExerciseUser
            | O::ReactivateExerciseUser
            | O::SetImagingIntegration => Needs::AnyOf(SITE_ADMIN),
            O::GetExerciseLaunchLink
            | O::GetMyImagingConnection
            | O::ConnectMyImaging
            | O::UpdateMyImaging
            | O::ReconnectMyImaging
            | O::DisconnectMyImaging
            | O::ForgetMyImaging
            | O::CreateReferral
            // A clinician's own assistants; the handler answers `403` to non-clinicians.
            | O::ListMyAssistants
            | O::GetMyAssistant
            | O::InviteAssistant
            | O::ResendAssistantInvitation
            | O::RevokeAssistant
            | O::DeleteAssistant => Needs::PersonOnly,
            O::ListMyClinicians => Needs::AssistantOnly,
            O::SendPatientMessage => Needs::ForPatients,
            O::GetScimServiceProviderConfig
            | O::ListScimSchemas
            | O::GetScimSchema
            | O::ListScimResourceTypes
            | O::GetScimResourceType
            | O::ListScimUsers
            | O::SearchScimUsers
            | O::SearchScimResources
            | O::GetScimUser
            | O::CreateScimUser
            | O::ReplaceScimUser
            | O::PatchScimUser
            | O::DeleteScimUser
            | O::ListScimGroups
            | O::GetScimGroup
            | O::CreateScimGroup
            | O::ReplaceScimGroup
            | O::PatchScimGroup
            | O::DeleteScimGroup => Needs::ScimClient,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PrincipalKind::{Assistant, Scim, Service, User};

    const NONE: &[Permission] = &[];

    #[test]
    fn any_principal_but_a_scim_client_may_ask_who_it_is() {
        for kind in PrincipalKind::ALL {
            assert_eq!(allows(*kind, NONE, Operation::GetMe.needs()), *kind != Scim);
        }
    }

    #[test]
    fn scim_operations_open_to_scim_clients_only() {
        let scim: Vec<Operation> = Operation::ALL
            .iter()
            .copied()
            .filter(|op| allows(Scim, NONE, op.needs()))
            .collect();
        assert!(scim.len() >= 18, "{scim:?}");
        for op in &scim {
            assert!(
                op.as_str().contains("scim") && !op.as_str().contains("token"),
                "{op}"
            );
            for kind in [User, Service, Assistant] {
                assert!(!allows(kind, &[Permission::SiteAdmin], op.needs()), "{op}");
            }
        }
        for op in [Operation::CreateScimToken, Operation::ListScimTokens] {
            assert!(allows(User, &[Permission::SiteAdmin], op.needs()));
            assert!(!allows(Scim, &[Permission::SiteAdmin], op.needs()));
        }
    }

    #[test]
    fn a_service_account_without_permissions_can_only_ask_who_it_is() {
        let allowed: Vec<Operation> = Operation::ALL
            .iter()
            .copied()
            .filter(|op| allows(Service, NONE, op.needs()))
            .collect();
        assert_eq!(allowed, [Operation::GetMe]);
    }

    #[test]
    fn a_service_account_reads_what_its_read_permission_grants_and_nothing_else() {
        let held = [Permission::ViewUsers];
        assert!(allows(Service, &held, Operation::ListUsers.needs()));
        assert!(allows(Service, &held, Operation::GetUser.needs()));
        assert!(!allows(Service, &held, Operation::ListClinics.needs()));
        assert!(!allows(Service, &held, Operation::ListAuditEvents.needs()));
        assert!(!allows(Service, &held, Operation::CreateUser.needs()));
        let held = [Permission::ViewClinics];
        assert!(allows(Service, &held, Operation::GetClinic.needs()));
        assert!(!allows(Service, &held, Operation::ListUsers.needs()));
        let held = [Permission::ViewAudit];
        assert!(allows(Service, &held, Operation::ListAuditEvents.needs()));
        assert!(!allows(Service, &held, Operation::ListOutboxJobs.needs()));
    }

    #[test]
    fn site_admin_grants_every_operation_but_the_personal_and_scim_ones() {
        for op in Operation::ALL {
            let personal = matches!(
                op.needs(),
                Needs::PersonOnly | Needs::AssistantOnly | Needs::ForPatients | Needs::ScimClient
            );
            assert_eq!(
                allows(Service, &[Permission::SiteAdmin], op.needs()),
                !personal,
                "{op}"
            );
            assert_eq!(
                allows(User, &[Permission::SiteAdmin], op.needs()),
                !matches!(op.needs(), Needs::AssistantOnly | Needs::ScimClient),
                "{op}"
            );
        }
    }

    #[test]
    fn every_service_permission_of_an_operation_allows_it() {
        for op in Operation::ALL {
            for permission in op.needs().service_permissions() {
                assert!(
                    allows(Service, &[permission], op.needs()),
                    "{op} {permission}"
                );
            }
        }
    }

    #[test]
    fn people_read_the_site_without_any_permission_and_administer_with_their_role() {
        for op in [
            Operation::ListUsers,
            Operation::GetClinic,
            Operation::GetSite,
            Operation::GetLicences,
            Operation::ListPermissions,
            Operation::GetAppointmentReport,
            Operation::GetDiary,
            Operation::BookAppointment,
            Operation::GetExerciseLaunchLink,
            Operation::GetImagingIntegration,
            Operation::GetMyImagingConnection,
            Operation::ConnectMyImaging,
            Operation::ForgetMyImaging,
        ] {
            assert!(allows(User, NONE, op.needs()), "{op}");
        }
        assert!(!allows(User, NONE, Operation::CreateUser.needs()));
        assert!(!allows(
            User,
            &[Permission::ClinicAdmin],
            Operation::SetImagingIntegration.needs()
        ));
        assert!(allows(
            User,
            &[Permission::ClinicAdmin],
            Operation::CreateUser.needs()
        ));
        assert!(!allows(
            User,
            &[Permission::ClinicAdmin],
            Operation::ChangeUserType.needs()
        ));
        assert!(!allows(User, NONE, Operation::ListAuditEvents.needs()));
        assert!(allows(
            User,
            &[Permission::ViewAudit],
            Operation::ListAuditEvents.needs()
        ));
    }

    #[test]
    fn scim_clients_are_refused_everything_but_scim() {
        for op in Operation::ALL {
            assert_eq!(
                allows(Scim, &[Permission::SiteAdmin], op.needs()),
                op.needs() == Needs::ScimClient,
                "{op}"
            );
        }
    }

    #[test]
    fn an_assistant_asks_who_it_is_whom_it_assists_and_acts_for_patients_only() {
        let allowed: Vec<Operation> = Operation::ALL
            .iter()
            .copied()
            .filter(|op| allows(Assistant, &[Permission::SiteAdmin], op.needs()))
            .collect();
        assert_eq!(
            allowed,
            [
                Operation::GetMe,
                Operation::ListMyClinicians,
                Operation::SendPatientMessage
            ]
        );
    }

    #[test]
    fn every_operation_states_its_permission_in_one_sentence() {
        for op in Operation::ALL {
            let sentence = op.needs().sentence();
            assert!(sentence.starts_with("**Permission:**"), "{op}: {sentence}");
            for permission in op.needs().service_permissions() {
                assert!(sentence.contains(permission.as_str()), "{op}: {sentence}");
            }
        }
    }
}
