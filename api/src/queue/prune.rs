//! The queue's own upkeep: a daily timer that deletes done jobs past their retention, and
//! the keys whose job kind says they may be forgotten. Keys of other jobs stay: a job that
//! must exist once still exists once after its row is gone. Dead jobs stay for the admin.
use super::{Next, Queued, Timer};
use crate::platform::error::ApiResult;
use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

/// How long done jobs are kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub done_jobs: Duration,
}

/// Rows deleted per statement, so one run never holds long locks on a big table.
const BATCH: i64 = 10_000;
/// Batches per run: whatever is left waits for the next run.
const MAX_BATCHES: usize = 100;

/// Daily: prune done jobs older than the retention, and expired keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PruneJobs {}

impl Queued for PruneJobs {
    const KIND: &'static str = "prune_jobs";
    const LANE: super::Lane = super::Lane::Timers;
    const KEY_RETENTION: Option<Duration> = Some(Duration::days(7));
}

fn key(at: DateTime<Utc>) -> String {
    format!("prune_jobs:{}", at.date_naive())
}

/// Makes sure the daily prune is queued (at start-up; harmless if it already is).
pub async fn ensure(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> ApiResult<()> {
    super::enqueue(conn, &PruneJobs {}, now, Some(key(now)), now).await?;
    Ok(())
}

/// Deletes in batches; returns how many done jobs and keys went.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    retention: Retention,
    now: DateTime<Utc>,
) -> ApiResult<(usize, usize)> {
    let before = now - retention.done_jobs;
    let mut jobs = 0;
    for _ in 0..MAX_BATCHES {
        let n = diesel::sql_query(
            "DELETE FROM jobs WHERE id IN (
               SELECT id FROM jobs WHERE status = 'done' AND finished_at < $1
               ORDER BY finished_at LIMIT $2)",
        )
        .bind::<Timestamptz, _>(before)
        .bind::<BigInt, _>(BATCH)
        .execute(conn)
        .await?;
        jobs += n;
        if (n as i64) < BATCH {
            break;
        }
    }
    let mut keys = 0;
    for _ in 0..MAX_BATCHES {
        let n = diesel::sql_query(
            "DELETE FROM job_keys WHERE key IN (
               SELECT key FROM job_keys WHERE keep_until < $1 ORDER BY keep_until LIMIT $2)",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(BATCH)
        .execute(conn)
        .await?;
        keys += n;
        if (n as i64) < BATCH {
            break;
        }
    }
    Ok((jobs, keys))
}

impl Timer for PruneJobs {
    type Context = Retention;

    async fn run(
        &self,
        ctx: &Retention,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let (jobs, keys) = prune(conn, *ctx, now).await?;
        if jobs + keys > 0 {
            tracing::info!(jobs, keys, "pruned done jobs and expired keys");
        }
        Ok(())
    }

    fn successor(&self, now: DateTime<Utc>) -> Option<Next<Self>> {
        let at = now + Duration::days(1);
        Some(Next {
            job: PruneJobs {},
            run_at: at,
            key: key(at),
        })
    }
}
