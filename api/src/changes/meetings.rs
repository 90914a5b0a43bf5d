//! Committee meetings (SPEC §3.2 step 6, §3.4): occurrences materialised from the calendar
//! policy, the agenda each RDM goes on, moving one occurrence, closing one with carry-over,
//! and the meeting's own clock: timers at its cut-off (freeze the agenda, send it), start
//! (remind missing voters) and end (carry undecided RDMs over), and a notice ahead of
//! meetings on holidays. Every timer carries the instant it was set for: a meeting moved
//! since has new timers, and the stale ones do nothing.
use super::log;
use super::occurrences::{move_error, HORIZON_WEEKS};
use super::policy::{current_policy, policy_from_row};
use super::rdms::store;
use crate::calendar::load_calendar;
use crate::db::enums::Stored;
use crate::db::models::{Meeting, Rdm};
use crate::db::schema::{committee_meetings, committees, rdms as t};
use crate::events::{self, Entity, NewEvent};
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use crate::queue::{enqueue, Lane, Queued, Timer};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::rdm::{CommitteeKind, RdmState};
use domain::rdm::{Priority, RdmType};
use domain::schedule::MeetingStatus;
use domain::schedule::{
    agenda_meeting, carry_over_ready_at, check_meeting_move, cutoff_for, AgendaSlot,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// How far ahead a listing goes by default.
pub const DEFAULT_WEEKS: i64 = 8;

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: i64,
    pub committee_id: i64,
    /// The local date the policy generated it for; stays its identity when it is moved.
    pub original_date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// RDMs ready before this instant go on its agenda.
    pub cutoff_at: DateTime<Utc>,
    /// The original date is a holiday of the policy's calendar.
    pub on_holiday: bool,
    pub rescheduled: bool,
    /// `scheduled` or `closed`.
    pub status: String,
    /// Falls on a holiday and was not moved yet: the change manager should reschedule it.
    pub needs_reschedule: bool,
    /// The calendar policy version it was generated from.
    pub policy_version: i32,
    /// Who closed it, when, and their note.
    pub closed_by: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_note: Option<String>,
    /// When the cut-off froze its agenda and sent it to the members.
    pub agenda_frozen_at: Option<DateTime<Utc>>,
    /// When the change managers were told it falls on a holiday.
    pub holiday_flagged_at: Option<DateTime<Utc>>,
}

fn needs_reschedule(m: &Meeting) -> bool {
    domain::schedule::needs_reschedule(
        m.on_holiday,
        m.rescheduled,
        m.status == MeetingStatus::Scheduled,
    )
}

impl From<Meeting> for MeetingView {
    fn from(m: Meeting) -> Self {
        MeetingView {
            needs_reschedule: needs_reschedule(&m),
            id: m.id,
            committee_id: m.committee_id,
            original_date: m.original_date,
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            cutoff_at: m.cutoff_at,
            on_holiday: m.on_holiday,
            rescheduled: m.rescheduled,
            status: m.status.as_str().to_string(),
            policy_version: m.policy_version,
            closed_by: m.closed_by,
            closed_at: m.closed_at,
            close_note: m.close_note,
            agenda_frozen_at: m.agenda_frozen_at,
            holiday_flagged_at: m.holiday_flagged_at,
        }
    }
}

/// An RDM on a meeting's agenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaItem {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub state: String,
    pub rdm_type: String,
    pub priority: Option<String>,
}

/// One move of the meeting (audit).
#[derive(Debug, Serialize, ToSchema)]
pub struct RescheduleView {
    pub id: i64,
    pub old_starts_at: DateTime<Utc>,
    pub new_starts_at: DateTime<Utc>,
    pub new_ends_at: DateTime<Utc>,
    pub reason: String,
    pub actor_id: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingDetail {
    #[serde(flatten)]
    pub meeting: MeetingView,
    /// RDMs booked on it, by id.
    pub agenda: Vec<AgendaItem>,
    /// Its moves, oldest first.
    pub reschedules: Vec<RescheduleView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    /// The new start; in the future.
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`, at most 24 hours later.
    pub ends_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Minutes or remarks; kept in the carry-over history of each RDM moved on.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CloseResult {
    pub meeting: MeetingView,
    /// RDMs still awaiting the committee, moved to the next meeting.
    pub carried_over: Vec<i64>,
    /// Where they went; null when nothing was carried over.
    pub next_meeting_id: Option<i64>,
    pub note: Option<String>,
}

/// Refuses a move of meeting `m` to [starts_at, ends_at) at `now`.
fn check_reschedule(
    m: &Meeting,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    check_meeting_move(
        m.status == MeetingStatus::Scheduled,
        m.starts_at,
        starts_at,
        ends_at,
        now,
    )
    .map_err(|e| move_error(e, &format!("meeting {}", m.id)))
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64, lock: bool) -> ApiResult<Meeting> {
    let q = committee_meetings::table
        .find(id)
        .select(Meeting::as_select());
    let found = if lock {
        q.for_no_key_update().first(conn).await
    } else {
        q.first(conn).await
    };
    found
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("meeting {id}")))
}

pub async fn detail(conn: &mut AsyncPgConnection, m: Meeting) -> ApiResult<MeetingDetail> {
    type Row = (i64, String, RdmState, RdmType, Option<Priority>);
    let agenda: Vec<Row> = t::table
        .filter(t::meeting_id.eq(m.id))
        .order(t::id)
        .select((t::id, t::title, t::state, t::rdm_type, t::priority))
        .load(conn)
        .await?;
    let reschedules = events::of_action(conn, Entity::Meeting, m.id, "reschedule")
        .await?
        .into_iter()
        .map(reschedule_view)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(MeetingDetail {
        meeting: m.into(),
        agenda: agenda
            .into_iter()
            .map(|(id, title, state, rdm_type, priority)| AgendaItem {
                id,
                number: store::number(id),
                title,
                state: state.as_str().to_string(),
                rdm_type: rdm_type.as_str().to_string(),
                priority: priority.map(|p| p.as_str().to_string()),
            })
            .collect(),
        reschedules,
    })
}

/// A move as the API shows it, read back from its event.
fn reschedule_view(e: events::Event) -> ApiResult<RescheduleView> {
    let at = |field: &str| -> ApiResult<DateTime<Utc>> {
        Ok(serde_json::from_value(
            e.detail.get(field).cloned().unwrap_or_default(),
        )?)
    };
    Ok(RescheduleView {
        id: e.id,
        old_starts_at: at("old_starts_at")?,
        new_starts_at: at("new_starts_at")?,
        new_ends_at: at("new_ends_at")?,
        reason: e.reason.clone().unwrap_or_default(),
        actor_id: e.actor_id.unwrap_or_default(),
        at: e.at,
    })
}

/// Makes sure the committee's meeting occurrences in [from, until) exist; returns them in order.
pub async fn ensure_meetings(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Meeting>> {
    let row = current_policy(conn).await?;
    let policy = policy_from_row(&row)?;
    // The occurrences' dates, before looking at holidays (only needed to create them).
    let dates: Vec<NaiveDate> = policy
        .meetings(from, until, |_| false)
        .iter()
        .map(|m| m.occurrence.original_date)
        .collect();
    let found = meetings_in(conn, committee_id, &dates, from, until).await?;
    // Reads read: the daily tick materialises the coming weeks, so a listing writes only when
    // it reaches past them (or a policy change dropped them).
    if dates
        .iter()
        .all(|d| found.iter().any(|m| m.original_date == *d))
    {
        return Ok(found);
    }
    let (_, cal) = load_calendar(conn, row.calendar_id, from).await?;
    let occ = policy.meetings(from, until, |d| cal.holiday_on(d).is_some());
    let values: Vec<_> = occ
        .iter()
        .filter(|m| {
            !found
                .iter()
                .any(|f| f.original_date == m.occurrence.original_date)
        })
        .map(|m| {
            (
                committee_meetings::committee_id.eq(committee_id),
                committee_meetings::original_date.eq(m.occurrence.original_date),
                committee_meetings::starts_at.eq(m.occurrence.starts_at),
                committee_meetings::ends_at.eq(m.occurrence.ends_at),
                committee_meetings::cutoff_at.eq(m.cutoff_at),
                committee_meetings::on_holiday.eq(m.on_holiday),
                committee_meetings::policy_version.eq(row.version),
            )
        })
        .collect();
    let created: Vec<Meeting> = diesel::insert_into(committee_meetings::table)
        .values(values)
        .on_conflict_do_nothing()
        .returning(Meeting::as_returning())
        .get_results(conn)
        .await?;
    // A meeting's timers are set when it comes to exist, in the same transaction.
    for m in &created {
        schedule_meeting_timers(conn, m, now).await?;
    }
    meetings_in(conn, committee_id, &dates, from, until).await
}

/// The committee's meetings generated for `dates`, or lying in `[from, until)` (a moved
/// occurrence may have left or entered the range), by start.
async fn meetings_in(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
    dates: &[NaiveDate],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> ApiResult<Vec<Meeting>> {
    Ok(committee_meetings::table
        .filter(committee_meetings::committee_id.eq(committee_id))
        .filter(
            committee_meetings::original_date
                .eq_any(dates)
                .or(committee_meetings::starts_at
                    .lt(until)
                    .and(committee_meetings::ends_at.gt(from))),
        )
        .order(committee_meetings::starts_at)
        .select(Meeting::as_select())
        .load(conn)
        .await?)
}

/// The first open meeting whose cut-off is after `ready_at`.
pub async fn next_meeting(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
    ready_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Meeting> {
    let meetings = ensure_meetings(
        conn,
        committee_id,
        ready_at,
        ready_at + Duration::weeks(HORIZON_WEEKS),
        now,
    )
    .await?;
    let open: Vec<&Meeting> = meetings
        .iter()
        // A frozen agenda (its cut-off passed, even if the meeting moved since) takes no more.
        .filter(|m| m.status == MeetingStatus::Scheduled && m.agenda_frozen_at.is_none())
        .collect();
    let slots: Vec<AgendaSlot<i64>> = open
        .iter()
        .map(|m| AgendaSlot {
            id: m.id,
            cutoff_at: m.cutoff_at,
        })
        .collect();
    let chosen = agenda_meeting(ready_at, &slots).ok_or_else(|| {
        ApiError::conflict(
            "no_meeting",
            "no committee meeting is scheduled in the coming weeks",
        )
    })?;
    Ok(open
        .into_iter()
        .find(|m| m.id == chosen)
        .cloned()
        .expect("chosen from the list"))
}

/// Which committee a listing is for: the one asked for (a CM), or the first CM.
pub async fn listed_committee(
    conn: &mut AsyncPgConnection,
    committee_id: Option<i64>,
) -> ApiResult<i64> {
    let filter_committee_id = committee_id;
    let committee: Option<(i64, CommitteeKind)> = match filter_committee_id {
        Some(id) => committees::table
            .find(id)
            .select((committees::id, committees::kind))
            .first(conn)
            .await
            .optional()?,
        None => committees::table
            .filter(committees::kind.eq(CommitteeKind::Cm.db()))
            .order(committees::id)
            .select((committees::id, committees::kind))
            .first(conn)
            .await
            .optional()?,
    };
    let committee_id = match (committee, filter_committee_id) {
        (Some((id, CommitteeKind::Cm)), _) => id,
        (Some(_), _) => {
            return Err(ApiError::validation(
                "committee_id",
                "invalid",
                "a cme committee decides at any time and has no meetings",
            ))
        }
        (None, Some(id)) => {
            return Err(ApiError::validation(
                "committee_id",
                "unknown",
                format!("no committee {id}"),
            ))
        }
        (None, None) => {
            return Err(ApiError::conflict(
                "no_committee",
                "no cm committee is configured",
            ))
        }
    };
    Ok(committee_id)
}

/// A committee's meetings in `[from, to)`, by start.
pub async fn list(
    conn: &mut AsyncPgConnection,
    committee_id: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<MeetingView>> {
    let committee_id = listed_committee(conn, committee_id).await?;
    let meetings = ensure_meetings(conn, committee_id, from, to, now).await?;
    Ok(meetings.into_iter().map(MeetingView::from).collect())
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<MeetingDetail> {
    let m = find(conn, id, false).await?;
    detail(conn, m).await
}

/// Moves one occurrence (e.g. one falling on a holiday), in advance. Its cut-off follows the
/// new start under the policy in force; the move is audited; its timers are set anew.
pub async fn reschedule(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user_id: i64,
    id: i64,
    body: &RescheduleRequest,
    now: DateTime<Utc>,
) -> ApiResult<MeetingDetail> {
    let reason = body.reason.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::validation(
            "reason",
            "required",
            "say why it moves",
        ));
    }
    let out = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let m = find(conn, id, true).await?;
            check_reschedule(&m, body.starts_at, body.ends_at, now)?;
            let row = current_policy(conn).await?;
            let policy = policy_from_row(&row)?;
            // Moving a meeting off a holiday onto another holiday fixes nothing.
            let (_, cal) = load_calendar(conn, row.calendar_id, body.starts_at).await?;
            if let Some(h) = cal.holiday_during(body.starts_at, body.ends_at, policy.tz()) {
                return Err(ApiError::validation(
                    "starts_at",
                    "holiday",
                    format!(
                        "{} is a holiday ({}): choose a business day",
                        h.date, h.name
                    ),
                ));
            }
            let cutoff_at = cutoff_for(policy.tz(), policy.cutoff(), body.starts_at);
            diesel::update(committee_meetings::table.find(id))
                .set((
                    committee_meetings::starts_at.eq(body.starts_at),
                    committee_meetings::ends_at.eq(body.ends_at),
                    committee_meetings::cutoff_at.eq(cutoff_at),
                    committee_meetings::rescheduled.eq(true),
                ))
                .execute(conn)
                .await?;
            let e = NewEvent::on(Entity::Meeting, id, "reschedule")
                .by(Some(user_id))
                .because(Some(reason.clone()))
                .detail(serde_json::json!({
                    "old_starts_at": m.starts_at,
                    "new_starts_at": body.starts_at,
                    "new_ends_at": body.ends_at,
                }));
            log::record(conn, n, e, now).await?;
            let m = find(conn, id, false).await?;
            // New timers for the new instants; the old ones find the meeting moved and do nothing.
            schedule_meeting_timers(conn, &m, now).await?;
            detail(conn, m).await
        })
        .await?;
    Ok(out)
}

/// Closes a meeting once it has started; RDMs on its agenda still awaiting the committee
/// (votes not all in) are carried over to the next meeting whose cut-off they meet.
pub async fn close(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user_id: i64,
    id: i64,
    note: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<CloseResult> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let out = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let m = find(conn, id, true).await?;
            if m.status != MeetingStatus::Scheduled {
                return Err(ApiError::conflict(
                    "meeting_closed",
                    format!("meeting {id} is already closed"),
                ));
            }
            if m.starts_at > now {
                return Err(ApiError::conflict(
                    "meeting_not_started",
                    format!("meeting {id} has not started yet; reschedule it instead"),
                ));
            }
            close_and_carry_over(conn, n, m, Some(user_id), note, now).await
        })
        .await?;
    Ok(out)
}

/// Closes meeting `m` (locked by the caller) and carries the RDMs still awaiting the committee
/// over to the next meeting whose cut-off they meet; everyone concerned is told. `closed_by`
/// is None when the meeting's end timer closes it.
pub async fn close_and_carry_over(
    conn: &mut AsyncPgConnection,
    notifier: &Notifier,
    m: Meeting,
    closed_by: Option<i64>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<CloseResult> {
    let id = m.id;
    diesel::update(committee_meetings::table.find(id))
        .set((
            committee_meetings::status.eq(MeetingStatus::Closed.db()),
            committee_meetings::closed_by.eq(closed_by),
            committee_meetings::closed_at.eq(now),
            committee_meetings::close_note.eq(&note),
        ))
        .execute(conn)
        .await?;
    let pending: Vec<Rdm> = t::table
        .filter(t::meeting_id.eq(id))
        .filter(t::state.eq(RdmState::AwaitingCommittee.db()))
        .order(t::id)
        .for_no_key_update()
        .select(Rdm::as_select())
        .load(conn)
        .await?;
    let mut next_id = None;
    if !pending.is_empty() {
        // After its end, and never onto a meeting whose cut-off has already passed
        // (a meeting closed late).
        let next = next_meeting(
            conn,
            m.committee_id,
            carry_over_ready_at(m.ends_at, now),
            now,
        )
        .await?;
        next_id = Some(next.id);
        for rdm in &pending {
            diesel::update(t::table.find(rdm.id))
                .set(t::meeting_id.eq(next.id))
                .execute(conn)
                .await?;
            store::bump(conn, rdm, now).await?;
            // Everyone is told (SPEC §3.2 step 6), from this event; missing voters get links
            // for the new meeting.
            store::record(
                conn,
                notifier,
                rdm.id,
                "carry_over",
                Some(RdmState::AwaitingCommittee),
                RdmState::AwaitingCommittee,
                closed_by,
                None,
                serde_json::json!({
                    "from_meeting_id": id,
                    "to_meeting_id": next.id,
                    "note": note,
                }),
                now,
            )
            .await?;
        }
    }
    let carried: Vec<i64> = pending.iter().map(|r| r.id).collect();
    let e = NewEvent::on(Entity::Meeting, id, "close")
        .states(
            Some(MeetingStatus::Scheduled.as_str()),
            Some(MeetingStatus::Closed.as_str()),
        )
        .by(closed_by)
        .because(note.clone())
        .detail(serde_json::json!({ "carried_over": carried, "next_meeting_id": next_id }));
    log::record(conn, notifier, e, now).await?;
    let m = find(conn, id, false).await?;
    Ok(CloseResult {
        meeting: m.into(),
        carried_over: pending.iter().map(|r| r.id).collect(),
        next_meeting_id: next_id,
        note,
    })
}

// ---------------------------------------------------------------------------------------
// The meeting's clock.
// ---------------------------------------------------------------------------------------

/// How long a meeting timer's key is kept after its instant: the daily tick only repairs the
/// timers of meetings that have not ended, so past keys need not stay forever.
const TIMER_KEY_RETENTION: Duration = Duration::days(90);

/// A meeting's cut-off: its agenda is frozen (RDMs ready later go to the next meeting) and
/// sent to the members.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MeetingCutoff {
    pub meeting_id: i64,
    /// The cut-off it was set for: a meeting moved since has a new timer.
    pub at: DateTime<Utc>,
}

/// A meeting starts: voters whose vote is missing are reminded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MeetingStart {
    pub meeting_id: i64,
    pub at: DateTime<Utc>,
}

/// A meeting ends: it closes, and RDMs without a decision move to the next meeting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MeetingEnd {
    pub meeting_id: i64,
    pub at: DateTime<Utc>,
}

/// A meeting on a holiday is near and still not moved: the change managers are told.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HolidayNotice {
    pub meeting_id: i64,
}

macro_rules! meeting_timer {
    ($t:ty, $kind:literal) => {
        impl Queued for $t {
            const KIND: &'static str = $kind;
            const LANE: Lane = Lane::Timers;
            const KEY_RETENTION: Option<Duration> = Some(TIMER_KEY_RETENTION);
        }
    };
}
meeting_timer!(MeetingCutoff, "meeting_cutoff");
meeting_timer!(MeetingStart, "meeting_start");
meeting_timer!(MeetingEnd, "meeting_end");
meeting_timer!(HolidayNotice, "holiday_notice");

impl Timer for MeetingCutoff {
    type Context = Notifier;
    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let Some(m) = meeting(conn, self.meeting_id).await? else {
            return Ok(());
        };
        if m.status != MeetingStatus::Scheduled
            || m.cutoff_at != self.at
            || m.agenda_frozen_at.is_some()
        {
            return Ok(());
        }
        diesel::update(committee_meetings::table.find(m.id))
            .set(committee_meetings::agenda_frozen_at.eq(now))
            .execute(conn)
            .await?;
        // The agenda goes to the members from this event.
        let e = NewEvent::on(Entity::Meeting, m.id, "agenda_frozen")
            .detail(serde_json::json!({ "cutoff_at": m.cutoff_at }));
        log::record(conn, n, e, now).await.map(|_| ())
    }
}

impl Timer for MeetingStart {
    type Context = Notifier;
    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let Some(m) = meeting(conn, self.meeting_id).await? else {
            return Ok(());
        };
        if m.status != MeetingStatus::Scheduled || m.starts_at != self.at {
            return Ok(());
        }
        // Run late (the server was down): once the meeting is over, its links have expired
        // and a reminder would say what is no longer true. Its end timer carries over.
        if now >= m.ends_at {
            return Ok(());
        }
        // Locked first: an edit committing meanwhile would make the reminders' links stale
        // on arrival. The reminders follow from the event.
        for rdm in awaiting_on(conn, m.id).await? {
            store::lock(conn, rdm.id).await?;
        }
        let e = NewEvent::on(Entity::Meeting, m.id, "start")
            .detail(serde_json::json!({ "starts_at": m.starts_at }));
        log::record(conn, n, e, now).await.map(|_| ())
    }
}

impl Timer for MeetingEnd {
    type Context = Notifier;
    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let Some(m) = meeting(conn, self.meeting_id).await? else {
            return Ok(());
        };
        if m.status != MeetingStatus::Scheduled || m.ends_at != self.at {
            return Ok(());
        }
        close_and_carry_over(conn, n, m, None, None, now)
            .await
            .map(|_| ())
    }
}

impl Timer for HolidayNotice {
    type Context = Notifier;
    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let Some(m) = meeting(conn, self.meeting_id).await? else {
            return Ok(());
        };
        // Run late, once the meeting has begun, "move it" is no longer advice anyone can take.
        if !domain::schedule::needs_reschedule(
            m.on_holiday,
            m.rescheduled,
            m.status == MeetingStatus::Scheduled,
        ) || m.holiday_flagged_at.is_some()
            || now >= m.starts_at
        {
            return Ok(());
        }
        let policy = current_policy(conn).await?;
        let (_, cal) = load_calendar(conn, policy.calendar_id, m.starts_at).await?;
        let name = cal
            .holiday_on(m.original_date)
            .map(|h| h.name.clone())
            .unwrap_or_else(|| "feriado".into());
        diesel::update(committee_meetings::table.find(m.id))
            .set(committee_meetings::holiday_flagged_at.eq(now))
            .execute(conn)
            .await?;
        // The change managers are told from this event.
        let e = NewEvent::on(Entity::Meeting, m.id, "holiday_flagged")
            .detail(serde_json::json!({ "holiday": name, "original_date": m.original_date }));
        log::record(conn, n, e, now).await.map(|_| ())
    }
}

/// Sets the timers of a meeting (new, or just moved). Timers of past meetings are not set.
pub async fn schedule_meeting_timers(
    conn: &mut AsyncPgConnection,
    m: &Meeting,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if m.status != MeetingStatus::Scheduled || m.ends_at <= now {
        return Ok(());
    }
    let id = m.id;
    let key = |what: &str, at: DateTime<Utc>| Some(format!("{what}:{id}:{}", at.timestamp()));
    let cutoff = MeetingCutoff {
        meeting_id: id,
        at: m.cutoff_at,
    };
    enqueue(
        conn,
        &cutoff,
        m.cutoff_at,
        key(MeetingCutoff::KIND, m.cutoff_at),
        now,
    )
    .await?;
    let start = MeetingStart {
        meeting_id: id,
        at: m.starts_at,
    };
    enqueue(
        conn,
        &start,
        m.starts_at,
        key(MeetingStart::KIND, m.starts_at),
        now,
    )
    .await?;
    let end = MeetingEnd {
        meeting_id: id,
        at: m.ends_at,
    };
    enqueue(conn, &end, m.ends_at, key(MeetingEnd::KIND, m.ends_at), now).await?;
    if domain::schedule::needs_reschedule(m.on_holiday, m.rescheduled, true) {
        let days = current_policy(conn).await?.holiday_notice_days;
        let at = (m.starts_at - Duration::days(days as i64)).max(now);
        let notice = HolidayNotice { meeting_id: id };
        enqueue(conn, &notice, at, Some(format!("holiday_notice:{id}")), now).await?;
    }
    Ok(())
}

/// The meeting a timer is for, locked; None if it no longer exists.
async fn meeting(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Option<Meeting>> {
    match find(conn, id, true).await {
        Ok(m) => Ok(Some(m)),
        Err(ApiError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn awaiting_on(conn: &mut AsyncPgConnection, meeting_id: i64) -> ApiResult<Vec<Rdm>> {
    Ok(t::table
        .filter(t::meeting_id.eq(meeting_id))
        .filter(t::state.eq(RdmState::AwaitingCommittee.db()))
        .order(t::id)
        .select(Rdm::as_select())
        .load(conn)
        .await?)
}
