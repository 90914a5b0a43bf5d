//! The job queue, in PostgreSQL (SPEC §8, §9): everything that happens later or elsewhere.
//!
//! - A job is inserted in the transaction of the change that causes it, so it exists if and
//!   only if the change committed.
//! - A worker claims one due job with `FOR UPDATE SKIP LOCKED` and keeps the row locked while
//!   the job runs: other workers, in this process or another instance, skip it. The job's own
//!   writes and its `done` mark commit together; a failure rolls the job's writes back
//!   (savepoint) and records the attempt with exponential backoff, then `dead`.
//! - `dedup_key` makes a job exist once: one e-mail per event and recipient, one timer per
//!   meeting instant.
//! - Due means `run_at <= now` on the injected clock, read through a partial index: a worker
//!   costs what is due, not the size of the table.
use crate::error::{ApiError, ApiResult};
use crate::mail::OutgoingMail;
use crate::schema::jobs;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::jobs::{after_failure, AfterFailure, DEFAULT_MAX_ATTEMPTS, MAIL_MAX_ATTEMPTS};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// What a job does; its payload's shape follows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Task {
    /// Deliver one message.
    Mail(OutgoingMail),
    /// A meeting's cut-off: freeze its agenda and send it to the members.
    MeetingCutoff { meeting_id: i64, at: DateTime<Utc> },
    /// A meeting starts: remind voters whose vote is missing.
    MeetingStart { meeting_id: i64, at: DateTime<Utc> },
    /// A meeting ends: close it and carry undecided RDMs over.
    MeetingEnd { meeting_id: i64, at: DateTime<Utc> },
    /// A meeting on a holiday is near: flag it to the change managers.
    HolidayNotice { meeting_id: i64 },
    /// Daily: materialise the coming meetings and windows (which schedules their timers).
    CalendarTick,
    /// A delegation comes into force: the substitute gets the member's pending vote links.
    DelegationStarts { delegation_id: i64 },
    /// A CME vote still open halfway to its links' expiry: remind the missing voters.
    CmeReminder { rdm_id: i64, revision: i32 },
}

impl Task {
    pub fn kind(&self) -> &'static str {
        match self {
            Task::Mail(_) => "mail",
            Task::MeetingCutoff { .. } => "meeting_cutoff",
            Task::MeetingStart { .. } => "meeting_start",
            Task::MeetingEnd { .. } => "meeting_end",
            Task::HolidayNotice { .. } => "holiday_notice",
            Task::CalendarTick => "calendar_tick",
            Task::DelegationStarts { .. } => "delegation_starts",
            Task::CmeReminder { .. } => "cme_reminder",
        }
    }

    fn payload(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("tasks serialise");
        v.get_mut("payload")
            .map(serde_json::Value::take)
            .unwrap_or(serde_json::Value::Null)
    }

    fn from_row(kind: &str, payload: &serde_json::Value) -> Result<Task, serde_json::Error> {
        let tagged = if payload.is_null() {
            serde_json::json!({ "kind": kind })
        } else {
            serde_json::json!({ "kind": kind, "payload": payload })
        };
        serde_json::from_value(tagged)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: i64,
    /// mail, meeting_cutoff, meeting_start, meeting_end, holiday_notice, calendar_tick.
    pub kind: String,
    /// What the job works on. A mail job shows its recipient and subject only: its body holds
    /// personal vote links.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub dedup_key: Option<String>,
    /// pending, done or dead.
    pub status: String,
    /// When it is (next) due.
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Job {
    /// The job as an admin may read it: mail bodies (personal vote links) left out.
    pub fn redacted(mut self) -> Job {
        if self.kind == "mail" {
            if let Some(o) = self.payload.as_object_mut() {
                o.retain(|k, _| {
                    matches!(
                        k.as_str(),
                        "to_name" | "to_email" | "subject" | "message_id"
                    )
                });
            }
        }
        self
    }
}

/// Adds a job to the caller's transaction. With a `dedup_key` already used, nothing is added
/// and this returns false.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    task: &Task,
    run_at: DateTime<Utc>,
    dedup_key: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let n = diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(task.kind()),
            jobs::payload.eq(task.payload()),
            jobs::dedup_key.eq(dedup_key),
            jobs::run_at.eq(run_at),
            jobs::max_attempts.eq(match task {
                Task::Mail(_) => MAIL_MAX_ATTEMPTS,
                _ => DEFAULT_MAX_ATTEMPTS,
            }),
            jobs::created_at.eq(now),
        ))
        .on_conflict(jobs::dedup_key)
        .do_nothing()
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

fn error_text(e: &ApiError) -> String {
    match e {
        ApiError::Internal(s) => s.clone(),
        ApiError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => format!("{} ({})", other, other.code()),
    }
}

/// Claims and runs one due job; None when nothing is due.
pub async fn run_next(state: &AppState) -> ApiResult<Option<Ran>> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let job: Option<Job> = jobs::table
            .filter(jobs::status.eq("pending"))
            .filter(jobs::run_at.le(now))
            .order((jobs::run_at, jobs::id))
            .for_update()
            .skip_locked()
            .select(Job::as_select())
            .first(conn)
            .await
            .optional()?;
        let Some(job) = job else { return Ok(None) };
        let attempts = job.attempts + 1;
        let is_tick = job.kind == "calendar_tick";
        // A savepoint: a failing job's own writes roll back, the attempt is still recorded.
        let result = conn
            .transaction::<_, ApiError, _>(async |conn| match Task::from_row(&job.kind, &job.payload) {
                Ok(task) => run(state, conn, &task, now).await,
                Err(e) => Err(ApiError::internal(format!("unreadable {} job: {e}", job.kind))),
            })
            .await;
        let ran = match result {
            Ok(()) => {
                // A delivered message's body (personal vote links) is not kept.
                let payload = if job.kind == "mail" {
                    job.clone().redacted().payload
                } else {
                    job.payload.clone()
                };
                diesel::update(jobs::table.find(job.id))
                    .set((
                        jobs::payload.eq(payload),
                        jobs::status.eq("done"),
                        jobs::attempts.eq(attempts),
                        jobs::finished_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                Ran::Done { id: job.id, kind: job.kind }
            }
            Err(e) => {
                let error = error_text(&e);
                match after_failure(attempts, job.max_attempts) {
                    AfterFailure::RetryIn(delay) => {
                        tracing::warn!(job = job.id, kind = %job.kind, attempts, %error, retry_in_s = delay.num_seconds(), "job failed; will retry");
                        diesel::update(jobs::table.find(job.id))
                            .set((
                                jobs::attempts.eq(attempts),
                                jobs::run_at.eq(now + delay),
                                jobs::last_error.eq(&error),
                            ))
                            .execute(conn)
                            .await?;
                        Ran::Retry { id: job.id, kind: job.kind, error }
                    }
                    AfterFailure::Dead => {
                        tracing::error!(job = job.id, kind = %job.kind, attempts, %error, "job is dead after its last attempt");
                        diesel::update(jobs::table.find(job.id))
                            .set((
                                jobs::status.eq("dead"),
                                jobs::attempts.eq(attempts),
                                jobs::last_error.eq(&error),
                                jobs::finished_at.eq(now),
                            ))
                            .execute(conn)
                            .await?;
                        Ran::Dead { id: job.id, kind: job.kind, error }
                    }
                }
            }
        };
        // The daily tick queues its successor whatever happened to it.
        if is_tick {
            crate::committee_clock::next_tick(conn, now).await?;
        }
        Ok(Some(ran))
    })
    .await
}

/// Runs due jobs until none is left (what a worker does between naps); returns what ran.
pub async fn drain(state: &AppState) -> ApiResult<Vec<Ran>> {
    let mut ran = Vec::new();
    while let Some(r) = run_next(state).await? {
        ran.push(r);
    }
    Ok(ran)
}

async fn run(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    task: &Task,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    match task {
        Task::Mail(m) => state.mailer.send(m).await.map_err(ApiError::internal),
        Task::MeetingCutoff { meeting_id, at } => {
            crate::committee_clock::cutoff(state, conn, *meeting_id, *at, now).await
        }
        Task::MeetingStart { meeting_id, at } => {
            crate::committee_clock::remind(state, conn, *meeting_id, *at, now).await
        }
        Task::MeetingEnd { meeting_id, at } => {
            crate::committee_clock::end(state, conn, *meeting_id, *at, now).await
        }
        Task::HolidayNotice { meeting_id } => {
            crate::committee_clock::holiday_notice(state, conn, *meeting_id, now).await
        }
        Task::CalendarTick => crate::committee_clock::tick(state, conn, now).await,
        Task::CmeReminder { rdm_id, revision } => {
            crate::committee_clock::cme_reminder(state, conn, *rdm_id, *revision, now).await
        }
        Task::DelegationStarts { delegation_id } => {
            crate::committee_clock::delegation_starts(state, conn, *delegation_id, now).await
        }
    }
}

/// Starts `n` workers on the current runtime. Each runs due jobs, then naps `poll`.
pub fn spawn_workers(
    state: AppState,
    n: usize,
    poll: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let state = state.clone();
            tokio::spawn(async move {
                loop {
                    match run_next(&state).await {
                        Ok(Some(_)) => continue,
                        Ok(None) => {}
                        Err(e) => tracing::error!(worker = i, error = %error_text(&e), "job worker step failed"),
                    }
                    tokio::time::sleep(poll).await;
                }
            })
        })
        .collect()
}
