//! SLA clocks (SPEC §4.1, §6): a target counted in business hours of a calendar (or in
//! wall-clock hours for a 24×7 item), that runs, pauses (a ticket pending on the customer),
//! stops (met or breached), and is re-targeted when the priority changes.
//!
//! The one rule for a priority change: **the business time already elapsed is kept, and the
//! new target applies** (due = start of the running stretch + new target − time counted
//! before it). Paused time never counts.
use crate::calendar::{BusinessCalendar, CalendarError};
use chrono::{DateTime, Duration, Utc};

/// What a clock counts in.
#[derive(Debug, Clone, Copy)]
pub enum Hours<'a> {
    /// Business hours of a calendar.
    Business(&'a BusinessCalendar),
    /// Every hour of every day (24×7 items).
    RoundTheClock,
}

impl Hours<'_> {
    pub fn add(
        &self,
        from: DateTime<Utc>,
        amount: Duration,
    ) -> Result<DateTime<Utc>, CalendarError> {
        match self {
            Hours::Business(c) => c.add_business_hours(from, amount),
            Hours::RoundTheClock => Ok(from + amount.max(Duration::zero())),
        }
    }
    pub fn between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        match self {
            Hours::Business(c) => c.business_time_between(a, b),
            Hours::RoundTheClock => (b - a).max(Duration::zero()),
        }
    }
    /// Whether counted time passes at `at` (notifications wait for it).
    pub fn counts_at(&self, at: DateTime<Utc>) -> bool {
        match self {
            Hours::Business(c) => c.is_business_time(at),
            Hours::RoundTheClock => true,
        }
    }
    /// The first instant at or after `at` when counted time passes.
    pub fn next_counting(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Hours::Business(c) => c.next_opening(at),
            Hours::RoundTheClock => Some(at),
        }
    }
}

/// One clock: its target, the time counted so far, and where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaClock {
    pub target: Duration,
    /// Time counted before the current running stretch.
    pub accrued: Duration,
    /// Start of the current running stretch; None while paused or stopped.
    pub running_since: Option<DateTime<Utc>>,
    /// When the target is reached if the clock keeps running; None unless running.
    pub due_at: Option<DateTime<Utc>>,
    /// When the target was passed, once known.
    pub breached_at: Option<DateTime<Utc>>,
    /// When the clock stopped (first response given, ticket resolved).
    pub stopped_at: Option<DateTime<Utc>>,
}

/// Where a clock stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    Running,
    Paused,
    Met,
    Breached,
}

impl SlaClock {
    /// A clock starting at `now`.
    pub fn start(h: Hours, now: DateTime<Utc>, target: Duration) -> Result<Self, CalendarError> {
        Ok(SlaClock {
            target,
            accrued: Duration::zero(),
            running_since: Some(now),
            due_at: Some(h.add(now, target)?),
            breached_at: None,
            stopped_at: None,
        })
    }

    /// Counted time at `now`.
    pub fn elapsed(&self, h: Hours, now: DateTime<Utc>) -> Duration {
        match self.running_since {
            Some(since) => self.accrued + h.between(since, now),
            None => self.accrued,
        }
    }

    /// Share of the target elapsed at `now` (1.0 = due; above 1 = late).
    pub fn share_elapsed(&self, h: Hours, now: DateTime<Utc>) -> f64 {
        let target = self.target.num_seconds().max(1) as f64;
        self.elapsed(h, now).num_seconds() as f64 / target
    }

    /// The breach instant, if the clock is breached at `now`.
    pub fn breach_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.breached_at.or(self
            .due_at
            .filter(|d| *d < now && self.running_since.is_some()))
    }

    pub fn state(&self, now: DateTime<Utc>) -> ClockState {
        if self.breach_at(now).is_some() {
            ClockState::Breached
        } else if self.stopped_at.is_some() {
            ClockState::Met
        } else if self.running_since.is_some() {
            ClockState::Running
        } else {
            ClockState::Paused
        }
    }

    /// Records the breach if the running stretch passed its due instant by `now`.
    fn settle(&mut self, now: DateTime<Utc>) {
        if self.breached_at.is_none() {
            if let Some(due) = self.due_at.filter(|d| *d < now) {
                self.breached_at = Some(due);
            }
        }
    }

    /// Stops counting (pending): the stretch's time is kept.
    pub fn pause(&mut self, h: Hours, now: DateTime<Utc>) {
        if let Some(since) = self.running_since.take() {
            self.settle(now);
            self.accrued += h.between(since, now);
            self.due_at = None;
        }
    }

    /// Counts again from `now`.
    pub fn resume(&mut self, h: Hours, now: DateTime<Utc>) -> Result<(), CalendarError> {
        if self.running_since.is_none() && self.stopped_at.is_none() {
            self.running_since = Some(now);
            self.due_at = Some(h.add(now, self.target - self.accrued)?);
        }
        Ok(())
    }

    /// Met or breached, for good (until [`SlaClock::restart`]).
    pub fn stop(&mut self, h: Hours, now: DateTime<Utc>) {
        if self.stopped_at.is_none() {
            self.pause(h, now);
            self.stopped_at = Some(now);
        }
    }

    /// A reopened ticket's clock counts again from `now`, keeping what it had counted.
    pub fn restart(&mut self, h: Hours, now: DateTime<Utc>) -> Result<(), CalendarError> {
        self.stopped_at = None;
        self.resume(h, now)
    }

    /// A new target (priority change): elapsed time is kept, the new target applies.
    pub fn retarget(
        &mut self,
        h: Hours,
        now: DateTime<Utc>,
        target: Duration,
    ) -> Result<(), CalendarError> {
        let elapsed = self.elapsed(h, now);
        self.target = target;
        if let Some(since) = self.running_since {
            let due = h.add(since, target - self.accrued)?;
            self.due_at = Some(due);
            self.breached_at = (due < now).then_some(due);
        } else if elapsed > target {
            // Paused or stopped past the new target: breached, known from now.
            self.breached_at = self.breached_at.or(Some(now));
        } else {
            self.breached_at = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Holiday;
    use chrono::{NaiveDate, TimeZone};

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

    #[test]
    fn runs_across_a_weekend_and_a_holiday() {
        let c = cal();
        let h = Hours::Business(&c);
        // Thursday 24 Dec 17:00 + 8 business hours: 2 on Thursday, Friday is Christmas,
        // the weekend does not count, 6 on Monday 28 → 13:00.
        let clock = SlaClock::start(h, sp(2026, 12, 24, 17, 0), Duration::hours(8)).unwrap();
        assert_eq!(clock.due_at, Some(sp(2026, 12, 28, 13, 0)));
        assert_eq!(clock.state(sp(2026, 12, 28, 12, 59)), ClockState::Running);
        assert_eq!(clock.state(sp(2026, 12, 28, 13, 1)), ClockState::Breached);
    }

    #[test]
    fn paused_time_never_counts() {
        let c = cal();
        let h = Hours::Business(&c);
        let mut clock = SlaClock::start(h, sp(2026, 11, 23, 9, 0), Duration::hours(4)).unwrap();
        clock.pause(h, sp(2026, 11, 23, 10, 0)); // 1 h counted
        assert_eq!(
            clock.elapsed(h, sp(2026, 11, 24, 18, 0)),
            Duration::hours(1)
        );
        clock.resume(h, sp(2026, 11, 25, 8, 0)).unwrap();
        assert_eq!(clock.due_at, Some(sp(2026, 11, 25, 11, 0)));
    }

    #[test]
    fn priority_change_keeps_elapsed_and_applies_the_new_target() {
        let c = cal();
        let h = Hours::Business(&c);
        let mut clock = SlaClock::start(h, sp(2026, 11, 23, 9, 0), Duration::hours(24)).unwrap();
        clock.pause(h, sp(2026, 11, 23, 11, 0)); // 2 h
        clock.resume(h, sp(2026, 11, 24, 9, 0)).unwrap();
        // At 10:00 Tuesday: 3 h elapsed; new target 4 h → due 10:00 + 1 h.
        clock
            .retarget(h, sp(2026, 11, 24, 10, 0), Duration::hours(4))
            .unwrap();
        assert_eq!(clock.due_at, Some(sp(2026, 11, 24, 11, 0)));
        assert_eq!(clock.breached_at, None);
        // Lower than what elapsed: breached at the instant the new target was reached.
        clock
            .retarget(h, sp(2026, 11, 24, 10, 0), Duration::hours(2))
            .unwrap();
        // Below what was counted before this stretch: breached from the stretch's start.
        assert_eq!(clock.breached_at, Some(sp(2026, 11, 24, 9, 0)));
        let share = clock.share_elapsed(h, sp(2026, 11, 24, 10, 0));
        assert!((share - 1.5).abs() < 1e-9);
    }

    #[test]
    fn stopping_in_time_is_met_and_late_is_breached_at_the_due_instant() {
        let c = cal();
        let h = Hours::Business(&c);
        let mut a = SlaClock::start(h, sp(2026, 11, 23, 9, 0), Duration::hours(2)).unwrap();
        a.stop(h, sp(2026, 11, 23, 10, 0));
        assert_eq!(a.state(sp(2026, 12, 1, 0, 0)), ClockState::Met);
        let mut b = SlaClock::start(h, sp(2026, 11, 23, 9, 0), Duration::hours(2)).unwrap();
        b.stop(h, sp(2026, 11, 23, 12, 0));
        assert_eq!(b.breached_at, Some(sp(2026, 11, 23, 11, 0)));
        assert_eq!(b.state(sp(2026, 12, 1, 0, 0)), ClockState::Breached);
    }

    #[test]
    fn round_the_clock_counts_every_hour() {
        let h = Hours::RoundTheClock;
        let clock = SlaClock::start(h, sp(2026, 11, 28, 22, 0), Duration::hours(4)).unwrap();
        assert_eq!(clock.due_at, Some(sp(2026, 11, 29, 2, 0)));
    }
}
