//! RDMs as stored: loading one (locked or not), the facts the domain's state machine reads,
//! applying its transitions, recording history, and the view the API returns.
use crate::changes::labels;
use crate::changes::log;
use crate::db::enums::Stored;
use crate::db::models::Rdm;
use crate::db::schema::{rdm_items, rdms, standard_templates};
use crate::events::{Entity, Event, NewEvent};
use crate::identity::principal::AuthUser;
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
pub use crate::platform::input::check_if_match;
use crate::platform::sql::{bind, prepared};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Timestamptz};
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
pub fn facts(rdm: &Rdm, has_items: bool, window: Option<Bounds>, now: DateTime<Utc>) -> RdmFacts {
    let inside_window = window.is_some_and(|(starts, ends)| {
        let (d, r) = needs(rdm);
        let start = rdm.planned_start.unwrap_or(starts);
        may_start_in_window(starts, ends, start, d, r, now)
    });
    RdmFacts {
        rdm_type: rdm.rdm_type,
        state: rdm.state,
        risk: rdm.risk,
        has_description: !rdm.description.trim().is_empty(),
        has_technical_opinion: filled(&rdm.technical_opinion),
        has_implementation_plan: filled(&rdm.implementation_plan),
        has_duration: rdm.estimated_duration_minutes.is_some(),
        has_rollback_plan: filled(&rdm.rollback_plan),
        has_rollback_time: rdm.estimated_rollback_minutes.is_some(),
        has_homologation: filled(&rdm.homologation_evidence),
        has_items,
        has_standard_template: rdm.standard_template_id.is_some(),
        customers_notified: rdm.customers_notified_at.is_some(),
        has_window: window.is_some(),
        inside_window,
        window_passed: window.is_some_and(|(_, ends)| ends <= now),
        has_review: filled(&rdm.review),
    }
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
    let links = links(conn, rdm).await?;
    Ok(facts(rdm, !links.item_ids.is_empty(), links.window, now))
}

/// A window's start and end.
pub type Bounds = (DateTime<Utc>, DateTime<Utc>);

/// What an RDM links to: its configuration items, the members it involves, its window.
#[derive(Debug, Clone, Default)]
pub struct Links {
    pub item_ids: Vec<i64>,
    pub involved_ids: Vec<i64>,
    pub window: Option<Bounds>,
}

/// [`Links`] as a statement returns them.
#[derive(Debug, QueryableByName)]
struct LinksRow {
    #[diesel(sql_type = Array<BigInt>)]
    item_ids: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    involved_ids: Vec<i64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    window_starts_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    window_ends_at: Option<DateTime<Utc>>,
}

impl From<LinksRow> for Links {
    fn from(r: LinksRow) -> Self {
        Links {
            item_ids: r.item_ids,
            involved_ids: r.involved_ids,
            window: r.window_starts_at.zip(r.window_ends_at),
        }
    }
}

/// The columns of an RDM row and of what it links to, as one SELECT reads them.
macro_rules! rdm_with_links {
    ($rdm:literal) => {
        concat!(
            "r.id, r.rdm_type, r.state, r.title, r.description, r.justification, r.category, r.impact, \
             r.urgency, r.priority, r.risk, r.technical_opinion, r.implementation_plan, \
             r.estimated_duration_minutes, r.rollback_plan, r.estimated_rollback_minutes, \
             r.homologation_evidence, r.communication_plan, r.customers_notified_at, \
             r.customers_notification, r.review, r.standard_template_id, r.requester_id, \
             r.requester_group, r.committee_id, r.meeting_id, r.window_id, r.planned_start, r.version, \
             r.revision, r.created_at, r.updated_at, \
             ARRAY(SELECT item_id FROM rdm_items WHERE rdm_id = r.id ORDER BY item_id) AS item_ids, \
             ARRAY(SELECT user_id FROM rdm_involved_members WHERE rdm_id = r.id ORDER BY user_id) AS involved_ids, \
             w.starts_at AS window_starts_at, w.ends_at AS window_ends_at \
             FROM ", $rdm, " r LEFT JOIN maintenance_windows w ON w.id = r.window_id"
        )
    };
}

/// An RDM with what it links to.
#[derive(Debug, Clone)]
pub struct Full {
    pub rdm: Rdm,
    pub links: Links,
}

#[derive(Debug, QueryableByName)]
struct FullRow {
    #[diesel(embed)]
    rdm: Rdm,
    #[diesel(embed)]
    links: LinksRow,
}

/// RDM `id` with its links, in one statement (a read: GET /rdms/{id}).
pub async fn find_full(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Full> {
    let full: Option<FullRow> = prepared(
        concat!("SELECT ", rdm_with_links!("rdms"), " WHERE r.id = ?"),
        bind::<BigInt, _>(id),
    )
    .get_result(conn)
    .await
    .optional()?;
    let full = full.ok_or_else(|| ApiError::not_found(format!("RDM {id}")))?;
    Ok(Full {
        rdm: full.rdm,
        links: full.links.into(),
    })
}

/// What `rdm` links to, in one statement.
pub async fn links(conn: &mut AsyncPgConnection, rdm: &Rdm) -> ApiResult<Links> {
    let l: LinksRow = prepared(
        "SELECT ARRAY(SELECT item_id FROM rdm_items WHERE rdm_id = ? ORDER BY item_id) AS item_ids, \
                ARRAY(SELECT user_id FROM rdm_involved_members WHERE rdm_id = ? ORDER BY user_id) AS involved_ids, \
                w.starts_at AS window_starts_at, w.ends_at AS window_ends_at \
         FROM (SELECT 1) one LEFT JOIN maintenance_windows w ON w.id = ?",
        (
            bind::<BigInt, _>(rdm.id),
            bind::<BigInt, _>(rdm.id),
            bind::<Nullable<BigInt>, _>(rdm.window_id),
        ),
    )
    .get_result(conn)
    .await?;
    Ok(l.into())
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
    if tr.to == domain::rdm::RdmState::Implemented {
        super::published::implemented(conn, rdm.id, now).await?;
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

/// The RDM as `user` sees it now (one statement for what it links to).
pub async fn view(
    conn: &mut AsyncPgConnection,
    rdm: Rdm,
    user: &AuthUser,
    now: DateTime<Utc>,
) -> ApiResult<RdmView> {
    let links = links(conn, &rdm).await?;
    Ok(view_of(Full { rdm, links }, user, now))
}

/// The RDM as `user` sees it now, from what was read (no statement).
pub fn view_of(full: Full, user: &AuthUser, now: DateTime<Utc>) -> RdmView {
    let Full { rdm, links } = full;
    let f = facts(&rdm, !links.item_ids.is_empty(), links.window, now);
    let allowed = domain::rdm::allowed_actions(&f, &actor(user, &rdm));
    RdmView {
        id: rdm.id,
        number: number(rdm.id),
        rdm_type: rdm.rdm_type,
        state: rdm.state,
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
        configuration_item_ids: links.item_ids,
        involved_member_ids: links.involved_ids,
        version: rdm.version,
        revision: rdm.revision,
        created_at: rdm.created_at,
        updated_at: rdm.updated_at,
        allowed_actions: allowed,
    }
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
