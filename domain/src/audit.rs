//! The audit log's vocabulary: what happened (`AuditAction`), who did it (`ActorKind`) and
//! to which record (`AuditTarget`). Every audit event is written and filtered with these, so
//! the texts the log holds are declared once.

use crate::exercise::ExerciseAction;
use crate::ids::{
    AppointmentId, AssistantId, ClinicId, ReferralId, ScimTokenId, ServiceAccountId, SiteId, UserId,
};
use crate::imaging::ImagingAction;
use crate::principal::PrincipalKind;
use crate::string_enum::string_enum;

string_enum! {
    /// What an audit event records, as `record.verb`.
    pub enum AuditAction {
        /// A site was created with its first clinic and administrator.
        SiteCreated => "site.created",
        /// The site's name or settings changed.
        SiteUpdated => "site.updated",
        /// The site's plan or licence count changed.
        SitePlanChanged => "site.plan_changed",
        ClinicCreated => "clinic.created",
        ClinicUpdated => "clinic.updated",
        /// A clinic was deleted, with every user's access to it.
        ClinicDeleted => "clinic.deleted",
        UserCreated => "user.created",
        /// A user's profile (names, email, profession) changed.
        UserUpdated => "user.updated",
        UserDeactivated => "user.deactivated",
        UserReactivated => "user.reactivated",
        /// A SCIM client deleted the user (RFC 7644 §3.6): deactivated, kept for history
        /// and REST, and gone from `/scim/v2`.
        UserScimDeleted => "user.scim_deleted",
        UserTypeChanged => "user.type_changed",
        /// The diary followed a type change at the user's login.
        UserDiaryEnabled => "user.diary_enabled",
        UserDiaryDisabled => "user.diary_disabled",
        UserPermissionsChanged => "user.permissions_changed",
        UserClinicsChanged => "user.clinics_changed",
        /// A user lost access to a clinic because the clinic was deleted.
        UserClinicAccessRemoved => "user.clinic_access_removed",
        /// One user's share of a bulk update.
        UserAccessChanged => "user.access_changed",
        UserInvited => "user.invited",
        UserInvitationAccepted => "user.invitation_accepted",
        /// A bulk update, with its report.
        UsersBulkUpdated => "users.bulk_updated",
        AppointmentBooked => "appointment.booked",
        ServiceAccountCreated => "service_account.created",
        ServiceAccountRevoked => "service_account.revoked",
        /// A SCIM token was issued (its secret is never recorded).
        ScimTokenCreated => "scim_token.created",
        /// A SCIM token was revoked; its identity provider is refused from the next request.
        ScimTokenRevoked => "scim_token.revoked",
        /// The site switched the imaging integration on for its users.
        ImagingEnabled => "imaging.enabled",
        /// The site switched the imaging integration off.
        ImagingDisabled => "imaging.disabled",
        /// A user asked to connect to the imaging provider (the call is on its way).
        ImagingConnectRequested => "imaging.connect_requested",
        ImagingUpdateRequested => "imaging.update_requested",
        ImagingReconnectRequested => "imaging.reconnect_requested",
        /// The provider created or re-linked the user's account.
        ImagingConnected => "imaging.connected",
        ImagingUpdated => "imaging.updated",
        ImagingReconnected => "imaging.reconnected",
        /// The provider refused, or stayed unavailable; the connection is as before.
        ImagingConnectFailed => "imaging.connect_failed",
        ImagingUpdateFailed => "imaging.update_failed",
        ImagingReconnectFailed => "imaging.reconnect_failed",
        ImagingDisconnected => "imaging.disconnected",
        ImagingForgotten => "imaging.forgotten",
        /// A connected user made a scan referral (its job is written).
        ReferralCreated => "referral.created",
        /// The provider took the referral.
        ReferralSent => "referral.sent",
        /// The provider refused the referral for good.
        ReferralFailed => "referral.failed",
        /// A report came back through the webhook.
        ReferralReported => "referral.reported",
        /// A clinician invited an assistant (the invitation email is queued).
        AssistantInvited => "assistant.invited",
        /// A clinician sent a pending assistant a fresh invitation.
        AssistantResent => "assistant.resent",
        /// The assistant accepted the invitation and chose a password.
        AssistantAccepted => "assistant.accepted",
        /// The clinician revoked (disabled) the assistant.
        AssistantRevoked => "assistant.revoked",
        /// The clinician deleted the assistant record.
        AssistantDeleted => "assistant.deleted",
        /// A message to a patient went to the outbox, by the clinician or on their behalf.
        PatientMessageSent => "patient_message.sent",
        ExerciseConnected => "exercise.connected",
        ExerciseDisconnected => "exercise.disconnected",
        /// The names to send the exercise provider were edited.
        ExerciseUserRenamed => "exercise.user_renamed",
        ExerciseUserAddRequested => "exercise.user_add_requested",
        ExerciseUserDeactivateRequested => "exercise.user_deactivate_requested",
        ExerciseUserReactivateRequested => "exercise.user_reactivate_requested",
        ExerciseUserAdded => "exercise.user_added",
        ExerciseUserDeactivated => "exercise.user_deactivated",
        ExerciseUserReactivated => "exercise.user_reactivated",
        ExerciseUserAddFailed => "exercise.user_add_failed",
        ExerciseUserDeactivateFailed => "exercise.user_deactivate_failed",
        ExerciseUserReactivateFailed => "exercise.user_reactivate_failed",
    }
}

string_enum! {
    /// Who made a change: a principal of the API, or the operator at the command line.
    pub enum ActorKind {
        User => "user",
        Assistant => "assistant",
        Service => "service",
        Scim => "scim",
        /// The operator, from the command line (`bootstrap`, the demo).
        System => "system",
        /// A provider calling Staffroom's signed webhook (the imaging reports).
        Provider => "provider",
    }
}

/// The record an audit event is about. It is stored as the event's `target_type` and, as
/// the id's own text, its `target_id`; it serialises as that id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "diesel", derive(diesel::expression::AsExpression))]
#[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
pub enum AuditTarget {
    Site(SiteId),
    Clinic(ClinicId),
    User(UserId),
    Appointment(AppointmentId),
    ServiceAccount(ServiceAccountId),
    Referral(ReferralId),
    Assistant(AssistantId),
    ScimToken(ScimTokenId),
}

impl AuditTarget {
    /// The `target_type` of events about this record.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Site(_) => "site",
            Self::Clinic(_) => "clinic",
            Self::User(_) => "user",
            Self::Appointment(_) => "appointment",
            Self::ServiceAccount(_) => "service_account",
            Self::Referral(_) => "referral",
            Self::Assistant(_) => "assistant",
            Self::ScimToken(_) => "scim_token",
        }
    }
}

impl From<PrincipalKind> for ActorKind {
    fn from(kind: PrincipalKind) -> Self {
        match kind {
            PrincipalKind::User => Self::User,
            PrincipalKind::Assistant => Self::Assistant,
            PrincipalKind::Service => Self::Service,
            PrincipalKind::Scim => Self::Scim,
        }
    }
}

impl AuditAction {
    /// A user's imaging action was asked for: a provider call's job is written, or, for
    /// leaving, the change is made.
    pub const fn imaging_requested(action: ImagingAction) -> Self {
        match action {
            ImagingAction::Connect => Self::ImagingConnectRequested,
            ImagingAction::Update => Self::ImagingUpdateRequested,
            ImagingAction::Reconnect => Self::ImagingReconnectRequested,
            ImagingAction::Disconnect => Self::ImagingDisconnected,
            ImagingAction::Forget => Self::ImagingForgotten,
        }
    }

    /// A user's imaging provider call finished: carried out, or refused (or given up).
    pub const fn imaging_settled(action: ImagingAction, succeeded: bool) -> Self {
        match (action, succeeded) {
            (ImagingAction::Connect, true) => Self::ImagingConnected,
            (ImagingAction::Update, true) => Self::ImagingUpdated,
            (ImagingAction::Reconnect, true) => Self::ImagingReconnected,
            (ImagingAction::Connect, false) => Self::ImagingConnectFailed,
            (ImagingAction::Update, false) => Self::ImagingUpdateFailed,
            (ImagingAction::Reconnect, false) => Self::ImagingReconnectFailed,
            (ImagingAction::Disconnect, _) => Self::ImagingDisconnected,
            (ImagingAction::Forget, _) => Self::ImagingForgotten,
        }
    }

    /// An exercise-provider action was asked for (its job is written).
    pub const fn exercise_requested(action: ExerciseAction) -> Self {
        match action {
            ExerciseAction::Add => Self::ExerciseUserAddRequested,
            ExerciseAction::Deactivate => Self::ExerciseUserDeactivateRequested,
            ExerciseAction::Reactivate => Self::ExerciseUserReactivateRequested,
        }
    }

    /// An exercise-provider action's job finished: the provider did it, or refused.
    pub const fn exercise_settled(action: ExerciseAction, succeeded: bool) -> Self {
        match (action, succeeded) {
            (ExerciseAction::Add, true) => Self::ExerciseUserAdded,
            (ExerciseAction::Deactivate, true) => Self::ExerciseUserDeactivated,
            (ExerciseAction::Reactivate, true) => Self::ExerciseUserReactivated,
            (ExerciseAction::Add, false) => Self::ExerciseUserAddFailed,
            (ExerciseAction::Deactivate, false) => Self::ExerciseUserDeactivateFailed,
            (ExerciseAction::Reactivate, false) => Self::ExerciseUserReactivateFailed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_record_dot_verb_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for action in AuditAction::ALL {
            let text = action.as_str();
            let (record, verb) = text.split_once('.').unwrap();
            assert!(!record.is_empty() && !verb.is_empty(), "{text}");
            assert!(seen.insert(text), "{text} twice");
            assert_eq!(text.parse::<AuditAction>().unwrap(), *action);
        }
        assert_eq!(
            AuditAction::parse("user.exploded").unwrap_err().code,
            "invalid_value"
        );
    }

    #[test]
    fn imaging_actions_name_their_action_and_outcome() {
        for action in [
            ImagingAction::Connect,
            ImagingAction::Update,
            ImagingAction::Reconnect,
        ] {
            let requested = AuditAction::imaging_requested(action).as_str();
            assert_eq!(requested, format!("imaging.{action}_requested"));
            let failed = AuditAction::imaging_settled(action, false).as_str();
            assert_eq!(failed, format!("imaging.{action}_failed"));
            let done = AuditAction::imaging_settled(action, true).as_str();
            assert_eq!(done, format!("imaging.{action}ed").replace("eed", "ed"));
        }
        assert_eq!(
            AuditAction::imaging_requested(ImagingAction::Forget),
            AuditAction::ImagingForgotten
        );
    }

    #[test]
    fn exercise_actions_name_their_action_and_outcome() {
        let expected = [
            (ExerciseAction::Add, "add", "added"),
            (ExerciseAction::Deactivate, "deactivate", "deactivated"),
            (ExerciseAction::Reactivate, "reactivate", "reactivated"),
        ];
        for (action, verb, done) in expected {
            let requested = AuditAction::exercise_requested(action).as_str();
            assert_eq!(requested, format!("exercise.user_{verb}_requested"));
            let failed = AuditAction::exercise_settled(action, false).as_str();
            assert_eq!(failed, format!("exercise.user_{verb}_failed"));
            let succeeded = AuditAction::exercise_settled(action, true).as_str();
            assert_eq!(succeeded, format!("exercise.user_{done}"));
        }
    }

    #[test]
    fn a_target_serialises_as_its_id() {
        let user = UserId::new();
        let target = AuditTarget::User(user);
        assert_eq!(target.kind(), "user");
        assert_eq!(
            serde_json::to_value(target).unwrap(),
            serde_json::to_value(user).unwrap()
        );
        let account = AuditTarget::ServiceAccount(ServiceAccountId::new());
        assert_eq!(account.kind(), "service_account");
    }

    #[test]
    fn every_principal_is_an_actor_of_the_same_text() {
        for kind in PrincipalKind::ALL {
            assert_eq!(ActorKind::from(*kind).as_str(), kind.as_str());
        }
        assert_eq!(ActorKind::System.as_str(), "system");
    }
}
