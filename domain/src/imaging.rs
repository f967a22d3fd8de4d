//! The imaging (scan-referral) integration's rules (SPEC §6.2): a user's own connection to
//! the provider, which transitions each state allows, where a finished provider call leaves
//! it, re-linking a forgotten connection by its email, who may refer, and what a report
//! delivery changes.
//!
//! ```text
//!                  connect                      disconnect              forget
//! not_connected ──────────▶ connected ◀──────▶ disconnected ─────────▶ forgotten
//!       ▲                     │  ▲   reconnect                            │
//!       │ refused             │  └─ update, reconnect (refresh)           │ connect
//!       └── pending ◀─────────┘                                           ▼
//!                                                               (re-link or a new user)
//! ```
//!
//! Connecting, updating and reconnecting call the provider, so the connection is `pending`
//! until the call settles; disconnecting and forgetting change only Staffroom's record (the
//! provider keeps its user, which is what makes re-linking possible).

use crate::outbox::{JobFailure, JobProgress};
use crate::problem::ProblemCode;
use crate::string_enum::string_enum;
use crate::{Email, PersonName};

string_enum! {
    /// Where a user's imaging connection stands, as the API shows it.
    pub enum ImagingState {
        NotConnected => "not_connected",
        /// A provider call (connect, update, reconnect) is in flight or being retried.
        Pending => "pending",
        Connected => "connected",
        Disconnected => "disconnected",
        Forgotten => "forgotten",
    }
}

string_enum! {
    /// What a user asks of their connection.
    pub enum ImagingAction {
        Connect => "connect",
        Update => "update",
        Reconnect => "reconnect",
        Disconnect => "disconnect",
        Forget => "forget",
    }
}

impl ImagingAction {
    /// Whether the action calls the provider (and so leaves the connection `pending` until
    /// the call settles); disconnecting and forgetting only change Staffroom's record.
    pub const fn calls_provider(self) -> bool {
        matches!(self, Self::Connect | Self::Update | Self::Reconnect)
    }

    /// Whether the site's switch must be on: anything that reaches the provider does;
    /// leaving (disconnect, forget) never needs it, so people can still leave after the
    /// site switched the integration off.
    pub const fn needs_enabled_site(self) -> bool {
        self.calls_provider()
    }
}

/// What setting the site's switch to `wanted` changes, when it is `current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchChange {
    Unchanged,
    Enable,
    Disable,
}

/// Decides a change of the site's switch: setting what it is changes nothing (and is not
/// audited); users keep their connections when it goes off, and may still leave.
pub const fn switch(current: bool, wanted: bool) -> SwitchChange {
    match (current, wanted) {
        (false, true) => SwitchChange::Enable,
        (true, false) => SwitchChange::Disable,
        _ => SwitchChange::Unchanged,
    }
}

/// Why an action or a referral is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImagingRefusal {
    /// The site has not enabled the integration.
    Disabled,
    /// Connecting while connected or disconnected (reconnect instead).
    AlreadyConnected,
    /// The action needs a connected user (update, disconnect, referrals) or a remembered
    /// connection (reconnect).
    NotConnected,
    /// Forgetting needs a disconnected connection.
    NotDisconnected,
    /// A provider call for this connection is still in progress.
    OperationPending,
}

impl ImagingRefusal {
    /// The problem code of this refusal (one status per code).
    pub const fn code(self) -> ProblemCode {
        match self {
            Self::Disabled => ProblemCode::ImagingDisabled,
            Self::AlreadyConnected => ProblemCode::AlreadyConnected,
            Self::NotConnected => ProblemCode::NotConnected,
            Self::NotDisconnected => ProblemCode::NotDisconnected,
            Self::OperationPending => ProblemCode::OperationPending,
        }
    }
}

/// Whether `action` may start from `state` on a site whose switch is `enabled`.
pub fn begin(
    state: ImagingState,
    action: ImagingAction,
    enabled: bool,
) -> Result<(), ImagingRefusal> {
    use ImagingAction as A;
    use ImagingState as S;
    if state == S::Pending {
        return Err(ImagingRefusal::OperationPending);
    }
    if action.needs_enabled_site() && !enabled {
        return Err(ImagingRefusal::Disabled);
    }
    match (state, action) {
        (S::NotConnected | S::Forgotten, A::Connect)
        | (S::Connected, A::Update | A::Reconnect | A::Disconnect)
        | (S::Disconnected, A::Reconnect | A::Forget) => Ok(()),
        (S::Connected | S::Disconnected, A::Connect) => Err(ImagingRefusal::AlreadyConnected),
        (S::NotConnected | S::Forgotten, A::Update | A::Reconnect | A::Disconnect)
        | (S::Disconnected, A::Update | A::Disconnect) => Err(ImagingRefusal::NotConnected),
        (S::NotConnected | S::Connected | S::Forgotten, A::Forget) => {
            Err(ImagingRefusal::NotDisconnected)
        }
        (S::Pending, _) => Err(ImagingRefusal::OperationPending),
    }
}

/// Where the connection stands once `action`, started from `from`, has finished: carried
/// out (`succeeded`), or refused by the provider for good (then nothing changed).
pub const fn settle(from: ImagingState, action: ImagingAction, succeeded: bool) -> ImagingState {
    if !succeeded {
        return from;
    }
    match action {
        ImagingAction::Connect | ImagingAction::Update | ImagingAction::Reconnect => {
            ImagingState::Connected
        }
        ImagingAction::Disconnect => ImagingState::Disconnected,
        ImagingAction::Forget => ImagingState::Forgotten,
    }
}

/// The details a user connects with, as the provider holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagingDetails {
    pub title: Option<PersonName>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub email: Email,
    pub marketing_opt_in: bool,
}

/// The fields a connection's details may never change through an update (SPEC §6.2: to
/// change names the user connects with a different email).
pub const IMMUTABLE_FIELDS: [&str; 3] = ["title", "first_name", "last_name"];

/// The immutable fields among those an update sent, in [`IMMUTABLE_FIELDS`] order: each is a
/// `422 immutable_field` on that field, and the update changes nothing.
pub fn immutable_fields_sent<'a>(sent: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let sent: Vec<&str> = sent.into_iter().collect();
    IMMUTABLE_FIELDS
        .into_iter()
        .filter(|field| sent.contains(field))
        .collect()
}

/// A connection this user forgot: its provider user and the details it was made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgottenConnection {
    pub provider_user_id: String,
    pub details: ImagingDetails,
}

/// How a connect reaches the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectPlan {
    /// Create a new provider user with these details.
    Create(ImagingDetails),
    /// Re-link the provider user this user forgot: its original title and names, with the
    /// email (the same, compared case-insensitively) and the marketing choice just sent.
    Relink {
        provider_user_id: String,
        details: ImagingDetails,
    },
}

/// Decides how to connect with `wanted`: the same email as one of the user's forgotten
/// connections re-links that provider user with its original title and names (the most
/// recently forgotten first, as `forgotten` is ordered); any other email creates a new one.
pub fn plan_connect(wanted: ImagingDetails, forgotten: &[ForgottenConnection]) -> ConnectPlan {
    let same_email = forgotten
        .iter()
        .find(|old| old.details.email.normalized() == wanted.email.normalized());
    match same_email {
        Some(old) => ConnectPlan::Relink {
            provider_user_id: old.provider_user_id.clone(),
            details: ImagingDetails {
                email: wanted.email,
                marketing_opt_in: wanted.marketing_opt_in,
                ..old.details.clone()
            },
        },
        None => ConnectPlan::Create(wanted),
    }
}

/// What a request that started a provider call answers, from how its job stood when the
/// request stopped waiting and the connection read afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartedAnswer {
    /// The provider did it: the connection as it now is.
    Done,
    /// The provider has not answered yet: `202` with `pending`.
    Pending,
    /// The provider refused (for good) or stayed unavailable; the connection is as before.
    Failed(JobFailure),
}

/// Decides [`StartedAnswer`]: `latest_job` says whether the connection still names the
/// request's job, `state` and `last_error` are the connection read after the wait (a job that
/// failed in the background meanwhile shows as the connection moved back with its error).
pub fn started_answer(
    progress: JobProgress,
    latest_job: bool,
    state: ImagingState,
    last_error: Option<String>,
) -> StartedAnswer {
    let failure = match progress {
        JobProgress::Failed(failure) => Some(failure),
        _ if latest_job && state != ImagingState::Pending => last_error.map(JobFailure::read),
        _ => None,
    };
    match failure {
        Some(failure) => StartedAnswer::Failed(failure),
        None if state == ImagingState::Pending => StartedAnswer::Pending,
        None => StartedAnswer::Done,
    }
}

/// The mark a provider refusal for an email another provider user holds carries in the
/// job's recorded error, so the request answers `409 email_in_use` rather than a generic
/// refusal.
pub const EMAIL_IN_USE: &str = "email_in_use";

/// Whether a refused job's recorded error is the provider's `email_in_use`: its reason
/// starts with the mark (`provider refused the request (409): email_in_use: …`).
pub fn refused_for_email_in_use(error: &str) -> bool {
    error.contains(&format!("): {EMAIL_IN_USE}: "))
        || error.starts_with(&format!("{EMAIL_IN_USE}: "))
}

string_enum! {
    /// Where a referral stands.
    pub enum ReferralStatus {
        /// Written, and waiting for the provider to take it (sent through the outbox).
        Pending => "pending",
        /// The provider holds it.
        Sent => "sent",
        /// The provider refused it for good.
        Failed => "failed",
        /// A report came back through the webhook.
        Reported => "reported",
    }
}

/// Whether a user whose connection is in `state` may make a referral on a site whose switch
/// is `enabled`: only a connected user (a pending update or refresh keeps them connected).
pub fn may_refer(
    enabled: bool,
    state: ImagingState,
    pending_from_connected: bool,
) -> Result<(), ImagingRefusal> {
    if !enabled {
        return Err(ImagingRefusal::Disabled);
    }
    match state {
        ImagingState::Connected => Ok(()),
        ImagingState::Pending if pending_from_connected => Ok(()),
        _ => Err(ImagingRefusal::NotConnected),
    }
}

/// Where a referral stands once its provider call has finished.
pub const fn referral_sent(succeeded: bool) -> ReferralStatus {
    if succeeded {
        ReferralStatus::Sent
    } else {
        ReferralStatus::Failed
    }
}

/// How far a `webhook-timestamp` may be from now, either way, in seconds (SPEC §6.2).
pub const WEBHOOK_TOLERANCE_SECONDS: i64 = 5 * 60;

/// Whether a delivery's timestamp is fresh enough to be believed.
pub const fn timestamp_is_fresh(timestamp: i64, now: i64) -> bool {
    timestamp.abs_diff(now) <= WEBHOOK_TOLERANCE_SECONDS.unsigned_abs()
}

/// What a correctly signed report delivery does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Attach the report and mark the referral `reported` (a later report replaces an
    /// earlier one: the provider corrected it).
    Attach,
    /// This `webhook-id` was processed already: answer `200`, change nothing.
    AlreadyProcessed,
}

/// Why a correctly signed delivery changes nothing and is answered `404`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownReferral;

/// Decides a signed delivery: a redelivery (its `webhook-id` seen before) changes nothing,
/// whatever it names; otherwise the referral it names must exist (`referral` is its status).
pub fn receive_report(
    already_seen: bool,
    referral: Option<ReferralStatus>,
) -> Result<ReportOutcome, UnknownReferral> {
    match (already_seen, referral) {
        (true, _) => Ok(ReportOutcome::AlreadyProcessed),
        (false, Some(_)) => Ok(ReportOutcome::Attach),
        (false, None) => Err(UnknownReferral),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ImagingAction as A;

    #[test]
    fn every_refusal_has_its_own_code() {
        assert_eq!(ImagingRefusal::Disabled.code().status(), 409);
        assert_eq!(ImagingRefusal::NotConnected.code().status(), 403);
        assert_eq!(
            ImagingRefusal::AlreadyConnected.code(),
            ProblemCode::AlreadyConnected
        );
        assert_eq!(
            ImagingRefusal::NotDisconnected.code(),
            ProblemCode::NotDisconnected
        );
        assert_eq!(
            ImagingRefusal::OperationPending.code(),
            ProblemCode::OperationPending
        );
    }

    #[test]
    fn a_started_call_answers_what_its_job_came_to() {
        let refused = JobFailure::Refused("email_in_use: taken".into());
        assert_eq!(
            started_answer(JobProgress::Succeeded, true, S::Connected, None),
            StartedAnswer::Done
        );
        assert_eq!(
            started_answer(JobProgress::Pending, true, S::Pending, None),
            StartedAnswer::Pending
        );
        assert_eq!(
            started_answer(
                JobProgress::Failed(refused.clone()),
                true,
                S::NotConnected,
                None
            ),
            StartedAnswer::Failed(refused)
        );
        // Failed in the background while the request stopped waiting.
        assert_eq!(
            started_answer(
                JobProgress::Pending,
                true,
                S::NotConnected,
                Some("email_in_use: taken".into())
            ),
            StartedAnswer::Failed(JobFailure::Refused("email_in_use: taken".into()))
        );
        // A later job's outcome is not this request's.
        assert_eq!(
            started_answer(JobProgress::Pending, false, S::Connected, Some("x".into())),
            StartedAnswer::Done
        );
        assert!(refused_for_email_in_use("email_in_use: taken"));
        assert!(refused_for_email_in_use(
            "provider refused the request (409): email_in_use: taken"
        ));
        assert!(!refused_for_email_in_use(
            "provider refused the request (404)"
        ));
    }
    use ImagingState as S;

    /// Every (state, action) pair and its answer on an enabled site: the whole table, so a
    /// change to the machine is a visible decision.
    #[test]
    fn every_transition_on_an_enabled_site() {
        let table = [
            (S::NotConnected, A::Connect, Ok(())),
            (
                S::NotConnected,
                A::Update,
                Err(ImagingRefusal::NotConnected),
            ),
            (
                S::NotConnected,
                A::Reconnect,
                Err(ImagingRefusal::NotConnected),
            ),
            (
                S::NotConnected,
                A::Disconnect,
                Err(ImagingRefusal::NotConnected),
            ),
            (
                S::NotConnected,
                A::Forget,
                Err(ImagingRefusal::NotDisconnected),
            ),
            (
                S::Connected,
                A::Connect,
                Err(ImagingRefusal::AlreadyConnected),
            ),
            (S::Connected, A::Update, Ok(())),
            (S::Connected, A::Reconnect, Ok(())),
            (S::Connected, A::Disconnect, Ok(())),
            (
                S::Connected,
                A::Forget,
                Err(ImagingRefusal::NotDisconnected),
            ),
            (
                S::Disconnected,
                A::Connect,
                Err(ImagingRefusal::AlreadyConnected),
            ),
            (
                S::Disconnected,
                A::Update,
                Err(ImagingRefusal::NotConnected),
            ),
            (S::Disconnected, A::Reconnect, Ok(())),
            (
                S::Disconnected,
                A::Disconnect,
                Err(ImagingRefusal::NotConnected),
            ),
            (S::Disconnected, A::Forget, Ok(())),
            (S::Forgotten, A::Connect, Ok(())),
            (S::Forgotten, A::Update, Err(ImagingRefusal::NotConnected)),
            (
                S::Forgotten,
                A::Reconnect,
                Err(ImagingRefusal::NotConnected),
            ),
            (
                S::Forgotten,
                A::Disconnect,
                Err(ImagingRefusal::NotConnected),
            ),
            (
                S::Forgotten,
                A::Forget,
                Err(ImagingRefusal::NotDisconnected),
            ),
        ];
        assert_eq!(table.len(), (S::ALL.len() - 1) * A::ALL.len());
        for (state, action, expected) in table {
            assert_eq!(begin(state, action, true), expected, "{state} {action}");
        }
    }

    #[test]
    fn the_site_switch_changes_only_when_it_flips() {
        assert_eq!(switch(false, true), SwitchChange::Enable);
        assert_eq!(switch(true, false), SwitchChange::Disable);
        assert_eq!(switch(true, true), SwitchChange::Unchanged);
        assert_eq!(switch(false, false), SwitchChange::Unchanged);
    }

    #[test]
    fn nothing_starts_while_a_provider_call_is_pending() {
        for action in A::ALL {
            for enabled in [true, false] {
                assert_eq!(
                    begin(S::Pending, *action, enabled),
                    Err(ImagingRefusal::OperationPending)
                );
            }
        }
    }

    #[test]
    fn a_disabled_site_refuses_what_reaches_the_provider_but_lets_people_leave() {
        assert_eq!(
            begin(S::NotConnected, A::Connect, false),
            Err(ImagingRefusal::Disabled)
        );
        assert_eq!(
            begin(S::Connected, A::Update, false),
            Err(ImagingRefusal::Disabled)
        );
        assert_eq!(
            begin(S::Disconnected, A::Reconnect, false),
            Err(ImagingRefusal::Disabled)
        );
        assert_eq!(begin(S::Connected, A::Disconnect, false), Ok(()));
        assert_eq!(begin(S::Disconnected, A::Forget, false), Ok(()));
        // Leaving is still judged by the state.
        assert_eq!(
            begin(S::Connected, A::Forget, false),
            Err(ImagingRefusal::NotDisconnected)
        );
    }

    #[test]
    fn only_provider_calls_leave_the_connection_pending() {
        let calling: Vec<_> = A::ALL.iter().filter(|a| a.calls_provider()).collect();
        assert_eq!(calling, [&A::Connect, &A::Update, &A::Reconnect]);
    }

    #[test]
    fn settling_carries_the_action_out_or_leaves_the_state_as_it_was() {
        assert_eq!(settle(S::NotConnected, A::Connect, true), S::Connected);
        assert_eq!(settle(S::Forgotten, A::Connect, true), S::Connected);
        assert_eq!(settle(S::Connected, A::Update, true), S::Connected);
        assert_eq!(settle(S::Disconnected, A::Reconnect, true), S::Connected);
        assert_eq!(settle(S::Connected, A::Disconnect, true), S::Disconnected);
        assert_eq!(settle(S::Disconnected, A::Forget, true), S::Forgotten);
        // A refused connect (email in use) leaves nothing half made.
        assert_eq!(settle(S::NotConnected, A::Connect, false), S::NotConnected);
        assert_eq!(settle(S::Forgotten, A::Connect, false), S::Forgotten);
        assert_eq!(settle(S::Connected, A::Update, false), S::Connected);
        assert_eq!(
            settle(S::Disconnected, A::Reconnect, false),
            S::Disconnected
        );
    }

    fn details(email: &str, first: &str) -> ImagingDetails {
        ImagingDetails {
            title: Some(PersonName::parse("Dr").unwrap()),
            first_name: PersonName::parse(first).unwrap(),
            last_name: PersonName::parse("Okafor").unwrap(),
            email: Email::parse(email).unwrap(),
            marketing_opt_in: false,
        }
    }

    #[test]
    fn update_refuses_title_and_names_and_nothing_else() {
        assert!(immutable_fields_sent(["email", "marketing_opt_in"]).is_empty());
        assert_eq!(
            immutable_fields_sent(["last_name", "email", "title"]),
            ["title", "last_name"]
        );
        assert_eq!(immutable_fields_sent(["first_name"]), ["first_name"]);
    }

    #[test]
    fn the_same_email_as_a_forgotten_connection_relinks_with_the_original_names() {
        let forgotten = [
            ForgottenConnection {
                provider_user_id: "img-old".into(),
                details: details("Ada@Clinic.test", "Ada"),
            },
            ForgottenConnection {
                provider_user_id: "img-other".into(),
                details: details("other@clinic.test", "Ada"),
            },
        ];
        let mut wanted = details("ada@clinic.test", "Adaeze");
        wanted.title = None;
        wanted.marketing_opt_in = true;
        let ConnectPlan::Relink {
            provider_user_id,
            details: relinked,
        } = plan_connect(wanted, &forgotten)
        else {
            panic!("expected a re-link");
        };
        assert_eq!(provider_user_id, "img-old");
        assert_eq!(relinked.first_name.as_str(), "Ada");
        assert_eq!(relinked.title.as_ref().map(PersonName::as_str), Some("Dr"));
        assert_eq!(relinked.email.as_str(), "ada@clinic.test");
        assert!(relinked.marketing_opt_in);
    }

    #[test]
    fn a_new_email_creates_a_new_provider_user() {
        let forgotten = [ForgottenConnection {
            provider_user_id: "img-old".into(),
            details: details("ada@clinic.test", "Ada"),
        }];
        let wanted = details("ada.okafor@clinic.test", "Adaeze");
        assert_eq!(
            plan_connect(wanted.clone(), &forgotten),
            ConnectPlan::Create(wanted.clone())
        );
        assert_eq!(
            plan_connect(wanted.clone(), &[]),
            ConnectPlan::Create(wanted)
        );
    }

    #[test]
    fn only_a_connected_user_on_an_enabled_site_refers() {
        assert_eq!(may_refer(true, S::Connected, false), Ok(()));
        assert_eq!(may_refer(true, S::Pending, true), Ok(()));
        assert_eq!(
            may_refer(false, S::Connected, false),
            Err(ImagingRefusal::Disabled)
        );
        for state in [S::NotConnected, S::Disconnected, S::Forgotten] {
            assert_eq!(
                may_refer(true, state, false),
                Err(ImagingRefusal::NotConnected)
            );
        }
        assert_eq!(
            may_refer(true, S::Pending, false),
            Err(ImagingRefusal::NotConnected)
        );
    }

    #[test]
    fn a_referral_is_sent_or_failed_when_its_call_settles() {
        assert_eq!(referral_sent(true), ReferralStatus::Sent);
        assert_eq!(referral_sent(false), ReferralStatus::Failed);
    }

    #[test]
    fn timestamps_more_than_five_minutes_away_are_stale() {
        let now = 1_800_000_000;
        assert!(timestamp_is_fresh(now, now));
        assert!(timestamp_is_fresh(now - 300, now));
        assert!(timestamp_is_fresh(now + 300, now));
        assert!(!timestamp_is_fresh(now - 301, now));
        assert!(!timestamp_is_fresh(now + 301, now));
        assert!(!timestamp_is_fresh(i64::MIN, now));
    }

    #[test]
    fn a_redelivery_changes_nothing_and_an_unknown_referral_is_refused() {
        assert_eq!(
            receive_report(false, Some(ReferralStatus::Sent)),
            Ok(ReportOutcome::Attach)
        );
        assert_eq!(
            receive_report(false, Some(ReferralStatus::Reported)),
            Ok(ReportOutcome::Attach)
        );
        assert_eq!(
            receive_report(true, Some(ReferralStatus::Reported)),
            Ok(ReportOutcome::AlreadyProcessed)
        );
        assert_eq!(
            receive_report(true, None),
            Ok(ReportOutcome::AlreadyProcessed)
        );
        assert_eq!(receive_report(false, None), Err(UnknownReferral));
    }
}
