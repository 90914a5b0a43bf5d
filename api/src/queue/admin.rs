//! The queue as an admin sees it: what is pending, done or dead, and giving a dead job
//! another round once its cause is fixed.
pub use super::JobStatus;
use super::Registry;
use crate::db::enums::Stored;
use crate::db::schema::jobs;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::pagination::paginate;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

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
    #[schema(value_type = String)]
    pub status: JobStatus,
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
    /// The job as an admin may read it (e.g. mail bodies, which hold personal vote links,
    /// left out).
    pub fn redacted<C: Send + Sync + 'static>(mut self, registry: &Registry<C>) -> Job {
        self.payload = registry.redacted(&self.kind, self.payload);
        self
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<Job>,
    pub next_cursor: Option<i64>,
}

/// `jobs.status = '…'` with the value written into the SQL, as in the claims: a plan made
/// for any status (a generic plan) must still use the index made for this one (the partial
/// indexes of each status, and the statistics of status and kind together).
fn status_is(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Pending => "jobs.status = 'pending'",
        JobStatus::Done => "jobs.status = 'done'",
        JobStatus::Dead => "jobs.status = 'dead'",
    }
}

/// A page of jobs, newest first.
pub async fn list<C: Send + Sync + 'static>(
    conn: &mut AsyncPgConnection,
    registry: &Registry<C>,
    status: Option<JobStatus>,
    kind: Option<&str>,
    limit: i64,
    cursor: Option<i64>,
) -> ApiResult<JobPage> {
    let mut q = jobs::table.into_boxed();
    if let Some(s) = status {
        q = q.filter(sql::<Bool>(status_is(s)));
    }
    if let Some(k) = kind {
        q = match registry.registered_kind(k) {
            // A registered kind is a compile-time name of `[a-z0-9_]` (the table's check says
            // so too): written into the SQL, the plan is the one for this kind.
            Some(k)
                if k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
            {
                q.filter(sql::<Bool>(&format!("jobs.kind = '{k}'")))
            }
            // Kinds no longer registered (rows from an older version).
            _ => q.filter(jobs::kind.eq(k.to_string())),
        };
    }
    if let Some(c) = cursor {
        q = q.filter(jobs::id.lt(c));
    }
    let rows: Vec<Job> = q
        .order(jobs::id.desc())
        .limit(limit + 1)
        .select(Job::as_select())
        .load(conn)
        .await?;
    let (items, next_cursor) = paginate(rows, limit, |j| j.id);
    let items = items.into_iter().map(|j| j.redacted(registry)).collect();
    Ok(JobPage { items, next_cursor })
}

pub async fn get<C: Send + Sync + 'static>(
    conn: &mut AsyncPgConnection,
    registry: &Registry<C>,
    id: i64,
) -> ApiResult<Job> {
    let job: Job = jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("job {id}")))?;
    Ok(job.redacted(registry))
}

/// Gives a dead job another full round of attempts, due now. Only dead jobs: a pending one
/// will run and a done one must not run twice.
pub async fn retry<C: Send + Sync + 'static>(
    conn: &mut AsyncPgConnection,
    registry: &Registry<C>,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<Job> {
    let job = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let job: Job = jobs::table
                .find(id)
                .for_update()
                .select(Job::as_select())
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found(format!("job {id}")))?;
            if job.status != JobStatus::Dead {
                return Err(ApiError::conflict(
                    "job_not_dead",
                    format!(
                        "job {id} is {}: only a dead job can be retried",
                        job.status.as_str()
                    ),
                ));
            }
            Ok(diesel::update(jobs::table.find(id))
                .set((
                    jobs::status.eq(JobStatus::Pending.db()),
                    jobs::attempts.eq(0),
                    jobs::run_at.eq(now),
                    jobs::finished_at.eq(None::<DateTime<Utc>>),
                ))
                .returning(Job::as_returning())
                .get_result(conn)
                .await?)
        })
        .await?;
    Ok(job.redacted(registry))
}

/// Due jobs by kind, for the metrics: each lane's due jobs read through its partial index
/// (`jobs_due_<lane>_idx`, as the claims), oldest first, at most [`BACKLOG_CAP`] a lane, so
/// a scrape costs what is due (bounded), never the done jobs nor those due later. A claimed
/// delivery is not due: its lease moved its `run_at` on.
pub const DUE_BY_KIND: &str = "SELECT kind, count(*) AS due, min(run_at) AS oldest FROM (
       (SELECT kind, run_at FROM jobs
        WHERE status = 'pending' AND lane = 'timers' AND run_at <= $1
        ORDER BY run_at, id LIMIT $2)
       UNION ALL
       (SELECT kind, run_at FROM jobs
        WHERE status = 'pending' AND lane = 'deliveries' AND run_at <= $1
        ORDER BY run_at, id LIMIT $2)
     ) d GROUP BY kind";

/// Due jobs counted per lane at most: beyond it, the count says "at least this many" (the
/// oldest job's age stays exact: they are read oldest first).
pub const BACKLOG_CAP: i64 = 100_000;

#[derive(QueryableByName)]
struct DueRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    due: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    oldest: DateTime<Utc>,
}

/// The backlog of every registered kind (0 when none is due, so each series always exists),
/// and of any other kind found due.
pub async fn backlog<C: Send + Sync + 'static>(
    conn: &mut AsyncPgConnection,
    registry: &Registry<C>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<crate::platform::metrics::JobBacklog>> {
    use crate::platform::metrics::JobBacklog;
    let rows: Vec<DueRow> = diesel::sql_query(DUE_BY_KIND)
        .bind::<diesel::sql_types::Timestamptz, _>(now)
        .bind::<diesel::sql_types::BigInt, _>(BACKLOG_CAP)
        .load(conn)
        .await?;
    let mut out: Vec<JobBacklog> = registry
        .kinds()
        .into_iter()
        .map(|kind| JobBacklog {
            kind: kind.to_string(),
            due: 0,
            oldest_due_age_seconds: 0.0,
        })
        .collect();
    for r in rows {
        let age = ((now - r.oldest).num_milliseconds().max(0) as f64) / 1000.0;
        match out.iter_mut().find(|b| b.kind == r.kind) {
            Some(b) => {
                b.due = r.due;
                b.oldest_due_age_seconds = age;
            }
            None => out.push(JobBacklog {
                kind: r.kind,
                due: r.due,
                oldest_due_age_seconds: age,
            }),
        }
    }
    Ok(out)
}
