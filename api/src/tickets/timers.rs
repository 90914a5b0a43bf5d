//! What the ticket timers do (jobs in [`super::jobs`]). Each re-checks the ticket under its
//! row lock, so a stale job (the ticket was reopened, paused, re-targeted) does nothing, and
//! two instances never both act.
use super::jobs::{SlaBreach, TicketAutoClose, TicketCloseReminder};
use super::lifecycle::{apply, By, TicketActionBody};
use super::notifications;
use super::settings;
use super::store;
use crate::events::{append, Entity, NewEvent};
use crate::notify::Notifier;
use crate::platform::error::ApiResult;
use crate::queue::Timer;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use domain::ticket::{Actor, TicketAction, TicketState};

impl Timer for TicketAutoClose {
    type Context = Notifier;

    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let mut t = store::find(conn, self.ticket_id, true).await?;
        let due = t.auto_close_at.is_some_and(|at| at <= now);
        if t.state != TicketState::Resolved || t.resolution_no != self.resolution_no || !due {
            return Ok(());
        }
        let settings = settings::load(conn).await?;
        let by = By {
            actor: Actor::System,
            user_id: None,
        };
        apply(
            conn,
            n,
            &settings,
            &mut t,
            TicketAction::AutoClose,
            by,
            &TicketActionBody::default(),
            now,
        )
        .await
    }
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
