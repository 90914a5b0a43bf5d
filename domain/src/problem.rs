//! Problems (SPEC §5): the lifecycle as a pure state machine and what each action needs.
//!
//! `new` → `root_cause_analysis` → `known_error` (root cause and workaround recorded) →
//! `fix_in_progress` (the RDM carrying the permanent fix named) → `resolved` (that RDM
//! implemented) → `closed` (fixed). A problem is also closed without a fix: as a duplicate of
//! another problem, with its risk accepted, or cancelled — each with its reason.
use crate::roles::Role;
use std::fmt;

string_enum!(
    /// Where a problem is in its lifecycle.
    ProblemState {
        New => "new",
        RootCauseAnalysis => "root_cause_analysis",
        KnownError => "known_error",
        FixInProgress => "fix_in_progress",
        Resolved => "resolved",
        Closed => "closed",
    }
);

string_enum!(
    /// Everything that can be done to a problem.
    ProblemAction {
        Analyse => "analyse",
        RecordKnownError => "record_known_error",
        StartFix => "start_fix",
        Resolve => "resolve",
        Close => "close",
        CloseDuplicate => "close_duplicate",
        AcceptRisk => "accept_risk",
        Cancel => "cancel",
    }
);

string_enum!(
    /// How a closed problem ended.
    CloseKind {
        Fixed => "fixed",
        Duplicate => "duplicate",
        RiskAccepted => "risk_accepted",
        Cancelled => "cancelled",
    }
);

/// Who works problems: support (analysts, coordinator, test analysts) and the change manager,
/// who follows the fixing RDM. Customers never see a problem (its known error may be published
/// in the knowledge base).
pub const PROBLEM_ROLES: &[Role] = &[
    Role::SupportAnalyst,
    Role::SupportCoordinator,
    Role::TestAnalyst,
    Role::ChangeManager,
];

impl ProblemState {
    /// Open: not closed; incidents may still be linked to it.
    pub fn is_open(self) -> bool {
        self != ProblemState::Closed
    }
}

impl ProblemAction {
    /// How a closing action ends the problem.
    pub fn close_kind(self) -> Option<CloseKind> {
        match self {
            ProblemAction::Close => Some(CloseKind::Fixed),
            ProblemAction::CloseDuplicate => Some(CloseKind::Duplicate),
            ProblemAction::AcceptRisk => Some(CloseKind::RiskAccepted),
            ProblemAction::Cancel => Some(CloseKind::Cancelled),
            _ => None,
        }
    }
}

/// Where an action leads from a state, ignoring what is filled in.
pub fn target(state: ProblemState, action: ProblemAction) -> Option<ProblemState> {
    use ProblemAction as A;
    use ProblemState as S;
    let to = match (state, action) {
        (S::New, A::Analyse) => S::RootCauseAnalysis,
        // The cause may be obvious at once: a known error straight from `new`.
        (S::New | S::RootCauseAnalysis, A::RecordKnownError) => S::KnownError,
        // A fix that failed or was rolled back is replaced by another RDM.
        (S::KnownError | S::FixInProgress, A::StartFix) => S::FixInProgress,
        (S::FixInProgress, A::Resolve) => S::Resolved,
        (S::Resolved, A::Close) => S::Closed,
        (S::New | S::RootCauseAnalysis | S::KnownError, A::CloseDuplicate) => S::Closed,
        // Accepting the risk is deciding not to fix what is understood (or cannot be).
        (S::RootCauseAnalysis | S::KnownError | S::FixInProgress, A::AcceptRisk) => S::Closed,
        (S::New | S::RootCauseAnalysis, A::Cancel) => S::Closed,
        _ => return None,
    };
    Some(to)
}

/// What the rules need to know besides the state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemFacts {
    pub has_root_cause: bool,
    pub has_workaround: bool,
    pub has_rdm: bool,
    pub has_reason: bool,
    pub has_duplicate_of: bool,
    /// The fixing RDM has been implemented (resolving needs it).
    pub fix_implemented: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    IllegalTransition,
    PreconditionFailed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub action: ProblemAction,
    pub state: ProblemState,
    pub reason: String,
    /// Request fields that must be given.
    pub missing: Vec<&'static str>,
    pub allowed_actions: Vec<ProblemAction>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Request fields the action needs (given with the request, or already on the problem).
fn missing_for(action: ProblemAction, f: &ProblemFacts) -> Vec<&'static str> {
    use ProblemAction as A;
    let mut m = Vec::new();
    match action {
        A::RecordKnownError => {
            if !f.has_root_cause {
                m.push("root_cause");
            }
            if !f.has_workaround {
                m.push("workaround");
            }
        }
        A::StartFix if !f.has_rdm => m.push("rdm_id"),
        A::CloseDuplicate => {
            if !f.has_duplicate_of {
                m.push("duplicate_of");
            }
            if !f.has_reason {
                m.push("reason");
            }
        }
        A::AcceptRisk | A::Cancel if !f.has_reason => m.push("reason"),
        _ => {}
    }
    m
}

/// A condition of the problem (not of the request) that blocks the action.
fn unmet(action: ProblemAction, f: &ProblemFacts) -> Option<String> {
    match action {
        ProblemAction::Resolve if !f.fix_implemented => {
            Some("a problem is resolved when the RDM carrying its fix has been implemented".into())
        }
        _ => None,
    }
}

/// What may be done now, assuming a complete request.
pub fn allowed_actions(state: ProblemState, facts: &ProblemFacts) -> Vec<ProblemAction> {
    ProblemAction::ALL
        .iter()
        .copied()
        .filter(|a| target(state, *a).is_some())
        .filter(|a| unmet(*a, facts).is_none())
        .collect()
}

/// Checks an action and gives the state it leads to.
pub fn transition(
    state: ProblemState,
    action: ProblemAction,
    facts: &ProblemFacts,
) -> Result<ProblemState, Refusal> {
    let refuse = |kind, reason: String, missing| Refusal {
        kind,
        action,
        state,
        reason,
        missing,
        allowed_actions: allowed_actions(state, facts),
    };
    let Some(to) = target(state, action) else {
        return Err(refuse(
            RefusalKind::IllegalTransition,
            format!("a problem in state `{state}` cannot `{action}`"),
            vec![],
        ));
    };
    let missing = missing_for(action, facts);
    if !missing.is_empty() {
        return Err(refuse(
            RefusalKind::PreconditionFailed,
            format!("`{action}` needs: {}", missing.join(", ")),
            missing,
        ));
    }
    if let Some(reason) = unmet(action, facts) {
        return Err(refuse(RefusalKind::PreconditionFailed, reason, vec![]));
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProblemAction as A;
    use ProblemState as S;

    fn complete() -> ProblemFacts {
        ProblemFacts {
            has_root_cause: true,
            has_workaround: true,
            has_rdm: true,
            has_reason: true,
            has_duplicate_of: true,
            fix_implemented: true,
        }
    }

    /// Every (state, action) pair: exactly the listed moves are legal.
    #[test]
    fn the_transition_table_is_exactly_this() {
        let legal = [
            (S::New, A::Analyse, S::RootCauseAnalysis),
            (S::New, A::RecordKnownError, S::KnownError),
            (S::RootCauseAnalysis, A::RecordKnownError, S::KnownError),
            (S::KnownError, A::StartFix, S::FixInProgress),
            (S::FixInProgress, A::StartFix, S::FixInProgress),
            (S::FixInProgress, A::Resolve, S::Resolved),
            (S::Resolved, A::Close, S::Closed),
            (S::New, A::CloseDuplicate, S::Closed),
            (S::RootCauseAnalysis, A::CloseDuplicate, S::Closed),
            (S::KnownError, A::CloseDuplicate, S::Closed),
            (S::RootCauseAnalysis, A::AcceptRisk, S::Closed),
            (S::KnownError, A::AcceptRisk, S::Closed),
            (S::FixInProgress, A::AcceptRisk, S::Closed),
            (S::New, A::Cancel, S::Closed),
            (S::RootCauseAnalysis, A::Cancel, S::Closed),
        ];
        for s in S::ALL {
            for a in A::ALL {
                let expected = legal
                    .iter()
                    .find(|(ls, la, _)| ls == s && la == a)
                    .map(|l| l.2);
                assert_eq!(target(*s, *a), expected, "{s} + {a}");
                assert_eq!(transition(*s, *a, &complete()).ok(), expected, "{s} + {a}");
            }
        }
    }

    #[test]
    fn a_closed_problem_does_nothing_and_says_so() {
        let r = transition(S::Closed, A::Analyse, &complete()).unwrap_err();
        assert_eq!(r.kind, RefusalKind::IllegalTransition);
        assert_eq!(r.state, S::Closed);
        assert!(r.allowed_actions.is_empty());
    }

    #[test]
    fn each_action_names_what_it_needs() {
        let none = ProblemFacts::default();
        let cases = [
            (
                S::New,
                A::RecordKnownError,
                vec!["root_cause", "workaround"],
            ),
            (S::KnownError, A::StartFix, vec!["rdm_id"]),
            (S::New, A::CloseDuplicate, vec!["duplicate_of", "reason"]),
            (S::KnownError, A::AcceptRisk, vec!["reason"]),
            (S::New, A::Cancel, vec!["reason"]),
        ];
        for (s, a, missing) in cases {
            let r = transition(s, a, &none).unwrap_err();
            assert_eq!(r.kind, RefusalKind::PreconditionFailed, "{a}");
            assert_eq!(r.missing, missing, "{a}");
        }
    }

    #[test]
    fn resolving_waits_for_the_fix_to_be_implemented() {
        let mut f = complete();
        f.fix_implemented = false;
        let r = transition(S::FixInProgress, A::Resolve, &f).unwrap_err();
        assert_eq!(r.kind, RefusalKind::PreconditionFailed);
        assert!(!r.allowed_actions.contains(&A::Resolve));
        assert!(r.allowed_actions.contains(&A::AcceptRisk));
        f.fix_implemented = true;
        assert_eq!(
            transition(S::FixInProgress, A::Resolve, &f),
            Ok(S::Resolved)
        );
    }

    #[test]
    fn closing_actions_say_how_the_problem_ended() {
        assert_eq!(A::Close.close_kind(), Some(CloseKind::Fixed));
        assert_eq!(A::CloseDuplicate.close_kind(), Some(CloseKind::Duplicate));
        assert_eq!(A::AcceptRisk.close_kind(), Some(CloseKind::RiskAccepted));
        assert_eq!(A::Cancel.close_kind(), Some(CloseKind::Cancelled));
        assert_eq!(A::Resolve.close_kind(), None);
    }
}
