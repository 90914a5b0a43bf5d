//! Comments on a ticket (SPEC §4.2): public ones the customer reads, internal notes, and
//! solution proposals that every analyst of the team can list. Support's first public
//! comment is the first response.
use super::jobs;
use super::store::{self, actor_of, ClockBasis, Which};
use crate::db::enums::StoredOption;
use crate::db::schema::{ticket_comments, tickets, users};
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::input::not_blank;
use crate::platform::pagination::paginate;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::roles::Team;
use domain::ticket::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// The customer reads it.
    Public,
    /// Support only.
    Internal,
    /// Support only, and listed for every analyst of the team (`GET /solution-proposals`).
    SolutionProposal,
}

impl Visibility {
    fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
            Visibility::SolutionProposal => "solution_proposal",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[validate(length(min = 1, max = 20000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 20000)]
    pub body: String,
    /// Default `public`. A customer writes public comments only.
    pub visibility: Option<Visibility>,
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable)]
pub struct Comment {
    pub id: i64,
    pub ticket_id: i64,
    pub author_id: i64,
    pub author_name: String,
    /// `public`, `internal` or `solution_proposal`.
    pub visibility: String,
    pub body: String,
    pub team: Option<Team>,
    pub at: DateTime<Utc>,
}

pub async fn add(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    body: &NewComment,
    now: DateTime<Utc>,
) -> ApiResult<Comment> {
    let actor = actor_of(user).ok_or_else(|| ApiError::Forbidden("not a ticket role".into()))?;
    let visibility = body.visibility.unwrap_or(Visibility::Public);
    if actor == Actor::Customer && visibility != Visibility::Public {
        return Err(ApiError::validation(
            "visibility",
            "forbidden",
            "a customer writes public comments only",
        ));
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut t = store::find_visible(conn, user, id, true).await?;
        if t.state.is_final() {
            return Err(ApiError::conflict(
                "ticket_final",
                format!(
                    "{} is {}: open a follow-up with POST /api/v1/tickets/{}/follow-ups",
                    t.number(),
                    t.state,
                    t.id
                ),
            ));
        }
        let team: Option<Team> = users::table
            .find(user.id)
            .select(users::team)
            .first(conn)
            .await?;
        let team = if visibility == Visibility::SolutionProposal {
            team.or(Some(t.team))
        } else {
            team
        };
        let cid: i64 = diesel::insert_into(ticket_comments::table)
            .values((
                ticket_comments::ticket_id.eq(t.id),
                ticket_comments::organization_id.eq(t.organization_id),
                ticket_comments::author_id.eq(user.id),
                ticket_comments::visibility.eq(visibility.as_str()),
                ticket_comments::body.eq(body.body.trim()),
                ticket_comments::team.eq(team.db()),
                ticket_comments::at.eq(now),
            ))
            .returning(ticket_comments::id)
            .get_result(conn)
            .await?;
        let first_response = actor == Actor::Support
            && visibility == Visibility::Public
            && t.response_stopped_at.is_none();
        if first_response {
            let basis = ClockBasis::of_ticket(conn, &t, now).await?;
            let h = basis.hours();
            t.with_clock(Which::FirstResponse, |c| {
                c.stop(h, now);
                Ok(())
            })?;
            store::save(conn, &mut t, now).await?;
            jobs::schedule_clocks(conn, &t, h, now).await?;
        }
        append(
            conn,
            NewEvent::on(Entity::Ticket, t.id, "comment")
                .by(Some(user.id))
                .detail(serde_json::json!({
                    "comment_id": cid, "visibility": visibility.as_str(),
                    "first_response": first_response,
                })),
            now,
        )
        .await?;
        one(conn, cid).await
    })
    .await
}

async fn one(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Comment> {
    Ok(ticket_comments::table
        .inner_join(users::table.on(users::id.eq(ticket_comments::author_id)))
        .filter(ticket_comments::id.eq(id))
        .select((
            ticket_comments::id,
            ticket_comments::ticket_id,
            ticket_comments::author_id,
            users::display_name,
            ticket_comments::visibility,
            ticket_comments::body,
            ticket_comments::team,
            ticket_comments::at,
        ))
        .first(conn)
        .await?)
}

/// A ticket's comments, oldest first; a customer reads the public ones only.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
) -> ApiResult<Vec<Comment>> {
    let t = store::find_visible(conn, user, id, false).await?;
    let mut q = ticket_comments::table
        .inner_join(users::table.on(users::id.eq(ticket_comments::author_id)))
        .filter(ticket_comments::ticket_id.eq(t.id))
        .into_boxed();
    if actor_of(user) != Some(Actor::Support) {
        q = q.filter(ticket_comments::visibility.eq("public"));
    }
    Ok(q.order(ticket_comments::id)
        .limit(1000)
        .select((
            ticket_comments::id,
            ticket_comments::ticket_id,
            ticket_comments::author_id,
            users::display_name,
            ticket_comments::visibility,
            ticket_comments::body,
            ticket_comments::team,
            ticket_comments::at,
        ))
        .load(conn)
        .await?)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalPage {
    pub items: Vec<Proposal>,
    pub next_cursor: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct Proposal {
    pub id: i64,
    pub ticket_id: i64,
    pub ticket_title: String,
    pub author_id: i64,
    pub body: String,
    pub team: Option<Team>,
    pub at: DateTime<Utc>,
}

/// Solution proposals of a team, newest first (SPEC §4.2: visible to every analyst of it).
pub async fn proposals(
    conn: &mut AsyncPgConnection,
    team: Team,
    limit: i64,
    cursor: Option<i64>,
) -> ApiResult<ProposalPage> {
    let mut q = ticket_comments::table
        .inner_join(tickets::table.on(tickets::id.eq(ticket_comments::ticket_id)))
        .filter(ticket_comments::visibility.eq("solution_proposal"))
        .filter(ticket_comments::team.eq(Some(team).db()))
        .into_boxed();
    if let Some(c) = cursor {
        q = q.filter(ticket_comments::id.lt(c));
    }
    let rows: Vec<Proposal> = q
        .order(ticket_comments::id.desc())
        .limit(limit + 1)
        .select((
            ticket_comments::id,
            ticket_comments::ticket_id,
            tickets::title,
            ticket_comments::author_id,
            ticket_comments::body,
            ticket_comments::team,
            ticket_comments::at,
        ))
        .load(conn)
        .await?;
    let (items, next_cursor) = paginate(rows, limit, |p| p.id);
    Ok(ProposalPage { items, next_cursor })
}
