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
