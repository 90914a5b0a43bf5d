//! The ticket timers' jobs and when they are queued: auto-close at `auto_close_at`, the
//! customer's reminder before it, and each SLA clock's breach at its due instant. Each is one
//! job due at its instant (the queue claims due jobs only: a pass costs what is due, not the
//! table's size), keyed by what it is bound to so it is queued once. What they do is in
//! [`super::timers`].
use super::settings::EscalationLevel;
use super::store::{Ticket, Which};
use crate::platform::error::ApiResult;
use crate::queue::{enqueue, enqueue_planned, Lane, Planned, Queued};
use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use domain::escalation::next_level;
use domain::sla::Hours;
use serde::{Deserialize, Serialize};

/// Closes a resolved ticket the customer neither confirmed nor reopened (SPEC §4.3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TicketAutoClose {
    pub ticket_id: i64,
    pub resolution_no: i32,
    /// Queued by a run whose batch was full, to take the next batch (see `timers`).
    #[serde(default)]
    pub continuation: bool,
}

impl Queued for TicketAutoClose {
    const KIND: &'static str = "ticket_auto_close";
    const LANE: Lane = Lane::Timers;
    const KEY_RETENTION: Option<Duration> = Some(Duration::days(30));
}

/// Reminds the customer that the resolved ticket will close by itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TicketCloseReminder {
    pub ticket_id: i64,
    pub resolution_no: i32,
}

impl Queued for TicketCloseReminder {
    const KIND: &'static str = "ticket_close_reminder";
    const LANE: Lane = Lane::Timers;
    const KEY_RETENTION: Option<Duration> = Some(Duration::days(30));
}

/// Records an SLA clock's breach at its due instant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SlaBreach {
    pub ticket_id: i64,
    pub clock: Which,
    pub due_at: DateTime<Utc>,
}

impl Queued for SlaBreach {
    const KIND: &'static str = "sla_breach";
    const LANE: Lane = Lane::Timers;
    const KEY_RETENTION: Option<Duration> = Some(Duration::days(30));
}

/// Queues the auto-close (and its reminder) of the ticket's current resolution.
pub async fn schedule_close(
    conn: &mut AsyncPgConnection,
    t: &Ticket,
    close_at: DateTime<Utc>,
    remind_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let job = TicketAutoClose {
        ticket_id: t.id,
        resolution_no: t.resolution_no,
        continuation: false,
    };
    let key = format!("ticket:{}:resolution:{}:auto_close", t.id, t.resolution_no);
    enqueue(conn, &job, close_at, Some(key), now).await?;
    if let Some(at) = remind_at {
        let job = TicketCloseReminder {
            ticket_id: t.id,
            resolution_no: t.resolution_no,
        };
        let key = format!("ticket:{}:resolution:{}:reminder", t.id, t.resolution_no);
        enqueue(conn, &job, at, Some(key), now).await?;
    }
    Ok(())
}

/// Raises a ticket to an escalation level when its trigger is reached.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TicketEscalation {
    pub ticket_id: i64,
    pub level: i32,
    pub at: DateTime<Utc>,
}

impl Queued for TicketEscalation {
    const KIND: &'static str = "ticket_escalation";
    const LANE: Lane = Lane::Timers;
    const KEY_RETENTION: Option<Duration> = Some(Duration::days(30));
}

/// Queues what the ticket's clocks make due: each running clock's breach at its due instant,
/// and the next escalation level at its trigger (an open ticket whose policy has one above
/// its level). Called after every change to the clocks.
pub async fn schedule_clocks(
    conn: &mut AsyncPgConnection,
    t: &Ticket,
    h: Hours<'_>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let levels = match t.escalation_policy_id.filter(|_| t.state.is_open()) {
        Some(policy) => super::settings::levels(conn, policy).await?,
        None => vec![],
    };
    for job in clock_jobs(t, &levels, h, &t.id.to_string())? {
        enqueue_planned(conn, job, now).await?;
    }
    Ok(())
}

/// What [`schedule_clocks`] queues, as rows. `ticket` is how the keys name the ticket: its id,
/// or [`NEW_TICKET`] for a ticket the same statement writes (which also sets `ticket_id` in
/// each payload).
pub fn clock_jobs(
    t: &Ticket,
    levels: &[EscalationLevel],
    h: Hours<'_>,
    ticket: &str,
) -> ApiResult<Vec<Planned>> {
    let mut out = Vec::new();
    for which in [Which::FirstResponse, Which::Resolution] {
        let c = t.clock(which);
        if let (Some(due), true, None) = (c.due_at, c.running_since.is_some(), c.breached_at) {
            let key = format!(
                "ticket:{ticket}:{}:due:{}",
                match which {
                    Which::FirstResponse => "first_response",
                    Which::Resolution => "resolution",
                },
                due.timestamp_micros()
            );
            let job = SlaBreach {
                ticket_id: t.id,
                clock: which,
                due_at: due,
            };
            out.push(Planned::of(&job, due, Some(key))?);
        }
    }
    if t.escalation_policy_id.is_none() || !t.state.is_open() {
        return Ok(out);
    }
    let domain_levels: Vec<_> = levels.iter().map(|l| l.rule()).collect();
    if let Some((level, at)) = next_level(
        &domain_levels,
        t.escalation_level,
        &t.clock(Which::FirstResponse),
        &t.clock(Which::Resolution),
        h,
    ) {
        let job = TicketEscalation {
            ticket_id: t.id,
            level: level.level,
            at,
        };
        let key = format!(
            "ticket:{ticket}:escalation:{}:at:{}",
            level.level,
            at.timestamp_micros()
        );
        out.push(Planned::of(&job, at, Some(key))?);
    }
    Ok(out)
}

/// How a key names a ticket not yet written; the statement writing it puts its id there.
pub const NEW_TICKET: &str = "{ticket}";
