//! The one clock every rule reads (SPEC §6): never the database's `now()`.
use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, RwLock};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock shifted to start at a chosen instant and run on from there: an operator
/// replays a day (`GMUD_CLOCK_START`) without touching the machine's time.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock(Duration);

impl OffsetClock {
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        OffsetClock(start - Utc::now())
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}

/// A clock that tests and operators replaying a day set by hand. Cloning shares the time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<RwLock<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(RwLock::new(at)))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.write().expect("clock lock") = at;
    }
    pub fn advance(&self, by: Duration) {
        *self.0.write().expect("clock lock") += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.read().expect("clock lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_clock_starts_where_it_is_told_and_runs_on() {
        let start = Utc::now() - Duration::days(30);
        let c = OffsetClock::starting_at(start);
        let first = c.now();
        assert!(
            (first - start).num_seconds().abs() < 2,
            "{first} vs {start}"
        );
        assert!(c.now() >= first);
        let m = ManualClock::new(start);
        m.advance(Duration::hours(60));
        assert_eq!(m.now(), start + Duration::hours(60));
    }
}
