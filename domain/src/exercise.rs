//! The exercise-prescription integration's rules (SPEC §6.1): which provider state a user
//! is in, which actions each state allows, where a finished provider call leaves the user,
//! and the names guessed from the profile.
//!
//! ```text
//! not_added ──add──▶ pending ──ok──▶ active ──deactivate──▶ pending ──ok──▶ deactivated
//!     ▲                 │ refused       ▲ ▲                    │ refused         │
//!     └─────────────────┘               │ └────────────────────┘                 │
//!                                       └──ok── pending ◀──reactivate────────────┘
//! ```
//!
//! The names sent to the provider are locked from the moment the user is added; a refused
//! add unlocks them again.

use crate::PersonName;
use crate::outbox::{JobFailure, JobKind, JobProgress};
use crate::problem::ProblemCode;
use crate::string_enum::string_enum;
use crate::validation::ParseError;

string_enum! {
    /// A user's state at the exercise provider.
    pub enum ExerciseState {
        NotAdded => "not_added",
        /// A provider call is in flight or being retried.
        Pending => "pending",
        Active => "active",
        Deactivated => "deactivated",
    }
}

string_enum! {
    /// What a pending provider call will do.
    pub enum ExerciseAction {
        Add => "add",
        Deactivate => "deactivate",
        Reactivate => "reactivate",
    }
}

/// The first and last name sent to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExerciseNames {
    pub first_name: PersonName,
    pub last_name: PersonName,
}

/// Why an action is refused (a `409` problem with [`ExerciseRefusal::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExerciseRefusal {
    AlreadyAdded,
    NamesLocked,
    NotAdded,
    NotActive,
    NotDeactivated,
    OperationPending,
    /// The site has not connected the integration.
    NotConnected,
    /// Only active users are added to or reactivated at the provider.
    UserInactive,
}

impl ExerciseRefusal {
    /// The problem code of this refusal.
    pub const fn code(&self) -> ProblemCode {
        match self {
            Self::AlreadyAdded => ProblemCode::AlreadyAdded,
            Self::NamesLocked => ProblemCode::NamesLocked,
            Self::NotAdded => ProblemCode::NotAdded,
            Self::NotActive => ProblemCode::NotActive,
            Self::NotDeactivated => ProblemCode::NotDeactivated,
            Self::OperationPending => ProblemCode::OperationPending,
            Self::NotConnected => ProblemCode::IntegrationNotConnected,
            Self::UserInactive => ProblemCode::UserInactive,
        }
    }
}

impl std::fmt::Display for ExerciseRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code().as_str())
    }
}

impl std::error::Error for ExerciseRefusal {}

/// Whether `action` may start from `state`; on success the user becomes `pending`.
pub fn begin(state: ExerciseState, action: ExerciseAction) -> Result<(), ExerciseRefusal> {
    use ExerciseAction as A;
    use ExerciseState as S;
    match (state, action) {
        (S::Pending, _) => Err(ExerciseRefusal::OperationPending),
        (S::NotAdded, A::Add) | (S::Active, A::Deactivate) | (S::Deactivated, A::Reactivate) => {
            Ok(())
        }
        (S::Active | S::Deactivated, A::Add) => Err(ExerciseRefusal::AlreadyAdded),
        (S::NotAdded, A::Deactivate | A::Reactivate) => Err(ExerciseRefusal::NotAdded),
        (S::Deactivated, A::Deactivate) => Err(ExerciseRefusal::NotActive),
        (S::Active, A::Reactivate) => Err(ExerciseRefusal::NotDeactivated),
    }
}

/// Whether the user and the site allow `action` (checked after [`begin`]): adding and
/// reactivating need an active user and a connected site; a deactivation needs neither,
/// since it goes to the clinic the user was created at, so people can still be removed at
/// the provider after the site disconnected or they left.
pub fn may_start(
    action: ExerciseAction,
    user_active: bool,
    connected: bool,
) -> Result<(), ExerciseRefusal> {
    match action {
        ExerciseAction::Deactivate => Ok(()),
        ExerciseAction::Add | ExerciseAction::Reactivate if !user_active => {
            Err(ExerciseRefusal::UserInactive)
        }
        ExerciseAction::Add | ExerciseAction::Reactivate if !connected => {
            Err(ExerciseRefusal::NotConnected)
        }
        ExerciseAction::Add | ExerciseAction::Reactivate => Ok(()),
    }
}

/// Whether the stored names may become `wanted`: only before the user is added, and asking
/// for the names already stored is never a change.
pub fn rename(
    state: ExerciseState,
    stored: &ExerciseNames,
    wanted: &ExerciseNames,
) -> Result<(), ExerciseRefusal> {
    if state == ExerciseState::NotAdded || stored == wanted {
        Ok(())
    } else {
        Err(ExerciseRefusal::NamesLocked)
    }
}

/// Where the user stands once the provider call for `action` has finished: carried out
/// (`succeeded`), or refused for good — then the state moves back.
pub const fn settle(action: ExerciseAction, succeeded: bool) -> ExerciseState {
    match (action, succeeded) {
        (ExerciseAction::Add | ExerciseAction::Reactivate, true) => ExerciseState::Active,
        (ExerciseAction::Add, false) => ExerciseState::NotAdded,
        (ExerciseAction::Deactivate, true) | (ExerciseAction::Reactivate, false) => {
            ExerciseState::Deactivated
        }
        (ExerciseAction::Deactivate, false) => ExerciseState::Active,
    }
}

/// The id the provider gave a clinic (`CLM-1234`): trimmed, 1 to 64 printable characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClmId(String);

impl ClmId {
    /// The longest id accepted, in characters.
    pub const MAX_CHARS: usize = 64;

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let id = input.trim();
        if id.is_empty() || id.chars().count() > Self::MAX_CHARS || id.chars().any(char::is_control)
        {
            return Err(ParseError::new(
                "invalid_clinic_id",
                "clm_id must be 1 to 64 printable characters",
            ));
        }
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClmId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What starting an action reads first: the user's provider state and names, and the
/// clinics involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartSnapshot {
    pub state: ExerciseState,
    pub user_active: bool,
    /// The stored names, or the guessed ones while nothing is stored.
    pub names: ExerciseNames,
    /// The clinic the site is connected to, if any.
    pub connected_clinic: Option<String>,
    /// The clinic the user's provider record was made at, if there is a record.
    pub user_clinic: Option<String>,
}

/// What to write when an action starts: the job to send and the names it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartDecision {
    pub kind: JobKind,
    /// The clinic the job goes to.
    pub clm_id: String,
    pub names: ExerciseNames,
}

/// Decides whether `action` starts, with the add's `names` if sent: the state must allow
/// it ([`begin`]), sent names must be allowed ([`rename`]), the user and site must allow it
/// ([`may_start`]). A deletion goes to the clinic the user was created at; anything else to
/// the connected clinic.
pub fn decide_start(
    snapshot: &StartSnapshot,
    action: ExerciseAction,
    names: Option<&ExerciseNames>,
) -> Result<StartDecision, ExerciseRefusal> {
    begin(snapshot.state, action)?;
    if let Some(names) = names {
        rename(snapshot.state, &snapshot.names, names)?;
    }
    may_start(
        action,
        snapshot.user_active,
        snapshot.connected_clinic.is_some(),
    )?;
    let clinic = match (action, &snapshot.user_clinic) {
        (ExerciseAction::Deactivate, Some(created_at)) => Some(created_at),
        _ => snapshot.connected_clinic.as_ref(),
    };
    let clm_id = clinic.cloned().ok_or(ExerciseRefusal::NotConnected)?;
    let kind = if action == ExerciseAction::Deactivate {
        JobKind::ExerciseDeleteUser
    } else {
        JobKind::ExerciseCreateUser
    };
    Ok(StartDecision {
        kind,
        clm_id,
        names: names.unwrap_or(&snapshot.names).clone(),
    })
}

/// The site's connection as connecting reads it: the clinic and the record's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExerciseConnection {
    pub clm_id: String,
    pub version: i64,
}

/// A clinic the provider confirmed: its id and name there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedClinic {
    pub clm_id: String,
    pub name: String,
}

/// What connecting writes: the confirmed clinic as the site's connection, its version, and
/// the clinic it replaces (for the audit event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectDecision {
    pub clinic: ConfirmedClinic,
    pub version: i64,
    pub replaces: Option<String>,
}

/// Connects the site to a clinic the provider confirmed, replacing any earlier connection:
/// a new connection is version 1, a replacement the next version of the one it replaces. No
/// rule refuses a confirmed clinic (the provider refused the unknown ones already).
pub fn decide_connect(
    current: Option<&ExerciseConnection>,
    clinic: ConfirmedClinic,
) -> ConnectDecision {
    ConnectDecision {
        clinic,
        version: current.map_or(1, |c| c.version + 1),
        replaces: current.map(|c| c.clm_id.clone()),
    }
}

/// What renaming reads: the user's provider state and names (stored, or guessed while
/// nothing is stored), and the clinic the site is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameSnapshot {
    pub state: ExerciseState,
    pub names: ExerciseNames,
    pub connected_clinic: Option<String>,
}

/// What renaming writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenameDecision {
    /// The names asked for are the ones stored (or guessed): nothing to write.
    Unchanged,
    /// Store `names` for the user, at the connected clinic.
    Store {
        clm_id: String,
        names: ExerciseNames,
    },
}

/// Decides whether the names to send may become `wanted`: the site must be connected, and
/// the names may change only before the user is added ([`rename`]); asking for the names
/// already there writes nothing.
pub fn decide_rename(
    snapshot: &RenameSnapshot,
    wanted: &ExerciseNames,
) -> Result<RenameDecision, ExerciseRefusal> {
    let clm_id = snapshot
        .connected_clinic
        .clone()
        .ok_or(ExerciseRefusal::NotConnected)?;
    rename(snapshot.state, &snapshot.names, wanted)?;
    if &snapshot.names == wanted {
        return Ok(RenameDecision::Unchanged);
    }
    Ok(RenameDecision::Store {
        clm_id,
        names: wanted.clone(),
    })
}

/// Whether a user launches the tool: only while active at the provider (known there by a
/// provider user), and then only while the site is connected.
pub fn may_launch(
    state: ExerciseState,
    has_provider_user: bool,
    connected: bool,
) -> Result<bool, ExerciseRefusal> {
    match (
        state == ExerciseState::Active && has_provider_user,
        connected,
    ) {
        (false, _) => Ok(false),
        (true, false) => Err(ExerciseRefusal::NotConnected),
        (true, true) => Ok(true),
    }
}

/// The user's record as read once the request stopped waiting for its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterRun {
    /// Whether the record still names the request's job as its latest.
    pub latest_job: bool,
    pub state: ExerciseState,
    pub last_error: Option<String>,
}

/// What a request that started `action` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionAnswer {
    /// The provider did it: the new state.
    Done,
    /// The provider has not answered yet.
    Pending,
    /// The provider refused or stayed unavailable; the state moved back.
    Failed(JobFailure),
}

/// The answer to a request that started `action`, from how its job stood when the request
/// stopped waiting and the record read afterwards: a job that failed in the background
/// meanwhile shows as the record moved back with its error.
pub fn action_answer(
    action: ExerciseAction,
    progress: JobProgress,
    after: &AfterRun,
) -> ActionAnswer {
    let failure = match progress {
        JobProgress::Failed(failure) => Some(failure),
        _ if after.latest_job && after.state == settle(action, false) => {
            after.last_error.clone().map(JobFailure::read)
        }
        _ => None,
    };
    match failure {
        Some(failure) => ActionAnswer::Failed(failure),
        None if after.state == ExerciseState::Pending => ActionAnswer::Pending,
        None => ActionAnswer::Done,
    }
}

/// Titles people type into the first-name field ("Dr Jane").
const TITLES: &[&str] = &[
    "dr",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "prof",
    "professor",
    "sir",
    "dame",
];

/// The names to send, guessed from the profile: whitespace collapsed, a title typed into
/// the first name dropped ("Dr. Jane" → "Jane"), and a surname typed into the first-name
/// field moved out when the last name repeats it ("Jane Smith" / "Smith" → "Jane").
pub fn guess_names(first_name: &PersonName, last_name: &PersonName) -> ExerciseNames {
    let last: Vec<&str> = last_name.as_str().split_whitespace().collect();
    let mut first: Vec<&str> = first_name.as_str().split_whitespace().collect();
    if first.len() > 1 && TITLES.contains(&first[0].trim_end_matches('.').to_lowercase().as_str()) {
        first.remove(0);
    }
    if first.len() > last.len() && !last.is_empty() && first.ends_with(&last) {
        first.truncate(first.len() - last.len());
    }
    // The guess only drops words of a valid name, so it parses; the profile's own name
    // stays the answer if it ever did not.
    let parse = |words: &[&str], profile: &PersonName| {
        PersonName::parse(&words.join(" ")).unwrap_or_else(|_| profile.clone())
    };
    ExerciseNames {
        first_name: parse(&first, first_name),
        last_name: parse(&last, last_name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExerciseAction as A;
    use ExerciseState as S;

    fn names(first: &str, last: &str) -> ExerciseNames {
        ExerciseNames {
            first_name: PersonName::parse(first).unwrap(),
            last_name: PersonName::parse(last).unwrap(),
        }
    }

    #[test]
    fn each_state_allows_exactly_its_action() {
        let cases = [
            (S::NotAdded, A::Add, Ok(())),
            (S::NotAdded, A::Deactivate, Err(ExerciseRefusal::NotAdded)),
            (S::NotAdded, A::Reactivate, Err(ExerciseRefusal::NotAdded)),
            (S::Active, A::Add, Err(ExerciseRefusal::AlreadyAdded)),
            (S::Active, A::Deactivate, Ok(())),
            (
                S::Active,
                A::Reactivate,
                Err(ExerciseRefusal::NotDeactivated),
            ),
            (S::Deactivated, A::Add, Err(ExerciseRefusal::AlreadyAdded)),
            (
                S::Deactivated,
                A::Deactivate,
                Err(ExerciseRefusal::NotActive),
            ),
            (S::Deactivated, A::Reactivate, Ok(())),
            (S::Pending, A::Add, Err(ExerciseRefusal::OperationPending)),
            (
                S::Pending,
                A::Deactivate,
                Err(ExerciseRefusal::OperationPending),
            ),
            (
                S::Pending,
                A::Reactivate,
                Err(ExerciseRefusal::OperationPending),
            ),
        ];
        for (state, action, expected) in cases {
            assert_eq!(begin(state, action), expected, "{state:?} {action:?}");
        }
    }

    #[test]
    fn only_a_deactivation_goes_ahead_for_an_inactive_user_or_a_disconnected_site() {
        for (user_active, connected) in [(true, true), (true, false), (false, true), (false, false)]
        {
            assert_eq!(may_start(A::Deactivate, user_active, connected), Ok(()));
            for action in [A::Add, A::Reactivate] {
                let expected = match (user_active, connected) {
                    (false, _) => Err(ExerciseRefusal::UserInactive),
                    (true, false) => Err(ExerciseRefusal::NotConnected),
                    (true, true) => Ok(()),
                };
                assert_eq!(
                    may_start(action, user_active, connected),
                    expected,
                    "{action:?}"
                );
            }
        }
    }

    #[test]
    fn a_finished_call_moves_forward_and_a_refused_one_moves_back() {
        assert_eq!(settle(A::Add, true), S::Active);
        assert_eq!(settle(A::Add, false), S::NotAdded);
        assert_eq!(settle(A::Deactivate, true), S::Deactivated);
        assert_eq!(settle(A::Deactivate, false), S::Active);
        assert_eq!(settle(A::Reactivate, true), S::Active);
        assert_eq!(settle(A::Reactivate, false), S::Deactivated);
    }

    #[test]
    fn names_are_editable_only_before_the_user_is_added() {
        let stored = names("Jane", "Smith");
        let other = names("Janet", "Smith");
        assert_eq!(rename(S::NotAdded, &stored, &other), Ok(()));
        for state in [S::Pending, S::Active, S::Deactivated] {
            assert_eq!(
                rename(state, &stored, &other),
                Err(ExerciseRefusal::NamesLocked)
            );
            // Sending the stored names again changes nothing.
            assert_eq!(rename(state, &stored, &stored.clone()), Ok(()));
        }
    }

    #[test]
    fn refusal_codes_are_stable() {
        let codes: Vec<_> = [
            ExerciseRefusal::AlreadyAdded,
            ExerciseRefusal::NamesLocked,
            ExerciseRefusal::NotAdded,
            ExerciseRefusal::NotActive,
            ExerciseRefusal::NotDeactivated,
            ExerciseRefusal::OperationPending,
        ]
        .iter()
        .map(|r| r.code().as_str())
        .collect();
        assert_eq!(
            codes,
            [
                "already_added",
                "names_locked",
                "not_added",
                "not_active",
                "not_deactivated",
                "operation_pending"
            ]
        );
    }

    fn snapshot(state: ExerciseState) -> StartSnapshot {
        StartSnapshot {
            state,
            user_active: true,
            names: names("Jane", "Smith"),
            connected_clinic: Some("CLM-2".into()),
            user_clinic: Some("CLM-1".into()),
        }
    }

    #[test]
    fn a_clinic_id_is_trimmed_printable_and_at_most_64_characters() {
        assert_eq!(ClmId::parse("  CLM-1234 ").unwrap().as_str(), "CLM-1234");
        assert_eq!(ClmId::parse(&"x".repeat(64)).unwrap().to_string().len(), 64);
        for bad in ["", "   ", "CLM-\u{7}1", "CLM\n1"] {
            assert_eq!(
                ClmId::parse(bad).unwrap_err().code,
                "invalid_clinic_id",
                "{bad:?}"
            );
        }
        assert!(ClmId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn a_deletion_goes_to_the_users_clinic_and_the_rest_to_the_connected_one() {
        let gone = decide_start(&snapshot(S::Active), A::Deactivate, None).unwrap();
        assert_eq!(
            (gone.kind, gone.clm_id.as_str()),
            (JobKind::ExerciseDeleteUser, "CLM-1")
        );
        let back = decide_start(&snapshot(S::Deactivated), A::Reactivate, None).unwrap();
        assert_eq!(
            (back.kind, back.clm_id.as_str()),
            (JobKind::ExerciseCreateUser, "CLM-2")
        );
        assert_eq!(back.names, names("Jane", "Smith"));
        let disconnected = StartSnapshot {
            connected_clinic: None,
            ..snapshot(S::Active)
        };
        let gone = decide_start(&disconnected, A::Deactivate, None).unwrap();
        assert_eq!(gone.clm_id, "CLM-1");
        let unknown_clinic = StartSnapshot {
            connected_clinic: None,
            user_clinic: None,
            ..snapshot(S::Active)
        };
        assert_eq!(
            decide_start(&unknown_clinic, A::Deactivate, None),
            Err(ExerciseRefusal::NotConnected)
        );
    }

    #[test]
    fn starting_checks_the_state_then_the_names_then_the_user_and_site() {
        let wanted = names("Janet", "Smith");
        let added = decide_start(&snapshot(S::NotAdded), A::Add, Some(&wanted)).unwrap();
        assert_eq!(added.names, wanted);
        assert_eq!(
            decide_start(&snapshot(S::Pending), A::Add, Some(&wanted)),
            Err(ExerciseRefusal::OperationPending)
        );
        assert_eq!(
            decide_start(&snapshot(S::Deactivated), A::Reactivate, Some(&wanted)),
            Err(ExerciseRefusal::NamesLocked)
        );
        let inactive = StartSnapshot {
            user_active: false,
            connected_clinic: None,
            ..snapshot(S::NotAdded)
        };
        assert_eq!(
            decide_start(&inactive, A::Add, None),
            Err(ExerciseRefusal::UserInactive)
        );
    }

    #[test]
    fn only_users_active_at_the_provider_launch_and_only_while_the_site_is_connected() {
        assert_eq!(may_launch(S::Active, true, true), Ok(true));
        assert_eq!(
            may_launch(S::Active, true, false),
            Err(ExerciseRefusal::NotConnected)
        );
        for state in [S::NotAdded, S::Pending, S::Deactivated] {
            assert_eq!(may_launch(state, true, true), Ok(false), "{state:?}");
            assert_eq!(may_launch(state, false, false), Ok(false), "{state:?}");
        }
        assert_eq!(may_launch(S::Active, false, true), Ok(false));
    }

    #[test]
    fn the_answer_reports_a_failure_seen_now_or_left_by_the_background_call() {
        let after = |state, last_error: Option<&str>| AfterRun {
            latest_job: true,
            state,
            last_error: last_error.map(str::to_owned),
        };
        let refused = JobFailure::Refused("no".into());
        assert_eq!(
            action_answer(
                A::Add,
                JobProgress::Failed(refused.clone()),
                &after(S::NotAdded, Some("no"))
            ),
            ActionAnswer::Failed(refused.clone())
        );
        assert_eq!(
            action_answer(
                A::Add,
                JobProgress::Pending,
                &after(S::NotAdded, Some("no"))
            ),
            ActionAnswer::Failed(refused)
        );
        let gave_up = JobFailure::gave_up_after(2, "HTTP 503");
        assert_eq!(
            action_answer(
                A::Deactivate,
                JobProgress::Pending,
                &after(S::Active, Some(&gave_up))
            ),
            ActionAnswer::Failed(JobFailure::GaveUp(gave_up))
        );
        assert_eq!(
            action_answer(A::Add, JobProgress::Pending, &after(S::Pending, None)),
            ActionAnswer::Pending
        );
        assert_eq!(
            action_answer(A::Add, JobProgress::Succeeded, &after(S::Active, None)),
            ActionAnswer::Done
        );
        // A newer job's record says nothing about this request's job.
        let newer = AfterRun {
            latest_job: false,
            ..after(S::NotAdded, Some("no"))
        };
        assert_eq!(
            action_answer(A::Add, JobProgress::Pending, &newer),
            ActionAnswer::Done
        );
    }

    #[test]
    fn a_connection_starts_at_version_1_and_a_replacement_moves_it_on() {
        let clinic = |id: &str| ConfirmedClinic {
            clm_id: id.into(),
            name: format!("Clinic {id}"),
        };
        let first = decide_connect(None, clinic("CLM-1"));
        assert_eq!(
            (first.version, first.replaces.as_deref()),
            (1, None),
            "{first:?}"
        );
        let current = ExerciseConnection {
            clm_id: "CLM-1".into(),
            version: 4,
        };
        let next = decide_connect(Some(&current), clinic("CLM-2"));
        assert_eq!(next.clinic, clinic("CLM-2"));
        assert_eq!((next.version, next.replaces.as_deref()), (5, Some("CLM-1")));
    }

    fn rename_snapshot(state: ExerciseState) -> RenameSnapshot {
        RenameSnapshot {
            state,
            names: names("Jane", "Smith"),
            connected_clinic: Some("CLM-2".into()),
        }
    }

    #[test]
    fn names_change_only_on_a_connected_site_before_the_user_is_added() {
        let wanted = names("Janet", "Smith");
        assert_eq!(
            decide_rename(&rename_snapshot(S::NotAdded), &wanted),
            Ok(RenameDecision::Store {
                clm_id: "CLM-2".into(),
                names: wanted.clone()
            })
        );
        for state in [S::Pending, S::Active, S::Deactivated] {
            assert_eq!(
                decide_rename(&rename_snapshot(state), &wanted),
                Err(ExerciseRefusal::NamesLocked),
                "{state:?}"
            );
            assert_eq!(
                decide_rename(&rename_snapshot(state), &names("Jane", "Smith")),
                Ok(RenameDecision::Unchanged),
                "{state:?}"
            );
        }
        let disconnected = RenameSnapshot {
            connected_clinic: None,
            ..rename_snapshot(S::NotAdded)
        };
        // Not even the same names are accepted while the site is not connected.
        for asked in [&wanted, &names("Jane", "Smith")] {
            assert_eq!(
                decide_rename(&disconnected, asked),
                Err(ExerciseRefusal::NotConnected)
            );
        }
    }

    fn guess(first: &str, last: &str) -> ExerciseNames {
        guess_names(
            &PersonName::parse(first).unwrap(),
            &PersonName::parse(last).unwrap(),
        )
    }

    #[test]
    fn guessed_names_drop_titles_repeated_surnames_and_extra_spaces() {
        assert_eq!(guess("Jane", "Smith"), names("Jane", "Smith"));
        assert_eq!(guess("  Mary   Ann ", " Lee "), names("Mary Ann", "Lee"));
        assert_eq!(guess("Dr. Jane", "Smith"), names("Jane", "Smith"));
        assert_eq!(guess("dr Jane", "Smith"), names("Jane", "Smith"));
        assert_eq!(guess("Jane Smith", "Smith"), names("Jane", "Smith"));
        assert_eq!(
            guess("Jean Le Blanc", "Le Blanc"),
            names("Jean", "Le Blanc")
        );
        // A lone title is a name, not a title.
        assert_eq!(guess("Dr", "Who"), names("Dr", "Who"));
        // A first name that only repeats the surname stays as it is.
        assert_eq!(guess("Smith", "Smith"), names("Smith", "Smith"));
    }
}
