//! The committee's calendar runs itself (SPEC §3.4): timers, as jobs, at each meeting's
//! cut-off (freeze the agenda, send it), start (remind missing voters) and end (carry
//! undecided RDMs over), a notice ahead of meetings on holidays, and a daily tick that
//! materialises the coming weeks. Every timer carries the instant it was set for: a meeting
//! moved since then has new timers, and the stale ones do nothing.
use crate::error::ApiResult;
use crate::jobs::{enqueue, Task};
use crate::models::{Meeting, Rdm};
use crate::notify::{self, VoteMail};
use crate::scheduling::{
    current_policy, ensure_meetings, ensure_windows, load_calendar, HORIZON_WEEKS,
};
use crate::schema::{committee_meetings, committees, rdms as t};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Sets the timers of a meeting (new, or just moved). Timers of past meetings are not set.
pub async fn schedule_meeting_timers(
    conn: &mut AsyncPgConnection,
    m: &Meeting,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if m.status != "scheduled" || m.ends_at <= now {
        return Ok(());
    }
    let id = m.id;
    let key = |what: &str, at: DateTime<Utc>| Some(format!("{what}:{id}:{}", at.timestamp()));
    enqueue(
        conn,
        &Task::MeetingCutoff {
            meeting_id: id,
            at: m.cutoff_at,
        },
        m.cutoff_at,
        key("meeting_cutoff", m.cutoff_at),
        now,
    )
    .await?;
    enqueue(
        conn,
        &Task::MeetingStart {
            meeting_id: id,
            at: m.starts_at,
        },
        m.starts_at,
        key("meeting_start", m.starts_at),
        now,
    )
    .await?;
    enqueue(
        conn,
        &Task::MeetingEnd {
            meeting_id: id,
            at: m.ends_at,
        },
        m.ends_at,
        key("meeting_end", m.ends_at),
        now,
    )
    .await?;
    if domain::schedule::needs_reschedule(m.on_holiday, m.rescheduled, true) {
        let days = current_policy(conn).await?.holiday_notice_days;
        let at = (m.starts_at - Duration::days(days as i64)).max(now);
        enqueue(
            conn,
            &Task::HolidayNotice { meeting_id: id },
            at,
            Some(format!("holiday_notice:{id}")),
            now,
        )
        .await?;
    }
    Ok(())
}

/// The meeting a timer is for, locked; None if it no longer exists.
async fn meeting(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Option<Meeting>> {
    match crate::controllers::meetings::find(conn, id, true).await {
        Ok(m) => Ok(Some(m)),
        Err(crate::error::ApiError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn awaiting_on(conn: &mut AsyncPgConnection, meeting_id: i64) -> ApiResult<Vec<Rdm>> {
    Ok(t::table
        .filter(t::meeting_id.eq(meeting_id))
        .filter(t::state.eq("awaiting_committee"))
        .order(t::id)
        .select(Rdm::as_select())
        .load(conn)
        .await?)
}

/// The cut-off: the agenda is frozen (RDMs ready later go to the next meeting) and sent.
pub async fn cutoff(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    meeting_id: i64,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(m) = meeting(conn, meeting_id).await? else {
        return Ok(());
    };
    if m.status != "scheduled" || m.cutoff_at != at || m.agenda_frozen_at.is_some() {
        return Ok(());
    }
    diesel::update(committee_meetings::table.find(m.id))
        .set(committee_meetings::agenda_frozen_at.eq(now))
        .execute(conn)
        .await?;
    let items = awaiting_on(conn, m.id).await?;
    notify::agenda(conn, &state.notifier, &m, &items, now).await
}

/// The meeting starts: voters still missing get a reminder with their links.
pub async fn remind(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    meeting_id: i64,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(m) = meeting(conn, meeting_id).await? else {
        return Ok(());
    };
    if m.status != "scheduled" || m.starts_at != at {
        return Ok(());
    }
    for rdm in awaiting_on(conn, m.id).await? {
        // Locked: an edit committing meanwhile would make these links stale on arrival.
        let rdm = crate::rdms::lock(conn, rdm.id).await?;
        if rdm.state == "awaiting_committee" && rdm.meeting_id == Some(m.id) {
            notify::vote_requests(conn, &state.notifier, &rdm, VoteMail::Reminder, now).await?;
        }
    }
    Ok(())
}

/// The meeting ends: it closes, and RDMs without a decision move to the next meeting.
pub async fn end(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    meeting_id: i64,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(m) = meeting(conn, meeting_id).await? else {
        return Ok(());
    };
    if m.status != "scheduled" || m.ends_at != at {
        return Ok(());
    }
    crate::controllers::meetings::close_and_carry_over(conn, &state.notifier, m, None, None, now)
        .await
        .map(|_| ())
}

/// A meeting on a holiday is near and still not moved: the change managers are told.
pub async fn holiday_notice(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    meeting_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(m) = meeting(conn, meeting_id).await? else {
        return Ok(());
    };
    if !domain::schedule::needs_reschedule(m.on_holiday, m.rescheduled, m.status == "scheduled")
        || m.holiday_flagged_at.is_some()
    {
        return Ok(());
    }
    let policy = current_policy(conn).await?;
    let (_, cal) = load_calendar(conn, policy.calendar_id).await?;
    let name = cal
        .holiday_on(m.original_date)
        .map(|h| h.name.clone())
        .unwrap_or_else(|| "feriado".into());
    diesel::update(committee_meetings::table.find(m.id))
        .set(committee_meetings::holiday_flagged_at.eq(now))
        .execute(conn)
        .await?;
    notify::holiday_meeting(conn, &state.notifier, &m, &name, now).await
}

/// The key of the tick due on `at`'s day: one tick per day across all instances.
fn tick_key(at: DateTime<Utc>) -> String {
    format!("calendar_tick:{}", at.date_naive())
}

/// Makes sure the calendar tick is queued (at start-up; harmless if it already is).
pub async fn ensure_tick(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> ApiResult<()> {
    enqueue(conn, &Task::CalendarTick, now, Some(tick_key(now)), now).await?;
    Ok(())
}

/// Daily: the coming weeks' meetings and windows exist (their timers with them), and the
/// next tick is queued.
pub async fn tick(
    _state: &AppState,
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let until = now + Duration::weeks(HORIZON_WEEKS);
    let cms: Vec<i64> = committees::table
        .filter(committees::kind.eq("cm"))
        .select(committees::id)
        .load(conn)
        .await?;
    for cid in cms {
        // Timers of every coming meeting, not only new ones: dedup keys make this idempotent,
        // and a meeting whose timers were lost (or predate them) is repaired within a day.
        for m in ensure_meetings(conn, cid, now, until, now).await? {
            schedule_meeting_timers(conn, &m, now).await?;
        }
    }
    ensure_windows(conn, now, until).await?;
    Ok(())
}

/// Queues the tick after the one running now. The queue calls it whatever the tick's outcome,
/// so one failing tick never ends the daily chain.
pub async fn next_tick(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> ApiResult<()> {
    let next = now + Duration::days(1);
    enqueue(conn, &Task::CalendarTick, next, Some(tick_key(next)), now).await?;
    Ok(())
}

/// A delegation comes into force: unless revoked meanwhile, its substitute gets the member's
/// links for the RDMs awaiting the member's vote.
pub async fn delegation_starts(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    delegation_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    use crate::schema::delegations as d;
    type Row = (i64, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);
    let row: Option<Row> = d::table
        .find(delegation_id)
        .select((d::member_id, d::starts_at, d::ends_at, d::revoked_at))
        .first(conn)
        .await
        .optional()?;
    match row {
        Some((member, starts, ends, None)) if starts <= now && now < ends => {
            crate::controllers::delegations::invite_substitute(conn, &state.notifier, member, now)
                .await
        }
        _ => Ok(()),
    }
}

/// Queues the reminder of an RDM sent to the CME: halfway to its links' expiry.
pub async fn schedule_cme_reminder(
    conn: &mut AsyncPgConnection,
    rdm: &Rdm,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let hours = current_policy(conn).await?.cme_vote_hours as i64;
    let at = now + Duration::minutes(hours * 30);
    let task = Task::CmeReminder {
        rdm_id: rdm.id,
        revision: rdm.revision,
    };
    let key = format!("cme_reminder:{}:{}", rdm.id, rdm.revision);
    enqueue(conn, &task, at, Some(key), now).await?;
    Ok(())
}

/// The CME reminder: voters still missing on the same revision get their links again.
pub async fn cme_reminder(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    rdm_id: i64,
    revision: i32,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let rdm = crate::rdms::lock(conn, rdm_id).await?;
    if rdm.state != "awaiting_committee" || rdm.revision != revision || rdm.meeting_id.is_some() {
        return Ok(());
    }
    notify::vote_requests(conn, &state.notifier, &rdm, VoteMail::Reminder, now).await?;
    Ok(())
}
