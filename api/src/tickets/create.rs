//! Opening tickets (SPEC §4.1–4.3): a customer's incident routed by the rules, a child for a
//! team with that team's own OLA, and a follow-up of a closed ticket.
use super::jobs;
use super::settings::{self, EscalationLevel, Route, Targets};
use super::store::{self, ClockBasis, Extras, Ticket, TicketView, Which};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::idempotency::{create_once, Created, Idempotency};
use crate::platform::input::{not_blank, Problems};
use crate::platform::sql::{bind, prepared};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Integer, Jsonb, Nullable, Text, Timestamptz};
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

/// An event written with a new ticket: on the ticket itself (`on: None`) or on another one
/// (the parent, the closed ticket followed up); `id_field` names the detail field that gets the
/// new ticket's id.
struct OpeningEvent {
    on: Option<i64>,
    action: &'static str,
    to_state: Option<&'static str>,
    detail: serde_json::Value,
    id_field: Option<&'static str>,
}

impl OpeningEvent {
    fn open(detail: serde_json::Value) -> Self {
        OpeningEvent {
            on: None,
            action: "open",
            to_state: Some(TicketState::New.as_str()),
            detail,
            id_field: None,
        }
    }
    fn on(
        ticket: i64,
        action: &'static str,
        detail: serde_json::Value,
        id_field: &'static str,
    ) -> Self {
        OpeningEvent {
            on: Some(ticket),
            action,
            to_state: None,
            detail,
            id_field: Some(id_field),
        }
    }
}

/// One statement writes a new ticket, its events and the jobs its clocks make due (each key
/// claimed first, as `queue::enqueue` does; `{ticket}` in a key and `ticket_id` in a payload
/// become the new id), and returns the ticket.
const INSERT: &str = concat!(
    "WITH t AS ( \
       INSERT INTO tickets (organization_id, kind, parent_id, follow_up_of, item_id, title, description, \
         priority, state, queue_id, team, requester_id, calendar_id, round_the_clock, opened_at, \
         received_at, sla_pinned_at, response_target_s, response_running_since, response_due_at, \
         resolution_target_s, resolution_running_since, resolution_due_at, version, updated_at, \
         escalation_policy_id) \
       VALUES (?, ?::ticket_kind, ?, ?, ?, ?, ?, ?::priority, 'new', ?, ?::team, ?, ?, ?, ?, ?, ?, \
         ?, ?, ?, ?, ?, ?, 1, ?, ?) \
       RETURNING ",
    store::ticket_columns!(),
    "), e AS ( \
       INSERT INTO events (entity, entity_id, action, to_state, actor_id, detail, at) \
       SELECT 'ticket', COALESCE(x.entity_id, t.id), x.action, x.to_state, ?, \
         CASE WHEN x.id_field IS NULL THEN x.detail ELSE x.detail || jsonb_build_object(x.id_field, t.id) END, ? \
       FROM t CROSS JOIN unnest(?::bigint[], ?::text[], ?::text[], ?::jsonb[], ?::text[]) \
         AS x(entity_id, action, to_state, detail, id_field)), \
     k AS ( \
       INSERT INTO job_keys (key, keep_until, created_at) \
       SELECT replace(j.key, '{ticket}', t.id::text), j.keep_until, ? \
       FROM t CROSS JOIN unnest(?::text[], ?::timestamptz[]) AS j(key, keep_until) \
       ON CONFLICT DO NOTHING RETURNING key), \
     jb AS ( \
       INSERT INTO jobs (kind, lane, payload, dedup_key, run_at, max_attempts, created_at) \
       SELECT j.kind, j.lane::job_lane, j.payload || jsonb_build_object('ticket_id', t.id), k.key, \
         j.run_at, j.max_attempts, ? \
       FROM t CROSS JOIN unnest(?::text[], ?::text[], ?::jsonb[], ?::text[], ?::timestamptz[], ?::int[]) \
         AS j(kind, lane, payload, key, run_at, max_attempts) \
       JOIN k ON k.key = replace(j.key, '{ticket}', t.id::text)) \
     SELECT t.* FROM t"
);

/// Writes a new ticket with its clocks started at `now`, its events and its timers, in one
/// statement.
async fn insert(
    conn: &mut AsyncPgConnection,
    o: Opening,
    events: Vec<OpeningEvent>,
    levels: &[EscalationLevel],
    basis: &ClockBasis,
    actor: i64,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
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
    let planned = jobs::clock_jobs(&t, levels, h, jobs::NEW_TICKET)?;
    let ev_on: Vec<Option<i64>> = events.iter().map(|e| e.on).collect();
    let ev_action: Vec<&str> = events.iter().map(|e| e.action).collect();
    let ev_to: Vec<Option<&str>> = events.iter().map(|e| e.to_state).collect();
    let ev_id_field: Vec<Option<&str>> = events.iter().map(|e| e.id_field).collect();
    let ev_detail: Vec<serde_json::Value> = events.into_iter().map(|e| e.detail).collect();
    let j_key: Vec<String> = planned
        .iter()
        .map(|p| p.key.clone().unwrap_or_default())
        .collect();
    let j_keep: Vec<Option<DateTime<Utc>>> = planned.iter().map(|p| p.keep_until).collect();
    let j_kind: Vec<&str> = planned.iter().map(|p| p.kind).collect();
    let j_lane: Vec<&str> = planned.iter().map(|p| p.lane.as_str()).collect();
    let j_run_at: Vec<DateTime<Utc>> = planned.iter().map(|p| p.run_at).collect();
    let j_max: Vec<i32> = planned.iter().map(|p| p.max_attempts).collect();
    let j_payload: Vec<serde_json::Value> = planned.into_iter().map(|p| p.payload).collect();
    let written: Ticket = prepared(
        INSERT,
        (
            (
                bind::<BigInt, _>(t.organization_id),
                bind::<Text, _>(t.kind.as_str()),
                bind::<Nullable<BigInt>, _>(t.parent_id),
                bind::<Nullable<BigInt>, _>(t.follow_up_of),
                bind::<BigInt, _>(t.item_id),
                bind::<Text, _>(&t.title),
                bind::<Text, _>(&t.description),
                bind::<Text, _>(t.priority.as_str()),
                bind::<BigInt, _>(t.queue_id),
                bind::<Text, _>(t.team.as_str()),
                bind::<BigInt, _>(t.requester_id),
                bind::<BigInt, _>(t.calendar_id),
            ),
            (
                bind::<Bool, _>(t.round_the_clock),
                bind::<Timestamptz, _>(now),
                bind::<Timestamptz, _>(now),
                bind::<Timestamptz, _>(now),
                bind::<BigInt, _>(t.response_target_s),
                bind::<Nullable<Timestamptz>, _>(t.response_running_since),
                bind::<Nullable<Timestamptz>, _>(t.response_due_at),
                bind::<BigInt, _>(t.resolution_target_s),
                bind::<Nullable<Timestamptz>, _>(t.resolution_running_since),
                bind::<Nullable<Timestamptz>, _>(t.resolution_due_at),
                bind::<Timestamptz, _>(now),
                bind::<Nullable<BigInt>, _>(t.escalation_policy_id),
            ),
            (
                bind::<BigInt, _>(actor),
                bind::<Timestamptz, _>(now),
                bind::<Array<Nullable<BigInt>>, _>(ev_on),
                bind::<Array<Text>, _>(ev_action),
                bind::<Array<Nullable<Text>>, _>(ev_to),
                bind::<Array<Jsonb>, _>(ev_detail),
                bind::<Array<Nullable<Text>>, _>(ev_id_field),
            ),
            (
                bind::<Timestamptz, _>(now),
                bind::<Array<Text>, _>(j_key.clone()),
                bind::<Array<Nullable<Timestamptz>>, _>(j_keep),
                bind::<Timestamptz, _>(now),
                bind::<Array<Text>, _>(j_kind),
                bind::<Array<Text>, _>(j_lane),
                bind::<Array<Jsonb>, _>(j_payload),
                bind::<Array<Text>, _>(j_key),
                bind::<Array<Timestamptz>, _>(j_run_at),
                bind::<Array<Integer>, _>(j_max),
            ),
        ),
    )
    .get_result(conn)
    .await?;
    Ok(written)
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

/// What intake reads to check, route and time a customer's incident, in one statement: the
/// organisation, the item with its targets for the priority, the requester, the first routing
/// rule that matches (item, contract product in force, organisation) and its queue (else the
/// default queue), the contract for the item's product, the calendar (the contract's, else the
/// organisation's, else the default), and the escalation policy with its levels.
const INTAKE: &str = "WITH it AS ( \
       SELECT id, code, name, product, round_the_clock, escalation_policy_id FROM support_items WHERE id = ?), \
     ctr AS ( \
       SELECT id, product, calendar_id FROM contracts \
       WHERE organization_id = ? AND valid_from <= ?::date AND (valid_until IS NULL OR valid_until >= ?::date)), \
     rule AS ( \
       SELECT r.id, r.queue_id FROM routing_rules r \
       WHERE (r.item_id IS NULL OR r.item_id = ?) AND (r.organization_id IS NULL OR r.organization_id = ?) \
         AND (r.contract_product IS NULL OR r.contract_product IN (SELECT product FROM ctr)) \
       ORDER BY r.position LIMIT 1), \
     q AS ( \
       SELECT id, team::text AS team, code FROM queues \
       WHERE id = COALESCE((SELECT queue_id FROM rule), (SELECT id FROM queues WHERE is_default ORDER BY id LIMIT 1))), \
     con AS (SELECT ctr.id, ctr.calendar_id FROM ctr, it WHERE ctr.product = it.product ORDER BY ctr.id LIMIT 1), \
     pol AS ( \
       SELECT p.id FROM escalation_policies p, it \
       WHERE p.id = it.escalation_policy_id AND p.priorities @> ARRAY[?::priority]), \
     org AS (SELECT id, calendar_id FROM organizations WHERE id = ?) \
   SELECT org.id AS org_id, it.id AS item_id, it.code AS item_code, it.name AS item_name, \
     it.round_the_clock, tg.response_minutes, tg.resolution_minutes, \
     rq.organization_id AS requester_org, rq.active AS requester_active, \
     q.id AS queue_id, q.team AS queue_team, q.code AS queue_code, (SELECT id FROM rule) AS rule_id, \
     con.id AS contract_id, COALESCE(con.calendar_id, org.calendar_id, s.default_calendar_id) AS calendar_id, \
     s.max_contact_attempts, pol.id AS policy_id, \
     COALESCE((SELECT jsonb_agg(to_jsonb(e) ORDER BY e.level) FROM escalation_levels e WHERE e.policy_id = pol.id), \
       '[]') AS levels \
   FROM ticket_settings s LEFT JOIN org ON true LEFT JOIN it ON true LEFT JOIN q ON true \
     LEFT JOIN con ON true LEFT JOIN pol ON true \
     LEFT JOIN (SELECT organization_id, active FROM users WHERE id = ?) rq ON true \
     LEFT JOIN LATERAL ( \
       SELECT response_minutes, resolution_minutes FROM sla_targets \
       WHERE item_id = it.id AND priority = ?::priority AND valid_from <= ? \
       ORDER BY valid_from DESC LIMIT 1) tg ON true";

#[derive(QueryableByName)]
struct Intake {
    #[diesel(sql_type = Nullable<BigInt>)]
    org_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    item_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    item_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    item_name: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    round_the_clock: Option<bool>,
    #[diesel(sql_type = Nullable<Integer>)]
    response_minutes: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    resolution_minutes: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    requester_org: Option<i64>,
    #[diesel(sql_type = Nullable<Bool>)]
    requester_active: Option<bool>,
    #[diesel(sql_type = Nullable<BigInt>)]
    queue_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    queue_team: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    queue_code: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    rule_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    contract_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    calendar_id: i64,
    #[diesel(sql_type = Integer)]
    max_contact_attempts: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    policy_id: Option<i64>,
    #[diesel(sql_type = Jsonb)]
    levels: serde_json::Value,
}

/// Opens a customer's incident: one statement reads what intake needs, one writes the ticket
/// with its event and timers (the calendar comes from the process's cache).
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
            (true, _) => {
                if user.organization_id.is_none() {
                    p.push(FieldError::new(
                        "organization_id",
                        "required",
                        "this account belongs to no customer organisation",
                    ));
                }
                user.organization_id
            }
            (false, None) => {
                p.push(FieldError::new(
                    "organization_id",
                    "required",
                    "support must name the customer organisation",
                ));
                None
            }
            (false, Some(o)) => Some(o),
        };
        let requester_id = match body.requester_id {
            Some(r) if customer && r != user.id => {
                p.push(FieldError::new(
                    "requester_id",
                    "forbidden",
                    "a customer opens tickets as itself",
                ));
                user.id
            }
            Some(r) => r,
            None => user.id,
        };
        let today = now.date_naive();
        let x: Intake = prepared(
            INTAKE,
            (
                (
                    bind::<BigInt, _>(body.item_id),
                    bind::<Nullable<BigInt>, _>(org),
                    bind::<Date, _>(today),
                    bind::<Date, _>(today),
                    bind::<BigInt, _>(body.item_id),
                    bind::<Nullable<BigInt>, _>(org),
                    bind::<Text, _>(body.priority.as_str()),
                    bind::<Nullable<BigInt>, _>(org),
                ),
                (
                    bind::<BigInt, _>(requester_id),
                    bind::<Text, _>(body.priority.as_str()),
                    bind::<Timestamptz, _>(now),
                ),
            ),
        )
        .get_result(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::internal("ticket_settings has no row: seed the reference data"))?;
        if let (Some(o), None) = (org, x.org_id) {
            p.push(FieldError::new(
                "organization_id",
                "unknown",
                format!("no organisation {o}"),
            ));
        }
        if x.item_id.is_none() {
            p.push(FieldError::new(
                "item_id",
                "unknown",
                format!("no support-catalog item {}", body.item_id),
            ));
        }
        if body.requester_id.is_some_and(|r| !customer || r == user.id) {
            match (x.requester_active, x.requester_org) {
                (Some(true), o) if o.is_none() || o == org => {}
                (Some(true), _) => p.push(FieldError::new(
                    "requester_id",
                    "other_organization",
                    "the requester belongs to another organisation",
                )),
                _ => p.push(FieldError::new(
                    "requester_id",
                    "unknown",
                    format!("no active user {requester_id}"),
                )),
            }
        }
        let targets = match (x.response_minutes, x.resolution_minutes) {
            (Some(r), Some(s)) => Some(Targets {
                response: chrono::Duration::minutes(r.into()),
                resolution: chrono::Duration::minutes(s.into()),
            }),
            _ => None,
        };
        if let (Some(code), None) = (&x.item_code, targets) {
            p.take::<()>(Err(missing_target(
                body.priority,
                &format!("item `{code}`"),
            )));
        }
        p.finish()?;
        let (
            Some(org),
            Some(item_id),
            Some(item_code),
            Some(item_name),
            Some(round_the_clock),
            Some(targets),
            Some(queue_id),
            Some(queue_team),
            Some(queue_code),
        ) = (
            org,
            x.item_id,
            x.item_code,
            x.item_name,
            x.round_the_clock,
            targets,
            x.queue_id,
            x.queue_team,
            x.queue_code,
        )
        else {
            return Err(ApiError::internal(
                "no default queue, or a check above missed: seed the reference data",
            ));
        };
        let team: Team = queue_team
            .parse()
            .map_err(|e| ApiError::internal(format!("queue team: {e}")))?;
        let route = Route {
            queue_id,
            team,
            queue_code: queue_code.clone(),
            rule_id: x.rule_id,
            contract_id: x.contract_id,
            calendar_id: x.calendar_id,
        };
        let levels: Vec<EscalationLevel> = serde_json::from_value(x.levels)
            .map_err(|e| ApiError::context("reading escalation levels", e))?;
        let basis = ClockBasis::of(conn, route.calendar_id, round_the_clock, now).await?;
        let open = OpeningEvent::open(
            serde_json::json!({"route": route_detail(&route), "targets": targets_detail(&targets)}),
        );
        let t = insert(
            conn,
            Opening {
                organization_id: org,
                kind: TicketKind::Incident,
                parent_id: None,
                follow_up_of: None,
                item_id,
                round_the_clock,
                title: body.title.trim().to_string(),
                description: body.description.clone(),
                priority: body.priority,
                queue_id,
                team,
                requester_id,
                calendar_id: route.calendar_id,
                targets,
                escalation_policy_id: x.policy_id,
            },
            vec![open],
            &levels,
            &basis,
            user.id,
            now,
        )
        .await?;
        let extras = Extras::of_new(
            (item_code, item_name),
            (queue_code, team),
            None,
            x.max_contact_attempts,
            &levels,
        )?;
        store::view_from(user, t, extras, &basis, now)
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
        let levels = match policy {
            Some(p) => settings::levels(conn, p).await?,
            None => vec![],
        };
        let basis = ClockBasis::of_ticket(conn, &parent, now).await?;
        let events = vec![
            OpeningEvent::open(serde_json::json!({
                "parent_id": parent.id, "queue": queue_code, "team": body.team,
                "ola": targets_detail(&targets),
            })),
            OpeningEvent::on(
                parent.id,
                "child_opened",
                serde_json::json!({"kind": body.kind, "team": body.team}),
                "child_id",
            ),
        ];
        let t = insert(
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
            events,
            &levels,
            &basis,
            user.id,
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
        let levels = match policy {
            Some(p) => settings::levels(conn, p).await?,
            None => vec![],
        };
        let basis = ClockBasis::of(conn, route.calendar_id, item.round_the_clock, now).await?;
        let events = vec![
            OpeningEvent::open(
                serde_json::json!({"follow_up_of": closed.id, "route": route_detail(&route)}),
            ),
            OpeningEvent::on(closed.id, "follow_up_opened", serde_json::json!({}), "follow_up_id"),
        ];
        let t = insert(
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
            events,
            &levels,
            &basis,
            user.id,
            now,
        )
        .await?;
        store::view_with(conn, user, t, &basis, now).await
    })
    .await
}
