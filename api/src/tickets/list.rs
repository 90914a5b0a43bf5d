//! Ticket lists (SPEC §4, sized for 10 million tickets): filters by state, queue, assignee,
//! organisation, priority, breached and Portuguese text; keyset-paginated newest first, each
//! filter served by an index in that order (migration 000007).
use crate::db::enums::Stored;
use crate::db::schema::tickets;
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use crate::platform::pagination::{paginate, probe_bound};
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::rdm::Priority;
use domain::roles::Team;
use domain::ticket::{TicketKind, TicketState};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub state: Option<TicketState>,
    pub queue_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub priority: Option<Priority>,
    pub kind: Option<TicketKind>,
    pub parent_id: Option<i64>,
    pub breached: Option<bool>,
    pub q: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable)]
pub struct TicketSummary {
    pub id: i64,
    pub kind: TicketKind,
    pub parent_id: Option<i64>,
    pub organization_id: i64,
    pub title: String,
    pub state: TicketState,
    pub priority: Priority,
    pub queue_id: i64,
    pub team: Team,
    pub assignee_id: Option<i64>,
    pub opened_at: DateTime<Utc>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub response_breached_at: Option<DateTime<Utc>>,
    pub resolution_breached_at: Option<DateTime<Utc>>,
    pub auto_close_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPage {
    pub items: Vec<TicketSummary>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<i64>,
}

/// How many of the newest tickets a search reads in id order, per row of the page, before it
/// fetches the older matches through the full-text index instead.
const PROBE_ROWS_PER_RESULT: i64 = 40;

/// The tickets `user` may list that pass every filter but the text, below the cursor.
fn filtered(user: &AuthUser, f: &Filter, cursor: Option<i64>) -> tickets::BoxedQuery<'static, Pg> {
    let mut q = tickets::table.into_boxed();
    if let Some(org) = user.customer_scope(STAFF) {
        // A customer sees its organisation's incidents, never the internal children.
        q = q
            .filter(tickets::organization_id.eq(org))
            .filter(tickets::kind.eq(TicketKind::Incident.db()));
    }
    if let Some(s) = f.state {
        q = q.filter(tickets::state.eq(s.db()));
    }
    if let Some(v) = f.queue_id {
        q = q.filter(tickets::queue_id.eq(v));
    }
    if let Some(v) = f.assignee_id {
        q = q.filter(tickets::assignee_id.eq(v));
    }
    if let Some(v) = f.organization_id {
        q = q.filter(tickets::organization_id.eq(v));
    }
    if let Some(v) = f.priority {
        q = q.filter(tickets::priority.eq(v.db()));
    }
    if let Some(v) = f.kind {
        q = q.filter(tickets::kind.eq(v.db()));
    }
    if let Some(v) = f.parent_id {
        q = q.filter(tickets::parent_id.eq(v));
    }
    match f.breached {
        // Written as the partial index's predicate, so the planner can use it.
        Some(true) => {
            q = q.filter(
                tickets::response_breached_at
                    .is_not_null()
                    .or(tickets::resolution_breached_at.is_not_null()),
            )
        }
        Some(false) => {
            q = q
                .filter(tickets::response_breached_at.is_null())
                .filter(tickets::resolution_breached_at.is_null())
        }
        None => {}
    }
    if let Some(c) = cursor {
        q = q.filter(tickets::id.lt(c));
    }
    q
}

async fn load(
    conn: &mut AsyncPgConnection,
    q: tickets::BoxedQuery<'static, Pg>,
    limit: i64,
) -> ApiResult<Vec<TicketSummary>> {
    Ok(q.limit(limit)
        .select((
            tickets::id,
            tickets::kind,
            tickets::parent_id,
            tickets::organization_id,
            tickets::title,
            tickets::state,
            tickets::priority,
            tickets::queue_id,
            tickets::team,
            tickets::assignee_id,
            tickets::opened_at,
            tickets::resolution_due_at,
            tickets::response_breached_at,
            tickets::resolution_breached_at,
            tickets::auto_close_at,
        ))
        .load(conn)
        .await?)
}

/// Tickets newest first, filtered and paginated (keyset on id).
///
/// A text search is two bounded steps, as the RDM list's: the newest `40 × page` tickets in
/// id order, tested one by one (a common word fills the page there), then, if the page is not
/// full, the older matches through the full-text index, sorted (there are then few: fewer
/// than one in 40 of the newest matched). Neither step can become a walk of the whole table,
/// which the planner chose for a rare word at 10 million tickets (22 s).
pub async fn list(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    f: &Filter,
    limit: i64,
    cursor: Option<i64>,
) -> ApiResult<TicketPage> {
    let text = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let rows = match text {
        None => {
            load(
                conn,
                filtered(user, f, cursor).order(tickets::id.desc()),
                limit + 1,
            )
            .await?
        }
        Some(text) => {
            let probe = PROBE_ROWS_PER_RESULT * (limit + 1);
            // `IS TRUE` keeps the full-text index out of this plan: it walks the newest ids.
            // The query is parsed once (a subquery), not once per row under a generic plan.
            let newest = filtered(user, f, cursor)
                .filter(
                    sql::<Bool>("(tickets.search @@ (SELECT websearch_to_tsquery('portuguese', ")
                        .bind::<Text, _>(text.to_string())
                        .sql("))) IS TRUE"),
                )
                .filter(probe_bound("tickets", "tickets.id >=", cursor, probe))
                .order(tickets::id.desc());
            let mut rows = load(conn, newest, limit + 1).await?;
            if (rows.len() as i64) <= limit {
                // `id + 0`: neither an ordered walk of the ids nor a bitmap of all of them;
                // the matches come from the full-text index and only they are sorted.
                let older = filtered(user, f, cursor)
                    .filter(
                        sql::<Bool>("tickets.search @@ websearch_to_tsquery('portuguese', ")
                            .bind::<Text, _>(text.to_string())
                            .sql(")"),
                    )
                    .filter(probe_bound("tickets", "tickets.id + 0 <", cursor, probe))
                    .order(sql::<BigInt>("tickets.id + 0").desc());
                let more = load(conn, older, limit + 1 - rows.len() as i64).await?;
                rows.extend(more);
            }
            rows
        }
    };
    let (items, next_cursor) = paginate(rows, limit, |t| t.id);
    Ok(TicketPage { items, next_cursor })
}

/// One line of a ticket's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketEvent {
    pub id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    /// Who acted; null for the system (timers).
    pub actor_id: Option<i64>,
    pub reason: Option<String>,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Events a customer does not read: support's internal work.
const INTERNAL_EVENTS: &[&str] = &["child_opened", "children_resolved", "assign", "link"];

/// A ticket's history from the event log, oldest first (a customer: without internal work).
pub async fn history(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
) -> ApiResult<Vec<TicketEvent>> {
    super::store::find_visible(conn, user, id, false).await?;
    let customer = user.customer_scope(STAFF).is_some();
    Ok(crate::events::of(conn, crate::events::Entity::Ticket, id)
        .await?
        .into_iter()
        .filter(|e| {
            !customer
                || !(INTERNAL_EVENTS.contains(&e.action.as_str())
                    || (e.action == "comment"
                        && e.detail.get("visibility").and_then(|v| v.as_str()) != Some("public")))
        })
        .map(|e| TicketEvent {
            id: e.id,
            action: e.action,
            from_state: e.from_state,
            to_state: e.to_state,
            actor_id: e.actor_id,
            reason: e.reason,
            detail: e.detail,
            at: e.at,
        })
        .collect())
}
