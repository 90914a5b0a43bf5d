//! Committee approval policies as data (SPEC §3.2 step 6, §3.3).
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a committee's votes turn into a decision. Chosen per committee.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApprovalPolicy {
    /// Unanimous: every required voter approves; the first rejection vetoes. CM and CME default.
    #[default]
    Consensual,
    /// One approval suffices; rejected only when every voter rejected.
    Any,
    /// More than half of the required voters approve.
    Majority,
    /// At least `n` approvals.
    NOfM { n: u32 },
}

impl fmt::Display for ApprovalPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApprovalPolicy::Consensual => f.write_str("consensual"),
            ApprovalPolicy::Any => f.write_str("any"),
            ApprovalPolicy::Majority => f.write_str("majority"),
            ApprovalPolicy::NOfM { n } => write!(f, "n_of_m({n})"),
        }
    }
}

string_enum!(
    VoteDecision {
        Approve => "approve",
        Reject => "reject",
    }
);

string_enum!(
    /// How a vote arrived: the API, or a one-time e-mail link.
    VoteChannel {
        Api => "api",
        Email => "email",
    }
);

string_enum!(
    /// How the committee's votes become a decision.
    PolicyKind {
        Consensual => "consensual",
        Any => "any",
        Majority => "majority",
        NOfM => "n_of_m",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("n_of_m needs n >= 1")]
    ZeroN,
    #[error("a committee decision needs at least one required voter")]
    NoVoters,
    #[error("the policy needs {n} approvals but only {required} members vote")]
    Unreachable { n: u32, required: u32 },
}

impl ApprovalPolicy {
    /// Parses the stored form: `consensual`, `any`, `majority`, or `n_of_m` with its `n`.
    pub fn from_parts(kind: &str, n: Option<i32>) -> Result<Self, String> {
        Self::from_kind(kind.parse()?, n)
    }

    /// The policy of `kind`, with its `n` for `n_of_m`.
    pub fn from_kind(kind: PolicyKind, n: Option<i32>) -> Result<Self, String> {
        match (kind, n) {
            (PolicyKind::Consensual, _) => Ok(ApprovalPolicy::Consensual),
            (PolicyKind::Any, _) => Ok(ApprovalPolicy::Any),
            (PolicyKind::Majority, _) => Ok(ApprovalPolicy::Majority),
            (PolicyKind::NOfM, Some(n)) if n >= 1 => Ok(ApprovalPolicy::NOfM { n: n as u32 }),
            (PolicyKind::NOfM, _) => Err("n_of_m needs approval_n >= 1".into()),
        }
    }

    pub fn kind(&self) -> &'static str {
        self.policy_kind().as_str()
    }

    pub fn policy_kind(&self) -> PolicyKind {
        match self {
            ApprovalPolicy::Consensual => PolicyKind::Consensual,
            ApprovalPolicy::Any => PolicyKind::Any,
            ApprovalPolicy::Majority => PolicyKind::Majority,
            ApprovalPolicy::NOfM { .. } => PolicyKind::NOfM,
        }
    }

    pub fn n(&self) -> Option<u32> {
        match self {
            ApprovalPolicy::NOfM { n } => Some(*n),
            _ => None,
        }
    }

    /// Whether `required` voters can ever reach a decision under this policy: asked before an
    /// RDM is put to the committee, so that it cannot be rejected by arithmetic alone.
    pub fn can_decide(&self, required: u32) -> Result<(), PolicyError> {
        match *self {
            _ if required == 0 => Err(PolicyError::NoVoters),
            ApprovalPolicy::NOfM { n } if n > required => {
                Err(PolicyError::Unreachable { n, required })
            }
            _ => Ok(()),
        }
    }

    /// Decides from the votes of the required voters so far. Votes of people who are not
    /// required voters must not be counted by the caller.
    pub fn tally(
        &self,
        required: u32,
        approvals: u32,
        rejections: u32,
    ) -> Result<Outcome, PolicyError> {
        if required == 0 {
            return Err(PolicyError::NoVoters);
        }
        let cast = approvals + rejections;
        let remaining = required.saturating_sub(cast);
        let outcome = match *self {
            ApprovalPolicy::Consensual => {
                if rejections > 0 {
                    Outcome::Rejected
                } else if approvals >= required {
                    Outcome::Approved
                } else {
                    Outcome::Pending
                }
            }
            ApprovalPolicy::Any => {
                if approvals > 0 {
                    Outcome::Approved
                } else if rejections >= required {
                    Outcome::Rejected
                } else {
                    Outcome::Pending
                }
            }
            ApprovalPolicy::Majority => Self::threshold(required / 2 + 1, approvals, remaining),
            ApprovalPolicy::NOfM { n } => {
                if n == 0 {
                    return Err(PolicyError::ZeroN);
                }
                Self::threshold(n, approvals, remaining)
            }
        };
        Ok(outcome)
    }

    /// Approved once `needed` approvals are in; rejected once they can no longer be reached.
    fn threshold(needed: u32, approvals: u32, remaining: u32) -> Outcome {
        if approvals >= needed {
            Outcome::Approved
        } else if approvals + remaining < needed {
            Outcome::Rejected
        } else {
            Outcome::Pending
        }
    }
}

/// Why a vote is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VoteRefusal {
    #[error("votes are taken only while the RDM awaits its committee")]
    NotAwaitingCommittee,
    #[error("you are not a required voter of this RDM's committee")]
    NotARequiredVoter,
    #[error("say why you reject: the reason goes to the requester group")]
    ReasonRequired,
}

/// A vote is taken only on an RDM awaiting its committee, from a required voter, and a
/// rejection says why (SPEC §3.2 step 6).
/// Where a vote stands: the outcome under the policy (None while it cannot be decided yet),
/// the required voters' approvals and rejections, and who is still to vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotCount<V> {
    pub outcome: Option<Outcome>,
    pub approvals: u32,
    pub rejections: u32,
    pub pending: Vec<V>,
}

/// Counts `ballots` of the `required` voters under `policy`: ballots of anyone else are not
/// counted. The one count for every vote (RDMs, window flexes).
pub fn count_ballots<V: PartialEq + Copy>(
    policy: &ApprovalPolicy,
    required: &[V],
    ballots: &[(V, VoteDecision)],
) -> BallotCount<V> {
    let counted = ballots.iter().filter(|(voter, _)| required.contains(voter));
    let approvals = counted
        .clone()
        .filter(|(_, d)| *d == VoteDecision::Approve)
        .count() as u32;
    let rejections = counted.filter(|(_, d)| *d == VoteDecision::Reject).count() as u32;
    let pending = required
        .iter()
        .copied()
        .filter(|u| !ballots.iter().any(|(voter, _)| voter == u))
        .collect();
    BallotCount {
        outcome: tally_votes(policy, required, ballots).ok(),
        approvals,
        rejections,
        pending,
    }
}

/// Whether a ballot may be cast: the vote must be open, the voter required, and a rejection
/// must say why. The one rule for every vote (RDMs by API or e-mail link, window flexes).
pub fn check_vote(
    awaiting_committee: bool,
    required_voter: bool,
    decision: VoteDecision,
    has_reason: bool,
) -> Result<(), VoteRefusal> {
    if !awaiting_committee {
        return Err(VoteRefusal::NotAwaitingCommittee);
    }
    if !required_voter {
        return Err(VoteRefusal::NotARequiredVoter);
    }
    if decision == VoteDecision::Reject && !has_reason {
        return Err(VoteRefusal::ReasonRequired);
    }
    Ok(())
}

/// Counts the votes of the required voters only (others do not count) and tallies them.
pub fn tally_votes<V: PartialEq>(
    policy: &ApprovalPolicy,
    required: &[V],
    votes: &[(V, VoteDecision)],
) -> Result<Outcome, PolicyError> {
    let counted = votes.iter().filter(|(voter, _)| required.contains(voter));
    let approvals = counted
        .clone()
        .filter(|(_, d)| *d == VoteDecision::Approve)
        .count() as u32;
    let rejections = counted.filter(|(_, d)| *d == VoteDecision::Reject).count() as u32;
    policy.tally(required.len() as u32, approvals, rejections)
}

#[cfg(test)]
mod tests {
    use super::ApprovalPolicy as P;
    use super::Outcome::*;
    use super::*;

    #[test]
    fn vote_decisions_round_trip_their_stored_form() {
        for d in [VoteDecision::Approve, VoteDecision::Reject] {
            assert_eq!(d.as_str().parse::<VoteDecision>(), Ok(d));
        }
        assert!("maybe".parse::<VoteDecision>().is_err());
    }

    #[test]
    fn tallies() {
        // (policy, required, approvals, rejections, outcome)
        let table = [
            (P::Consensual, 3, 0, 0, Pending),
            (P::Consensual, 3, 2, 0, Pending),
            (P::Consensual, 3, 3, 0, Approved),
            (P::Consensual, 3, 0, 1, Rejected),
            (P::Consensual, 3, 2, 1, Rejected),
            (P::Any, 3, 0, 0, Pending),
            (P::Any, 3, 1, 0, Approved),
            (P::Any, 3, 0, 2, Pending),
            (P::Any, 3, 0, 3, Rejected),
            (P::Majority, 4, 2, 0, Pending),
            (P::Majority, 4, 3, 0, Approved),
            (P::Majority, 4, 2, 2, Rejected),
            (P::Majority, 3, 2, 1, Approved),
            (P::Majority, 3, 1, 1, Pending),
            (P::Majority, 3, 1, 2, Rejected),
            (P::NOfM { n: 2 }, 5, 1, 0, Pending),
            (P::NOfM { n: 2 }, 5, 2, 3, Approved),
            (P::NOfM { n: 2 }, 5, 1, 4, Rejected),
            (P::NOfM { n: 5 }, 5, 4, 0, Pending),
            (P::NOfM { n: 6 }, 5, 0, 0, Rejected),
        ];
        for (p, req, a, r, want) in table {
            assert_eq!(p.tally(req, a, r).unwrap(), want, "{p} {req} {a} {r}");
        }
    }

    #[test]
    fn degenerate_policies_are_errors() {
        assert_eq!(P::Consensual.tally(0, 0, 0), Err(PolicyError::NoVoters));
        assert_eq!(P::NOfM { n: 0 }.tally(3, 0, 0), Err(PolicyError::ZeroN));
    }

    #[test]
    fn parses_stored_form() {
        assert_eq!(P::from_parts("n_of_m", Some(2)).unwrap(), P::NOfM { n: 2 });
        assert!(P::from_parts("n_of_m", None).is_err());
        assert!(P::from_parts("dictator", None).is_err());
        assert_eq!(P::from_parts("consensual", None).unwrap(), P::default());
    }

    #[test]
    fn only_required_voters_count() {
        use VoteDecision::*;
        let required = [1, 2];
        // An outsider's rejection does not veto; both required approvals decide.
        let votes = [(9, Reject), (1, Approve), (2, Approve)];
        assert_eq!(tally_votes(&P::Consensual, &required, &votes), Ok(Approved));
        assert_eq!(
            tally_votes(&P::Consensual, &required, &votes[..2]),
            Ok(Pending)
        );
        assert_eq!(
            tally_votes(&P::Consensual, &required, &[(2, Reject)]),
            Ok(Rejected)
        );
    }

    #[test]
    fn a_committee_that_cannot_decide_is_refused_up_front() {
        assert_eq!(P::Consensual.can_decide(0), Err(PolicyError::NoVoters));
        assert_eq!(
            P::NOfM { n: 3 }.can_decide(2),
            Err(PolicyError::Unreachable { n: 3, required: 2 })
        );
        assert_eq!(P::NOfM { n: 2 }.can_decide(2), Ok(()));
        assert_eq!(P::Majority.can_decide(1), Ok(()));
    }

    #[test]
    fn who_may_vote() {
        use VoteDecision::*;
        assert_eq!(check_vote(true, true, Approve, false), Ok(()));
        assert_eq!(
            check_vote(false, true, Approve, false),
            Err(VoteRefusal::NotAwaitingCommittee)
        );
        assert_eq!(
            check_vote(true, false, Approve, false),
            Err(VoteRefusal::NotARequiredVoter)
        );
        assert_eq!(
            check_vote(true, true, Reject, false),
            Err(VoteRefusal::ReasonRequired)
        );
        assert_eq!(check_vote(true, true, Reject, true), Ok(()));
    }
}
