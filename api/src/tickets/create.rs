//! Opening tickets (SPEC §4.1–4.3): a customer's incident routed by the rules, a child for a
//! team with that team's own OLA, and a follow-up of a closed ticket.
use super::jobs;
use super::settings::{self, Route, Targets};
use super::store::{self, ClockBasis, Ticket, TicketView, Which};
use crate::db::schema::{organizations, tickets, users};
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::idempotency::{create_once, Created, Idempotency};
use crate::platform::input::{not_blank, Problems};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::rdm::Priority;
use domain::roles::{Role, Team};
use domain::sla::SlaClock;
use domain::ticket::{child_team_fits, may_add_child, TicketKind, TicketState, SUPPORT_ROLES};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Who opens a customer's incident: the customer, or support on the customer's behalf.
pub fn openers() -> Vec<Role> {
    let mut r = SUPPORT_ROLES.to_vec();
    r.push(Role::Customer);
    r
}

/// A customer's incident.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    /// The customer organisation. A customer may omit it (its own is used) and may name no
    /// other; support must give it.
    pub organization_id: Option<i64>,
    /// The support-catalog item (`GET /api/v1/support-items`).
    pub item_id: i64,
    #[validate(length(min = 3, max = 200), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: String,
    pub priority: Priority,
    /// Support opening on a customer's behalf: the customer user (of that organisation) who
    /// validates the resolution. Default: the caller.
    pub requester_id: Option<i64>,
}

/// Work handed to a team under a parent incident (SPEC §4.2).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChild {
    /// `internal` (any team), `escalation` (`taf_tss` or `cloud`) or `non_conformity` (`dev`).
    pub kind: TicketKind,
    pub team: Team,
    #[validate(length(min = 3, max = 200), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: String,
    /// Default: the parent's.
    pub priority: Option<Priority>,
}

/// A new ticket following up a closed one.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFollowUp {
    /// Default: "Acompanhamento de INC-…: <the closed ticket's title>".
    #[validate(length(min = 3, max = 200), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(min = 1, max = 20000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 20000)]
    pub description: String,
}

struct Opening {
    organization_id: i64,
    kind: TicketKind,
    parent_id: Option<i64>,
    follow_up_of: Option<i64>,
    item_id: i64,
    round_the_clock: bool,
    title: String,
    description: String,
    priority: Priority,
    queue_id: i64,
    team: Team,
    requester_id: i64,
    calendar_id: i64,
    targets: Targets,
    escalation_policy_id: Option<i64>,
}

/// Writes a new ticket with its clocks started at `now`, and its breach timers.
async fn insert(
    conn: &mut AsyncPgConnection,
    o: Opening,
    now: DateTime<Utc>,
) -> ApiResult<(Ticket, ClockBasis)> {
    let basis = ClockBasis::of(conn, o.calendar_id, o.round_the_clock, now).await?;
    let h = basis.hours();
    let start = |target| {
        SlaClock::start(h, now, target).map_err(|e| ApiError::context("starting a clock", e))
    };
    let response = start(o.targets.response)?;
    let resolution = start(o.targets.resolution)?;
    let mut t = Ticket {
        id: 0,
        organization_id: o.organization_id,
        kind: o.kind,
        parent_id: o.parent_id,
        follow_up_of: o.follow_up_of,
        item_id: o.item_id,
        title: o.title,
        description: o.description,
        priority: o.priority,
        state: TicketState::New,
        pending_on: None,
        pending_reason: None,
        queue_id: o.queue_id,
        team: o.team,
        assignee_id: None,
        requester_id: o.requester_id,
        calendar_id: o.calendar_id,
        round_the_clock: o.round_the_clock,
        opened_at: now,
        received_at: now,
        sla_pinned_at: now,
        response_target_s: 0,
        response_accrued_s: 0,
        response_running_since: None,
        response_due_at: None,
        response_breached_at: None,
        response_stopped_at: None,
        resolution_target_s: 0,
        resolution_accrued_s: 0,
        resolution_running_since: None,
        resolution_due_at: None,
        resolution_breached_at: None,
        resolution_stopped_at: None,
        solution: None,
        resolved_at: None,
        resolution_no: 0,
        auto_close_at: None,
        closed_at: None,
        close_reason: None,
        reopen_count: 0,
        version: 1,
        updated_at: now,
        escalation_policy_id: o.escalation_policy_id,
        escalation_level: 0,
    };
    t.set_clock(Which::FirstResponse, response);
    t.set_clock(Which::Resolution, resolution);
    let t: Ticket = diesel::insert_into(tickets::table)
        .values(t)
        .returning(Ticket::as_returning())
        .get_result(conn)
        .await?;
    jobs::schedule_clocks(conn, &t, h, now).await?;
    Ok((t, basis))
}

fn route_detail(r: &Route) -> serde_json::Value {
    serde_json::json!({
        "queue_id": r.queue_id,
        "queue": r.queue_code,
        "team": r.team,
        "rule_id": r.rule_id,
        "contract_id": r.contract_id,
        "calendar_id": r.calendar_id,
        "default_queue": r.rule_id.is_none(),
    })
}

fn targets_detail(t: &Targets) -> serde_json::Value {
    serde_json::json!({
        "first_response_minutes": t.response.num_minutes(),
        "resolution_minutes": t.resolution.num_minutes(),
    })
}

fn missing_target(priority: Priority, what: &str) -> ApiError {
    ApiError::validation(
        "priority",
        "no_target",
        format!("{what} defines no target for priority `{priority}`"),
    )
}

/// Opens a customer's incident.
pub async fn open(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    body: &NewTicket,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<Created<TicketView>> {
    let idem = Idempotency::new(idempotency_key, "POST /api/v1/tickets", body)?;
    let run = async |conn: &mut AsyncPgConnection| -> ApiResult<TicketView> {
        let customer = !user.roles.any(SUPPORT_ROLES);
        let mut p = Problems::default();
        let org = match (customer, body.organization_id) {
            (true, Some(o)) if Some(o) != user.organization_id => {
                return Err(ApiError::Forbidden(
                    "a customer opens tickets for its own organisation only".into(),
                ))
            }
            (true, _) => user.organization_id,
            (false, None) => {
                p.push(FieldError::new(
                    "organization_id",
                    "required",
                    "support must name the customer organisation",
                ));
                None
            }
            (false, Some(o)) => {
                let found: Option<i64> = organizations::table
                    .find(o)
                    .select(organizations::id)
                    .first(conn)
                    .await
                    .optional()?;
                if found.is_none() {
                    p.push(FieldError::new(
                        "organization_id",
                        "unknown",
                        format!("no organisation {o}"),
                    ));
                }
                found
            }
        };
        let item = settings::item(conn, body.item_id).await?;
        if item.is_none() {
            p.push(FieldError::new(
                "item_id",
                "unknown",
                format!("no support-catalog item {}", body.item_id),
            ));
        }
        let requester_id = match body.requester_id {
            Some(r) if customer && r != user.id => {
                p.push(FieldError::new(
                    "requester_id",
                    "forbidden",
                    "a customer opens tickets as itself",
                ));
                user.id
            }
            Some(r) => {
                let of: Option<(Option<i64>, bool)> = users::table
                    .find(r)
                    .select((users::organization_id, users::active))
                    .first(conn)
                    .await
                    .optional()?;
                match of {
                    Some((o, true)) if o.is_none() || o == org => {}
                    Some((_, true)) => p.push(FieldError::new(
                        "requester_id",
                        "other_organization",
                        "the requester belongs to another organisation",
                    )),
                    _ => p.push(FieldError::new(
                        "requester_id",
                        "unknown",
                        format!("no active user {r}"),
                    )),
                }
                r
            }
            None => user.id,
        };
        let targets = match &item {
            Some(i) => {
                let t = settings::sla_targets(conn, i.id, body.priority, now).await?;
                if t.is_none() {
                    p.take::<()>(Err(missing_target(
                        body.priority,
                        &format!("item `{}`", i.code),
                    )));
                }
                t
            }
            None => None,
        };
        p.finish()?;
        let (Some(org), Some(item), Some(targets)) = (org, item, targets) else {
            return Err(ApiError::internal("checked above"));
        };
        conn.transaction::<_, ApiError, _>(async |conn| {
            let s = settings::load(conn).await?;
            let route = settings::route(conn, org, &item, &s, now).await?;
            let policy = settings::policy_for(conn, item.id, body.priority).await?;
            let (t, basis) = insert(
                conn,
                Opening {
                    organization_id: org,
                    kind: TicketKind::Incident,
                    parent_id: None,
                    follow_up_of: None,
                    item_id: item.id,
                    round_the_clock: item.round_the_clock,
                    title: body.title.trim().to_string(),
                    description: body.description.clone(),
                    priority: body.priority,
                    queue_id: route.queue_id,
                    team: route.team,
                    requester_id,
                    calendar_id: route.calendar_id,
                    targets,
                    escalation_policy_id: policy,
                },
                now,
            )
            .await?;
            append(
                conn,
                NewEvent::on(Entity::Ticket, t.id, "open")
                    .states(None, Some(TicketState::New.as_str()))
                    .by(Some(user.id))
                    .detail(serde_json::json!({"route": route_detail(&route), "targets": targets_detail(&targets)})),
                now,
            )
            .await?;
            store::view_with(conn, user, t, &basis, now).await
        })
        .await
    };
    match idem {
        None => run(conn).await.map(Created::New),
        Some(i) => create_once(conn, Some(&i), user.id, now, run).await,
    }
}

/// Opens a child under `parent_id` for a team, with the team's OLA counted from now.
pub async fn open_child(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    parent_id: i64,
    body: &NewChild,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    if !child_team_fits(body.kind, body.team) {
        return Err(match body.kind {
            TicketKind::Incident => ApiError::validation(
                "kind",
                "invalid",
                "a child is internal, escalation or non_conformity",
            ),
            TicketKind::Escalation => ApiError::validation(
                "team",
                "kind_mismatch",
                "an escalation goes to taf_tss or cloud",
            ),
            _ => ApiError::validation("team", "kind_mismatch", "a non-conformity goes to dev"),
        });
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let parent = store::find_visible(conn, user, parent_id, true).await?;
        may_add_child(parent.kind, parent.state)
            .map_err(|why| ApiError::conflict("parent_not_open", why))?;
        let priority = body.priority.unwrap_or(parent.priority);
        let targets = settings::team_ola(conn, body.team, priority, now)
            .await?
            .ok_or_else(|| {
                missing_target(priority, &format!("team `{}`'s OLA", body.team.as_str()))
            })?;
        let (queue_id, queue_code) = settings::team_queue(conn, body.team).await?;
        let policy = settings::policy_for(conn, parent.item_id, priority).await?;
        let (t, basis) = insert(
            conn,
            Opening {
                organization_id: parent.organization_id,
                kind: body.kind,
                parent_id: Some(parent.id),
                follow_up_of: None,
                item_id: parent.item_id,
                round_the_clock: parent.round_the_clock,
                title: body.title.trim().to_string(),
                description: body.description.clone(),
                priority,
                queue_id,
                team: body.team,
                requester_id: user.id,
                calendar_id: parent.calendar_id,
                targets,
                escalation_policy_id: policy,
            },
            now,
        )
        .await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, t.id, "open")
                .states(None, Some(TicketState::New.as_str()))
                .by(Some(user.id))
                .detail(serde_json::json!({
                    "parent_id": parent.id, "queue": queue_code, "team": body.team,
                    "ola": targets_detail(&targets),
                })),
            now,
        )
        .await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, parent.id, "child_opened")
                .by(Some(user.id))
                .detail(
                    serde_json::json!({"child_id": t.id, "kind": body.kind, "team": body.team}),
                ),
            now,
        )
        .await?;
        store::view_with(conn, user, t, &basis, now).await
    })
    .await
}

/// Opens a follow-up of a closed ticket (the only way on after closing, SPEC §4.3).
pub async fn open_follow_up(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    closed_id: i64,
    body: &NewFollowUp,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let closed = store::find_visible(conn, user, closed_id, true).await?;
        if closed.kind != TicketKind::Incident {
            return Err(ApiError::conflict(
                "not_an_incident",
                "follow-ups are opened for a customer's incident, not for a child",
            ));
        }
        if closed.state != TicketState::Closed {
            return Err(ApiError::conflict(
                "not_closed",
                format!(
                    "{} is {}: a follow-up is for a closed ticket; while it is resolved, reopen it instead",
                    closed.number(),
                    closed.state
                ),
            ));
        }
        let item = settings::item(conn, closed.item_id)
            .await?
            .ok_or_else(|| ApiError::internal("the ticket's item is gone"))?;
        let targets = settings::sla_targets(conn, item.id, closed.priority, now)
            .await?
            .ok_or_else(|| missing_target(closed.priority, &format!("item `{}`", item.code)))?;
        let s = settings::load(conn).await?;
        let route = settings::route(conn, closed.organization_id, &item, &s, now).await?;
        let requester_id = if user.roles.any(SUPPORT_ROLES) {
            closed.requester_id
        } else {
            user.id
        };
        let title = match &body.title {
            Some(t) => t.trim().to_string(),
            None => {
                let mut t = format!("Acompanhamento de {}: {}", closed.number(), closed.title);
                if t.chars().count() > 200 {
                    t = t.chars().take(200).collect();
                }
                t
            }
        };
        let policy = settings::policy_for(conn, item.id, closed.priority).await?;
        let (t, basis) = insert(
            conn,
            Opening {
                organization_id: closed.organization_id,
                kind: TicketKind::Incident,
                parent_id: None,
                follow_up_of: Some(closed.id),
                item_id: item.id,
                round_the_clock: item.round_the_clock,
                title,
                description: body.description.clone(),
                priority: closed.priority,
                queue_id: route.queue_id,
                team: route.team,
                requester_id,
                calendar_id: route.calendar_id,
                targets,
                escalation_policy_id: policy,
            },
            now,
        )
        .await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, t.id, "open")
                .states(None, Some(TicketState::New.as_str()))
                .by(Some(user.id))
                .detail(serde_json::json!({"follow_up_of": closed.id, "route": route_detail(&route)})),
            now,
        )
        .await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, closed.id, "follow_up_opened")
                .by(Some(user.id))
                .detail(serde_json::json!({"follow_up_id": t.id})),
            now,
        )
        .await?;
        store::view_with(conn, user, t, &basis, now).await
    })
    .await
}
