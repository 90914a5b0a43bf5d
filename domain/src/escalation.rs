//! Escalation (SPEC §4.4): a policy's levels, each triggered by a share of a ticket's first
//! response or resolution target elapsed (in the ticket's own clock: business hours, or every
//! hour for a 24×7 item), each naming a target. A ticket's level is a state machine: it only
//! rises, while the ticket is open and its clock runs (pending pauses it; resolution stops
//! it). And who is on call for a team at an instant: rotations with overrides.
use crate::calendar::BusinessCalendar;
use crate::sla::{Hours, SlaClock};
use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// Which clock a level watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    FirstResponse,
    Resolution,
}

/// One level of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// 1, 2, 3… rising.
    pub level: i32,
    pub clock: Watched,
    /// Share of the target elapsed that triggers it (0.5 = half the target).
    pub share: f64,
    /// Whether the target is whoever is on call (notified at once, whatever the hour).
    pub on_call: bool,
}

/// The instant `clock` reaches `share` of its target, if it is running; an instant already
/// passed comes back as is (the level is due).
pub fn reaches(clock: &SlaClock, h: Hours, share: f64) -> Option<DateTime<Utc>> {
    let since = clock.running_since?;
    if clock.stopped_at.is_some() {
        return None;
    }
    let wanted =
        Duration::milliseconds((clock.target.num_milliseconds() as f64 * share).round() as i64);
    let left = wanted - clock.accrued;
    if left <= Duration::zero() {
        return Some(since);
    }
    h.add(since, left).ok()
}

/// The next level above `current` and when it triggers, given the two clocks (levels are
/// taken in order; a level whose clock is paused or stopped waits, and so do those above it).
pub fn next_level<'a>(
    levels: &'a [Level],
    current: i32,
    first_response: &SlaClock,
    resolution: &SlaClock,
    h: Hours,
) -> Option<(&'a Level, DateTime<Utc>)> {
    let next = levels
        .iter()
        .filter(|l| l.level > current)
        .min_by_key(|l| l.level)?;
    let clock = match next.clock {
        Watched::FirstResponse => first_response,
        Watched::Resolution => resolution,
    };
    reaches(clock, h, next.share).map(|at| (next, at))
}

/// When a level's notification goes out: at once for an on-call target or a 24×7 item; for a
/// business-hours item, at `now` if it is business time, else at the next opening (no mail at
/// midnight or at weekends for a business-hours service).
pub fn notify_at(
    level: &Level,
    round_the_clock: bool,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    if level.on_call || round_the_clock || calendar.is_business_time(now) {
        now
    } else {
        calendar.next_opening(now).unwrap_or(now)
    }
}

/// When a rotation covers an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// Every instant.
    Always,
    /// Outside the business hours of the team's calendar: evenings, weekends, holidays (the
    /// cloud team's stand-by).
    OutsideBusinessHours,
    /// Every week on `weekday` from `start` for `minutes`, local time (the Thursday
    /// 00:00–06:00 window rotation).
    Weekly {
        weekday: Weekday,
        start: NaiveTime,
        minutes: i64,
    },
}

/// A rotation: members take turns, handing over every `period` from `anchor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub id: i64,
    pub members: Vec<i64>,
    pub anchor: DateTime<Utc>,
    pub period: Duration,
    pub coverage: Coverage,
}

/// Someone on call instead of the rotation, for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub id: i64,
    pub user_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Who is on call, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCall {
    Override { override_id: i64, user_id: i64 },
    Rotation { rotation_id: i64, user_id: i64 },
}

impl OnCall {
    pub fn user_id(self) -> i64 {
        match self {
            OnCall::Override { user_id, .. } | OnCall::Rotation { user_id, .. } => user_id,
        }
    }
}

fn covers(c: &Coverage, calendar: &BusinessCalendar, tz: Tz, at: DateTime<Utc>) -> bool {
    match c {
        Coverage::Always => true,
        Coverage::OutsideBusinessHours => !calendar.is_business_time(at),
        Coverage::Weekly {
            weekday,
            start,
            minutes,
        } => {
            // The occurrence starting on this local date or on one of the days before it (a
            // window may cross midnight).
            let local = at.with_timezone(&tz).date_naive();
            (0..8).any(|back| {
                let day = local - Duration::days(back);
                day.weekday() == *weekday
                    && tz
                        .from_local_datetime(&day.and_time(*start))
                        .earliest()
                        .is_some_and(|s| {
                            let s = s.with_timezone(&Utc);
                            s <= at && at < s + Duration::minutes(*minutes)
                        })
            })
        }
    }
}

/// Who is on call at `at`: an override covering it wins; else the first rotation (in the
/// order given) whose coverage includes it, and its member whose turn it is.
pub fn on_call(
    rotations: &[Rotation],
    overrides: &[Override],
    calendar: &BusinessCalendar,
    at: DateTime<Utc>,
) -> Option<OnCall> {
    if let Some(o) = overrides
        .iter()
        .filter(|o| o.starts_at <= at && at < o.ends_at)
        .max_by_key(|o| o.id)
    {
        return Some(OnCall::Override {
            override_id: o.id,
            user_id: o.user_id,
        });
    }
    let tz = calendar.tz();
    rotations
        .iter()
        .filter(|r| !r.members.is_empty() && r.period > Duration::zero())
        .find(|r| covers(&r.coverage, calendar, tz, at))
        .map(|r| {
            let turns = (at - r.anchor)
                .num_seconds()
                .div_euclid(r.period.num_seconds());
            let i = turns.rem_euclid(r.members.len() as i64) as usize;
            OnCall::Rotation {
                rotation_id: r.id,
                user_id: r.members[i],
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Holiday;
    use chrono::NaiveDate;

    fn sp(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::America::Sao_Paulo
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn cal() -> BusinessCalendar {
        BusinessCalendar::default_brazil()
            .with_holidays(vec![Holiday::closed(
                NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
                "Natal",
            )])
            .unwrap()
    }

    fn levels() -> Vec<Level> {
        vec![
            Level {
                level: 1,
                clock: Watched::FirstResponse,
                share: 0.5,
                on_call: false,
            },
            Level {
                level: 2,
                clock: Watched::Resolution,
                share: 0.75,
                on_call: true,
            },
        ]
    }

    #[test]
    fn levels_trigger_in_order_at_their_share_of_the_clock() {
        let c = cal();
        let h = Hours::Business(&c);
        let start = sp(2026, 11, 23, 9, 0);
        let fr = SlaClock::start(h, start, Duration::hours(2)).unwrap();
        let res = SlaClock::start(h, start, Duration::hours(8)).unwrap();
        let levels = levels();
        let (l, at) = next_level(&levels, 0, &fr, &res, h).unwrap();
        assert_eq!((l.level, at), (1, sp(2026, 11, 23, 10, 0)));
        let (l, at) = next_level(&levels, 1, &fr, &res, h).unwrap();
        assert_eq!((l.level, at), (2, sp(2026, 11, 23, 15, 0)));
        assert!(next_level(&levels, 2, &fr, &res, h).is_none());
    }

    #[test]
    fn a_paused_or_stopped_clock_holds_its_levels() {
        let c = cal();
        let h = Hours::Business(&c);
        let mut res = SlaClock::start(h, sp(2026, 11, 23, 9, 0), Duration::hours(8)).unwrap();
        res.pause(h, sp(2026, 11, 23, 10, 0));
        assert!(reaches(&res, h, 0.75).is_none());
        res.resume(h, sp(2026, 11, 24, 9, 0)).unwrap();
        // 1 h counted before; 6 h − 1 h from Tuesday 09:00.
        assert_eq!(reaches(&res, h, 0.75), Some(sp(2026, 11, 24, 14, 0)));
        res.stop(h, sp(2026, 11, 24, 10, 0));
        assert!(reaches(&res, h, 0.75).is_none());
    }

    #[test]
    fn business_hours_notifications_wait_for_the_opening_but_on_call_does_not() {
        let c = cal();
        let l = &levels();
        let night = sp(2026, 11, 27, 23, 0); // Friday night
        assert_eq!(notify_at(&l[0], false, &c, night), sp(2026, 11, 30, 7, 0));
        assert_eq!(notify_at(&l[0], true, &c, night), night);
        assert_eq!(notify_at(&l[1], false, &c, night), night);
        let day = sp(2026, 11, 27, 10, 0);
        assert_eq!(notify_at(&l[0], false, &c, day), day);
    }

    #[test]
    fn on_call_rotations_and_overrides() {
        let c = cal();
        let standby = Rotation {
            id: 1,
            members: vec![10, 11],
            anchor: sp(2026, 11, 23, 7, 0),
            period: Duration::weeks(1),
            coverage: Coverage::OutsideBusinessHours,
        };
        let window = Rotation {
            id: 2,
            members: vec![20, 21, 22],
            anchor: sp(2026, 11, 26, 0, 0),
            period: Duration::weeks(1),
            coverage: Coverage::Weekly {
                weekday: Weekday::Thu,
                start: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
                minutes: 360,
            },
        };
        let rotas = [window.clone(), standby.clone()];
        // The Thursday window comes first; its turn rotates weekly.
        let at = |y, m, d, h| on_call(&rotas, &[], &c, sp(y, m, d, h, 0)).map(OnCall::user_id);
        assert_eq!(at(2026, 11, 26, 3), Some(20));
        assert_eq!(at(2026, 12, 3, 3), Some(21));
        assert_eq!(at(2026, 12, 10, 5), Some(22));
        // Thursday 06:00 is past the window: the stand-by; business hours: nobody.
        assert_eq!(at(2026, 11, 26, 6), Some(10));
        assert_eq!(at(2026, 11, 26, 10), None);
        // Weekend and holiday: stand-by; the second week, the other member.
        assert_eq!(at(2026, 11, 28, 12), Some(10));
        assert_eq!(at(2026, 12, 5, 12), Some(11));
        assert_eq!(at(2026, 12, 25, 12), Some(10));
        // An override wins.
        let o = Override {
            id: 5,
            user_id: 99,
            starts_at: sp(2026, 11, 28, 0, 0),
            ends_at: sp(2026, 11, 29, 0, 0),
        };
        assert_eq!(
            on_call(&rotas, &[o], &c, sp(2026, 11, 28, 12, 0)),
            Some(OnCall::Override {
                override_id: 5,
                user_id: 99
            })
        );
    }
}
