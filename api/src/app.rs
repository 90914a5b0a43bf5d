//! What the application is made of, assembled in one place: the state every handler and job
//! shares, and the registry of every job kind. Above every context, below `http/`.
use crate::changes::calendar_tick::CalendarTick;
use crate::changes::delegations::DelegationStarts;
use crate::changes::meetings::{HolidayNotice, MeetingCutoff, MeetingEnd, MeetingStart};
use crate::changes::votes::CmeReminder;
use crate::identity::tokens::JwtKeys;
use crate::notify::mail::{Mailer, OutgoingMail};
use crate::notify::Notifier;
use crate::platform::clock::Clock;
use crate::platform::error::ApiResult;
use crate::platform::pool::Pool;
use crate::queue::prune::{self, PruneJobs, Retention};
use crate::queue::{Provides, Registry, Worker};
use std::sync::Arc;

/// Everything a handler or a job may use, typed. No globals.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
    pub mailer: Arc<Mailer>,
    pub notifier: Notifier,
    pub registry: Arc<Registry<AppState>>,
    pub retention: Retention,
}

impl AppState {
    pub fn new(
        pool: Pool,
        clock: Arc<dyn Clock>,
        jwt: JwtKeys,
        mailer: Mailer,
        notifier: Notifier,
    ) -> Self {
        AppState {
            pool,
            clock,
            jwt,
            mailer: Arc::new(mailer),
            notifier,
            registry: Arc::new(registry()),
            retention: Retention {
                done_jobs: chrono::Duration::days(30),
            },
        }
    }

    /// How long done jobs are kept.
    pub fn with_retention(mut self, done_jobs: chrono::Duration) -> Self {
        self.retention = Retention { done_jobs };
        self
    }

    /// A worker running this application's jobs.
    pub fn worker(&self) -> Worker<AppState> {
        Worker {
            pool: self.pool.clone(),
            clock: self.clock.clone(),
            registry: self.registry.clone(),
            context: self.clone(),
        }
    }

    /// Queues the recurring timers (the committee calendar's daily tick, the queue's daily
    /// prune); harmless if they already are.
    pub async fn ensure_recurring_jobs(&self) -> ApiResult<()> {
        let mut conn = self.pool.get().await?;
        let now = self.clock.now();
        crate::changes::calendar_tick::ensure_tick(&mut conn, now).await?;
        prune::ensure(&mut conn, now).await
    }
}

/// Every job kind the workers run. A new job is a type beside the code it drives, and one
/// line here.
pub fn registry() -> Registry<AppState> {
    Registry::default()
        .delivery::<OutgoingMail>()
        .timer::<MeetingCutoff>()
        .timer::<MeetingStart>()
        .timer::<MeetingEnd>()
        .timer::<HolidayNotice>()
        .timer::<CalendarTick>()
        .timer::<DelegationStarts>()
        .timer::<CmeReminder>()
        .timer::<PruneJobs>()
}

impl Provides<Notifier> for AppState {
    fn provide(&self) -> &Notifier {
        &self.notifier
    }
}

impl Provides<Mailer> for AppState {
    fn provide(&self) -> &Mailer {
        &self.mailer
    }
}

impl Provides<Retention> for AppState {
    fn provide(&self) -> &Retention {
        &self.retention
    }
}

impl Provides<()> for AppState {
    fn provide(&self) -> &() {
        &()
    }
}
