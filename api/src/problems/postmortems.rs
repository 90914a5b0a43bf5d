//! Postmortems (SPEC §5): for a problem or a major incident — summary, impact (services,
//! organisations, duration in business and wall-clock time), a timeline generated from the
//! event log beside editable notes, contributing factors, and actions each traceable to the
//! RDM or ticket that carries it. Blameless by default. Exported as Markdown.
use super::store;
use crate::calendar::clock_calendar;
use crate::db::enums::Stored;
use crate::db::schema::{
    events, organizations, postmortem_actions, postmortem_notes, postmortems, problem_incidents,
    rdms, support_items, ticket_rdm_links, tickets, users,
};
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::idempotency::{create_once, Created, Idempotency};
use crate::platform::input::{check_if_match, not_blank, Problems as FieldProblems};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::ticket::TicketKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Said at the top of every postmortem.
pub const BLAMELESS: &str = "Este postmortem é sem culpados (blameless): descreve o que \
    aconteceu, por que fez sentido para quem agiu naquele momento e o que muda no sistema e \
    nos processos — não quem errou.";

/// The longest timeline returned (the newest entries are kept out beyond it, and said so).
const TIMELINE_LIMIT: i64 = 2000;

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPostmortem {
    /// The problem it is about (or give `ticket_id` for a major incident).
    pub problem_id: Option<i64>,
    /// The major incident it is about (or give `problem_id`).
    pub ticket_id: Option<i64>,
    /// Default: the problem's or incident's title.
    #[validate(length(min = 3, max = 200), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmortemEdit {
    #[validate(length(min = 3, max = 200), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(max = 50000))]
    #[schema(max_length = 50000)]
    pub summary: Option<String>,
    /// Impact as told by people (the measured impact is computed beside it).
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub impact: Option<String>,
    /// Contributing factors, in order (replaces the list).
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub causes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// Where the note sits on the timeline.
    pub at: DateTime<Utc>,
    #[validate(length(min = 1, max = 10000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    #[validate(length(min = 3, max = 500), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 500)]
    pub title: String,
    pub owner_id: i64,
    pub due_on: NaiveDate,
    /// The RDM that carries it.
    pub rdm_id: Option<i64>,
    /// The ticket that carries it.
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionEdit {
    #[validate(length(min = 3, max = 500), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 500)]
    pub title: Option<String>,
    pub owner_id: Option<i64>,
    pub due_on: Option<NaiveDate>,
    /// `open`, `in_progress`, `done`, `cancelled`.
    #[schema(pattern = "^(open|in_progress|done|cancelled)$")]
    pub state: Option<String>,
    pub rdm_id: Option<i64>,
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable)]
pub struct PostmortemAction {
    pub id: i64,
    pub title: String,
    pub owner_id: i64,
    pub due_on: NaiveDate,
    pub state: String,
    pub rdm_id: Option<i64>,
    pub ticket_id: Option<i64>,
}

/// One line of the timeline: an event of the log, or a note written beside it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `event` (from the log, not editable) or `note`.
    pub source: String,
    /// `PRB-…`, `INC-…`, `RDM-…`; none for a note.
    pub reference: Option<String>,
    pub action: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub actor_id: Option<i64>,
    pub reason: Option<String>,
    /// The event's id, or the note's.
    pub id: i64,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

/// The measured impact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Impact {
    pub services: Vec<Named>,
    pub organizations: Vec<Named>,
    pub incidents: i64,
    /// The first incident opened (or the problem, without incidents).
    pub started_at: DateTime<Utc>,
    /// The last incident resolved; none while one is still unresolved (the durations then
    /// run to now).
    pub ended_at: Option<DateTime<Utc>>,
    pub wall_clock_hours: f64,
    /// In the business hours of the first incident's calendar (or the default calendar).
    pub business_hours: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostmortemView {
    pub id: i64,
    pub problem_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub title: String,
    pub blameless: &'static str,
    pub summary: String,
    pub impact: String,
    pub measured_impact: Impact,
    pub causes: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    /// The timeline was cut at its first entries (more than it can show).
    pub timeline_truncated: bool,
    pub actions: Vec<PostmortemAction>,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = postmortems, check_for_backend(diesel::pg::Pg))]
struct Row {
    id: i64,
    problem_id: Option<i64>,
    ticket_id: Option<i64>,
    title: String,
    summary: String,
    impact: String,
    causes: Vec<String>,
    created_by: i64,
    created_at: DateTime<Utc>,
    version: i32,
    updated_at: DateTime<Utc>,
}

async fn find(conn: &mut AsyncPgConnection, id: i64, lock: bool) -> ApiResult<Row> {
    let q = postmortems::table.find(id).select(Row::as_select());
    let r = if lock {
        q.for_update().first(conn).await.optional()?
    } else {
        q.first(conn).await.optional()?
    };
    r.ok_or_else(|| ApiError::not_found(format!("postmortem {id}")))
}

/// Starts the postmortem of a problem or an incident (once per `Idempotency-Key`; one per
/// subject).
pub async fn create(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    body: &NewPostmortem,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<Created<PostmortemView>> {
    let idem = Idempotency::new(idempotency_key, "POST /api/v1/postmortems", body)?;
    create_once(conn, idem.as_ref(), user.id, now, async |conn| {
        create_in_tx(conn, user, body, now).await
    })
    .await
}

async fn create_in_tx(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    body: &NewPostmortem,
    now: DateTime<Utc>,
) -> ApiResult<PostmortemView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let title = match (body.problem_id, body.ticket_id) {
            (Some(pid), None) => match store::find(conn, pid, false).await {
                Ok(p) => p.title,
                Err(ApiError::NotFound(_)) => {
                    return Err(ApiError::validation("problem_id", "unknown", format!("no problem {pid}")))
                }
                Err(e) => return Err(e),
            },
            (None, Some(tid)) => match store::incident(conn, tid).await? {
                Some((_, TicketKind::Incident, _)) => tickets::table
                    .find(tid)
                    .select(tickets::title)
                    .first(conn)
                    .await?,
                Some(_) => {
                    return Err(ApiError::validation(
                        "ticket_id",
                        "invalid",
                        "a postmortem is about an incident (a parent ticket), not a child",
                    ))
                }
                None => return Err(ApiError::validation("ticket_id", "unknown", format!("no ticket {tid}"))),
            },
            _ => {
                return Err(ApiError::Validation(vec![
                    FieldError::new("problem_id", "one_of", "give exactly one of problem_id and ticket_id"),
                    FieldError::new("ticket_id", "one_of", "give exactly one of problem_id and ticket_id"),
                ]))
            }
        };
        let title = body.title.as_deref().map(str::trim).map(str::to_string).unwrap_or(title);
        let id: i64 = diesel::insert_into(postmortems::table)
            .values((
                postmortems::problem_id.eq(body.problem_id),
                postmortems::ticket_id.eq(body.ticket_id),
                postmortems::title.eq(&title),
                postmortems::created_by.eq(user.id),
                postmortems::created_at.eq(now),
                postmortems::updated_at.eq(now),
            ))
            .returning(postmortems::id)
            .get_result(conn)
            .await
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(_, ref info)
                    if matches!(
                        info.constraint_name(),
                        Some("postmortems_one_per_problem" | "postmortems_one_per_ticket")
                    ) =>
                {
                    ApiError::conflict("postmortem_exists", "it already has a postmortem: edit that one")
                }
                e => e.into(),
            })?;
        append(
            conn,
            NewEvent::on(Entity::Postmortem, id, "create")
                .by(Some(user.id))
                .detail(serde_json::json!({ "problem_id": body.problem_id, "ticket_id": body.ticket_id })),
            now,
        )
        .await?;
        view(conn, id, now).await
    })
    .await
}

pub async fn edit(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    body: &PostmortemEdit,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<PostmortemView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let row = find(conn, id, true).await?;
        check_if_match(if_match, row.version, false)?;
        let mut checks = FieldProblems::default();
        if let Some(causes) = &body.causes {
            for (i, c) in causes.iter().enumerate() {
                if c.trim().is_empty() || c.len() > 2000 {
                    checks.push(FieldError::new(
                        format!("causes[{i}]"),
                        "length",
                        "a cause is 1 to 2000 characters, not blank",
                    ));
                }
            }
        }
        checks.finish()?;
        if body.title.is_none()
            && body.summary.is_none()
            && body.impact.is_none()
            && body.causes.is_none()
        {
            return Err(ApiError::validation("body", "empty", "nothing to change"));
        }
        let causes: Option<Vec<String>> = body
            .causes
            .as_ref()
            .map(|c| c.iter().map(|s| s.trim().to_string()).collect());
        diesel::update(postmortems::table.find(id))
            .set((
                postmortems::title.eq(body.title.as_deref().map(str::trim).unwrap_or(&row.title)),
                postmortems::summary.eq(body.summary.as_ref().unwrap_or(&row.summary)),
                postmortems::impact.eq(body.impact.as_ref().unwrap_or(&row.impact)),
                postmortems::causes.eq(causes.as_ref().unwrap_or(&row.causes)),
                postmortems::version.eq(row.version + 1),
                postmortems::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        append(
            conn,
            NewEvent::on(Entity::Postmortem, id, "edit").by(Some(user.id)),
            now,
        )
        .await?;
        view(conn, id, now).await
    })
    .await
}

pub async fn add_note(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    body: &NewNote,
    now: DateTime<Utc>,
) -> ApiResult<PostmortemView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let row = find(conn, id, true).await?;
        diesel::insert_into(postmortem_notes::table)
            .values((
                postmortem_notes::postmortem_id.eq(id),
                postmortem_notes::at.eq(body.at),
                postmortem_notes::body.eq(body.body.trim()),
                postmortem_notes::author_id.eq(user.id),
                postmortem_notes::written_at.eq(now),
            ))
            .execute(conn)
            .await?;
        bump(conn, &row, now).await?;
        view(conn, id, now).await
    })
    .await
}

async fn bump(conn: &mut AsyncPgConnection, row: &Row, now: DateTime<Utc>) -> ApiResult<()> {
    diesel::update(postmortems::table.find(row.id))
        .set((
            postmortems::version.eq(row.version + 1),
            postmortems::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The references of an action must exist: each bad one is named.
async fn check_refs(
    conn: &mut AsyncPgConnection,
    owner: Option<i64>,
    rdm: Option<i64>,
    ticket: Option<i64>,
) -> ApiResult<()> {
    let mut checks = FieldProblems::default();
    if let Some(o) = owner {
        let n: i64 = users::table
            .filter(users::id.eq(o))
            .count()
            .get_result(conn)
            .await?;
        if n == 0 {
            checks.push(FieldError::new(
                "owner_id",
                "unknown",
                format!("no user {o}"),
            ));
        }
    }
    if let Some(r) = rdm {
        let n: i64 = rdms::table
            .filter(rdms::id.eq(r))
            .count()
            .get_result(conn)
            .await?;
        if n == 0 {
            checks.push(FieldError::new("rdm_id", "unknown", format!("no RDM {r}")));
        }
    }
    if let Some(t) = ticket {
        let n: i64 = tickets::table
            .filter(tickets::id.eq(t))
            .count()
            .get_result(conn)
            .await?;
        if n == 0 {
            checks.push(FieldError::new(
                "ticket_id",
                "unknown",
                format!("no ticket {t}"),
            ));
        }
    }
    checks.finish()
}

pub async fn add_action(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    body: &NewAction,
    now: DateTime<Utc>,
) -> ApiResult<PostmortemView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let row = find(conn, id, true).await?;
        check_refs(conn, Some(body.owner_id), body.rdm_id, body.ticket_id).await?;
        let action_id: i64 = diesel::insert_into(postmortem_actions::table)
            .values((
                postmortem_actions::postmortem_id.eq(id),
                postmortem_actions::title.eq(body.title.trim()),
                postmortem_actions::owner_id.eq(body.owner_id),
                postmortem_actions::due_on.eq(body.due_on),
                postmortem_actions::rdm_id.eq(body.rdm_id),
                postmortem_actions::ticket_id.eq(body.ticket_id),
                postmortem_actions::created_at.eq(now),
                postmortem_actions::updated_at.eq(now),
            ))
            .returning(postmortem_actions::id)
            .get_result(conn)
            .await?;
        append(
            conn,
            NewEvent::on(Entity::Postmortem, id, "action_added")
                .by(Some(user.id))
                .detail(serde_json::json!({ "action_id": action_id, "owner_id": body.owner_id })),
            now,
        )
        .await?;
        bump(conn, &row, now).await?;
        view(conn, id, now).await
    })
    .await
}

pub async fn edit_action(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    action_id: i64,
    body: &ActionEdit,
    now: DateTime<Utc>,
) -> ApiResult<PostmortemView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let row = find(conn, id, true).await?;
        let current: PostmortemAction = postmortem_actions::table
            .filter(postmortem_actions::postmortem_id.eq(id))
            .filter(postmortem_actions::id.eq(action_id))
            .select((
                postmortem_actions::id,
                postmortem_actions::title,
                postmortem_actions::owner_id,
                postmortem_actions::due_on,
                postmortem_actions::state,
                postmortem_actions::rdm_id,
                postmortem_actions::ticket_id,
            ))
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| ApiError::not_found(format!("action {action_id} of postmortem {id}")))?;
        if let Some(s) = &body.state {
            if !["open", "in_progress", "done", "cancelled"].contains(&s.as_str()) {
                return Err(ApiError::validation(
                    "state",
                    "invalid",
                    "one of open, in_progress, done, cancelled",
                ));
            }
        }
        check_refs(conn, body.owner_id, body.rdm_id, body.ticket_id).await?;
        diesel::update(postmortem_actions::table.find(action_id))
            .set((
                postmortem_actions::title.eq(body
                    .title
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or(&current.title)),
                postmortem_actions::owner_id.eq(body.owner_id.unwrap_or(current.owner_id)),
                postmortem_actions::due_on.eq(body.due_on.unwrap_or(current.due_on)),
                postmortem_actions::state.eq(body.state.as_ref().unwrap_or(&current.state)),
                postmortem_actions::rdm_id.eq(body.rdm_id.or(current.rdm_id)),
                postmortem_actions::ticket_id.eq(body.ticket_id.or(current.ticket_id)),
                postmortem_actions::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        append(
            conn,
            NewEvent::on(Entity::Postmortem, id, "action_updated")
                .by(Some(user.id))
                .detail(serde_json::json!({ "action_id": action_id, "state": body.state })),
            now,
        )
        .await?;
        bump(conn, &row, now).await?;
        view(conn, id, now).await
    })
    .await
}

/// The incidents a postmortem covers: the problem's linked incidents, or the one incident.
async fn incidents_of(conn: &mut AsyncPgConnection, row: &Row) -> ApiResult<Vec<i64>> {
    match (row.problem_id, row.ticket_id) {
        (Some(pid), _) => Ok(problem_incidents::table
            .filter(problem_incidents::problem_id.eq(pid))
            .order(problem_incidents::ticket_id)
            .select(problem_incidents::ticket_id)
            .load(conn)
            .await?),
        (None, Some(tid)) => Ok(vec![tid]),
        (None, None) => Ok(vec![]),
    }
}

pub async fn view(
    conn: &mut AsyncPgConnection,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<PostmortemView> {
    let row = find(conn, id, false).await?;
    let incident_ids = incidents_of(conn, &row).await?;
    // The children of the incidents are part of what happened.
    let child_ids: Vec<i64> = tickets::table
        .filter(tickets::parent_id.eq_any(&incident_ids))
        .select(tickets::id)
        .load(conn)
        .await?;
    let mut rdm_ids: Vec<i64> = ticket_rdm_links::table
        .filter(ticket_rdm_links::ticket_id.eq_any(incident_ids.iter().chain(&child_ids)))
        .select(ticket_rdm_links::rdm_id)
        .load(conn)
        .await?;
    let problem = match row.problem_id {
        Some(pid) => Some(store::find(conn, pid, false).await?),
        None => None,
    };
    if let Some(r) = problem.as_ref().and_then(|p| p.fix_rdm_id) {
        rdm_ids.push(r);
    }
    rdm_ids.sort();
    rdm_ids.dedup();
    let ticket_ids: Vec<i64> = incident_ids.iter().chain(&child_ids).copied().collect();
    let problem_ids: Vec<i64> = row.problem_id.into_iter().collect();
    let evs: Vec<crate::events::Event> = events::table
        .filter(
            events::entity
                .eq(Entity::Ticket.db())
                .and(events::entity_id.eq_any(&ticket_ids))
                .or(events::entity
                    .eq(Entity::Rdm.db())
                    .and(events::entity_id.eq_any(&rdm_ids)))
                .or(events::entity
                    .eq(Entity::Problem.db())
                    .and(events::entity_id.eq_any(&problem_ids))),
        )
        .order((events::at, events::id))
        .limit(TIMELINE_LIMIT + 1)
        .select(crate::events::Event::as_select())
        .load(conn)
        .await?;
    let truncated = evs.len() as i64 > TIMELINE_LIMIT;
    let mut timeline: Vec<TimelineEntry> = evs
        .into_iter()
        .take(TIMELINE_LIMIT as usize)
        .map(|e| TimelineEntry {
            at: e.at,
            source: "event".into(),
            reference: Some(match e.entity {
                Entity::Ticket => crate::tickets::store::number(e.entity_id),
                Entity::Rdm => crate::changes::labels::number(e.entity_id),
                _ => store::number(e.entity_id),
            }),
            action: Some(e.action),
            from_state: e.from_state,
            to_state: e.to_state,
            actor_id: e.actor_id,
            reason: e.reason,
            id: e.id,
            text: None,
        })
        .collect();
    let notes: Vec<(i64, DateTime<Utc>, String, i64)> = postmortem_notes::table
        .filter(postmortem_notes::postmortem_id.eq(id))
        .order((postmortem_notes::at, postmortem_notes::id))
        .select((
            postmortem_notes::id,
            postmortem_notes::at,
            postmortem_notes::body,
            postmortem_notes::author_id,
        ))
        .load(conn)
        .await?;
    for (nid, at, body, author) in notes {
        timeline.push(TimelineEntry {
            at,
            source: "note".into(),
            reference: None,
            action: None,
            from_state: None,
            to_state: None,
            actor_id: Some(author),
            reason: None,
            id: nid,
            text: Some(body),
        });
    }
    // Stable: at the same instant the log's order is kept and a note follows the events.
    timeline.sort_by_key(|t| t.at);
    let actions = postmortem_actions::table
        .filter(postmortem_actions::postmortem_id.eq(id))
        .order(postmortem_actions::id)
        .select((
            postmortem_actions::id,
            postmortem_actions::title,
            postmortem_actions::owner_id,
            postmortem_actions::due_on,
            postmortem_actions::state,
            postmortem_actions::rdm_id,
            postmortem_actions::ticket_id,
        ))
        .load(conn)
        .await?;
    let measured_impact = impact(conn, &incident_ids, problem.as_ref(), now).await?;
    Ok(PostmortemView {
        id: row.id,
        problem_id: row.problem_id,
        ticket_id: row.ticket_id,
        title: row.title,
        blameless: BLAMELESS,
        summary: row.summary,
        impact: row.impact,
        measured_impact,
        causes: row.causes,
        timeline,
        timeline_truncated: truncated,
        actions,
        created_by: row.created_by,
        created_at: row.created_at,
        version: row.version,
        updated_at: row.updated_at,
    })
}

async fn impact(
    conn: &mut AsyncPgConnection,
    incident_ids: &[i64],
    problem: Option<&store::Problem>,
    now: DateTime<Utc>,
) -> ApiResult<Impact> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        i64,
        String,
        i64,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        i64,
    )> = tickets::table
        .inner_join(support_items::table.on(support_items::id.eq(tickets::item_id)))
        .inner_join(organizations::table.on(organizations::id.eq(tickets::organization_id)))
        .filter(tickets::id.eq_any(incident_ids))
        .order(tickets::id)
        .select((
            tickets::id,
            support_items::id,
            support_items::name,
            organizations::id,
            organizations::name,
            tickets::opened_at,
            tickets::resolved_at,
            tickets::calendar_id,
        ))
        .load(conn)
        .await?;
    let mut services: Vec<Named> = Vec::new();
    let mut orgs: Vec<Named> = Vec::new();
    for r in &rows {
        if !services.iter().any(|s| s.id == r.1) {
            services.push(Named {
                id: r.1,
                name: r.2.clone(),
            });
        }
        if !orgs.iter().any(|o| o.id == r.3) {
            orgs.push(Named {
                id: r.3,
                name: r.4.clone(),
            });
        }
    }
    let started_at = rows
        .iter()
        .map(|r| r.5)
        .min()
        .or(problem.map(|p| p.opened_at))
        .unwrap_or(now);
    let ended_at = if rows.is_empty() {
        problem.and_then(|p| p.resolved_at)
    } else if rows.iter().all(|r| r.6.is_some()) {
        rows.iter().filter_map(|r| r.6).max()
    } else {
        None
    };
    let end = ended_at.unwrap_or(now).max(started_at);
    let calendar_id = match <[_]>::first(&rows) {
        Some(r) => r.7,
        None => {
            use crate::db::schema::ticket_settings;
            ticket_settings::table
                .select(ticket_settings::default_calendar_id)
                .first(conn)
                .await?
        }
    };
    let cal = clock_calendar(conn, calendar_id, started_at).await?;
    let business = cal.1.business_time_between(started_at, end);
    Ok(Impact {
        services,
        organizations: orgs,
        incidents: rows.len() as i64,
        started_at,
        ended_at,
        wall_clock_hours: round2((end - started_at).num_seconds() as f64 / 3600.0),
        business_hours: round2(business.num_seconds() as f64 / 3600.0),
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn md_escape_line(s: &str) -> String {
    s.replace('\n', " ").replace('|', "\\|")
}

fn fmt_instant(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::America::Sao_Paulo)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The postmortem as Markdown (pt-BR headings), to paste anywhere.
pub fn markdown(v: &PostmortemView) -> String {
    use std::fmt::Write;
    let mut md = String::new();
    let _ = writeln!(md, "# Postmortem: {}\n", md_escape_line(&v.title));
    let _ = writeln!(md, "> {}\n", v.blameless);
    let subject = match (v.problem_id, v.ticket_id) {
        (Some(p), _) => store::number(p),
        (None, Some(t)) => crate::tickets::store::number(t),
        _ => String::new(),
    };
    let _ = writeln!(md, "Sobre: {subject}\n");
    let _ = writeln!(
        md,
        "## Resumo\n\n{}\n",
        if v.summary.trim().is_empty() {
            "_(a escrever)_"
        } else {
            v.summary.trim()
        }
    );
    let i = &v.measured_impact;
    let _ = writeln!(md, "## Impacto\n");
    if !v.impact.trim().is_empty() {
        let _ = writeln!(md, "{}\n", v.impact.trim());
    }
    let names = |xs: &[Named]| {
        xs.iter()
            .map(|x| x.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        md,
        "- Serviços: {}",
        if i.services.is_empty() {
            "—".into()
        } else {
            names(&i.services)
        }
    );
    let _ = writeln!(
        md,
        "- Organizações: {}",
        if i.organizations.is_empty() {
            "—".into()
        } else {
            names(&i.organizations)
        }
    );
    let _ = writeln!(md, "- Incidentes: {}", i.incidents);
    let _ = writeln!(
        md,
        "- Início: {}; fim: {}",
        fmt_instant(i.started_at),
        i.ended_at
            .map(fmt_instant)
            .unwrap_or_else(|| "em aberto".into())
    );
    let _ = writeln!(
        md,
        "- Duração: {:.2} h corridas; {:.2} h úteis\n",
        i.wall_clock_hours, i.business_hours
    );
    let _ = writeln!(md, "## Linha do tempo (horário de Brasília)\n");
    let _ = writeln!(md, "| Quando | Onde | O quê |\n|---|---|---|");
    for t in &v.timeline {
        let what = match t.source.as_str() {
            "note" => format!("Nota: {}", md_escape_line(t.text.as_deref().unwrap_or(""))),
            _ => {
                let mut s = t.action.clone().unwrap_or_default();
                if let (Some(f), Some(to)) = (&t.from_state, &t.to_state) {
                    let _ = write!(s, " ({f} → {to})");
                } else if let Some(to) = &t.to_state {
                    let _ = write!(s, " (→ {to})");
                }
                if let Some(r) = &t.reason {
                    let _ = write!(s, ": {}", md_escape_line(r));
                }
                s
            }
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            fmt_instant(t.at),
            t.reference.as_deref().unwrap_or("—"),
            what
        );
    }
    if v.timeline_truncated {
        let _ = writeln!(
            md,
            "\n_(linha do tempo cortada: há mais eventos do que cabem aqui)_"
        );
    }
    let _ = writeln!(md, "\n## Causas (fatores contribuintes)\n");
    if v.causes.is_empty() {
        let _ = writeln!(md, "_(a escrever)_");
    }
    for (n, c) in v.causes.iter().enumerate() {
        let _ = writeln!(md, "{}. {}", n + 1, md_escape_line(c));
    }
    let _ = writeln!(md, "\n## Ações\n");
    let _ = writeln!(
        md,
        "| Ação | Responsável | Prazo | Estado | Onde |\n|---|---|---|---|---|"
    );
    for a in &v.actions {
        let carrier = match (a.rdm_id, a.ticket_id) {
            (Some(r), _) => crate::changes::labels::number(r),
            (None, Some(t)) => crate::tickets::store::number(t),
            _ => "—".into(),
        };
        let _ = writeln!(
            md,
            "| {} | usuário {} | {} | {} | {} |",
            md_escape_line(&a.title),
            a.owner_id,
            a.due_on,
            a.state,
            carrier
        );
    }
    md
}
