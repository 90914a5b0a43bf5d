//! Incident tickets (SPEC §4): the lifecycle as a pure state machine, who may take each
//! action, what each needs, and how a parent and its children affect each other.
//!
//! `new` → `in_progress` ⇄ `pending` → `resolved` → `closed`; `cancelled` from any open
//! state. A `resolved` ticket is reopened (back to `in_progress`) or confirmed / auto-closed
//! (→ `closed`); a closed ticket never reopens: a follow-up ticket is opened instead.
use crate::roles::Role;
use std::fmt;

string_enum!(
    /// Where a ticket is in its lifecycle.
    TicketState {
        New => "new",
        InProgress => "in_progress",
        Pending => "pending",
        Resolved => "resolved",
        Closed => "closed",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// What a ticket is: a customer's incident (a parent), or a child for internal work, a
    /// team escalation, or a product non-conformity for `dev` (SPEC §4.2).
    TicketKind {
        Incident => "incident",
        Internal => "internal",
        Escalation => "escalation",
        NonConformity => "non_conformity",
    }
);

string_enum!(
    /// Everything that can be done to a ticket. `AutoClose` is taken by the system only.
    TicketAction {
        Start => "start",
        Pend => "pend",
        Resume => "resume",
        Resolve => "resolve",
        Reopen => "reopen",
        Confirm => "confirm",
        Close => "close",
        Cancel => "cancel",
        AutoClose => "auto_close",
    }
);

string_enum!(
    /// Whom a pending ticket waits on.
    PendingOn {
        Customer => "customer",
        ThirdParty => "third_party",
    }
);

impl TicketState {
    /// Open: work remains (the clocks may run, children may be added).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TicketState::New | TicketState::InProgress | TicketState::Pending
        )
    }
    /// Final: nothing happens to it any more.
    pub fn is_final(self) -> bool {
        matches!(self, TicketState::Closed | TicketState::Cancelled)
    }
}

/// Where an action leads from a state, ignoring who asks and what is filled in.
pub fn target(kind: TicketKind, state: TicketState, action: TicketAction) -> Option<TicketState> {
    use TicketAction as A;
    use TicketState as S;
    let to = match (state, action) {
        (S::New, A::Start) => S::InProgress,
        (S::InProgress, A::Pend) => S::Pending,
        (S::Pending, A::Resume) => S::InProgress,
        (S::New | S::InProgress, A::Resolve) => S::Resolved,
        (S::Resolved, A::Reopen) => S::InProgress,
        // Only a customer's incident waits for the customer's acceptance; a child is
        // closed with its parent.
        (S::Resolved, A::Confirm | A::AutoClose) if kind == TicketKind::Incident => S::Closed,
        (S::Resolved, A::Close) if kind == TicketKind::Incident => S::Closed,
        (S::New | S::InProgress | S::Pending, A::Cancel) => S::Cancelled,
        _ => return None,
    };
    Some(to)
}

/// Who asks, as far as the ticket rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// Support staff (analysts, the coordinator).
    Support,
    /// A customer of the ticket's organisation.
    Customer,
    /// The system (timers).
    System,
}

/// The roles that act on tickets as support.
pub const SUPPORT_ROLES: &[Role] = &[
    Role::SupportAnalyst,
    Role::SupportCoordinator,
    Role::TestAnalyst,
];

/// Whether `actor` may take `action` at all.
pub fn actor_may(action: TicketAction, actor: Actor) -> bool {
    use TicketAction as A;
    match actor {
        Actor::System => action == A::AutoClose,
        // The customer accepts or refuses the solution, and may withdraw the ticket.
        Actor::Customer => matches!(action, A::Confirm | A::Reopen | A::Cancel),
        // Support does the work; it may record a reopen the customer asked for by phone,
        // but acceptance is the customer's (or the critical-incident close, below).
        Actor::Support => !matches!(action, A::Confirm | A::AutoClose),
    }
}

/// What the rules need to know about a ticket and the request besides its state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFacts {
    pub critical: bool,
    /// Ids of the ticket's children that are still open (block resolving the parent).
    pub open_children: Vec<i64>,
    /// Unanswered contact attempts recorded (critical incidents).
    pub unanswered_attempts: u32,
    /// How many unanswered attempts allow support to close (data; 3 by default).
    pub attempts_to_close: u32,
    pub has_reason: bool,
    pub has_solution: bool,
    pub has_pending_on: bool,
    /// For a child: whether its parent is open (a child reopens only under an open parent,
    /// or the parent would be resolved with an open child). True for an incident.
    pub parent_open: bool,
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    IllegalTransition,
    RoleNotPermitted,
    PreconditionFailed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub action: TicketAction,
    pub state: TicketState,
    pub reason: String,
    /// Request fields that must be given.
    pub missing: Vec<&'static str>,
    /// Records that block the action (a parent's open children).
    pub blocking: Vec<i64>,
    pub allowed_actions: Vec<TicketAction>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Request fields the action needs.
fn missing_for(action: TicketAction, f: &TicketFacts) -> Vec<&'static str> {
    use TicketAction as A;
    let mut m = Vec::new();
    match action {
        A::Pend => {
            if !f.has_reason {
                m.push("reason");
            }
            if !f.has_pending_on {
                m.push("pending_on");
            }
        }
        A::Reopen | A::Cancel if !f.has_reason => m.push("reason"),
        A::Resolve if !f.has_solution => m.push("solution"),
        _ => {}
    }
    m
}

/// A condition of the ticket (not of the request) that blocks the action.
fn unmet(action: TicketAction, f: &TicketFacts) -> Option<(String, Vec<i64>)> {
    match action {
        TicketAction::Resolve if !f.open_children.is_empty() => Some((
            format!(
                "a parent cannot be resolved while a child is open: {}",
                f.open_children
                    .iter()
                    .map(|id| format!("#{id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            f.open_children.clone(),
        )),
        TicketAction::Reopen if !f.parent_open => Some((
            "a child reopens only while its parent is open: reopen the parent first".into(),
            vec![],
        )),
        TicketAction::Close if !f.critical => Some((
            "support closes a resolved ticket only for a critical incident whose customer \
             could not be reached; otherwise the customer confirms, or it closes by itself"
                .into(),
            vec![],
        )),
        TicketAction::Close if f.unanswered_attempts < f.attempts_to_close => Some((
            format!(
                "{} unanswered contact attempts are recorded; {} are needed before support \
                 may close it",
                f.unanswered_attempts, f.attempts_to_close
            ),
            vec![],
        )),
        _ => None,
    }
}

/// What `actor` may do now, assuming a valid request body.
pub fn allowed_actions(
    kind: TicketKind,
    state: TicketState,
    actor: Actor,
    facts: &TicketFacts,
) -> Vec<TicketAction> {
    TicketAction::ALL
        .iter()
        .copied()
        .filter(|a| *a != TicketAction::AutoClose)
        .filter(|a| target(kind, state, *a).is_some())
        .filter(|a| actor_may(*a, actor))
        .filter(|a| unmet(*a, facts).is_none())
        .collect()
}

/// Checks an action and gives the state it leads to.
pub fn transition(
    kind: TicketKind,
    state: TicketState,
    action: TicketAction,
    actor: Actor,
    facts: &TicketFacts,
) -> Result<TicketState, Refusal> {
    let refuse = |kind_: RefusalKind, reason: String, missing, blocking| Refusal {
        kind: kind_,
        action,
        state,
        reason,
        missing,
        blocking,
        allowed_actions: allowed_actions(kind, state, actor, facts),
    };
    if !actor_may(action, actor) {
        return Err(refuse(
            RefusalKind::RoleNotPermitted,
            format!("you may not {action} a ticket"),
            vec![],
            vec![],
        ));
    }
    let Some(to) = target(kind, state, action) else {
        let why = match (state, action) {
            (TicketState::Closed, TicketAction::Reopen) => {
                "a closed ticket cannot be reopened; open a follow-up with POST /api/v1/tickets/{id}/follow-ups"
                    .to_string()
            }
            _ => format!("cannot {action} a {kind} ticket that is {state}"),
        };
        return Err(refuse(RefusalKind::IllegalTransition, why, vec![], vec![]));
    };
    let missing = missing_for(action, facts);
    if !missing.is_empty() {
        return Err(refuse(
            RefusalKind::PreconditionFailed,
            format!("{action} needs {}", missing.join(", ")),
            missing,
            vec![],
        ));
    }
    if let Some((why, blocking)) = unmet(action, facts) {
        return Err(refuse(
            RefusalKind::PreconditionFailed,
            why,
            vec![],
            blocking,
        ));
    }
    Ok(to)
}

/// What a parent's move does to its children (the README's propagation matrix):
/// cancelling a parent cancels its open children; closing it closes its resolved children
/// (open ones block resolving, so none is left open); resolving and reopening leave them
/// alone. A final child is never touched.
pub fn child_follows(parent_to: TicketState, child: TicketState) -> Option<TicketState> {
    match (parent_to, child) {
        (TicketState::Cancelled, c) if c.is_open() => Some(TicketState::Cancelled),
        (TicketState::Closed, TicketState::Resolved) => Some(TicketState::Closed),
        _ => None,
    }
}

/// Whether a child may be opened under a parent in `parent` state.
pub fn may_add_child(parent_kind: TicketKind, parent: TicketState) -> Result<(), String> {
    if parent_kind != TicketKind::Incident {
        return Err("children hang from a customer's incident, not from another child".into());
    }
    // A resolved parent would hold an open child, which resolving forbids: reopen it first.
    if !parent.is_open() {
        return Err(format!("no child under a {parent} ticket"));
    }
    Ok(())
}

/// Whether a child of `kind` may go to a team (SPEC §4.2): escalations to `taf_tss` or
/// `cloud`, non-conformities to `dev`, internal work anywhere.
pub fn child_team_fits(kind: TicketKind, team: crate::roles::Team) -> bool {
    use crate::roles::Team;
    match kind {
        TicketKind::Incident => false,
        TicketKind::Internal => true,
        TicketKind::Escalation => matches!(team, Team::TafTss | Team::Cloud),
        TicketKind::NonConformity => team == Team::Dev,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketAction as A;
    use TicketState as S;

    fn facts() -> TicketFacts {
        TicketFacts {
            attempts_to_close: 3,
            has_reason: true,
            has_solution: true,
            has_pending_on: true,
            parent_open: true,
            ..Default::default()
        }
    }

    #[test]
    fn happy_path_and_closed_never_reopens() {
        let k = TicketKind::Incident;
        let f = facts();
        let mut s = S::New;
        for (a, who) in [
            (A::Start, Actor::Support),
            (A::Pend, Actor::Support),
            (A::Resume, Actor::Support),
            (A::Resolve, Actor::Support),
            (A::Reopen, Actor::Customer),
            (A::Resolve, Actor::Support),
            (A::Confirm, Actor::Customer),
        ] {
            s = transition(k, s, a, who, &f).unwrap();
        }
        assert_eq!(s, S::Closed);
        let r = transition(k, s, A::Reopen, Actor::Customer, &f).unwrap_err();
        assert_eq!(r.kind, RefusalKind::IllegalTransition);
        assert!(r.reason.contains("follow-up"));
        assert!(r.allowed_actions.is_empty());
    }

    #[test]
    fn open_children_block_resolve_and_are_named() {
        let f = TicketFacts {
            open_children: vec![7, 9],
            ..facts()
        };
        let r = transition(
            TicketKind::Incident,
            S::InProgress,
            A::Resolve,
            Actor::Support,
            &f,
        )
        .unwrap_err();
        assert_eq!(r.kind, RefusalKind::PreconditionFailed);
        assert_eq!(r.blocking, vec![7, 9]);
        assert!(!r.allowed_actions.contains(&A::Resolve));
    }

    #[test]
    fn customers_do_not_work_tickets_and_children_are_not_confirmed() {
        let f = facts();
        let r =
            transition(TicketKind::Incident, S::New, A::Start, Actor::Customer, &f).unwrap_err();
        assert_eq!(r.kind, RefusalKind::RoleNotPermitted);
        assert!(target(TicketKind::Internal, S::Resolved, A::Confirm).is_none());
        assert!(target(TicketKind::Internal, S::Resolved, A::AutoClose).is_none());
    }

    #[test]
    fn support_closes_only_a_critical_after_the_attempts() {
        let mut f = facts();
        f.critical = true;
        f.unanswered_attempts = 2;
        assert!(transition(
            TicketKind::Incident,
            S::Resolved,
            A::Close,
            Actor::Support,
            &f
        )
        .is_err());
        f.unanswered_attempts = 3;
        assert_eq!(
            transition(
                TicketKind::Incident,
                S::Resolved,
                A::Close,
                Actor::Support,
                &f
            ),
            Ok(S::Closed)
        );
        f.critical = false;
        assert!(transition(
            TicketKind::Incident,
            S::Resolved,
            A::Close,
            Actor::Support,
            &f
        )
        .is_err());
    }

    #[test]
    fn missing_fields_are_named() {
        let f = TicketFacts::default();
        let r = transition(
            TicketKind::Incident,
            S::InProgress,
            A::Pend,
            Actor::Support,
            &f,
        )
        .unwrap_err();
        assert_eq!(r.missing, vec!["reason", "pending_on"]);
    }

    #[test]
    fn propagation() {
        assert_eq!(child_follows(S::Cancelled, S::Pending), Some(S::Cancelled));
        assert_eq!(child_follows(S::Cancelled, S::Resolved), None);
        assert_eq!(child_follows(S::Closed, S::Resolved), Some(S::Closed));
        assert_eq!(child_follows(S::Closed, S::Cancelled), None);
        assert_eq!(child_follows(S::InProgress, S::Resolved), None);
        assert_eq!(child_follows(S::Resolved, S::Resolved), None);
        assert!(may_add_child(TicketKind::Incident, S::Closed).is_err());
        assert!(may_add_child(TicketKind::Internal, S::New).is_err());
        assert!(may_add_child(TicketKind::Incident, S::Resolved).is_err());
        assert!(may_add_child(TicketKind::Incident, S::Pending).is_ok());
    }
}
