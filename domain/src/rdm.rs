//! The RDM (change request) lifecycle: SPEC §3.2 (normal), §3.3 (emergency), §3.6 (standard).
//!
//! One pure function, [`decide`], says whether an action is legal now and where it leads;
//! everything else (HTTP, persistence, history) is built around it.
use crate::roles::{Role, RoleSet};
use serde::Serialize;
use std::fmt;

string_enum!(
    /// The three kinds of change.
    RdmType {
        Normal => "normal",
        Emergency => "emergency",
        Standard => "standard",
    }
);

string_enum!(
    /// Where an RDM is in its lifecycle.
    RdmState {
        Draft => "draft",
        Submitted => "submitted",
        Assessment => "assessment",
        PoApproved => "po_approved",
        AwaitingCommittee => "awaiting_committee",
        Approved => "approved",
        Scheduled => "scheduled",
        InExecution => "in_execution",
        Implemented => "implemented",
        Failed => "failed",
        RolledBack => "rolled_back",
        Closed => "closed",
        Rejected => "rejected",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// Everything that can be done to an RDM. `CommitteeApprove`/`CommitteeReject` are taken
    /// by the system when the committee's approval policy reaches a decision; no user calls them.
    Action {
        Submit => "submit",
        StartAssessment => "start_assessment",
        Veto => "veto",
        PoApprove => "po_approve",
        PoReject => "po_reject",
        SendToCommittee => "send_to_committee",
        Approve => "approve",
        CommitteeApprove => "committee_approve",
        CommitteeReject => "committee_reject",
        Schedule => "schedule",
        Unschedule => "unschedule",
        StartExecution => "start_execution",
        Complete => "complete",
        Fail => "fail",
        RollBack => "roll_back",
        Close => "close",
        Cancel => "cancel",
    }
);

string_enum!(
    /// Impact, urgency and risk are each classified low, medium or high.
    Level {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
);

impl RdmState {
    /// No action leads out of these.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RdmState::Closed | RdmState::Rejected | RdmState::Cancelled
        )
    }

    /// Content (plans, items, description) may still be edited: until it is approved. What
    /// was approved is what gets executed; a different change is a new RDM.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            RdmState::Draft
                | RdmState::Submitted
                | RdmState::Assessment
                | RdmState::PoApproved
                | RdmState::AwaitingCommittee
        )
    }
}

impl Action {
    /// Actions taken by the system, never offered to a user.
    pub fn is_system(self) -> bool {
        matches!(self, Action::CommitteeApprove | Action::CommitteeReject)
    }

    /// Refusals and cancellations must say why (recorded in history, sent to the requester group).
    pub fn requires_reason(self) -> bool {
        matches!(
            self,
            Action::Veto
                | Action::PoReject
                | Action::CommitteeReject
                | Action::Cancel
                | Action::Fail
                | Action::Unschedule
        )
    }
}

/// Who is acting, as far as the lifecycle cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub roles: RoleSet,
    /// The actor is the RDM's requester.
    pub is_requester: bool,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            roles: RoleSet::default(),
            is_requester: false,
        }
    }
}

/// What is known about the RDM when an action is attempted. The caller derives these from
/// the stored RDM and the clock; the rules below only read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdmFacts {
    pub rdm_type: RdmType,
    pub state: RdmState,
    pub risk: Option<Level>,
    pub has_description: bool,
    pub has_technical_opinion: bool,
    /// Implementation plan recorded.
    pub has_implementation_plan: bool,
    /// Estimated duration recorded.
    pub has_duration: bool,
    /// Rollback plan recorded.
    pub has_rollback_plan: bool,
    /// Estimated rollback time recorded.
    pub has_rollback_time: bool,
    /// Homologation (test) plan or evidence recorded.
    pub has_homologation: bool,
    /// At least one configuration item named.
    pub has_items: bool,
    /// Standard changes only: the pre-approved template it instantiates.
    pub has_standard_template: bool,
    /// Emergency changes only: all affected customers were told of the unavailability.
    pub customers_notified: bool,
    /// Booked into a maintenance window.
    pub has_window: bool,
    /// `now` lies inside the booked window (and the booking fits in what is left of it).
    pub inside_window: bool,
    /// The booked window has ended (execution can no longer start in it).
    pub window_passed: bool,
    /// Post-implementation review recorded.
    pub has_review: bool,
}

/// A legal move: where the RDM goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub action: Action,
    pub from: RdmState,
    pub to: RdmState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// The action does not exist from this state (for this type of RDM).
    IllegalTransition,
    /// The action exists but the actor's roles do not allow it.
    RoleNotPermitted,
    /// The action exists and the actor may take it, but something it needs is missing.
    PreconditionFailed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub action: Action,
    pub state: RdmState,
    pub reason: String,
    /// What is missing, by field name, for `PreconditionFailed`.
    pub missing: Vec<&'static str>,
    /// What this actor may do now.
    pub allowed_actions: Vec<Action>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Where an action leads from a state, for a type of RDM, ignoring who asks and what is filled in.
pub fn target(rdm_type: RdmType, state: RdmState, action: Action) -> Option<RdmState> {
    use Action as A;
    use RdmState as S;
    use RdmType as T;
    let to = match (state, action) {
        (S::Draft, A::Submit) => match rdm_type {
            // A standard change is pre-approved: approved on submission (SPEC §3.6).
            T::Standard => S::Approved,
            _ => S::Submitted,
        },
        (S::Submitted, A::StartAssessment) if rdm_type != T::Standard => S::Assessment,
        (S::Assessment, A::Veto) if rdm_type != T::Standard => S::Rejected,
        (S::Assessment, A::PoApprove) if rdm_type == T::Normal => S::PoApproved,
        (S::Assessment, A::PoReject) if rdm_type == T::Normal => S::Rejected,
        // Emergencies skip the product owner and go straight to the CME.
        (S::Assessment, A::SendToCommittee) if rdm_type == T::Emergency => S::AwaitingCommittee,
        (S::PoApproved, A::SendToCommittee) if rdm_type == T::Normal => S::AwaitingCommittee,
        // Low-risk normal change: the change manager's approval is final.
        (S::PoApproved, A::Approve) if rdm_type == T::Normal => S::Approved,
        (S::AwaitingCommittee, A::CommitteeApprove) => S::Approved,
        (S::AwaitingCommittee, A::CommitteeReject) => S::Rejected,
        (S::Approved, A::Schedule) => S::Scheduled,
        (S::Scheduled, A::Unschedule) => S::Approved,
        (S::Scheduled, A::StartExecution) => S::InExecution,
        // Emergencies are executed on demand, outside the weekly window.
        (S::Approved, A::StartExecution) if rdm_type == T::Emergency => S::InExecution,
        (S::InExecution, A::Complete) => S::Implemented,
        (S::InExecution, A::Fail) => S::Failed,
        (S::Failed, A::RollBack) => S::RolledBack,
        (S::Implemented | S::RolledBack, A::Close) => S::Closed,
        (
            S::Draft
            | S::Submitted
            | S::Assessment
            | S::PoApproved
            | S::AwaitingCommittee
            | S::Approved
            | S::Scheduled,
            A::Cancel,
        ) => S::Cancelled,
        _ => return None,
    };
    Some(to)
}

/// Roles that may take an action (the requester of the RDM may also submit and cancel).
pub fn permitted_roles(action: Action) -> &'static [Role] {
    use Action as A;
    match action {
        A::Submit => &[Role::ChangeManager],
        A::StartAssessment
        | A::Veto
        | A::SendToCommittee
        | A::Approve
        | A::Schedule
        | A::Unschedule => &[Role::ChangeManager],
        A::PoApprove | A::PoReject => &[Role::ProductOwner],
        A::StartExecution | A::Complete | A::Fail | A::RollBack => &[Role::ChangeAgent],
        A::Close => &[Role::ChangeManager, Role::CommitteeMember],
        A::Cancel => &[Role::ChangeManager],
        A::CommitteeApprove | A::CommitteeReject => &[],
    }
}

fn actor_may(action: Action, actor: &Actor) -> bool {
    if action.is_system() {
        // Only the system (no roles) takes committee outcomes.
        return actor.roles.is_empty() && !actor.is_requester;
    }
    let requester_action = matches!(action, Action::Submit | Action::Cancel);
    (requester_action && actor.is_requester) || actor.roles.any(permitted_roles(action))
}

/// What must be filled in before the action. Each name is a field of the request that
/// supplies it (the RDM form, or the action's own body), or the endpoint that records it.
fn missing_for(action: Action, f: &RdmFacts) -> Vec<&'static str> {
    use Action as A;
    let mut missing = Vec::new();
    let mut need = |ok: bool, field: &'static str| {
        if !ok {
            missing.push(field)
        }
    };
    match action {
        A::Submit => {
            need(f.has_description, "description");
            need(f.has_items, "configuration_item_ids");
            need(f.has_implementation_plan, "implementation_plan");
            need(f.has_duration, "estimated_duration_minutes");
            if f.rdm_type == RdmType::Standard {
                need(f.has_standard_template, "standard_template_id");
                need(f.has_rollback_plan, "rollback_plan");
                need(f.has_rollback_time, "estimated_rollback_minutes");
            }
        }
        A::PoApprove => need(f.has_technical_opinion, "technical_opinion"),
        A::SendToCommittee | A::Approve | A::CommitteeApprove => {
            // The technical opinion is required before committee, the rollback plan and time
            // before approval (SPEC §3.1); checked again when the committee approves, so that
            // nothing is taken away while it votes.
            need(f.has_technical_opinion, "technical_opinion");
            need(f.has_rollback_plan, "rollback_plan");
            need(f.has_rollback_time, "estimated_rollback_minutes");
            if f.rdm_type == RdmType::Emergency {
                // SPEC §3.3: homologation and rollback plans before the CME approves.
                need(f.has_homologation, "homologation_evidence");
            }
            if action == A::Approve {
                need(f.risk.is_some(), "risk");
            }
        }
        A::Schedule => need(f.has_window, "window_id"),
        A::StartExecution if f.rdm_type == RdmType::Emergency => need(
            f.customers_notified,
            "POST /api/v1/rdms/{id}/customer-notification",
        ),
        A::Close => need(f.has_review, "review"),
        _ => {}
    }
    missing
}

/// A condition that is not a missing field: it is refused with the reason alone.
fn unmet_condition(action: Action, f: &RdmFacts) -> Option<String> {
    match action {
        Action::Approve if f.risk.is_some_and(|r| r != Level::Low) => Some(format!(
            "only low-risk changes may skip the committee: this RDM's risk is {}; send it to the committee",
            f.risk.map(|r| r.as_str()).unwrap_or_default()
        )),
        Action::StartExecution
            if !f.inside_window
                && (f.rdm_type != RdmType::Emergency || f.state == RdmState::Scheduled) =>
        {
            Some(if f.window_passed {
                "execution may start only inside the RDM's maintenance window, and that window has passed: unschedule the RDM and book another window".to_string()
            } else {
                "execution may start only inside the RDM's maintenance window".to_string()
            })
        }
        _ => None,
    }
}

/// Decides an action: the transition it makes, or why not (with what the actor may do now).
pub fn decide(facts: &RdmFacts, action: Action, actor: &Actor) -> Result<Transition, Refusal> {
    let refuse = |kind, reason: String, missing: Vec<&'static str>| Refusal {
        kind,
        action,
        state: facts.state,
        reason,
        missing,
        allowed_actions: allowed_actions(facts, actor),
    };
    let Some(to) = target(facts.rdm_type, facts.state, action) else {
        return Err(refuse(
            RefusalKind::IllegalTransition,
            format!(
                "cannot {} a {} RDM in state {}",
                action, facts.rdm_type, facts.state
            ),
            vec![],
        ));
    };
    if !actor_may(action, actor) {
        let roles: Vec<&str> = permitted_roles(action).iter().map(|r| r.as_str()).collect();
        let mut who = roles.join(" or ");
        if matches!(action, Action::Submit | Action::Cancel) {
            who = format!("the requester or {who}");
        }
        return Err(refuse(
            RefusalKind::RoleNotPermitted,
            format!("only {who} may {action}"),
            vec![],
        ));
    }
    let missing = missing_for(action, facts);
    if !missing.is_empty() {
        let reason = format!("cannot {action} yet: missing {}", missing.join(", "));
        return Err(refuse(RefusalKind::PreconditionFailed, reason, missing));
    }
    if let Some(reason) = unmet_condition(action, facts) {
        return Err(refuse(RefusalKind::PreconditionFailed, reason, vec![]));
    }
    Ok(Transition {
        action,
        from: facts.state,
        to,
    })
}

/// The actions this actor could take successfully now, given a valid body: what the
/// request itself supplies (`schedule`'s `window_id`, `close`'s `review`, a reason) is
/// assumed sent, so a portal can build its buttons from this list.
pub fn allowed_actions(facts: &RdmFacts, actor: &Actor) -> Vec<Action> {
    let with_body = |a: Action| {
        let mut f = *facts;
        match a {
            Action::Schedule => {
                // A window is chosen in the request; one whose time has come is refused then.
                f.has_window = true;
            }
            Action::Close => f.has_review = true,
            _ => {}
        }
        f
    };
    Action::ALL
        .iter()
        .copied()
        .filter(|a| !a.is_system())
        .filter(|a| target(facts.rdm_type, facts.state, *a).is_some())
        .filter(|a| actor_may(*a, actor))
        .filter(|a| missing_for(*a, &with_body(*a)).is_empty())
        .filter(|a| unmet_condition(*a, &with_body(*a)).is_none())
        .collect()
}

string_enum!(
    /// `cm` meets weekly with a cut-off; `cme` decides emergencies at any time.
    CommitteeKind {
        Cm => "cm",
        Cme => "cme",
    }
);

string_enum!(
    /// An RDM's priority, derived from impact × urgency through the priority matrix.
    Priority {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

/// Which committee decides: the CME for emergencies (any time, no meeting), else the CM.
impl CommitteeKind {
    pub fn for_type(rdm_type: RdmType) -> Self {
        match rdm_type {
            RdmType::Emergency => CommitteeKind::Cme,
            _ => CommitteeKind::Cm,
        }
    }
    /// Only the CM meets, with a cut-off; the CME decides by e-mail at any time.
    pub fn meets(self) -> bool {
        self == CommitteeKind::Cm
    }
}

/// Fields a standard change takes from its pre-approved template.
pub const TEMPLATE_OWNED: &[&str] = &[
    "implementation_plan",
    "estimated_duration_minutes",
    "rollback_plan",
    "estimated_rollback_minutes",
];

/// Classification is the change manager's once the RDM is submitted (SPEC §3.2 step 2).
pub const CLASSIFICATION: &[&str] = &["risk", "impact", "urgency", "category"];

/// Who may edit an RDM besides its requester (assessment, technical opinion, evidence).
pub const EDITOR_ROLES: &[Role] = &[
    Role::ChangeManager,
    Role::ChangeAgent,
    Role::SupportAnalyst,
    Role::TestAnalyst,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditRefusal {
    /// Approved or later: what was approved is what runs.
    NotEditable(RdmState),
    NotAnEditor,
    /// A standard change's plan comes from its template.
    TemplateOwned(Vec<&'static str>),
    /// The required voters are fixed while the committee votes.
    VotersFrozen,
    ClassificationByChangeManager(Vec<&'static str>),
}

/// May this actor change these fields of an RDM now?
pub fn check_edit(
    rdm_type: RdmType,
    state: RdmState,
    actor: &Actor,
    fields: &[&'static str],
) -> Result<(), EditRefusal> {
    if !state.is_editable() {
        return Err(EditRefusal::NotEditable(state));
    }
    if !(actor.is_requester || actor.roles.any(EDITOR_ROLES)) {
        return Err(EditRefusal::NotAnEditor);
    }
    if rdm_type == RdmType::Standard {
        let owned: Vec<_> = fields
            .iter()
            .copied()
            .filter(|f| TEMPLATE_OWNED.contains(f))
            .collect();
        if !owned.is_empty() {
            return Err(EditRefusal::TemplateOwned(owned));
        }
    }
    if state == RdmState::AwaitingCommittee && fields.contains(&"involved_member_ids") {
        return Err(EditRefusal::VotersFrozen);
    }
    if state != RdmState::Draft && !actor.roles.contains(Role::ChangeManager) {
        let classified: Vec<_> = fields
            .iter()
            .copied()
            .filter(|f| CLASSIFICATION.contains(f))
            .collect();
        if !classified.is_empty() {
            return Err(EditRefusal::ClassificationByChangeManager(classified));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use RdmState as S;
    use RdmType as T;

    fn complete_facts(rdm_type: RdmType, state: RdmState) -> RdmFacts {
        RdmFacts {
            rdm_type,
            state,
            risk: Some(Level::Low),
            has_description: true,
            has_technical_opinion: true,
            has_implementation_plan: true,
            has_duration: true,
            has_rollback_plan: true,
            has_rollback_time: true,
            has_homologation: true,
            has_items: true,
            has_standard_template: true,
            customers_notified: true,
            has_window: true,
            inside_window: true,
            window_passed: false,
            has_review: true,
        }
    }

    fn everyone() -> Actor {
        Actor {
            roles: RoleSet::new(Role::ALL),
            is_requester: true,
        }
    }

    /// The whole lifecycle, written out as a table independent of `target`'s match:
    /// (type, from, action, to). Every pair not listed must be refused as illegal.
    const LEGAL: &[(RdmType, RdmState, Action, RdmState)] = &[
        // normal
        (T::Normal, S::Draft, A::Submit, S::Submitted),
        (T::Normal, S::Submitted, A::StartAssessment, S::Assessment),
        (T::Normal, S::Assessment, A::Veto, S::Rejected),
        (T::Normal, S::Assessment, A::PoApprove, S::PoApproved),
        (T::Normal, S::Assessment, A::PoReject, S::Rejected),
        (
            T::Normal,
            S::PoApproved,
            A::SendToCommittee,
            S::AwaitingCommittee,
        ),
        (T::Normal, S::PoApproved, A::Approve, S::Approved),
        (
            T::Normal,
            S::AwaitingCommittee,
            A::CommitteeApprove,
            S::Approved,
        ),
        (
            T::Normal,
            S::AwaitingCommittee,
            A::CommitteeReject,
            S::Rejected,
        ),
        (T::Normal, S::Approved, A::Schedule, S::Scheduled),
        (T::Normal, S::Scheduled, A::Unschedule, S::Approved),
        (T::Normal, S::Scheduled, A::StartExecution, S::InExecution),
        (T::Normal, S::InExecution, A::Complete, S::Implemented),
        (T::Normal, S::InExecution, A::Fail, S::Failed),
        (T::Normal, S::Failed, A::RollBack, S::RolledBack),
        (T::Normal, S::Implemented, A::Close, S::Closed),
        (T::Normal, S::RolledBack, A::Close, S::Closed),
        // emergency
        (T::Emergency, S::Draft, A::Submit, S::Submitted),
        (
            T::Emergency,
            S::Submitted,
            A::StartAssessment,
            S::Assessment,
        ),
        (T::Emergency, S::Assessment, A::Veto, S::Rejected),
        (
            T::Emergency,
            S::Assessment,
            A::SendToCommittee,
            S::AwaitingCommittee,
        ),
        (
            T::Emergency,
            S::AwaitingCommittee,
            A::CommitteeApprove,
            S::Approved,
        ),
        (
            T::Emergency,
            S::AwaitingCommittee,
            A::CommitteeReject,
            S::Rejected,
        ),
        (T::Emergency, S::Approved, A::Schedule, S::Scheduled),
        (T::Emergency, S::Approved, A::StartExecution, S::InExecution),
        (T::Emergency, S::Scheduled, A::Unschedule, S::Approved),
        (
            T::Emergency,
            S::Scheduled,
            A::StartExecution,
            S::InExecution,
        ),
        (T::Emergency, S::InExecution, A::Complete, S::Implemented),
        (T::Emergency, S::InExecution, A::Fail, S::Failed),
        (T::Emergency, S::Failed, A::RollBack, S::RolledBack),
        (T::Emergency, S::Implemented, A::Close, S::Closed),
        (T::Emergency, S::RolledBack, A::Close, S::Closed),
        // standard: approved on submission, still booked into a window and audited
        (T::Standard, S::Draft, A::Submit, S::Approved),
        (
            T::Standard,
            S::AwaitingCommittee,
            A::CommitteeApprove,
            S::Approved,
        ),
        (
            T::Standard,
            S::AwaitingCommittee,
            A::CommitteeReject,
            S::Rejected,
        ),
        (T::Standard, S::Approved, A::Schedule, S::Scheduled),
        (T::Standard, S::Scheduled, A::Unschedule, S::Approved),
        (T::Standard, S::Scheduled, A::StartExecution, S::InExecution),
        (T::Standard, S::InExecution, A::Complete, S::Implemented),
        (T::Standard, S::InExecution, A::Fail, S::Failed),
        (T::Standard, S::Failed, A::RollBack, S::RolledBack),
        (T::Standard, S::Implemented, A::Close, S::Closed),
        (T::Standard, S::RolledBack, A::Close, S::Closed),
    ];

    const CANCELLABLE: &[RdmState] = &[
        S::Draft,
        S::Submitted,
        S::Assessment,
        S::PoApproved,
        S::AwaitingCommittee,
        S::Approved,
        S::Scheduled,
    ];

    fn expected(t: RdmType, s: RdmState, a: Action) -> Option<RdmState> {
        if a == A::Cancel {
            return CANCELLABLE.contains(&s).then_some(S::Cancelled);
        }
        LEGAL
            .iter()
            .find(|(tt, ss, aa, _)| *tt == t && *ss == s && *aa == a)
            .map(|(_, _, _, to)| *to)
    }

    #[test]
    fn every_state_action_pair_of_every_type_matches_the_table() {
        let mut checked = 0;
        for &t in RdmType::ALL {
            for &s in RdmState::ALL {
                for &a in Action::ALL {
                    checked += 1;
                    let facts = complete_facts(t, s);
                    let actor = if a.is_system() {
                        Actor::system()
                    } else {
                        everyone()
                    };
                    let got = decide(&facts, a, &actor);
                    match expected(t, s, a) {
                        Some(to) => {
                            let tr = got.unwrap_or_else(|r| panic!("{t} {s} {a}: refused: {r}"));
                            assert_eq!((tr.from, tr.to, tr.action), (s, to, a), "{t} {s} {a}");
                        }
                        None => {
                            let r = got.expect_err(&format!("{t} {s} {a} should be illegal"));
                            assert_eq!(r.kind, RefusalKind::IllegalTransition, "{t} {s} {a}");
                            assert_eq!(r.state, s);
                            assert!(!r.allowed_actions.contains(&a));
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 3 * 14 * 17);
    }

    #[test]
    fn terminal_states_allow_nothing() {
        for &t in RdmType::ALL {
            for &s in RdmState::ALL.iter().filter(|s| s.is_terminal()) {
                assert!(allowed_actions(&complete_facts(t, s), &everyone()).is_empty());
            }
        }
    }

    fn only(role: Role) -> Actor {
        Actor {
            roles: RoleSet::new([role]),
            is_requester: false,
        }
    }

    #[test]
    fn each_action_is_refused_to_roles_outside_its_list() {
        for &t in RdmType::ALL {
            for &s in RdmState::ALL {
                for &a in Action::ALL.iter().filter(|a| !a.is_system()) {
                    if target(t, s, a).is_none() {
                        continue;
                    }
                    let facts = complete_facts(t, s);
                    for role in Role::ALL {
                        let got = decide(&facts, a, &only(role));
                        if permitted_roles(a).contains(&role) {
                            assert!(got.is_ok(), "{role} should {a} ({t} {s})");
                        } else {
                            let r = got.unwrap_err();
                            assert_eq!(r.kind, RefusalKind::RoleNotPermitted, "{role} {a}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_requester_may_submit_and_cancel_but_not_assess() {
        let requester = Actor {
            roles: RoleSet::new([Role::TestAnalyst]),
            is_requester: true,
        };
        let draft = complete_facts(T::Normal, S::Draft);
        assert!(decide(&draft, A::Submit, &requester).is_ok());
        assert!(decide(&draft, A::Cancel, &requester).is_ok());
        let submitted = complete_facts(T::Normal, S::Submitted);
        let r = decide(&submitted, A::StartAssessment, &requester).unwrap_err();
        assert_eq!(r.kind, RefusalKind::RoleNotPermitted);
        assert_eq!(r.allowed_actions, vec![A::Cancel]);
    }

    #[test]
    fn users_cannot_take_committee_outcomes() {
        let facts = complete_facts(T::Normal, S::AwaitingCommittee);
        let r = decide(&facts, A::CommitteeApprove, &everyone()).unwrap_err();
        assert_eq!(r.kind, RefusalKind::RoleNotPermitted);
        assert!(decide(&facts, A::CommitteeApprove, &Actor::system()).is_ok());
    }

    #[test]
    fn allowed_actions_offer_what_a_valid_body_completes() {
        let mut f = complete_facts(T::Normal, S::Approved);
        f.has_window = false;
        let cm = Actor {
            roles: RoleSet::new([Role::ChangeManager]),
            is_requester: false,
        };
        assert_eq!(allowed_actions(&f, &cm), vec![A::Schedule, A::Cancel]);
        let mut f = complete_facts(T::Normal, S::PoApproved);
        f.risk = Some(Level::Medium);
        let r = decide(&f, A::Approve, &cm).unwrap_err();
        assert!(
            r.reason
                .contains("only low-risk changes may skip the committee"),
            "{}",
            r.reason
        );
        assert!(r.missing.is_empty());
        assert!(!allowed_actions(&f, &cm).contains(&A::Approve));
        let mut f = complete_facts(T::Normal, S::Scheduled);
        f.inside_window = false;
        f.window_passed = true;
        let agent = Actor {
            roles: RoleSet::new([Role::ChangeAgent]),
            is_requester: false,
        };
        let r = decide(&f, A::StartExecution, &agent).unwrap_err();
        assert!(r.reason.contains("unschedule"), "{}", r.reason);
    }

    #[test]
    fn preconditions_name_what_is_missing() {
        struct Case {
            t: RdmType,
            s: RdmState,
            a: Action,
            tweak: fn(&mut RdmFacts),
            missing: &'static [&'static str],
        }
        let cases = [
            Case {
                t: T::Normal,
                s: S::Draft,
                a: A::Submit,
                tweak: |f| f.has_items = false,
                missing: &["configuration_item_ids"],
            },
            Case {
                t: T::Standard,
                s: S::Draft,
                a: A::Submit,
                tweak: |f| f.has_standard_template = false,
                missing: &["standard_template_id"],
            },
            Case {
                t: T::Normal,
                s: S::Assessment,
                a: A::PoApprove,
                tweak: |f| f.has_technical_opinion = false,
                missing: &["technical_opinion"],
            },
            Case {
                t: T::Normal,
                s: S::PoApproved,
                a: A::SendToCommittee,
                tweak: |f| f.has_rollback_plan = false,
                missing: &["rollback_plan"],
            },
            Case {
                t: T::Normal,
                s: S::PoApproved,
                a: A::Approve,
                tweak: |f| f.risk = Some(Level::High),
                missing: &[],
            },
            Case {
                t: T::Normal,
                s: S::PoApproved,
                a: A::Approve,
                tweak: |f| f.risk = None,
                missing: &["risk"],
            },
            Case {
                t: T::Emergency,
                s: S::Assessment,
                a: A::SendToCommittee,
                tweak: |f| {
                    f.has_homologation = false;
                    f.has_rollback_plan = false
                },
                missing: &["rollback_plan", "homologation_evidence"],
            },
            Case {
                t: T::Emergency,
                s: S::Assessment,
                a: A::SendToCommittee,
                tweak: |f| f.has_technical_opinion = false,
                missing: &["technical_opinion"],
            },
            Case {
                t: T::Normal,
                s: S::AwaitingCommittee,
                a: A::CommitteeApprove,
                tweak: |f| f.has_rollback_plan = false,
                missing: &["rollback_plan"],
            },
            Case {
                t: T::Emergency,
                s: S::Approved,
                a: A::StartExecution,
                tweak: |f| {
                    f.customers_notified = false;
                    f.inside_window = false
                },
                missing: &["POST /api/v1/rdms/{id}/customer-notification"],
            },
            Case {
                t: T::Normal,
                s: S::Scheduled,
                a: A::StartExecution,
                tweak: |f| f.inside_window = false,
                missing: &[],
            },
            Case {
                t: T::Normal,
                s: S::Approved,
                a: A::Schedule,
                tweak: |f| f.has_window = false,
                missing: &["window_id"],
            },
            Case {
                t: T::Normal,
                s: S::Implemented,
                a: A::Close,
                tweak: |f| f.has_review = false,
                missing: &["review"],
            },
        ];
        for c in cases {
            let mut facts = complete_facts(c.t, c.s);
            (c.tweak)(&mut facts);
            let actor = if c.a.is_system() {
                Actor::system()
            } else {
                everyone()
            };
            let r = decide(&facts, c.a, &actor).unwrap_err();
            assert_eq!(
                r.kind,
                RefusalKind::PreconditionFailed,
                "{} {} {}",
                c.t,
                c.s,
                c.a
            );
            assert_eq!(r.missing, c.missing, "{} {} {}", c.t, c.s, c.a);
            // What the action's own body supplies does not keep it off the list.
            let body_supplies = matches!(c.a, A::Schedule | A::Close);
            assert_eq!(
                r.allowed_actions.contains(&c.a),
                body_supplies,
                "{} {} {}",
                c.t,
                c.s,
                c.a
            );
        }
    }

    #[test]
    fn emergency_runs_outside_the_window_once_customers_are_notified() {
        let mut f = complete_facts(T::Emergency, S::Approved);
        f.inside_window = false;
        f.has_window = false;
        assert_eq!(
            decide(&f, A::StartExecution, &only(Role::ChangeAgent))
                .unwrap()
                .to,
            S::InExecution
        );
        // A normal change in its window still cannot start outside it.
        let mut n = complete_facts(T::Normal, S::Scheduled);
        n.inside_window = false;
        let r = decide(&n, A::StartExecution, &only(Role::ChangeAgent)).unwrap_err();
        assert!(
            r.reason.contains("inside the RDM's maintenance window"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn names_round_trip() {
        for s in RdmState::ALL {
            assert_eq!(s.as_str().parse::<RdmState>().unwrap(), *s);
        }
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>().unwrap(), *a);
        }
        assert!("approve_now".parse::<Action>().is_err());
    }

    #[test]
    fn edits() {
        let requester = Actor {
            roles: RoleSet::new([Role::Requester]),
            is_requester: true,
        };
        let gm = Actor {
            roles: RoleSet::new([Role::ChangeManager]),
            is_requester: false,
        };
        let stranger = Actor {
            roles: RoleSet::new([Role::Requester]),
            is_requester: false,
        };
        assert_eq!(
            check_edit(T::Normal, S::Draft, &requester, &["title", "risk"]),
            Ok(())
        );
        assert_eq!(
            check_edit(T::Normal, S::Draft, &stranger, &["title"]),
            Err(EditRefusal::NotAnEditor)
        );
        assert_eq!(
            check_edit(T::Normal, S::Assessment, &requester, &["title", "risk"]),
            Err(EditRefusal::ClassificationByChangeManager(vec!["risk"]))
        );
        assert_eq!(check_edit(T::Normal, S::Assessment, &gm, &["risk"]), Ok(()));
        assert_eq!(
            check_edit(
                T::Standard,
                S::Draft,
                &requester,
                &["rollback_plan", "title"]
            ),
            Err(EditRefusal::TemplateOwned(vec!["rollback_plan"]))
        );
        assert_eq!(
            check_edit(
                T::Normal,
                S::AwaitingCommittee,
                &gm,
                &["involved_member_ids"]
            ),
            Err(EditRefusal::VotersFrozen)
        );
        assert_eq!(
            check_edit(T::Normal, S::AwaitingCommittee, &gm, &["rollback_plan"]),
            Ok(())
        );
        for st in [S::Approved, S::Scheduled, S::InExecution, S::Closed] {
            assert_eq!(
                check_edit(T::Normal, st, &gm, &["title"]),
                Err(EditRefusal::NotEditable(st))
            );
        }
    }
}
