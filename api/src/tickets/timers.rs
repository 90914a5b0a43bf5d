//! What the ticket timers do (jobs in [`super::jobs`]). Each re-checks the ticket under its
//! row lock, so a stale job (the ticket was reopened, paused, re-targeted) does nothing, and
//! two instances never both act.
use super::jobs::{SlaBreach, TicketAutoClose, TicketCloseReminder};
use super::notifications;
use super::settings;
use super::store;
use crate::events::{append, Entity, NewEvent};
use crate::notify::Notifier;
use crate::platform::error::ApiResult;
use crate::queue::{enqueue, Timer};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ticket::TicketState;

impl Timer for TicketAutoClose {
    type Context = Notifier;

    /// Closes the tickets due by now, not only this one, one batch per run: when many fall
    /// due together (a backlog after an outage), the first jobs close them in batches and the
    /// others find nothing left. A full batch queues a job to take the next one, so each run
    /// is one short transaction (no backlog can outgrow the timer's timeout and roll back).
    /// The first full batch of a backlog starts two such chains, so two workers close
    /// batches side by side (a continuation becomes visible only when its batch commits: one
    /// chain is one batch at a time); every chain ends at a batch that is not full, and more
    /// due jobs start more chains. Each ticket is closed once: the
    /// batch takes its rows with `FOR UPDATE SKIP LOCKED` and re-checks
    /// `state = 'resolved'` under the lock.
    async fn run(
        &self,
        _: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let settings = settings::load(conn).await?;
        let reason = format!(
            "closed automatically {} business hours after the resolution",
            settings.auto_close_business_hours
        );
        if close_due(conn, now, &reason, AUTO_CLOSE_BATCH).await? == AUTO_CLOSE_BATCH {
            let next = TicketAutoClose {
                continuation: true,
                ..self.clone()
            };
            for _ in 0..if self.continuation {
                1
            } else {
                AUTO_CLOSE_CHAINS
            } {
                enqueue(conn, &next, now, None, now).await?;
            }
        }
        Ok(())
    }
}

/// Tickets closed per statement.
pub const AUTO_CLOSE_BATCH: i64 = 5_000;
/// Chains of batches a backlog's first full batch starts.
pub const AUTO_CLOSE_CHAINS: usize = 2;

/// One statement closes up to `limit` due tickets, their resolved children with them (the
/// propagation matrix: a parent's close closes its resolved children; open ones cannot
/// exist under a resolved parent), and writes their events. Returns how many it closed.
pub const CLOSE_DUE: &str = "WITH due AS (
    SELECT id FROM tickets
    WHERE state = 'resolved' AND auto_close_at <= $1
    ORDER BY auto_close_at, id LIMIT $2
    FOR UPDATE SKIP LOCKED
  ), closed AS (
    UPDATE tickets t SET state = 'closed', closed_at = $1, close_reason = $3,
      version = t.version + 1, updated_at = $1
    FROM due WHERE t.id = due.id AND t.state = 'resolved'
    RETURNING t.id, t.resolution_no, t.auto_close_at
  ), children AS (
    UPDATE tickets c SET state = 'closed', closed_at = $1,
      close_reason = 'INC-' || lpad(c.parent_id::text, 6, '0') || ' closed',
      version = c.version + 1, updated_at = $1
    FROM closed WHERE c.parent_id = closed.id AND c.state = 'resolved'
    RETURNING c.id, c.parent_id
  ), parent_events AS (
    INSERT INTO events (entity, entity_id, action, from_state, to_state, detail, at)
    SELECT 'ticket', id, 'auto_close', 'resolved', 'closed',
      jsonb_build_object('resolution_no', resolution_no, 'auto_close_at', auto_close_at), $1
    FROM closed
  ), child_events AS (
    INSERT INTO events (entity, entity_id, action, from_state, to_state, detail, at)
    SELECT 'ticket', id, 'follow_parent', 'resolved', 'closed',
      jsonb_build_object('parent_id', parent_id), $1
    FROM children
  )
  SELECT count(*) AS n FROM closed";

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn close_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    reason: &str,
    limit: i64,
) -> ApiResult<i64> {
    use diesel::sql_types::{BigInt, Text, Timestamptz};
    let c: Count = diesel::sql_query(CLOSE_DUE)
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(limit)
        .bind::<Text, _>(reason)
        .get_result(conn)
        .await?;
    Ok(c.n)
}

impl Timer for TicketCloseReminder {
    type Context = Notifier;

    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let t = store::find(conn, self.ticket_id, true).await?;
        if t.state != TicketState::Resolved || t.resolution_no != self.resolution_no {
            return Ok(());
        }
        notifications::close_reminder(conn, n, &t, now).await
    }
}

impl Timer for SlaBreach {
    type Context = ();

    async fn run(&self, _: &(), conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> ApiResult<()> {
        let mut t = store::find(conn, self.ticket_id, true).await?;
        let c = t.clock(self.clock);
        // Stale: the clock was paused, stopped or re-targeted since this was queued.
        if c.running_since.is_none()
            || c.due_at != Some(self.due_at)
            || c.breached_at.is_some()
            || self.due_at > now
        {
            return Ok(());
        }
        t.with_clock(self.clock, |c| {
            c.breached_at = Some(self.due_at);
            Ok(())
        })?;
        store::save(conn, &mut t, now).await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, t.id, "sla_breached").detail(serde_json::json!({
                "clock": self.clock,
                "due_at": self.due_at,
            })),
            now,
        )
        .await?;
        Ok(())
    }
}
