//! The problem row, how it is found and locked, and the view the API returns.
use crate::db::enums::Stored;
use crate::db::schema::{events, kb_articles, problem_incidents, problems, rdms, tickets};
use crate::events::Entity;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::knowledge::KbKind;
use domain::problem::{allowed_actions, ProblemAction, ProblemFacts, ProblemState};
use domain::rdm::RdmState;
use domain::ticket::{TicketKind, TicketState};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = problems, check_for_backend(diesel::pg::Pg))]
pub struct Problem {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub state: ProblemState,
    pub item_id: Option<i64>,
    pub owner_id: i64,
    pub root_cause: Option<String>,
    pub workaround: Option<String>,
    pub fix_rdm_id: Option<i64>,
    pub close_kind: Option<String>,
    pub close_reason: Option<String>,
    pub duplicate_of: Option<i64>,
    pub workaround_communicated_at: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    pub known_error_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl Problem {
    /// The human reference, e.g. `PRB-000042`.
    pub fn number(&self) -> String {
        number(self.id)
    }
}

pub fn number(id: i64) -> String {
    format!("PRB-{id:06}")
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64, lock: bool) -> ApiResult<Problem> {
    let q = problems::table.find(id).select(Problem::as_select());
    let p = if lock {
        q.for_update().first(conn).await.optional()?
    } else {
        q.first(conn).await.optional()?
    };
    p.ok_or_else(|| ApiError::not_found(format!("problem {id}")))
}

/// Writes back the mutable columns of `p`, one version up.
pub async fn save(
    conn: &mut AsyncPgConnection,
    p: &mut Problem,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    p.version += 1;
    p.updated_at = now;
    diesel::update(problems::table.find(p.id))
        .set((
            problems::title.eq(&p.title),
            problems::description.eq(&p.description),
            problems::state.eq(p.state.db()),
            problems::item_id.eq(p.item_id),
            problems::owner_id.eq(p.owner_id),
            problems::root_cause.eq(&p.root_cause),
            problems::workaround.eq(&p.workaround),
            problems::fix_rdm_id.eq(p.fix_rdm_id),
            problems::close_kind.eq(&p.close_kind),
            problems::close_reason.eq(&p.close_reason),
            problems::duplicate_of.eq(p.duplicate_of),
            problems::workaround_communicated_at.eq(p.workaround_communicated_at),
            problems::known_error_at.eq(p.known_error_at),
            problems::resolved_at.eq(p.resolved_at),
            problems::closed_at.eq(p.closed_at),
            problems::version.eq(p.version),
            problems::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the RDM ever reached `implemented` (it may be closed since): its event says so.
pub async fn rdm_implemented(conn: &mut AsyncPgConnection, rdm_id: i64) -> ApiResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        events::table
            .filter(events::entity.eq(Entity::Rdm.db()))
            .filter(events::entity_id.eq(rdm_id))
            .filter(events::to_state.eq(RdmState::Implemented.as_str())),
    ))
    .get_result(conn)
    .await?)
}

/// What the lifecycle needs to know of the problem as it is (the request adds the rest).
pub async fn facts(conn: &mut AsyncPgConnection, p: &Problem) -> ApiResult<ProblemFacts> {
    let fix_implemented = match p.fix_rdm_id {
        Some(id) => rdm_implemented(conn, id).await?,
        None => false,
    };
    Ok(ProblemFacts {
        has_root_cause: p.root_cause.is_some(),
        has_workaround: p.workaround.is_some(),
        has_rdm: false,
        has_reason: false,
        has_duplicate_of: false,
        fix_implemented,
    })
}

/// An incident as a problem lists it.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable)]
pub struct LinkedIncident {
    pub id: i64,
    pub title: String,
    pub state: TicketState,
    pub organization_id: i64,
    pub assignee_id: Option<i64>,
    pub linked_at: DateTime<Utc>,
}

/// The RDM carrying the fix, as a problem shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FixRdm {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub state: RdmState,
    /// It reached `implemented` (it may be closed since).
    pub implemented: bool,
}

/// A problem as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemView {
    pub id: i64,
    /// `PRB-000042`.
    pub number: String,
    pub title: String,
    pub description: String,
    pub state: ProblemState,
    pub item_id: Option<i64>,
    pub owner_id: i64,
    pub root_cause: Option<String>,
    pub workaround: Option<String>,
    pub fix_rdm: Option<FixRdm>,
    /// How a closed problem ended: `fixed`, `duplicate`, `risk_accepted`, `cancelled`.
    pub close_kind: Option<String>,
    pub close_reason: Option<String>,
    pub duplicate_of: Option<i64>,
    /// When the workaround was sent to the linked incidents (once).
    pub workaround_communicated_at: Option<DateTime<Utc>>,
    /// The known-error article in the knowledge base.
    pub known_error_article_id: Option<i64>,
    pub incidents: Vec<LinkedIncident>,
    pub opened_at: DateTime<Utc>,
    pub known_error_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// What may be done now (a complete request assumed).
    pub allowed_actions: Vec<ProblemAction>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub async fn incidents(
    conn: &mut AsyncPgConnection,
    problem_id: i64,
) -> ApiResult<Vec<LinkedIncident>> {
    Ok(problem_incidents::table
        .inner_join(tickets::table.on(tickets::id.eq(problem_incidents::ticket_id)))
        .filter(problem_incidents::problem_id.eq(problem_id))
        .order(tickets::id)
        .select((
            tickets::id,
            tickets::title,
            tickets::state,
            tickets::organization_id,
            tickets::assignee_id,
            problem_incidents::linked_at,
        ))
        .load(conn)
        .await?)
}

pub async fn view(conn: &mut AsyncPgConnection, p: Problem) -> ApiResult<ProblemView> {
    let facts = facts(conn, &p).await?;
    let fix_rdm = match p.fix_rdm_id {
        Some(id) => {
            let (title, state): (String, RdmState) = rdms::table
                .find(id)
                .select((rdms::title, rdms::state))
                .first(conn)
                .await?;
            Some(FixRdm {
                id,
                number: crate::changes::labels::number(id),
                title,
                state,
                implemented: facts.fix_implemented,
            })
        }
        None => None,
    };
    let known_error_article_id = kb_articles::table
        .filter(kb_articles::problem_id.eq(p.id))
        .filter(kb_articles::kind.eq(KbKind::KnownError.db()))
        .select(kb_articles::id)
        .first(conn)
        .await
        .optional()?;
    Ok(ProblemView {
        id: p.id,
        number: p.number(),
        incidents: incidents(conn, p.id).await?,
        allowed_actions: allowed_actions(p.state, &facts),
        fix_rdm,
        known_error_article_id,
        title: p.title,
        description: p.description,
        state: p.state,
        item_id: p.item_id,
        owner_id: p.owner_id,
        root_cause: p.root_cause,
        workaround: p.workaround,
        close_kind: p.close_kind,
        close_reason: p.close_reason,
        duplicate_of: p.duplicate_of,
        workaround_communicated_at: p.workaround_communicated_at,
        opened_at: p.opened_at,
        known_error_at: p.known_error_at,
        resolved_at: p.resolved_at,
        closed_at: p.closed_at,
        version: p.version,
        updated_at: p.updated_at,
    })
}

/// An incident (a customer's parent ticket) by id, or the field error naming it.
pub async fn incident(
    conn: &mut AsyncPgConnection,
    ticket_id: i64,
) -> ApiResult<Option<(i64, TicketKind, TicketState)>> {
    Ok(tickets::table
        .find(ticket_id)
        .select((tickets::organization_id, tickets::kind, tickets::state))
        .first(conn)
        .await
        .optional()?)
}

/// A problem in a list.
#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct ProblemSummary {
    pub id: i64,
    pub title: String,
    pub state: ProblemState,
    pub item_id: Option<i64>,
    pub owner_id: i64,
    pub fix_rdm_id: Option<i64>,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemPage {
    pub items: Vec<ProblemSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// Problems newest first (keyset on id), optionally in one state (index `problems_state_idx`).
pub async fn list(
    conn: &mut AsyncPgConnection,
    state: Option<ProblemState>,
    limit: i64,
    cursor: Option<i64>,
) -> ApiResult<ProblemPage> {
    let mut q = problems::table.into_boxed();
    if let Some(s) = state {
        q = q.filter(problems::state.eq(s.db()));
    }
    if let Some(c) = cursor {
        q = q.filter(problems::id.lt(c));
    }
    let rows: Vec<ProblemSummary> = q
        .order(problems::id.desc())
        .limit(limit + 1)
        .select((
            problems::id,
            problems::title,
            problems::state,
            problems::item_id,
            problems::owner_id,
            problems::fix_rdm_id,
            problems::opened_at,
            problems::updated_at,
        ))
        .load(conn)
        .await?;
    let (items, next_cursor) = crate::platform::pagination::paginate(rows, limit, |p| p.id);
    Ok(ProblemPage { items, next_cursor })
}
