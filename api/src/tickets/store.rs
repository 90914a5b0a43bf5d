//! A ticket as stored, its SLA clocks, and what the API shows of it.
use super::settings::Settings;
use crate::calendar::{clock_calendar, SharedCalendar};
use crate::db::enums::{Db, Stored};
use crate::db::schema::{ticket_contact_attempts, tickets};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::sql::{bind, prepared};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::calendar::BusinessCalendar;
use domain::rdm::Priority;
use domain::roles::Team;
use domain::sla::{ClockState, Hours, SlaClock};
use domain::ticket::{
    allowed_actions, Actor, TicketAction, TicketFacts, TicketKind, TicketState, SUPPORT_ROLES,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A ticket row (all but its search vector).
#[derive(
    Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable, AsChangeset, Insertable,
)]
#[diesel(table_name = tickets, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct Ticket {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub organization_id: i64,
    #[diesel(serialize_as = Db<TicketKind>)]
    pub kind: TicketKind,
    pub parent_id: Option<i64>,
    pub follow_up_of: Option<i64>,
    pub item_id: i64,
    pub title: String,
    pub description: String,
    #[diesel(serialize_as = Db<Priority>)]
    pub priority: Priority,
    #[diesel(serialize_as = Db<TicketState>)]
    pub state: TicketState,
    pub pending_on: Option<String>,
    pub pending_reason: Option<String>,
    pub queue_id: i64,
    #[diesel(serialize_as = Db<Team>)]
    pub team: Team,
    pub assignee_id: Option<i64>,
    pub requester_id: i64,
    pub calendar_id: i64,
    pub round_the_clock: bool,
    pub opened_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub sla_pinned_at: DateTime<Utc>,
    pub response_target_s: i64,
    pub response_accrued_s: i64,
    pub response_running_since: Option<DateTime<Utc>>,
    pub response_due_at: Option<DateTime<Utc>>,
    pub response_breached_at: Option<DateTime<Utc>>,
    pub response_stopped_at: Option<DateTime<Utc>>,
    pub resolution_target_s: i64,
    pub resolution_accrued_s: i64,
    pub resolution_running_since: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub resolution_breached_at: Option<DateTime<Utc>>,
    pub resolution_stopped_at: Option<DateTime<Utc>>,
    pub solution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_no: i32,
    pub auto_close_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub reopen_count: i32,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub escalation_policy_id: Option<i64>,
    /// 0 until the first escalation; only rises.
    pub escalation_level: i32,
}

/// Which of a ticket's two clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    FirstResponse,
    Resolution,
}

impl Ticket {
    pub fn clock(&self, which: Which) -> SlaClock {
        match which {
            Which::FirstResponse => SlaClock {
                target: Duration::seconds(self.response_target_s),
                accrued: Duration::seconds(self.response_accrued_s),
                running_since: self.response_running_since,
                due_at: self.response_due_at,
                breached_at: self.response_breached_at,
                stopped_at: self.response_stopped_at,
            },
            Which::Resolution => SlaClock {
                target: Duration::seconds(self.resolution_target_s),
                accrued: Duration::seconds(self.resolution_accrued_s),
                running_since: self.resolution_running_since,
                due_at: self.resolution_due_at,
                breached_at: self.resolution_breached_at,
                stopped_at: self.resolution_stopped_at,
            },
        }
    }

    pub fn set_clock(&mut self, which: Which, c: SlaClock) {
        match which {
            Which::FirstResponse => {
                self.response_target_s = c.target.num_seconds();
                self.response_accrued_s = c.accrued.num_seconds();
                self.response_running_since = c.running_since;
                self.response_due_at = c.due_at;
                self.response_breached_at = c.breached_at;
                self.response_stopped_at = c.stopped_at;
            }
            Which::Resolution => {
                self.resolution_target_s = c.target.num_seconds();
                self.resolution_accrued_s = c.accrued.num_seconds();
                self.resolution_running_since = c.running_since;
                self.resolution_due_at = c.due_at;
                self.resolution_breached_at = c.breached_at;
                self.resolution_stopped_at = c.stopped_at;
            }
        }
    }

    /// Applies `f` to a clock and stores the result; a breach it records is counted in the
    /// metrics (every real change to a clock passes here: the breach timer's, and a pause,
    /// stop or new target that finds the clock past its due instant first).
    pub fn with_clock(
        &mut self,
        which: Which,
        f: impl FnOnce(&mut SlaClock) -> Result<(), domain::calendar::CalendarError>,
    ) -> ApiResult<()> {
        let was_breached = self.clock(which).breached_at.is_some();
        self.preview_clock(which, f)?;
        if self.clock(which).breached_at.is_some() && !was_breached {
            crate::platform::metrics::metrics().sla_breached(match which {
                Which::FirstResponse => "response",
                Which::Resolution => "resolution",
            });
        }
        Ok(())
    }

    /// [`Ticket::with_clock`] on a copy that is never saved (a what-if): nothing is counted.
    pub fn preview_clock(
        &mut self,
        which: Which,
        f: impl FnOnce(&mut SlaClock) -> Result<(), domain::calendar::CalendarError>,
    ) -> ApiResult<()> {
        let mut c = self.clock(which);
        f(&mut c).map_err(|e| ApiError::context(format!("ticket {} clock", self.id), e))?;
        self.set_clock(which, c);
        Ok(())
    }

    /// The ticket's number as people say it.
    pub fn number(&self) -> String {
        number(self.id)
    }
}

/// A ticket's number as people say it, e.g. `INC-000042`.
pub fn number(id: i64) -> String {
    format!("INC-{id:06}")
}

/// What a ticket's clocks count in: its calendar (with rules and included calendars), or
/// every hour for a 24×7 item. Holds the loaded calendar.
pub struct ClockBasis {
    shared: SharedCalendar,
    pub calendar_code: String,
    pub timezone: String,
    pub round_the_clock: bool,
}

impl ClockBasis {
    pub async fn of(
        conn: &mut AsyncPgConnection,
        calendar_id: i64,
        round_the_clock: bool,
        now: DateTime<Utc>,
    ) -> ApiResult<Self> {
        let shared = clock_calendar(conn, calendar_id, now).await?;
        Ok(ClockBasis {
            calendar_code: shared.0.code.clone(),
            timezone: shared.0.timezone.clone(),
            shared,
            round_the_clock,
        })
    }
    pub async fn of_ticket(
        conn: &mut AsyncPgConnection,
        t: &Ticket,
        now: DateTime<Utc>,
    ) -> ApiResult<Self> {
        Self::of(conn, t.calendar_id, t.round_the_clock, now).await
    }
    /// The calendar (rules expanded, includes merged).
    pub fn calendar(&self) -> &BusinessCalendar {
        &self.shared.1
    }
    /// Hours the SLA clocks count.
    pub fn hours(&self) -> Hours<'_> {
        if self.round_the_clock {
            Hours::RoundTheClock
        } else {
            Hours::Business(self.calendar())
        }
    }
    /// Business hours of the calendar, whatever the item (auto-close counts these).
    pub fn business(&self) -> Hours<'_> {
        Hours::Business(self.calendar())
    }
}

/// One SLA clock as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClockView {
    /// `running`, `paused`, `met` or `breached`.
    pub state: &'static str,
    pub target_minutes: i64,
    /// Counted time so far (business minutes, or wall-clock minutes for a 24×7 item).
    pub elapsed_minutes: i64,
    /// Elapsed ÷ target (1.0 = due).
    pub share_elapsed: f64,
    /// When the target is reached if the clock keeps running; null while paused or stopped.
    pub due_at: Option<DateTime<Utc>>,
    pub breached_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
}

pub fn clock_view(c: &SlaClock, h: Hours, now: DateTime<Utc>) -> ClockView {
    ClockView {
        state: match c.state(now) {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
        },
        target_minutes: c.target.num_minutes(),
        elapsed_minutes: c.elapsed(h, now).num_minutes(),
        share_elapsed: (c.share_elapsed(h, now) * 1000.0).round() / 1000.0,
        due_at: c.due_at,
        breached_at: c.breach_at(now),
        stopped_at: c.stopped_at,
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Clocks {
    pub first_response: ClockView,
    pub resolution: ClockView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueRef {
    pub id: i64,
    pub code: String,
    pub team: Team,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemRef {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// Its clocks count every hour (24×7), not business hours.
    pub round_the_clock: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarRef {
    pub id: i64,
    pub code: String,
    pub timezone: String,
}

/// A child as its parent lists it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema, Queryable)]
pub struct ChildRef {
    pub id: i64,
    pub kind: TicketKind,
    pub state: TicketState,
    pub team: Team,
    pub title: String,
}

/// A ticket with every deadline and what the caller may do now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketView {
    pub id: i64,
    /// e.g. `INC-000042`.
    pub number: String,
    pub kind: TicketKind,
    pub organization_id: i64,
    pub parent_id: Option<i64>,
    /// The closed ticket this one follows up.
    pub follow_up_of: Option<i64>,
    pub item: ItemRef,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub state: TicketState,
    /// `customer` or `third_party`, while pending.
    pub pending_on: Option<String>,
    pub pending_reason: Option<String>,
    pub queue: QueueRef,
    pub team: Team,
    pub assignee_id: Option<i64>,
    pub requester_id: i64,
    pub calendar: CalendarRef,
    pub opened_at: DateTime<Utc>,
    /// When the current team received the work: a child's OLA counts from here.
    pub received_at: DateTime<Utc>,
    /// The SLA (or, for a child, the team's OLA) definition in force at this instant applies.
    pub sla_pinned_at: DateTime<Utc>,
    pub clocks: Clocks,
    pub solution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Resolution + the configured business hours (60): the ticket closes by itself then.
    pub auto_close_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub reopen_count: i32,
    pub children: Vec<ChildRef>,
    /// Tickets opened as follow-ups of this one.
    pub follow_ups: Vec<i64>,
    /// RDMs linked to this ticket (the change that fixes it / ships its fix).
    pub rdm_ids: Vec<i64>,
    /// Contact attempts recorded (critical incidents).
    pub contact_attempts: i64,
    pub escalation: EscalationView,
    pub version: i32,
    pub allowed_actions: Vec<TicketAction>,
}

/// The rules' view of who asks.
pub fn actor_of(user: &AuthUser) -> Option<Actor> {
    if user.roles.any(SUPPORT_ROLES) {
        Some(Actor::Support)
    } else if user.has(domain::roles::Role::Customer) {
        Some(Actor::Customer)
    } else {
        None
    }
}

/// Loads a ticket the caller may see (a customer: only its organisation's incidents; staff:
/// all). Hidden and missing alike are 404. `lock` takes the row for the transaction.
pub async fn find_visible(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    lock: bool,
) -> ApiResult<Ticket> {
    let t = find(conn, id, lock).await?;
    if !may_see(user, &t) {
        return Err(ApiError::not_found(format!("ticket {id}")));
    }
    Ok(t)
}

pub fn may_see(user: &AuthUser, t: &Ticket) -> bool {
    match user.customer_scope(crate::identity::principal::STAFF) {
        None => true,
        Some(org) => t.organization_id == org && t.kind == TicketKind::Incident,
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64, lock: bool) -> ApiResult<Ticket> {
    let q = tickets::table.find(id).select(Ticket::as_select());
    let t = if lock {
        q.for_update().first(conn).await.optional()?
    } else {
        q.first(conn).await.optional()?
    };
    t.ok_or_else(|| ApiError::not_found(format!("ticket {id}")))
}

/// Writes back every column of `t`, one version up.
pub async fn save(
    conn: &mut AsyncPgConnection,
    t: &mut Ticket,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    t.version += 1;
    t.updated_at = now;
    diesel::update(tickets::table.find(t.id))
        .set(t.clone())
        .execute(conn)
        .await?;
    Ok(())
}

/// Ids of a ticket's open children.
pub async fn open_children(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Vec<i64>> {
    Ok(tickets::table
        .filter(tickets::parent_id.eq(id))
        .filter(tickets::state.eq_any([
            TicketState::New.db(),
            TicketState::InProgress.db(),
            TicketState::Pending.db(),
        ]))
        .order(tickets::id)
        .select(tickets::id)
        .load(conn)
        .await?)
}

/// Unanswered contact attempts recorded on a ticket.
pub async fn unanswered_attempts(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<i64> {
    Ok(ticket_contact_attempts::table
        .filter(ticket_contact_attempts::ticket_id.eq(id))
        .filter(ticket_contact_attempts::answered.eq(false))
        .count()
        .get_result(conn)
        .await?)
}

/// The facts the lifecycle needs about `t` (the request's fields are filled by the caller).
pub async fn facts_of(
    conn: &mut AsyncPgConnection,
    t: &Ticket,
    settings: &Settings,
) -> ApiResult<TicketFacts> {
    let open_children = if t.kind == TicketKind::Incident && t.state.is_open() {
        open_children(conn, t.id).await?
    } else {
        vec![]
    };
    let parent_open = match t.parent_id {
        Some(p) => tickets::table
            .find(p)
            .select(tickets::state)
            .first::<TicketState>(conn)
            .await?
            .is_open(),
        None => true,
    };
    let unanswered = if awaits_contact(t) {
        unanswered_attempts(conn, t.id).await?
    } else {
        0
    };
    Ok(facts(
        t,
        open_children,
        unanswered,
        settings.max_contact_attempts,
        parent_open,
    ))
}

/// Whether contact attempts count for `t` now: a resolved critical incident.
fn awaits_contact(t: &Ticket) -> bool {
    t.priority == Priority::Critical && t.state == TicketState::Resolved
}

/// The lifecycle's facts about `t` from what was read of its surroundings (the request's
/// fields are filled in by the action). One rule for actions and for the view.
fn facts(
    t: &Ticket,
    open_children: Vec<i64>,
    unanswered: i64,
    attempts_to_close: i32,
    parent_open: bool,
) -> TicketFacts {
    TicketFacts {
        critical: t.priority == Priority::Critical,
        open_children: if t.state.is_open() {
            open_children
        } else {
            vec![]
        },
        unanswered_attempts: if awaits_contact(t) {
            unanswered as u32
        } else {
            0
        },
        attempts_to_close: attempts_to_close as u32,
        has_reason: true,
        has_solution: true,
        has_pending_on: true,
        parent_open,
    }
}

/// The full view of `t` for `user`.
pub async fn view(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    t: Ticket,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    let basis = ClockBasis::of_ticket(conn, &t, now).await?;
    view_with(conn, user, t, &basis, now).await
}

/// A ticket's columns in [`Ticket`]'s order (all but the search vector).
macro_rules! ticket_columns {
    () => {
        "id, organization_id, kind, parent_id, follow_up_of, item_id, title, description, priority, \
         state, pending_on, pending_reason, queue_id, team, assignee_id, requester_id, calendar_id, \
         round_the_clock, opened_at, received_at, sla_pinned_at, response_target_s, \
         response_accrued_s, response_running_since, response_due_at, response_breached_at, \
         response_stopped_at, resolution_target_s, resolution_accrued_s, resolution_running_since, \
         resolution_due_at, resolution_breached_at, resolution_stopped_at, solution, resolved_at, \
         resolution_no, auto_close_at, closed_at, close_reason, reopen_count, version, updated_at, \
         escalation_policy_id, escalation_level"
    };
}
pub(crate) use ticket_columns;

/// What a ticket's view reads besides the ticket ([`Extras`]), over `support_items i` and
/// `queues q`; `$id`, `$parent` and `$policy` are the ticket's id, parent and escalation
/// policy (a placeholder or a column). `$incident` and `$closed` say whether children and
/// follow-ups can exist: a subquery skipped by `CASE` costs nothing, and a read is mostly
/// these subqueries' start-up when they find nothing (8,300 against 7,500 reads a second
/// under pgbench with the guards).
macro_rules! view_extras {
    ($id:literal, $parent:literal, $policy:literal, $incident:literal, $closed:literal) => {
        concat!(
            "i.code AS item_code, i.name AS item_name, q.code AS queue_code, q.team::text AS queue_team, \
             COALESCE(CASE WHEN ", $incident, " THEN (SELECT jsonb_agg(jsonb_build_object('id', c.id, 'kind', c.kind, \
               'state', c.state, 'team', c.team, 'title', c.title) ORDER BY c.id) FROM tickets c \
               WHERE c.parent_id = ", $id, ") END, '[]') AS children, \
             CASE WHEN ", $closed, " THEN ARRAY(SELECT f.id FROM tickets f WHERE f.follow_up_of = ", $id, " ORDER BY f.id) \
               ELSE '{}' END AS follow_ups, \
             ARRAY(SELECT l.rdm_id FROM ticket_rdm_links l WHERE l.ticket_id = ", $id, " ORDER BY l.rdm_id) AS rdm_ids, \
             (SELECT ARRAY[count(*), count(*) FILTER (WHERE NOT a.answered)] FROM ticket_contact_attempts a \
               WHERE a.ticket_id = ", $id, ") AS attempts, \
             CASE WHEN ", $parent, " IS NOT NULL THEN (SELECT p.state::text FROM tickets p WHERE p.id = ", $parent, ") END \
               AS parent_state, \
             (SELECT s.max_contact_attempts FROM ticket_settings s) AS max_contact_attempts, \
             COALESCE(CASE WHEN ", $policy, " IS NOT NULL THEN (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.level) \
               FROM escalation_levels e WHERE e.policy_id = ", $policy, ") END, '[]') AS levels"
        )
    };
}

/// A ticket and what its view reads besides it, in one statement: what `GET /tickets/{id}`
/// sends to PostgreSQL.
const READ_FULL: &str = concat!(
    "SELECT t.*, ",
    view_extras!(
        "t.id",
        "t.parent_id",
        "t.escalation_policy_id",
        "t.kind = 'incident'",
        "t.state = 'closed'"
    ),
    " FROM (SELECT ",
    ticket_columns!(),
    " FROM tickets WHERE id = ?) t JOIN support_items i ON i.id = t.item_id JOIN queues q ON q.id = t.queue_id"
);

#[derive(QueryableByName)]
struct Full {
    #[diesel(embed)]
    ticket: Ticket,
    #[diesel(embed)]
    extras: Extras,
}

/// The view of ticket `id` if `user` may see it (404 otherwise), read in one statement.
pub async fn read(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    let full: Option<Full> = prepared(READ_FULL, bind::<BigInt, _>(id))
        .get_result(conn)
        .await
        .optional()?;
    let Some(Full { ticket: t, extras }) = full.filter(|f| may_see(user, &f.ticket)) else {
        return Err(ApiError::not_found(format!("ticket {id}")));
    };
    let basis = ClockBasis::of_ticket(conn, &t, now).await?;
    view_from(user, t, extras, &basis, now)
}

pub async fn view_with(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    t: Ticket,
    basis: &ClockBasis,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    let x: Extras = prepared(
        concat!(
            "SELECT ",
            view_extras!("?", "?::bigint", "?::bigint", "true", "true"),
            " FROM support_items i, queues q WHERE i.id = ? AND q.id = ?"
        ),
        (
            (
                bind::<BigInt, _>(t.id),
                bind::<BigInt, _>(t.id),
                bind::<BigInt, _>(t.id),
                bind::<BigInt, _>(t.id),
            ),
            (
                bind::<Nullable<BigInt>, _>(t.parent_id),
                bind::<Nullable<BigInt>, _>(t.parent_id),
                bind::<Nullable<BigInt>, _>(t.escalation_policy_id),
                bind::<Nullable<BigInt>, _>(t.escalation_policy_id),
                bind::<BigInt, _>(t.item_id),
                bind::<BigInt, _>(t.queue_id),
            ),
        ),
    )
    .get_result(conn)
    .await?;
    view_from(user, t, x, basis, now)
}

/// The view of `t` from what was read beside it.
pub fn view_from(
    user: &AuthUser,
    t: Ticket,
    x: Extras,
    basis: &ClockBasis,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    let reading = |e: serde_json::Error| ApiError::context(format!("reading ticket {}", t.id), e);
    let children: Vec<ChildRef> = serde_json::from_value(x.children).map_err(reading)?;
    let levels: Vec<super::settings::EscalationLevel> =
        serde_json::from_value(x.levels).map_err(reading)?;
    let queue_team: Team = x
        .queue_team
        .parse()
        .map_err(|e| ApiError::internal(format!("queue team: {e}")))?;
    let (item_code, item_name, queue_code) = (x.item_code, x.item_name, x.queue_code);
    let (follow_ups, rdm_ids) = (x.follow_ups, x.rdm_ids);
    let attempt = |i: usize| x.attempts.get(i).copied().unwrap_or(0);
    let (contact_attempts, unanswered) = (attempt(0), attempt(1));
    // The lifecycle's facts, from what was just read (`facts_of` reads them for actions).
    let parent_open = x
        .parent_state
        .map(|s| s.parse::<TicketState>().is_ok_and(|s| s.is_open()))
        .unwrap_or(true);
    let open: Vec<i64> = children
        .iter()
        .filter(|c| c.state.is_open())
        .map(|c| c.id)
        .collect();
    let facts = facts(
        &t,
        open,
        unanswered,
        x.max_contact_attempts.unwrap_or(3),
        parent_open,
    );
    let escalation = escalation_view(&t, &levels, basis);
    let allowed = match actor_of(user) {
        Some(actor) => allowed_actions(t.kind, t.state, actor, &facts),
        None => vec![],
    };
    let h = basis.hours();
    Ok(TicketView {
        id: t.id,
        number: t.number(),
        kind: t.kind,
        organization_id: t.organization_id,
        parent_id: t.parent_id,
        follow_up_of: t.follow_up_of,
        item: ItemRef {
            id: t.item_id,
            code: item_code,
            name: item_name,
            round_the_clock: t.round_the_clock,
        },
        clocks: Clocks {
            first_response: clock_view(&t.clock(Which::FirstResponse), h, now),
            resolution: clock_view(&t.clock(Which::Resolution), h, now),
        },
        title: t.title,
        description: t.description,
        priority: t.priority,
        state: t.state,
        pending_on: t.pending_on,
        pending_reason: t.pending_reason,
        queue: QueueRef {
            id: t.queue_id,
            code: queue_code,
            team: queue_team,
        },
        team: t.team,
        assignee_id: t.assignee_id,
        requester_id: t.requester_id,
        calendar: CalendarRef {
            id: t.calendar_id,
            code: basis.calendar_code.clone(),
            timezone: basis.timezone.clone(),
        },
        opened_at: t.opened_at,
        received_at: t.received_at,
        sla_pinned_at: t.sla_pinned_at,
        solution: t.solution,
        resolved_at: t.resolved_at,
        auto_close_at: t.auto_close_at,
        closed_at: t.closed_at,
        close_reason: t.close_reason,
        reopen_count: t.reopen_count,
        children,
        follow_ups,
        rdm_ids,
        contact_attempts,
        escalation,
        version: t.version,
        allowed_actions: allowed,
    })
}

/// A ticket's escalation, as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EscalationView {
    pub policy_id: Option<i64>,
    /// 0: not escalated.
    pub level: i32,
    /// The next level and when it triggers if the clocks keep running; null when none.
    pub next_level: Option<i32>,
    pub next_at: Option<DateTime<Utc>>,
}

pub fn escalation_view(
    t: &Ticket,
    levels: &[super::settings::EscalationLevel],
    basis: &ClockBasis,
) -> EscalationView {
    let next = if t.escalation_policy_id.is_some() && t.state.is_open() {
        let rules: Vec<_> = levels
            .iter()
            .map(super::settings::EscalationLevel::rule)
            .collect();
        domain::escalation::next_level(
            &rules,
            t.escalation_level,
            &t.clock(Which::FirstResponse),
            &t.clock(Which::Resolution),
            basis.hours(),
        )
        .map(|(l, at)| (l.level, at))
    } else {
        None
    };
    EscalationView {
        policy_id: t.escalation_policy_id,
        level: t.escalation_level,
        next_level: next.map(|n| n.0),
        next_at: next.map(|n| n.1),
    }
}

/// What a ticket's view reads besides the ticket (see `view_extras!`).
#[derive(QueryableByName)]
pub struct Extras {
    #[diesel(sql_type = Text)]
    pub item_code: String,
    #[diesel(sql_type = Text)]
    pub item_name: String,
    #[diesel(sql_type = Text)]
    pub queue_code: String,
    #[diesel(sql_type = Text)]
    pub queue_team: String,
    #[diesel(sql_type = Jsonb)]
    pub children: serde_json::Value,
    #[diesel(sql_type = Array<BigInt>)]
    pub follow_ups: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    pub rdm_ids: Vec<i64>,
    /// Contact attempts: how many, how many unanswered.
    #[diesel(sql_type = Array<BigInt>)]
    pub attempts: Vec<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub parent_state: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub max_contact_attempts: Option<i32>,
    #[diesel(sql_type = Jsonb)]
    pub levels: serde_json::Value,
}

impl Extras {
    /// What surrounds a ticket just opened: nothing yet but its item, queue, parent and
    /// policy.
    pub fn of_new(
        item: (String, String),
        queue: (String, Team),
        parent_state: Option<TicketState>,
        max_contact_attempts: i32,
        levels: &[super::settings::EscalationLevel],
    ) -> ApiResult<Self> {
        Ok(Extras {
            item_code: item.0,
            item_name: item.1,
            queue_code: queue.0,
            queue_team: queue.1.as_str().to_string(),
            children: serde_json::Value::Array(vec![]),
            follow_ups: vec![],
            rdm_ids: vec![],
            attempts: vec![0, 0],
            parent_state: parent_state.map(|s| s.as_str().to_string()),
            max_contact_attempts: Some(max_contact_attempts),
            levels: serde_json::to_value(levels)?,
        })
    }
}
