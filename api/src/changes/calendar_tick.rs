//! The committee's calendar runs itself: a daily tick materialises the coming weeks'
//! meetings and windows (a meeting's timers are set when it comes to exist) and repairs the
//! timers of every coming meeting.
use super::meetings::{ensure_meetings, schedule_meeting_timers};
use super::occurrences::HORIZON_WEEKS;
use super::windows::ensure_windows;
use crate::db::enums::Stored;
use crate::db::schema::committees;
use crate::platform::error::ApiResult;
use crate::queue::{enqueue, Lane, Next, Queued, Timer};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::rdm::CommitteeKind;
use serde::{Deserialize, Serialize};

/// Daily: the coming weeks' meetings and windows exist, with their timers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CalendarTick {}

impl Queued for CalendarTick {
    const KIND: &'static str = "calendar_tick";
    const LANE: Lane = Lane::Timers;
    const KEY_RETENTION: Option<Duration> = Some(Duration::days(90));
}

/// The key of the tick due on `at`'s day: one tick per day across all instances.
fn tick_key(at: DateTime<Utc>) -> String {
    format!("calendar_tick:{}", at.date_naive())
}

/// Makes sure the calendar tick is queued (at start-up; harmless if it already is).
pub async fn ensure_tick(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> ApiResult<()> {
    enqueue(conn, &CalendarTick {}, now, Some(tick_key(now)), now).await?;
    Ok(())
}

impl Timer for CalendarTick {
    type Context = ();

    async fn run(&self, _: &(), conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> ApiResult<()> {
        let until = now + Duration::weeks(HORIZON_WEEKS);
        let cms: Vec<i64> = committees::table
            .filter(committees::kind.eq(CommitteeKind::Cm.db()))
            .select(committees::id)
            .load(conn)
            .await?;
        for cid in cms {
            // Timers of every coming meeting, not only new ones: keys make this idempotent,
            // and a meeting whose timers were lost (or predate them) is repaired within a day.
            for m in ensure_meetings(conn, cid, now, until, now).await? {
                schedule_meeting_timers(conn, &m, now).await?;
            }
        }
        ensure_windows(conn, now, until).await?;
        Ok(())
    }

    /// The next tick, queued whatever happened to this one: one failing tick never ends the
    /// daily chain.
    fn successor(&self, now: DateTime<Utc>) -> Option<Next<Self>> {
        let next = now + Duration::days(1);
        Some(Next {
            job: CalendarTick {},
            run_at: next,
            key: tick_key(next),
        })
    }
}
