//! Maintenance windows (SPEC §3.4): occurrences materialised from the calendar policy, the
//! RDMs booked in them and their conflicts, and flexes (moving or extending one occurrence),
//! which count once every CM member approves them.
use super::log;
use super::occurrences::move_error;
use super::policy::{current_policy, policy_from_row};
use super::rdms::store;
use crate::db::enums::Stored;
use crate::db::models::{Rdm, Window, WindowFlex};
use crate::db::schema::{
    committee_members, committees, maintenance_windows, rdm_items, rdms as t, users,
    window_flex_votes, window_flexes,
};
use crate::events::{Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::approval::{
    check_vote, tally_votes, ApprovalPolicy, Outcome, VoteDecision, VoteRefusal,
};
use domain::rdm::{CommitteeKind, RdmState};
use domain::schedule::FlexStatus;
use domain::schedule::{check_fit, find_conflicts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use validator::Validate;

pub const DEFAULT_WEEKS: i64 = 8;
/// States in which an RDM occupies its window (time and items).
const OCCUPYING: [RdmState; 2] = [RdmState::Scheduled, RdmState::InExecution];
/// States in which an RDM shows as a booking of its window.
const BOOKED: [RdmState; 5] = [
    RdmState::Scheduled,
    RdmState::InExecution,
    RdmState::Implemented,
    RdmState::Failed,
    RdmState::RolledBack,
];

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowView {
    pub id: i64,
    /// The local date the policy generated it for; stays its identity when it is flexed.
    pub original_date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Moved or extended by an approved flex.
    pub flexed: bool,
    /// Duration plus rollback time of the RDMs booked in it (scheduled or in execution).
    pub booked_minutes: i64,
    /// Configuration items touched by more than one of those RDMs.
    pub conflict_count: usize,
    /// The calendar policy version it was generated from.
    pub policy_version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Booking {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub state: String,
    pub planned_start: Option<DateTime<Utc>>,
    pub estimated_duration_minutes: Option<i32>,
    pub estimated_rollback_minutes: Option<i32>,
    pub configuration_item_ids: Vec<i64>,
    /// Duration plus rollback still fit in the window after its planned start.
    pub fits: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictView {
    pub item_id: i64,
    pub rdm_ids: Vec<i64>,
}

/// One CM member's vote on a flex.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlexVoteView {
    pub voter_id: i64,
    /// `approve` or `reject`.
    pub decision: String,
    /// Required to reject.
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlexView {
    pub id: i64,
    pub window_id: i64,
    /// The start asked for.
    pub new_starts_at: DateTime<Utc>,
    /// The end asked for.
    pub new_ends_at: DateTime<Utc>,
    /// Why the change manager asked.
    pub reason: String,
    /// `pending` until every member of the CM approves (`approved`: the window takes the new
    /// times) or one rejects (`rejected`).
    pub status: String,
    pub requested_by: i64,
    pub requested_at: DateTime<Utc>,
    /// The member whose vote decided it: the last approval, or the rejection.
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason given with the deciding vote (a rejection always has one).
    pub decision_reason: Option<String>,
    pub approvals: u32,
    pub rejections: u32,
    /// Members of the CM still to vote while it is pending; empty once decided.
    pub pending_voter_ids: Vec<i64>,
    /// The votes, oldest first.
    pub votes: Vec<FlexVoteView>,
}

/// Who decides a flex: every active member of the CM (SPEC §3.4), by user id.
pub async fn flex_voters(conn: &mut AsyncPgConnection) -> ApiResult<Vec<i64>> {
    let mut ids: Vec<i64> = committee_members::table
        .inner_join(committees::table)
        .inner_join(users::table)
        .filter(committees::kind.eq(CommitteeKind::Cm.db()))
        .filter(users::active.eq(true))
        .select(committee_members::user_id)
        .load(conn)
        .await?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = window_flex_votes)]
struct FlexVoteRow {
    flex_id: i64,
    voter_id: i64,
    decision: VoteDecision,
    reason: Option<String>,
    at: DateTime<Utc>,
}

/// Views of `flexes` with their votes, in two queries.
async fn flex_views(
    conn: &mut AsyncPgConnection,
    flexes: Vec<WindowFlex>,
) -> ApiResult<Vec<FlexView>> {
    let ids: Vec<i64> = flexes.iter().map(|f| f.id).collect();
    let votes: Vec<FlexVoteRow> = window_flex_votes::table
        .filter(window_flex_votes::flex_id.eq_any(&ids))
        .order((window_flex_votes::at, window_flex_votes::voter_id))
        .select(FlexVoteRow::as_select())
        .load(conn)
        .await?;
    let required = if flexes.iter().any(|f| f.status == FlexStatus::Pending) {
        flex_voters(conn).await?
    } else {
        vec![]
    };
    Ok(flexes
        .into_iter()
        .map(|f| {
            let votes: Vec<FlexVoteView> = votes
                .iter()
                .filter(|v| v.flex_id == f.id)
                .map(|v| FlexVoteView {
                    voter_id: v.voter_id,
                    decision: v.decision.as_str().to_string(),
                    reason: v.reason.clone(),
                    at: v.at,
                })
                .collect();
            let pending_voter_ids = if f.status == FlexStatus::Pending {
                required
                    .iter()
                    .copied()
                    .filter(|u| !votes.iter().any(|v| v.voter_id == *u))
                    .collect()
            } else {
                vec![]
            };
            FlexView {
                approvals: votes
                    .iter()
                    .filter(|v| v.decision == VoteDecision::Approve.as_str())
                    .count() as u32,
                rejections: votes
                    .iter()
                    .filter(|v| v.decision == VoteDecision::Reject.as_str())
                    .count() as u32,
                pending_voter_ids,
                votes,
                id: f.id,
                window_id: f.window_id,
                new_starts_at: f.new_starts_at,
                new_ends_at: f.new_ends_at,
                reason: f.reason,
                status: f.status.as_str().to_string(),
                requested_by: f.requested_by,
                requested_at: f.requested_at,
                decided_by: f.decided_by,
                decided_at: f.decided_at,
                decision_reason: f.decision_reason,
            }
        })
        .collect())
}

async fn flex_view(conn: &mut AsyncPgConnection, f: WindowFlex) -> ApiResult<FlexView> {
    Ok(flex_views(conn, vec![f]).await?.remove(0))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowDetail {
    #[serde(flatten)]
    pub window: WindowView,
    /// RDMs booked in it, by id.
    pub bookings: Vec<Booking>,
    pub conflicts: Vec<ConflictView>,
    /// Its flexes, oldest first.
    pub flexes: Vec<FlexView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlexRequest {
    pub starts_at: DateTime<Utc>,
    /// After `starts_at` (at most 24 hours later) and in the future.
    pub ends_at: DateTime<Utc>,
    /// The external reason.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlexDecisionRequest {
    /// Required to reject.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlexDecision {
    /// The flex after your vote, with every vote and who is still to vote.
    pub flex: FlexView,
    /// The window: with its new times once the flex is approved.
    pub window: WindowView,
    /// The reason given with your vote.
    pub reason: Option<String>,
    /// Booked RDMs that no longer fit the window after the flex was approved: the change
    /// manager decides whether to move them.
    pub misfits: Vec<i64>,
}

/// Refuses a flex of `w` to [starts_at, ends_at) at `now`.
fn check_flex(
    w: &Window,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    domain::schedule::check_window_flex(w.ends_at, starts_at, ends_at, now)
        .map_err(|e| move_error(e, &format!("window {}", w.id)))
}

/// Booked minutes and conflict counts of `windows`, in two queries.
pub async fn views(
    conn: &mut AsyncPgConnection,
    windows: Vec<Window>,
) -> ApiResult<Vec<WindowView>> {
    let ids: Vec<i64> = windows.iter().map(|w| w.id).collect();
    let booked: Vec<(Option<i64>, Option<i32>, Option<i32>)> = t::table
        .filter(t::window_id.eq_any(&ids))
        .filter(t::state.eq_any(OCCUPYING.map(Stored::db)))
        .select((
            t::window_id,
            t::estimated_duration_minutes,
            t::estimated_rollback_minutes,
        ))
        .load(conn)
        .await?;
    let items: Vec<(Option<i64>, i64, i64)> = t::table
        .inner_join(rdm_items::table)
        .filter(t::window_id.eq_any(&ids))
        .filter(t::state.eq_any(OCCUPYING.map(Stored::db)))
        .order((t::window_id, t::id))
        .select((t::window_id, t::id, rdm_items::item_id))
        .load(conn)
        .await?;
    let mut minutes: BTreeMap<i64, i64> = BTreeMap::new();
    for (w, d, r) in booked {
        *minutes.entry(w.unwrap_or_default()).or_default() +=
            d.unwrap_or(0) as i64 + r.unwrap_or(0) as i64;
    }
    let mut bookings: BTreeMap<i64, BTreeMap<i64, Vec<i64>>> = BTreeMap::new();
    for (w, rdm, item) in items {
        bookings
            .entry(w.unwrap_or_default())
            .or_default()
            .entry(rdm)
            .or_default()
            .push(item);
    }
    Ok(windows
        .into_iter()
        .map(|w| {
            let b: Vec<(i64, Vec<i64>)> = bookings
                .remove(&w.id)
                .unwrap_or_default()
                .into_iter()
                .collect();
            WindowView {
                booked_minutes: minutes.get(&w.id).copied().unwrap_or(0),
                conflict_count: find_conflicts(&b).len(),
                id: w.id,
                original_date: w.original_date,
                starts_at: w.starts_at,
                ends_at: w.ends_at,
                flexed: w.flexed,
                policy_version: w.policy_version,
            }
        })
        .collect())
}

pub async fn view(conn: &mut AsyncPgConnection, w: Window) -> ApiResult<WindowView> {
    Ok(views(conn, vec![w]).await?.remove(0))
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64, lock: bool) -> ApiResult<Window> {
    let q = maintenance_windows::table
        .find(id)
        .select(Window::as_select());
    let found = if lock {
        q.for_update().first(conn).await
    } else {
        q.first(conn).await
    };
    found
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("window {id}")))
}

/// Booked RDMs that no longer fit `w` (duration plus rollback after their planned start).
async fn misfits(conn: &mut AsyncPgConnection, w: &Window) -> ApiResult<Vec<i64>> {
    let booked: Vec<Rdm> = t::table
        .filter(t::window_id.eq(w.id))
        .filter(t::state.eq_any(OCCUPYING.map(Stored::db)))
        .order(t::id)
        .select(Rdm::as_select())
        .load(conn)
        .await?;
    Ok(booked
        .iter()
        .filter(|r| {
            let (d, rb) = store::needs(r);
            let start = r.planned_start.unwrap_or(w.starts_at);
            check_fit(w.starts_at, w.ends_at, start, d, rb).is_err()
        })
        .map(|r| r.id)
        .collect())
}

/// Makes sure the window occurrences in [from, until) exist; returns them in order.
pub async fn ensure_windows(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> ApiResult<Vec<Window>> {
    let row = current_policy(conn).await?;
    let policy = policy_from_row(&row)?;
    let occ = policy.windows(from, until);
    let dates: Vec<NaiveDate> = occ.iter().map(|w| w.original_date).collect();
    let found = windows_in(conn, &dates, from, until).await?;
    // Reads read: the daily tick materialises the coming weeks, so a listing writes only when
    // it reaches past them (or a policy change dropped them).
    let missing: Vec<_> = occ
        .iter()
        .filter(|w| !found.iter().any(|f| f.original_date == w.original_date))
        .map(|w| {
            (
                maintenance_windows::original_date.eq(w.original_date),
                maintenance_windows::starts_at.eq(w.starts_at),
                maintenance_windows::ends_at.eq(w.ends_at),
                maintenance_windows::policy_version.eq(row.version),
            )
        })
        .collect();
    if missing.is_empty() {
        return Ok(found);
    }
    diesel::insert_into(maintenance_windows::table)
        .values(missing)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    windows_in(conn, &dates, from, until).await
}

/// The windows generated for `dates`, or lying in `[from, until)` (a flexed occurrence may
/// have moved into or out of the range), by start.
async fn windows_in(
    conn: &mut AsyncPgConnection,
    dates: &[NaiveDate],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> ApiResult<Vec<Window>> {
    Ok(maintenance_windows::table
        .filter(
            maintenance_windows::original_date
                .eq_any(dates)
                .or(maintenance_windows::starts_at
                    .lt(until)
                    .and(maintenance_windows::ends_at.gt(from))),
        )
        .order(maintenance_windows::starts_at)
        .select(Window::as_select())
        .load(conn)
        .await?)
}

/// Configuration items booked by more than one RDM in a window (RDMs `scheduled` or
/// `in_execution` there, plus `being_booked`).
pub async fn window_conflicts(
    conn: &mut AsyncPgConnection,
    window_id: i64,
    being_booked: Option<i64>,
) -> ApiResult<Vec<domain::schedule::Conflict<i64, i64>>> {
    let pairs: Vec<(i64, i64)> = t::table
        .inner_join(rdm_items::table)
        .filter(t::window_id.eq(window_id))
        .filter(
            t::state
                .eq_any(OCCUPYING.map(Stored::db))
                .or(t::id.nullable().eq(being_booked)),
        )
        .select((t::id, rdm_items::item_id))
        .load(conn)
        .await?;
    let mut bookings: Vec<(i64, Vec<i64>)> = Vec::new();
    for (rdm, item) in pairs {
        match bookings.iter_mut().find(|(r, _)| *r == rdm) {
            Some((_, items)) => items.push(item),
            None => bookings.push((rdm, vec![item])),
        }
    }
    Ok(find_conflicts(&bookings))
}

/// A window an RDM is being booked into, share-locked: a flex cannot move it meanwhile.
pub async fn lock_for_booking(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Window> {
    // Shared lock: a flex cannot move the window under a booking being checked against it.
    maintenance_windows::table
        .find(id)
        .for_share()
        .select(Window::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::validation("window_id", "unknown", format!("no window {id}")))
}

/// Windows in `[from, to)` with how full they are and their conflicts.
pub async fn list(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<Vec<WindowView>> {
    let windows = ensure_windows(conn, from, to).await?;
    views(conn, windows).await
}

/// A window with its bookings, conflicts and flexes.
pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<WindowDetail> {
    let w = find(conn, id, false).await?;
    let rows: Vec<Rdm> = t::table
        .filter(t::window_id.eq(w.id))
        .filter(t::state.eq_any(BOOKED.map(Stored::db)))
        .order(t::id)
        .select(Rdm::as_select())
        .load(conn)
        .await?;
    let mut bookings = Vec::with_capacity(rows.len());
    for r in rows {
        let (d, rb) = store::needs(&r);
        let start = r.planned_start.unwrap_or(w.starts_at);
        bookings.push(Booking {
            configuration_item_ids: store::item_ids(conn, r.id).await?,
            fits: check_fit(w.starts_at, w.ends_at, start, d, rb).is_ok(),
            number: store::number(r.id),
            id: r.id,
            title: r.title,
            state: r.state.as_str().to_string(),
            planned_start: r.planned_start,
            estimated_duration_minutes: r.estimated_duration_minutes,
            estimated_rollback_minutes: r.estimated_rollback_minutes,
        });
    }
    let conflicts = window_conflicts(conn, w.id, None)
        .await?
        .into_iter()
        .map(|c| ConflictView {
            item_id: c.item,
            rdm_ids: c.rdms,
        })
        .collect();
    let flexes: Vec<WindowFlex> = window_flexes::table
        .filter(window_flexes::window_id.eq(w.id))
        .order(window_flexes::id)
        .select(WindowFlex::as_select())
        .load(conn)
        .await?;
    let flexes = flex_views(conn, flexes).await?;
    let window = view(conn, w).await?;
    Ok(WindowDetail {
        window,
        bookings,
        conflicts,
        flexes,
    })
}

/// Asks to move or extend one occurrence for an external reason; it takes effect only once
/// every member of the CM approves it (one rejection refuses it); the members are told.
pub async fn request_flex(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user_id: i64,
    id: i64,
    body: &FlexRequest,
    now: DateTime<Utc>,
) -> ApiResult<FlexView> {
    let reason = body.reason.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::validation("reason", "required", "say why"));
    }
    let flex = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let w = find(conn, id, true).await?;
            check_flex(&w, body.starts_at, body.ends_at, now)?;
            // One open request at a time, so approvals cannot silently override each other.
            let pending: i64 = window_flexes::table
                .filter(window_flexes::window_id.eq(id))
                .filter(window_flexes::status.eq(FlexStatus::Pending.db()))
                .count()
                .get_result(conn)
                .await?;
            if pending > 0 {
                return Err(ApiError::conflict(
                    "flex_pending",
                    format!("window {id} already has a flex awaiting the committee"),
                ));
            }
            if flex_voters(conn).await?.is_empty() {
                return Err(ApiError::conflict(
                    "no_cm_members",
                    "the CM has no active members to approve a flex",
                ));
            }
            let f: WindowFlex = diesel::insert_into(window_flexes::table)
                .values((
                    window_flexes::window_id.eq(id),
                    window_flexes::new_starts_at.eq(body.starts_at),
                    window_flexes::new_ends_at.eq(body.ends_at),
                    window_flexes::reason.eq(&reason),
                    window_flexes::requested_by.eq(user_id),
                    window_flexes::requested_at.eq(now),
                ))
                .returning(WindowFlex::as_returning())
                .get_result(conn)
                .await?;
            // The CM's members hear of it from this event, in this transaction (SPEC §8).
            let e = NewEvent::on(Entity::Window, id, "flex_requested")
                .by(Some(user_id))
                .because(Some(reason.clone()))
                .detail(serde_json::json!({
                    "flex_id": f.id,
                    "current_starts_at": w.starts_at,
                    "current_ends_at": w.ends_at,
                    "new_starts_at": f.new_starts_at,
                    "new_ends_at": f.new_ends_at,
                }));
            log::record(conn, n, e, now).await?;
            flex_view(conn, f).await
        })
        .await?;
    Ok(flex)
}

/// Applies the CM's decision on the pending flex `f` of window `w` (both locked by the
/// caller) if its votes now reach one: consensual, every active CM member approves, or one
/// rejection refuses it. `decided_by` and `reason` are the deciding vote's. Returns the flex
/// and window as they are after, and the booked RDMs that no longer fit an approved flex.
async fn settle_flex(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    w: Window,
    f: WindowFlex,
    decided_by: Option<i64>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<(WindowFlex, Window, Vec<i64>)> {
    if f.status != FlexStatus::Pending {
        return Ok((f, w, vec![]));
    }
    let required = flex_voters(conn).await?;
    let ballots: Vec<(i64, VoteDecision)> = window_flex_votes::table
        .filter(window_flex_votes::flex_id.eq(f.id))
        .select((window_flex_votes::voter_id, window_flex_votes::decision))
        .load(conn)
        .await?;
    let status = match tally_votes(&ApprovalPolicy::Consensual, &required, &ballots) {
        Ok(Outcome::Approved) if f.new_ends_at > now => FlexStatus::Approved,
        Ok(Outcome::Rejected) => FlexStatus::Rejected,
        // Still waiting (or too late to apply: a rejection still closes it).
        _ => return Ok((f, w, vec![])),
    };
    let f: WindowFlex = diesel::update(window_flexes::table.find(f.id))
        .set((
            window_flexes::status.eq(status.db()),
            window_flexes::decided_by.eq(decided_by),
            window_flexes::decided_at.eq(now),
            window_flexes::decision_reason.eq(&reason),
        ))
        .returning(WindowFlex::as_returning())
        .get_result(conn)
        .await?;
    let action = if status == FlexStatus::Approved {
        "flex_approved"
    } else {
        "flex_rejected"
    };
    let e = NewEvent::on(Entity::Window, w.id, action)
        .states(Some(FlexStatus::Pending.as_str()), Some(status.as_str()))
        .by(decided_by)
        .because(reason.clone())
        .detail(serde_json::json!({
            "flex_id": f.id,
            "starts_at": f.new_starts_at,
            "ends_at": f.new_ends_at,
        }));
    log::record(conn, n, e, now).await?;
    if status != FlexStatus::Approved {
        return Ok((f, w, vec![]));
    }
    let w: Window = diesel::update(maintenance_windows::table.find(w.id))
        .set((
            maintenance_windows::starts_at.eq(f.new_starts_at),
            maintenance_windows::ends_at.eq(f.new_ends_at),
            maintenance_windows::flexed.eq(true),
        ))
        .returning(Window::as_returning())
        .get_result(conn)
        .await?;
    let m = misfits(conn, &w).await?;
    Ok((f, w, m))
}

async fn lock_flex(
    conn: &mut AsyncPgConnection,
    window_id: i64,
    flex_id: i64,
) -> ApiResult<WindowFlex> {
    window_flexes::table
        .find(flex_id)
        .filter(window_flexes::window_id.eq(window_id))
        .for_update()
        .select(WindowFlex::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("flex {flex_id} of window {window_id}")))
}

/// Settles every pending flex after the CM's membership changed (a member who was the last
/// one missing left, or a member joined): call it in the transaction of the change. Returns
/// the flexes it decided.
pub async fn resettle_flexes(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    now: DateTime<Utc>,
) -> ApiResult<Vec<i64>> {
    let pending: Vec<(i64, i64)> = window_flexes::table
        .filter(window_flexes::status.eq(FlexStatus::Pending.db()))
        .order(window_flexes::id)
        .select((window_flexes::window_id, window_flexes::id))
        .load(conn)
        .await?;
    let mut decided = Vec::new();
    for (window_id, flex_id) in pending {
        let w = find(conn, window_id, true).await?;
        let f = lock_flex(conn, window_id, flex_id).await?;
        let (f, _, _) = settle_flex(conn, n, w, f, None, None, now).await?;
        if f.status != FlexStatus::Pending {
            decided.push(f.id);
        }
    }
    Ok(decided)
}

/// Records the caller's vote on a pending flex; the flex is decided once every CM member has
/// approved (the window takes the new times) or at the first rejection.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    window_id: i64,
    flex_id: i64,
    approve: bool,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<FlexDecision> {
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let decision = if approve {
        VoteDecision::Approve
    } else {
        VoteDecision::Reject
    };
    // Flexes are the CM's to approve (SPEC §3.4), not the CME's: asked before anything about
    // the flex is looked up.
    if !flex_voters(conn).await?.contains(&user.id) {
        return Err(ApiError::Forbidden(
            "only a member of the CM may decide a window flex".into(),
        ));
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let w = find(conn, window_id, true).await?;
        let f = lock_flex(conn, window_id, flex_id).await?;
        // The same rule as every committee vote: open, by a required voter, a rejection
        // says why.
        check_vote(
            f.status == FlexStatus::Pending,
            true,
            decision,
            reason.is_some(),
        )
        .map_err(|refusal| match refusal {
            VoteRefusal::NotAwaitingCommittee => ApiError::conflict(
                "flex_decided",
                format!("flex {flex_id} was already {}", f.status),
            ),
            VoteRefusal::NotARequiredVoter => ApiError::Forbidden(refusal.to_string()),
            VoteRefusal::ReasonRequired => {
                ApiError::validation("reason", "required", "say why the flex is rejected")
            }
        })?;
        let voted: i64 = window_flex_votes::table
            .filter(window_flex_votes::flex_id.eq(flex_id))
            .filter(window_flex_votes::voter_id.eq(user.id))
            .count()
            .get_result(conn)
            .await?;
        if voted > 0 {
            return Err(ApiError::conflict(
                "already_voted",
                format!("you have already voted on flex {flex_id}"),
            ));
        }
        if approve && f.new_ends_at <= now {
            return Err(ApiError::conflict(
                "flex_expired",
                format!("flex {flex_id} would end in the past; reject it"),
            ));
        }
        diesel::insert_into(window_flex_votes::table)
            .values((
                window_flex_votes::flex_id.eq(flex_id),
                window_flex_votes::voter_id.eq(user.id),
                window_flex_votes::decision.eq(decision.db()),
                window_flex_votes::reason.eq(&reason),
                window_flex_votes::at.eq(now),
            ))
            .execute(conn)
            .await?;
        let e = NewEvent::on(Entity::Window, window_id, "flex_vote")
            .by(Some(user.id))
            .because(reason.clone())
            .detail(serde_json::json!({ "flex_id": flex_id, "decision": decision }));
        log::record(conn, n, e, now).await?;
        let (f, w, misfits) =
            settle_flex(conn, n, w, f, Some(user.id), reason.clone(), now).await?;
        Ok(FlexDecision {
            flex: flex_view(conn, f).await?,
            window: view(conn, w).await?,
            reason,
            misfits,
        })
    })
    .await
}
