//! Incidents ↔ problems, from either side: an incident belongs to at most one problem.
use super::store::{self, number, ProblemView};
use crate::db::schema::problem_incidents;
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::problem::ProblemState;
use domain::ticket::TicketKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, Serialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct IncidentLink {
    pub ticket_id: i64,
}

#[derive(Debug, Deserialize, Serialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct ProblemLink {
    pub problem_id: i64,
}

/// The problem an incident belongs to, if any.
pub async fn problem_of(conn: &mut AsyncPgConnection, ticket_id: i64) -> ApiResult<Option<i64>> {
    Ok(problem_incidents::table
        .filter(problem_incidents::ticket_id.eq(ticket_id))
        .select(problem_incidents::problem_id)
        .first(conn)
        .await
        .optional()?)
}

/// Links inside the caller's transaction; `false` if it already was (nothing written).
pub(super) async fn link_in_tx(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    problem_id: i64,
    ticket_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let p = store::find(conn, problem_id, false).await?;
    if p.state == ProblemState::Closed {
        return Err(ApiError::StateConflict {
            code: "problem_closed",
            detail: format!(
                "{} is closed: link the incident to an open problem",
                p.number()
            ),
            current_state: p.state.to_string(),
            allowed_actions: vec![],
            missing: vec![],
        });
    }
    let Some((org, kind, _)) = store::incident(conn, ticket_id).await? else {
        return Err(ApiError::validation(
            "ticket_id",
            "unknown",
            format!("no ticket {ticket_id}"),
        ));
    };
    if kind != TicketKind::Incident {
        return Err(ApiError::conflict(
            "not_linkable",
            format!(
                "ticket {ticket_id} is a {kind} child: link its parent incident to the problem"
            ),
        ));
    }
    match problem_of(conn, ticket_id).await? {
        Some(id) if id == problem_id => return Ok(false),
        Some(other) => {
            return Err(ApiError::conflict(
                "incident_has_problem",
                format!(
                    "incident {ticket_id} already belongs to {}: unlink it there first",
                    number(other)
                ),
            ))
        }
        None => {}
    }
    diesel::insert_into(problem_incidents::table)
        .values((
            problem_incidents::problem_id.eq(problem_id),
            problem_incidents::ticket_id.eq(ticket_id),
            problem_incidents::organization_id.eq(org),
            problem_incidents::linked_by.eq(user.id),
            problem_incidents::linked_at.eq(now),
        ))
        .execute(conn)
        .await
        .map_err(|e| match e {
            // Another request linked it to a problem first.
            diesel::result::Error::DatabaseError(_, ref info)
                if info.constraint_name() == Some("problem_incidents_one_problem") =>
            {
                ApiError::conflict(
                    "incident_has_problem",
                    format!("incident {ticket_id} was just linked to another problem"),
                )
            }
            e => e.into(),
        })?;
    let detail = serde_json::json!({ "problem_id": problem_id, "ticket_id": ticket_id });
    append(
        conn,
        NewEvent::on(Entity::Problem, problem_id, "link_incident")
            .by(Some(user.id))
            .detail(detail.clone()),
        now,
    )
    .await?;
    append(
        conn,
        NewEvent::on(Entity::Ticket, ticket_id, "link_problem")
            .by(Some(user.id))
            .detail(detail),
        now,
    )
    .await?;
    Ok(true)
}

/// Links an incident to a problem (either side's endpoint); linking again changes nothing.
pub async fn link(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    problem_id: i64,
    ticket_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<ProblemView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        // One linker at a time per problem: the closed check and the insert agree.
        store::find(conn, problem_id, true).await?;
        link_in_tx(conn, user, problem_id, ticket_id, now).await?;
        let p = store::find(conn, problem_id, false).await?;
        store::view(conn, p).await
    })
    .await
}

/// [`link`] from the incident's side: there the problem is the body's field (an unknown one
/// is a bad `problem_id`) and the incident the path's (an unknown one is not found).
pub async fn link_from_incident(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    ticket_id: i64,
    problem_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<ProblemView> {
    match link(conn, user, problem_id, ticket_id, now).await {
        Err(ApiError::NotFound(w)) if w.starts_with("problem") => Err(ApiError::validation(
            "problem_id",
            "unknown",
            format!("no {w}"),
        )),
        Err(ApiError::Validation(e)) if e.iter().any(|f| f.field == "ticket_id") => {
            Err(ApiError::not_found(format!("ticket {ticket_id}")))
        }
        other => other,
    }
}

/// The problem an incident belongs to, as the API shows it (none: it belongs to none).
pub async fn problem_of_incident(
    conn: &mut AsyncPgConnection,
    ticket_id: i64,
) -> ApiResult<Option<ProblemView>> {
    if store::incident(conn, ticket_id).await?.is_none() {
        return Err(ApiError::not_found(format!("ticket {ticket_id}")));
    }
    match problem_of(conn, ticket_id).await? {
        Some(pid) => {
            let p = store::find(conn, pid, false).await?;
            Ok(Some(store::view(conn, p).await?))
        }
        None => Ok(None),
    }
}

pub async fn unlink(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    problem_id: i64,
    ticket_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        store::find(conn, problem_id, true).await?;
        let gone = diesel::delete(
            problem_incidents::table
                .filter(problem_incidents::problem_id.eq(problem_id))
                .filter(problem_incidents::ticket_id.eq(ticket_id)),
        )
        .execute(conn)
        .await?;
        if gone == 0 {
            return Err(ApiError::not_found(format!(
                "incident {ticket_id} in problem {problem_id}"
            )));
        }
        let detail = serde_json::json!({ "problem_id": problem_id, "ticket_id": ticket_id });
        append(
            conn,
            NewEvent::on(Entity::Problem, problem_id, "unlink_incident")
                .by(Some(user.id))
                .detail(detail.clone()),
            now,
        )
        .await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, ticket_id, "unlink_problem")
                .by(Some(user.id))
                .detail(detail),
            now,
        )
        .await?;
        Ok(())
    })
    .await
}

/// Moves every incident of `from` to `to` (a duplicate closed into the problem that stays).
pub(super) async fn move_all(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    from: i64,
    to: i64,
    now: DateTime<Utc>,
) -> ApiResult<Vec<i64>> {
    let moved: Vec<i64> =
        diesel::update(problem_incidents::table.filter(problem_incidents::problem_id.eq(from)))
            .set((
                problem_incidents::problem_id.eq(to),
                problem_incidents::linked_by.eq(user.id),
                problem_incidents::linked_at.eq(now),
            ))
            .returning(problem_incidents::ticket_id)
            .get_results(conn)
            .await?;
    if !moved.is_empty() {
        append(
            conn,
            NewEvent::on(Entity::Problem, to, "link_incident")
                .by(Some(user.id))
                .detail(serde_json::json!({ "from_duplicate": from, "ticket_ids": moved })),
            now,
        )
        .await?;
    }
    Ok(moved)
}
