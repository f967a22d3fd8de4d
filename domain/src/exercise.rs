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
use crate::problem::ProblemCode;
use crate::string_enum::string_enum;

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

    pub const fn message(&self) -> &'static str {
        match self {
            Self::AlreadyAdded => {
                "The user is already added to the exercise provider; a deactivated user is \
                 reactivated instead."
            }
            Self::NamesLocked => {
                "The names sent to the exercise provider cannot be changed once the user is added."
            }
            Self::NotAdded => "The user has not been added to the exercise provider.",
            Self::NotActive => "Only an active user can be deactivated.",
            Self::NotDeactivated => "Only a deactivated user can be reactivated.",
            Self::OperationPending => "A provider call for this user is still in progress.",
            Self::NotConnected => {
                "The site has not connected the exercise integration; PUT /v1/integrations/exercise first."
            }
            Self::UserInactive => "The user is inactive; reactivate them first.",
        }
    }
}

impl std::fmt::Display for ExerciseRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
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
