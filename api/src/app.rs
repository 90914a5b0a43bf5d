//! What the application is made of, assembled in one place: the state every handler and job
//! shares, and the registry of every job kind. Above every context, below `http/`.
use crate::changes::calendar_tick::CalendarTick;
use crate::changes::delegations::DelegationStarts;
use crate::changes::meetings::{HolidayNotice, MeetingCutoff, MeetingEnd, MeetingStart};
use crate::changes::votes::CmeReminder;
use crate::identity::access::AccessCache;
use crate::identity::passwords::PasswordChecks;
use crate::identity::throttle::LoginThrottle;
use crate::identity::tokens::JwtKeys;
use crate::notify::mail::{Mailer, OutgoingMail};
use crate::notify::Notifier;
use crate::platform::clock::Clock;
use crate::platform::error::ApiResult;
use crate::platform::pool::Pool;
use crate::queue::prune::{self, PruneJobs, Retention};
use crate::queue::{Provides, Registry, Worker};
use domain::login::LoginBackoff;
use std::sync::Arc;

/// Login attempts a minute from one client address, by default.
pub const DEFAULT_LOGINS_PER_ADDRESS_PER_MINUTE: u32 = 30;
/// How long a login waits for a free password check before 503.
const PASSWORD_CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Everything a handler or a job may use, typed. No globals.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    /// Where reports read (a replica's small pool, `GMUD_REPORTS_DATABASE_URL`); None: `pool`.
    pub reports_pool: Option<Pool>,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
    pub mailer: Arc<Mailer>,
    pub notifier: Notifier,
    pub registry: Arc<Registry<AppState>>,
    pub retention: Retention,
    /// Each user's current access, for the tokens presented.
    pub access: AccessCache,
    pub login_throttle: Arc<LoginThrottle>,
    pub password_checks: PasswordChecks,
    /// Whether the client address is taken from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
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
            reports_pool: None,
            login_throttle: Arc::new(LoginThrottle::new(
                clock.clone(),
                DEFAULT_LOGINS_PER_ADDRESS_PER_MINUTE,
                LoginBackoff::default(),
            )),
            password_checks: PasswordChecks::new(
                PasswordChecks::default_permits(),
                PASSWORD_CHECK_WAIT,
            ),
            access: AccessCache::default(),
            trust_forwarded_for: false,
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

    /// At most `per_address_per_minute` login attempts a minute from one address, and at
    /// most `password_checks` passwords checked at once.
    pub fn with_login_limits(
        mut self,
        per_address_per_minute: u32,
        password_checks: usize,
    ) -> Self {
        self.login_throttle = Arc::new(LoginThrottle::new(
            self.clock.clone(),
            per_address_per_minute,
            LoginBackoff::default(),
        ));
        self.password_checks = PasswordChecks::new(password_checks, PASSWORD_CHECK_WAIT);
        self
    }

    /// Reports read from `pool` (a read replica) instead of the primary.
    pub fn with_reports_pool(mut self, pool: Pool) -> Self {
        self.reports_pool = Some(pool);
        self
    }

    /// The pool reports read from: the replica's when configured, else the primary's.
    pub fn reports(&self) -> &Pool {
        self.reports_pool.as_ref().unwrap_or(&self.pool)
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
        .timer::<crate::tickets::jobs::TicketAutoClose>()
        .timer::<crate::tickets::jobs::TicketCloseReminder>()
        .timer::<crate::tickets::jobs::SlaBreach>()
        .timer::<crate::tickets::jobs::TicketEscalation>()
        .timer::<crate::changes::rdms::published::RdmImplemented>()
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
