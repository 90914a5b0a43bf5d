//! RDMs as stored: loading one (locked or not), the facts the domain's state machine reads,
//! applying its transitions, recording history, and the view the API returns.
use crate::changes::labels;
use crate::changes::log;
use crate::db::enums::Stored;
use crate::db::models::{Rdm, Window};
use crate::db::schema::{
    maintenance_windows, rdm_involved_members, rdm_items, rdms, standard_templates,
};
use crate::events::{Entity, Event, NewEvent};
use crate::identity::principal::AuthUser;
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
pub use crate::platform::input::check_if_match;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::rdm::{Action, Actor, Level, RdmFacts, RdmState, RdmType, Transition};
use domain::roles::Role;
use domain::schedule::may_start_in_window;
use serde::Serialize;
use utoipa::ToSchema;

/// Every role but `customer` may read RDMs.
pub use crate::identity::principal::STAFF;

/// Who may file an RDM.
pub const CREATORS: &[Role] = &[
    Role::Requester,
    Role::TestAnalyst,
    Role::ChangeManager,
    Role::SupportAnalyst,
    Role::SupportCoordinator,
];

/// Loads an RDM and locks its row until the transaction ends: concurrent actions on one RDM
/// queue here, and the second sees the first's result. `FOR NO KEY UPDATE`, not `FOR UPDATE`:
/// rows that reference the RDM (votes, links, history) can still be inserted by a transaction
/// holding another lock, so no lock-order deadlock with the committee's timers.
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Rdm> {
    rdms::table
        .find(id)
        .for_no_key_update()
        .select(Rdm::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("RDM {id}")))
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Rdm> {
    rdms::table
        .find(id)
        .select(Rdm::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("RDM {id}")))
}

pub async fn item_ids(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Vec<i64>> {
    Ok(rdm_items::table
        .filter(rdm_items::rdm_id.eq(id))
        .select(rdm_items::item_id)
        .order(rdm_items::item_id)
        .load(conn)
        .await?)
}

pub async fn involved_ids(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Vec<i64>> {
    Ok(rdm_involved_members::table
        .filter(rdm_involved_members::rdm_id.eq(id))
        .select(rdm_involved_members::user_id)
        .order(rdm_involved_members::user_id)
        .load(conn)
        .await?)
}

pub async fn window_of(conn: &mut AsyncPgConnection, rdm: &Rdm) -> ApiResult<Option<Window>> {
    match rdm.window_id {
        None => Ok(None),
        Some(w) => Ok(Some(
            maintenance_windows::table
                .find(w)
                .select(Window::as_select())
                .first(conn)
                .await?,
        )),
    }
}

fn filled(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// The duration and rollback time an RDM needs in a window.
pub fn needs(rdm: &Rdm) -> (Duration, Duration) {
    (
        Duration::minutes(rdm.estimated_duration_minutes.unwrap_or(0) as i64),
        Duration::minutes(rdm.estimated_rollback_minutes.unwrap_or(0) as i64),
    )
}

/// What the state machine needs to know, derived from the stored RDM and `now`.
pub fn facts(
    rdm: &Rdm,
    has_items: bool,
    window: Option<&Window>,
    now: DateTime<Utc>,
) -> ApiResult<RdmFacts> {
    let inside_window = window.is_some_and(|w| {
        let (d, r) = needs(rdm);
        let start = rdm.planned_start.unwrap_or(w.starts_at);
        may_start_in_window(w.starts_at, w.ends_at, start, d, r, now)
    });
    Ok(RdmFacts {
        rdm_type: rdm.rdm_type,
        state: rdm.state,
        risk: rdm.risk,
        has_description: !rdm.description.trim().is_empty(),
        has_technical_opinion: filled(&rdm.technical_opinion),
        has_implementation_plan: filled(&rdm.implementation_plan)
            && rdm.estimated_duration_minutes.is_some(),
        has_rollback_plan: filled(&rdm.rollback_plan) && rdm.estimated_rollback_minutes.is_some(),
        has_homologation: filled(&rdm.homologation_evidence),
        has_items,
        has_standard_template: rdm.standard_template_id.is_some(),
        customers_notified: rdm.customers_notified_at.is_some(),
        has_window: window.is_some(),
        inside_window,
        has_review: filled(&rdm.review),
    })
}

pub fn actor(user: &AuthUser, rdm: &Rdm) -> Actor {
    Actor {
        roles: user.roles,
        is_requester: user.id == rdm.requester_id,
    }
}

pub async fn load_facts(
    conn: &mut AsyncPgConnection,
    rdm: &Rdm,
    now: DateTime<Utc>,
) -> ApiResult<RdmFacts> {
    let has_items = !item_ids(conn, rdm.id).await?.is_empty();
    let window = window_of(conn, rdm).await?;
    facts(rdm, has_items, window.as_ref(), now)
}

/// Appends one line of the RDM's history (an event on the RDM), and what it notifies.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    rdm_id: i64,
    action: &'static str,
    from: Option<RdmState>,
    to: RdmState,
    actor_id: Option<i64>,
    reason: Option<String>,
    detail: serde_json::Value,
    at: DateTime<Utc>,
) -> ApiResult<Event> {
    let e = NewEvent::on(Entity::Rdm, rdm_id, action)
        .states(from.map(RdmState::as_str), Some(to.as_str()))
        .by(actor_id)
        .because(reason)
        .detail(detail);
    log::record(conn, n, e, at).await
}

/// Moves the RDM to the transition's target, bumps its version and records the change.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    rdm: &Rdm,
    tr: Transition,
    actor_id: Option<i64>,
    reason: Option<String>,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let updated = diesel::update(
        rdms::table
            .find(rdm.id)
            .filter(rdms::version.eq(rdm.version)),
    )
    .set((
        rdms::state.eq(tr.to.db()),
        rdms::version.eq(rdm.version + 1),
        rdms::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    if updated != 1 {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the RDM changed while this action ran; retry",
        ));
    }
    record(
        conn,
        n,
        rdm.id,
        tr.action.as_str(),
        Some(tr.from),
        tr.to,
        actor_id,
        reason,
        detail,
        now,
    )
    .await
    .map(|_| ())
}

/// Bumps the version for a change that is not a state transition (booking, edit, notice).
pub async fn bump(conn: &mut AsyncPgConnection, rdm: &Rdm, now: DateTime<Utc>) -> ApiResult<()> {
    diesel::update(rdms::table.find(rdm.id))
        .set((rdms::version.eq(rdm.version + 1), rdms::updated_at.eq(now)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn template_exists(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<bool> {
    Ok(standard_templates::table
        .find(id)
        .filter(standard_templates::active.eq(true))
        .count()
        .get_result::<i64>(conn)
        .await?
        > 0)
}

/// An RDM as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RdmView {
    pub id: i64,
    /// Human reference, e.g. `RDM-000042`.
    pub number: String,
    pub rdm_type: RdmType,
    pub state: RdmState,
    pub title: String,
    pub description: String,
    pub justification: String,
    pub category: Option<String>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    /// Derived from impact × urgency through the priority matrix (data).
    pub priority: Option<String>,
    pub risk: Option<Level>,
    pub technical_opinion: Option<String>,
    pub implementation_plan: Option<String>,
    pub estimated_duration_minutes: Option<i32>,
    pub rollback_plan: Option<String>,
    pub estimated_rollback_minutes: Option<i32>,
    pub homologation_evidence: Option<String>,
    pub communication_plan: Option<String>,
    pub customers_notified_at: Option<DateTime<Utc>>,
    pub customers_notification: Option<String>,
    pub review: Option<String>,
    pub standard_template_id: Option<i64>,
    pub requester_id: i64,
    pub requester_group: Option<String>,
    pub committee_id: Option<i64>,
    pub meeting_id: Option<i64>,
    pub window_id: Option<i64>,
    pub planned_start: Option<DateTime<Utc>>,
    pub configuration_item_ids: Vec<i64>,
    pub involved_member_ids: Vec<i64>,
    /// Optimistic version; also sent as the `ETag` header.
    pub version: i32,
    /// Content revision: bumped by edits only. Committee votes count for the current one.
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the caller may do now.
    pub allowed_actions: Vec<Action>,
}

pub use labels::number;

pub async fn view(
    conn: &mut AsyncPgConnection,
    rdm: Rdm,
    user: &AuthUser,
    now: DateTime<Utc>,
) -> ApiResult<RdmView> {
    let items = item_ids(conn, rdm.id).await?;
    let involved = involved_ids(conn, rdm.id).await?;
    let window = window_of(conn, &rdm).await?;
    let f = facts(&rdm, !items.is_empty(), window.as_ref(), now)?;
    let allowed = domain::rdm::allowed_actions(&f, &actor(user, &rdm));
    Ok(RdmView {
        id: rdm.id,
        number: number(rdm.id),
        rdm_type: f.rdm_type,
        state: f.state,
        impact: rdm.impact,
        urgency: rdm.urgency,
        risk: rdm.risk,
        title: rdm.title,
        description: rdm.description,
        justification: rdm.justification,
        category: rdm.category,
        priority: rdm.priority.map(|p| p.as_str().to_string()),
        technical_opinion: rdm.technical_opinion,
        implementation_plan: rdm.implementation_plan,
        estimated_duration_minutes: rdm.estimated_duration_minutes,
        rollback_plan: rdm.rollback_plan,
        estimated_rollback_minutes: rdm.estimated_rollback_minutes,
        homologation_evidence: rdm.homologation_evidence,
        communication_plan: rdm.communication_plan,
        customers_notified_at: rdm.customers_notified_at,
        customers_notification: rdm.customers_notification,
        review: rdm.review,
        standard_template_id: rdm.standard_template_id,
        requester_id: rdm.requester_id,
        requester_group: rdm.requester_group,
        committee_id: rdm.committee_id,
        meeting_id: rdm.meeting_id,
        window_id: rdm.window_id,
        planned_start: rdm.planned_start,
        configuration_item_ids: items,
        involved_member_ids: involved,
        version: rdm.version,
        revision: rdm.revision,
        created_at: rdm.created_at,
        updated_at: rdm.updated_at,
        allowed_actions: allowed,
    })
}

/// The RDMs awaiting committee `committee_id`'s vote, by id.
pub async fn awaiting_committee(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
) -> ApiResult<Vec<Rdm>> {
    Ok(rdms::table
        .filter(rdms::committee_id.eq(committee_id))
        .filter(rdms::state.eq(RdmState::AwaitingCommittee.db()))
        .order(rdms::id)
        .select(Rdm::as_select())
        .load(conn)
        .await?)
}
