//! The job queue, in PostgreSQL (SPEC §8, §9): everything that happens later or elsewhere.
//! It knows no job kinds: each job is a type implementing [`Timer`] or [`Delivery`], kept
//! beside the code it drives, and registered once in a [`Registry`].
//!
//! - A job is inserted in the transaction of the change that causes it ([`enqueue`]), so it
//!   exists if and only if the change committed.
//! - Two lanes, each with its own workers, so a slow mail or webhook server never delays a
//!   meeting's cut-off or a ticket's auto-close:
//!   - **timers** run inside the transaction that claimed them (`FOR UPDATE SKIP LOCKED`):
//!     the timer's writes and its `done` mark commit together; a failure rolls its writes
//!     back (savepoint) and records the attempt;
//!   - **deliveries** (mail, later webhooks) are claimed with a lease, committed, then run
//!     holding no connection and no lock; another worker takes the job again only once the
//!     lease has run out. A delivery that succeeded but whose `done` mark was lost (a crash
//!     in between) runs again: at least once.
//! - Each attempt is bounded by the job's `TIMEOUT`; a panic is caught and recorded as a
//!   failed attempt, and the worker goes on.
//! - A job exists once per key ([`job_keys`](crate::db::schema::job_keys)): one e-mail per
//!   event and recipient, one timer per instant. Keys outlive their jobs: done jobs are pruned
//!   after a retention, their keys stay (or stay until the job kind says they can go).
//! - Due means `run_at <= now` on the injected clock, read through a partial index per lane:
//!   a worker costs what is due, not the size of the table.
use crate::db::enums::Stored;
use crate::db::schema::jobs;
use crate::platform::clock::Clock;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::pool::Pool;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::jobs::{after_failure, AfterFailure};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;

pub use domain::jobs::{DEFAULT_MAX_ATTEMPTS, MAIL_MAX_ATTEMPTS};

/// Which workers run a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Work on the database that must happen at an instant.
    Timers,
    /// Sending something to another server (SMTP, webhooks).
    Deliveries,
}

impl Lane {
    pub const ALL: [Lane; 2] = [Lane::Timers, Lane::Deliveries];
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Timers => "timers",
            Lane::Deliveries => "deliveries",
        }
    }
}

impl std::str::FromStr for Lane {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Lane::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown lane `{s}`"))
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Done,
    Dead,
}

impl JobStatus {
    pub const ALL: [JobStatus; 3] = [JobStatus::Pending, JobStatus::Done, JobStatus::Dead];
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
}

impl std::str::FromStr for JobStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "pending" => Ok(JobStatus::Pending),
            "done" => Ok(JobStatus::Done),
            "dead" => Ok(JobStatus::Dead),
            _ => Err(()),
        }
    }
}

crate::pg_enum!(crate::db::schema::sql_types::JobLane => Lane);
crate::pg_enum!(crate::db::schema::sql_types::JobStatus => JobStatus);

/// What every queued job declares.
pub trait Queued: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stored in `jobs.kind`; unique among registered jobs (snake_case).
    const KIND: &'static str;
    const LANE: Lane;
    /// Attempts before the job is `dead`.
    const MAX_ATTEMPTS: i32 = DEFAULT_MAX_ATTEMPTS;
    /// How long one attempt may take before it counts as failed.
    const TIMEOUT: Duration = Duration::from_secs(60);
    /// How long a job's key is remembered after the job's `run_at`; `None`: for good.
    const KEY_RETENTION: Option<chrono::Duration> = None;
    /// What of the payload an admin may read, and what is kept once the job is done
    /// (e.g. a message without its body). Default: all of it.
    fn redact(_payload: &mut serde_json::Value) {}
}

/// A job on the timers lane: it runs inside the transaction that claimed it.
pub trait Timer: Queued {
    /// What it needs besides the connection (see [`Provides`]).
    type Context: Send + Sync + 'static;
    fn run(
        &self,
        ctx: &Self::Context,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// A job queued after every attempt of this one, whatever its outcome (a recurring
    /// timer's next run): the chain never ends on a failure. Its key keeps it single.
    fn successor(&self, _now: DateTime<Utc>) -> Option<Next<Self>> {
        None
    }
}

/// The next run of a recurring timer.
pub struct Next<J> {
    pub job: J,
    pub run_at: DateTime<Utc>,
    pub key: String,
}

/// Why a delivery failed.
#[derive(Debug, Clone)]
pub struct DeliveryError {
    pub message: String,
    /// The other side refused for good (e.g. SMTP 5xx): no further attempt.
    pub permanent: bool,
}

/// A job on the deliveries lane: it runs outside any transaction, holding no connection.
pub trait Delivery: Queued {
    type Context: Send + Sync + 'static;
    fn deliver(
        &self,
        ctx: &Self::Context,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// The application state hands each job kind the part it needs.
pub trait Provides<T> {
    fn provide(&self) -> &T;
}

type TimerFn<C> = for<'a> fn(
    &'a C,
    &'a mut AsyncPgConnection,
    serde_json::Value,
    DateTime<Utc>,
) -> BoxFuture<'a, ApiResult<()>>;
type SuccessorFn = for<'a> fn(
    &'a mut AsyncPgConnection,
    serde_json::Value,
    DateTime<Utc>,
) -> BoxFuture<'a, ApiResult<()>>;
type DeliveryFn<C> =
    for<'a> fn(&'a C, serde_json::Value) -> BoxFuture<'a, Result<(), DeliveryError>>;

enum Runner<C> {
    Timer(TimerFn<C>, SuccessorFn),
    Delivery(DeliveryFn<C>),
}

struct Entry<C> {
    runner: Runner<C>,
    timeout: Duration,
    redact: fn(&mut serde_json::Value),
}

/// The job kinds a worker can run, filled in one place (`crate::app::registry`).
pub struct Registry<C> {
    entries: HashMap<&'static str, Entry<C>>,
}

impl<C> Default for Registry<C> {
    fn default() -> Self {
        Registry {
            entries: HashMap::new(),
        }
    }
}

/// `null` (a payload written before jobs had fields) reads as an empty object.
fn decode<J: DeserializeOwned>(payload: serde_json::Value) -> ApiResult<J> {
    let payload = if payload.is_null() {
        serde_json::json!({})
    } else {
        payload
    };
    serde_json::from_value(payload).map_err(|e| ApiError::context("reading the job's payload", e))
}

fn run_timer<'a, C, J>(
    ctx: &'a C,
    conn: &'a mut AsyncPgConnection,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> BoxFuture<'a, ApiResult<()>>
where
    C: Provides<J::Context> + Send + Sync,
    J: Timer,
{
    Box::pin(async move {
        let job: J = decode(payload)?;
        job.run(ctx.provide(), conn, now).await?;
        Ok(())
    })
}

fn queue_successor<'a, J: Timer>(
    conn: &'a mut AsyncPgConnection,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let Ok(job) = decode::<J>(payload) else {
            return Ok(());
        };
        if let Some(next) = job.successor(now) {
            enqueue_next(conn, next, now).await?;
        }
        Ok(())
    })
}

fn run_delivery<'a, C, J>(
    ctx: &'a C,
    payload: serde_json::Value,
) -> BoxFuture<'a, Result<(), DeliveryError>>
where
    C: Provides<J::Context> + Send + Sync,
    J: Delivery,
{
    Box::pin(async move {
        let job: J = decode(payload).map_err(|e| DeliveryError {
            message: e.chain(),
            permanent: true,
        })?;
        job.deliver(ctx.provide()).await
    })
}

impl<C: Send + Sync + 'static> Registry<C> {
    fn insert<J: Queued>(&mut self, runner: Runner<C>) {
        let previous = self.entries.insert(
            J::KIND,
            Entry {
                runner,
                timeout: J::TIMEOUT,
                redact: J::redact,
            },
        );
        assert!(previous.is_none(), "job kind {} registered twice", J::KIND);
    }

    pub fn timer<J: Timer>(mut self) -> Self
    where
        C: Provides<J::Context>,
    {
        assert_eq!(J::LANE, Lane::Timers, "{} is a timer", J::KIND);
        self.insert::<J>(Runner::Timer(run_timer::<C, J>, queue_successor::<J>));
        self
    }

    pub fn delivery<J: Delivery>(mut self) -> Self
    where
        C: Provides<J::Context>,
    {
        assert_eq!(J::LANE, Lane::Deliveries, "{} is a delivery", J::KIND);
        self.insert::<J>(Runner::Delivery(run_delivery::<C, J>));
        self
    }

    /// `kind` as registered (a name matching `^[a-z][a-z0-9_]*$`, fit to be written into SQL),
    /// if it is.
    pub fn registered_kind(&self, kind: &str) -> Option<&'static str> {
        self.entries.get_key_value(kind).map(|(k, _)| *k)
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.entries.keys().copied().collect();
        k.sort();
        k
    }

    /// The payload as an admin may read it.
    pub fn redacted(&self, kind: &str, mut payload: serde_json::Value) -> serde_json::Value {
        if let Some(e) = self.entries.get(kind) {
            (e.redact)(&mut payload);
        }
        payload
    }
}

/// A job as a row to be written: what [`enqueue`] writes, for a statement that writes the
/// job together with the row it belongs to (the row's id filled in by that statement). The
/// statement must keep `enqueue`'s contract: claim the key in `job_keys` first and write
/// the job only if the key was free.
#[derive(Debug, Clone)]
pub struct Planned {
    pub kind: &'static str,
    pub lane: Lane,
    pub payload: serde_json::Value,
    pub key: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    /// Until when the key is remembered (see [`Queued::KEY_RETENTION`]).
    pub keep_until: Option<DateTime<Utc>>,
}

impl Planned {
    pub fn of<J: Queued>(job: &J, run_at: DateTime<Utc>, key: Option<String>) -> ApiResult<Self> {
        Ok(Planned {
            kind: J::KIND,
            lane: J::LANE,
            payload: serde_json::to_value(job)?,
            key,
            run_at,
            max_attempts: J::MAX_ATTEMPTS,
            keep_until: J::KEY_RETENTION.map(|d| run_at + d),
        })
    }
}

/// Adds `job` to the caller's transaction, due at `run_at`. With `key` already used (by any
/// job, done or not), nothing is added and this returns false.
pub async fn enqueue<J: Queued>(
    conn: &mut AsyncPgConnection,
    job: &J,
    run_at: DateTime<Utc>,
    key: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    enqueue_planned(conn, Planned::of(job, run_at, key)?, now).await
}

/// [`enqueue`] of a job already turned into its row.
pub async fn enqueue_planned(
    conn: &mut AsyncPgConnection,
    p: Planned,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let Planned {
        kind,
        lane,
        payload,
        key,
        run_at,
        max_attempts,
        keep_until,
    } = p;
    use crate::platform::sql::{bind, prepared};
    // One statement (prepared once per connection): the key is claimed and the job inserted
    // only if the key was free.
    let n = prepared(
        "WITH k AS ( \
           INSERT INTO job_keys (key, keep_until, created_at) \
           SELECT ?::text, ?::timestamptz, ?::timestamptz WHERE ?::text IS NOT NULL \
           ON CONFLICT DO NOTHING RETURNING key) \
         INSERT INTO jobs (kind, lane, payload, dedup_key, run_at, max_attempts, created_at) \
         SELECT ?, ?::job_lane, ?, ?::text, ?, ?, ? \
         WHERE ?::text IS NULL OR EXISTS (SELECT 1 FROM k)",
        (
            (
                bind::<Nullable<Text>, _>(key.clone()),
                bind::<Nullable<Timestamptz>, _>(keep_until),
                bind::<Timestamptz, _>(now),
                bind::<Nullable<Text>, _>(key.clone()),
            ),
            (
                bind::<Text, _>(kind),
                bind::<Text, _>(lane.as_str()),
                bind::<Jsonb, _>(payload),
                bind::<Nullable<Text>, _>(key.clone()),
                bind::<Timestamptz, _>(run_at),
                bind::<diesel::sql_types::Integer, _>(max_attempts),
                bind::<Timestamptz, _>(now),
                bind::<Nullable<Text>, _>(key),
            ),
        ),
    )
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// What one worker step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    Done {
        id: i64,
        kind: String,
    },
    Retry {
        id: i64,
        kind: String,
        error: String,
    },
    Dead {
        id: i64,
        kind: String,
        error: String,
    },
}

#[derive(Debug, QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    max_attempts: i32,
}

/// The claims, with the lane's constants written into the SQL so that the partial index of
/// the lane is usable even under a generic plan (a pooler in transaction mode).
pub const CLAIM_TIMER: &str = "SELECT id, kind, payload, attempts, max_attempts FROM jobs
     WHERE status = 'pending' AND lane = 'timers' AND run_at <= $1
     ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED";
/// A delivery's lease: `run_at` moves past the attempt's timeout, and the attempt is counted
/// now, so a worker that dies mid-send leaves the job to be taken again when the lease ends.
pub const CLAIM_DELIVERY: &str = "UPDATE jobs SET run_at = $2, attempts = attempts + 1
     WHERE id = (SELECT id FROM jobs
                 WHERE status = 'pending' AND lane = 'deliveries' AND run_at <= $1
                 ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING id, kind, payload, attempts - 1 AS attempts, max_attempts";

/// Runs jobs of the registered kinds.
pub struct Worker<C> {
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub registry: Arc<Registry<C>>,
    pub context: C,
}

impl<C: Clone> Clone for Worker<C> {
    fn clone(&self) -> Self {
        Worker {
            pool: self.pool.clone(),
            clock: self.clock.clone(),
            registry: self.registry.clone(),
            context: self.context.clone(),
        }
    }
}

/// The text of a panic.
fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    format!("panicked: {msg}")
}

/// How an attempt ended, as recorded.
enum Outcome {
    Done,
    Failed { error: String, permanent: bool },
}

impl<C: Send + Sync + 'static> Worker<C> {
    /// Claims and runs one due job of `lane`; None when nothing is due.
    pub async fn run_next(&self, lane: Lane) -> ApiResult<Option<Ran>> {
        match lane {
            Lane::Timers => self.run_timer().await,
            Lane::Deliveries => self.run_delivery().await,
        }
    }

    /// Runs due jobs of every lane until none is left (what workers do between naps).
    pub async fn drain(&self) -> ApiResult<Vec<Ran>> {
        let mut ran = Vec::new();
        loop {
            let mut any = false;
            for lane in Lane::ALL {
                while let Some(r) = self.run_next(lane).await? {
                    ran.push(r);
                    any = true;
                }
            }
            if !any {
                return Ok(ran);
            }
        }
    }

    async fn run_timer(&self) -> ApiResult<Option<Ran>> {
        let now = self.clock.now();
        let mut conn = self.pool.get().await?;
        let claimed_id = std::sync::Mutex::new(None::<(i64, String, i32, i32)>);
        let result = conn
            .transaction::<_, ApiError, _>(async |conn| {
                let job: Option<Claimed> = diesel::sql_query(CLAIM_TIMER)
                    .bind::<Timestamptz, _>(now)
                    .get_result(conn)
                    .await
                    .optional()?;
                let Some(job) = job else { return Ok(None) };
                *claimed_id.lock().expect("claim") =
                    Some((job.id, job.kind.clone(), job.attempts, job.max_attempts));
                let outcome = match self.registry.entries.get(job.kind.as_str()) {
                    Some(Entry {
                        runner: Runner::Timer(run, _),
                        timeout,
                        ..
                    }) => {
                        let (run, timeout) = (*run, *timeout);
                        let payload = job.payload.clone();
                        // A savepoint: a failing job's own writes roll back; the attempt is
                        // still recorded below.
                        let r = conn
                            .transaction::<_, ApiError, _>(async |conn| {
                                let attempt = AssertUnwindSafe(tokio::time::timeout(
                                    timeout,
                                    run(&self.context, conn, payload, now),
                                ))
                                .catch_unwind()
                                .await;
                                match attempt {
                                    Ok(Ok(r)) => r,
                                    Ok(Err(_)) => Err(ApiError::internal(format!(
                                        "timed out after {} s",
                                        timeout.as_secs()
                                    ))),
                                    Err(p) => Err(ApiError::internal(panic_message(p))),
                                }
                            })
                            .await;
                        match r {
                            Ok(()) => Outcome::Done,
                            Err(e) => Outcome::Failed {
                                error: e.chain(),
                                permanent: false,
                            },
                        }
                    }
                    _ => Outcome::Failed {
                        error: format!("no timer of kind `{}` is registered", job.kind),
                        permanent: false,
                    },
                };
                let ran = record(
                    conn,
                    &self.registry,
                    &job,
                    job.attempts + 1,
                    outcome,
                    self.clock.now(),
                )
                .await?;
                // A recurring timer's next run is queued whatever happened to this one.
                if let Some(Entry {
                    runner: Runner::Timer(_, successor),
                    ..
                }) = self.registry.entries.get(job.kind.as_str())
                {
                    successor(conn, job.payload.clone(), now).await?;
                }
                Ok(Some(ran))
            })
            .await;
        match result {
            Ok(r) => Ok(r),
            // The claiming transaction itself broke (a panic left the connection unusable, or
            // the database went away): record the attempt apart, on a fresh connection.
            Err(e) => {
                drop(conn);
                let claimed = claimed_id.lock().expect("claim").take();
                match claimed {
                    Some((id, kind, attempts, max)) => {
                        let error = e.chain();
                        tracing::error!(job = id, %kind, %error, "job attempt broke its transaction");
                        let mut conn = self.pool.get().await?;
                        record_detached(
                            &mut conn,
                            id,
                            &kind,
                            attempts + 1,
                            max,
                            &error,
                            self.clock.now(),
                        )
                        .await
                    }
                    None => Err(e),
                }
            }
        }
    }

    async fn run_delivery(&self) -> ApiResult<Option<Ran>> {
        let now = self.clock.now();
        let job = {
            let mut conn = self.pool.get().await?;
            let lease_until = now
                + chrono::Duration::from_std(self.lease(None))
                    .unwrap_or(chrono::Duration::hours(1));
            let job: Option<Claimed> = diesel::sql_query(CLAIM_DELIVERY)
                .bind::<Timestamptz, _>(now)
                .bind::<Timestamptz, _>(lease_until)
                .get_result(&mut conn)
                .await
                .optional()?;
            match job {
                Some(j) => j,
                None => return Ok(None),
            }
        };
        // Sent holding no connection: a silent server ties up a worker, not the database.
        let outcome = match self.registry.entries.get(job.kind.as_str()) {
            Some(Entry {
                runner: Runner::Delivery(run),
                timeout,
                ..
            }) => {
                let attempt = AssertUnwindSafe(tokio::time::timeout(
                    *timeout,
                    run(&self.context, job.payload.clone()),
                ))
                .catch_unwind()
                .await;
                match attempt {
                    Ok(Ok(Ok(()))) => Outcome::Done,
                    Ok(Ok(Err(e))) => Outcome::Failed {
                        error: e.message,
                        permanent: e.permanent,
                    },
                    Ok(Err(_)) => Outcome::Failed {
                        error: format!("timed out after {} s", timeout.as_secs()),
                        permanent: false,
                    },
                    Err(p) => Outcome::Failed {
                        error: panic_message(p),
                        permanent: false,
                    },
                }
            }
            _ => Outcome::Failed {
                error: format!("no delivery of kind `{}` is registered", job.kind),
                permanent: false,
            },
        };
        let mut conn = self.pool.get().await?;
        let ran = conn
            .transaction::<_, ApiError, _>(async |conn| {
                record(
                    conn,
                    &self.registry,
                    &job,
                    job.attempts + 1,
                    outcome,
                    self.clock.now(),
                )
                .await
            })
            .await?;
        Ok(Some(ran))
    }

    /// How long a claimed delivery is left alone: the longest timeout of any delivery, plus
    /// a margin for recording the outcome.
    fn lease(&self, _kind: Option<&str>) -> Duration {
        let longest = self
            .registry
            .entries
            .values()
            .filter(|e| matches!(e.runner, Runner::Delivery(_)))
            .map(|e| e.timeout)
            .max()
            .unwrap_or(Duration::from_secs(60));
        longest + Duration::from_secs(30)
    }

    /// Starts `n` workers per lane on the current runtime. Each runs due jobs, then naps
    /// `poll`. While the database is unreachable a worker says so once, backs off, and says
    /// when it is back.
    pub fn spawn(self, n: usize, poll: Duration) -> Vec<tokio::task::JoinHandle<()>>
    where
        C: Clone,
    {
        let mut handles = Vec::new();
        for lane in Lane::ALL {
            for i in 0..n {
                let w = self.clone();
                handles.push(tokio::spawn(async move {
                    let mut outage = Outage::new(poll);
                    loop {
                        let result = w.run_next(lane).await;
                        let ran = matches!(result, Ok(Some(_)));
                        match outage.after(result.as_ref().err().map(|e| e.chain())) {
                            Some(Said::Down(error)) => tracing::error!(worker = i, lane = lane.as_str(), %error, "job worker cannot run jobs; backing off"),
                            Some(Said::Recovered) => tracing::info!(worker = i, lane = lane.as_str(), "job worker recovered"),
                            None => {}
                        }
                        if !ran {
                            tokio::time::sleep(outage.nap()).await;
                        }
                    }
                }));
            }
        }
        handles
    }
}

/// What a worker says about the database: once when it cannot run jobs (not on every
/// poll), once when it can again; meanwhile it naps longer each time, up to 30 s.
#[derive(Debug)]
pub struct Outage {
    poll: Duration,
    nap: Duration,
    failing: bool,
}

/// A line a worker logs.
#[derive(Debug, PartialEq, Eq)]
pub enum Said {
    Down(String),
    Recovered,
}

impl Outage {
    pub const MAX_NAP: Duration = Duration::from_secs(30);

    pub fn new(poll: Duration) -> Self {
        Outage {
            poll,
            nap: poll,
            failing: false,
        }
    }

    /// After a poll that failed with `error` (or succeeded): what to log, if anything.
    pub fn after(&mut self, error: Option<String>) -> Option<Said> {
        match error {
            Some(e) => {
                self.nap = if self.failing {
                    (self.nap * 2).min(Self::MAX_NAP)
                } else {
                    self.poll
                };
                let first = !self.failing;
                self.failing = true;
                first.then_some(Said::Down(e))
            }
            None => {
                self.nap = self.poll;
                std::mem::take(&mut self.failing).then_some(Said::Recovered)
            }
        }
    }

    /// How long to wait before the next poll.
    pub fn nap(&self) -> Duration {
        self.nap
    }
}

#[cfg(test)]
mod outage_tests {
    use super::*;

    #[test]
    fn an_outage_is_logged_once_and_its_end_once_with_growing_naps() {
        let mut o = Outage::new(Duration::from_millis(500));
        assert_eq!(o.after(None), None);
        let mut lines = vec![];
        let mut naps = vec![];
        for _ in 0..110 {
            lines.extend(o.after(Some("connection refused".into())));
            naps.push(o.nap());
        }
        assert_eq!(lines, vec![Said::Down("connection refused".into())]);
        assert_eq!(naps[0], Duration::from_millis(500));
        assert_eq!(naps[1], Duration::from_secs(1));
        assert!(naps.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*naps.last().unwrap(), Outage::MAX_NAP);
        // 110 failed polls spread over minutes, not 5.5 s.
        let waited: Duration = naps.iter().sum();
        assert!(waited > Duration::from_secs(50 * 30), "{waited:?}");
        assert_eq!(o.after(None), Some(Said::Recovered));
        assert_eq!(o.nap(), Duration::from_millis(500));
        assert_eq!(o.after(None), None);
    }
}

/// Records how an attempt ended, in the caller's transaction.
async fn record<C: Send + Sync + 'static>(
    conn: &mut AsyncPgConnection,
    registry: &Registry<C>,
    job: &Claimed,
    attempts: i32,
    outcome: Outcome,
    finished: DateTime<Utc>,
) -> ApiResult<Ran> {
    let kind = job.kind.clone();
    let id = job.id;
    match outcome {
        Outcome::Done => {
            let payload = registry.redacted(&job.kind, job.payload.clone());
            diesel::update(jobs::table.find(id))
                .set((
                    jobs::payload.eq(payload),
                    jobs::status.eq(JobStatus::Done.db()),
                    jobs::attempts.eq(attempts),
                    jobs::last_error.eq(None::<String>),
                    jobs::finished_at.eq(finished),
                ))
                .execute(conn)
                .await?;
            Ok(Ran::Done { id, kind })
        }
        Outcome::Failed { error, permanent } => {
            let max = if permanent {
                attempts
            } else {
                job.max_attempts
            };
            fail(conn, id, &kind, attempts, max, &error, finished).await
        }
    }
}

async fn fail(
    conn: &mut AsyncPgConnection,
    id: i64,
    kind: &str,
    attempts: i32,
    max_attempts: i32,
    error: &str,
    now: DateTime<Utc>,
) -> ApiResult<Ran> {
    let kind = kind.to_string();
    let error = error.to_string();
    match after_failure(attempts, max_attempts) {
        AfterFailure::RetryIn(delay) => {
            tracing::warn!(job = id, %kind, attempts, %error, retry_in_s = delay.num_seconds(), "job failed; will retry");
            diesel::update(jobs::table.find(id))
                .set((
                    jobs::attempts.eq(attempts),
                    jobs::run_at.eq(now + delay),
                    jobs::last_error.eq(&error),
                ))
                .execute(conn)
                .await?;
            Ok(Ran::Retry { id, kind, error })
        }
        AfterFailure::Dead => {
            tracing::error!(job = id, %kind, attempts, %error, "job is dead after its last attempt");
            diesel::update(jobs::table.find(id))
                .set((
                    jobs::status.eq(JobStatus::Dead.db()),
                    jobs::attempts.eq(attempts),
                    jobs::last_error.eq(&error),
                    jobs::finished_at.eq(now),
                ))
                .execute(conn)
                .await?;
            Ok(Ran::Dead { id, kind, error })
        }
    }
}

/// Records a failed attempt outside the claiming transaction (which broke).
async fn record_detached(
    conn: &mut AsyncPgConnection,
    id: i64,
    kind: &str,
    attempts: i32,
    max_attempts: i32,
    error: &str,
    now: DateTime<Utc>,
) -> ApiResult<Option<Ran>> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        // Still pending and not taken by another worker meanwhile.
        let locked: Option<i64> = jobs::table
            .find(id)
            .filter(jobs::status.eq(JobStatus::Pending.db()))
            .filter(jobs::attempts.eq(attempts - 1))
            .select(jobs::id)
            .for_update()
            .skip_locked()
            .first(conn)
            .await
            .optional()?;
        if locked.is_none() {
            return Ok(None);
        }
        fail(conn, id, kind, attempts, max_attempts, error, now)
            .await
            .map(Some)
    })
    .await
}

/// Queues the successor of a recurring timer (in the caller's transaction).
pub async fn enqueue_next<J: Timer>(
    conn: &mut AsyncPgConnection,
    next: Next<J>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    enqueue(conn, &next.job, next.run_at, Some(next.key), now).await
}

pub mod admin;
pub mod prune;
