//! Changing what a ticket's clocks count against: its priority (SLA re-targeted under the one
//! rule of `domain::sla`), its queue or assignee (a child handed to another team gets that
//! team's OLA, counted from now), and the what-if that answers without changing anything.
use super::jobs;
use super::lifecycle::TEXT_MAX;
use super::settings::{self, Targets};
use super::store::{self, clock_view, ClockBasis, Clocks, Ticket, TicketView, Which};
use crate::db::schema::users;
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::input::{check_if_match, not_blank};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::rdm::Priority;
use domain::sla::SlaClock;
use domain::ticket::{TicketKind, TicketState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityChange {
    pub priority: Priority,
    #[validate(length(min = 1, max = 10000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// Another queue (a child moved to another team gets that team's OLA from now).
    pub queue_id: Option<i64>,
    /// A support user; `null` leaves it unassigned.
    pub assignee_id: Option<i64>,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub reason: Option<String>,
}

/// The targets that apply to `t` at `priority`: its item's SLA in force when it was opened
/// (an incident), or its team's OLA in force when the team received it (a child).
async fn targets_for(
    conn: &mut AsyncPgConnection,
    t: &Ticket,
    priority: Priority,
) -> ApiResult<Targets> {
    let found = if t.kind == TicketKind::Incident {
        settings::sla_targets(conn, t.item_id, priority, t.sla_pinned_at).await?
    } else {
        settings::team_ola(conn, t.team, priority, t.sla_pinned_at).await?
    };
    found.ok_or_else(|| {
        ApiError::validation(
            "priority",
            "no_target",
            format!("no target is defined for priority `{priority}`"),
        )
    })
}

/// `preview`: on a copy for a what-if, whose breaches are not counted.
fn retarget(
    t: &mut Ticket,
    basis: &ClockBasis,
    targets: Targets,
    now: DateTime<Utc>,
    preview: bool,
) -> ApiResult<()> {
    let h = basis.hours();
    for (which, target) in [
        (Which::FirstResponse, targets.response),
        (Which::Resolution, targets.resolution),
    ] {
        let change = |c: &mut domain::sla::SlaClock| c.retarget(h, now, target);
        if preview {
            t.preview_clock(which, change)?;
        } else {
            t.with_clock(which, change)?;
        }
    }
    Ok(())
}

/// Changes the priority: elapsed time is kept, the new targets apply (domain::sla).
pub async fn change_priority(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    body: &PriorityChange,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut t = store::find_visible(conn, user, id, true).await?;
        check_if_match(if_match, t.version, false)?;
        if t.state.is_final() {
            return Err(ApiError::conflict(
                "ticket_final",
                format!(
                    "{} is {}: its priority no longer matters",
                    t.number(),
                    t.state
                ),
            ));
        }
        let old = t.priority;
        let targets = targets_for(conn, &t, body.priority).await?;
        let basis = ClockBasis::of_ticket(conn, &t, now).await?;
        let before = clocks_detail(&t);
        retarget(&mut t, &basis, targets, now, false)?;
        t.priority = body.priority;
        // The policy follows the priority (a policy names the priorities it covers); the
        // level reached is kept: it only rises.
        t.escalation_policy_id = super::escalation::policy_for(conn, t.item_id, t.priority).await?;
        store::save(conn, &mut t, now).await?;
        jobs::schedule_clocks(conn, &t, basis.hours(), now).await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, t.id, "priority_changed")
                .by(Some(user.id))
                .because(Some(body.reason.trim().to_string()))
                .detail(serde_json::json!({
                    "from": old, "to": body.priority,
                    "before": before, "after": clocks_detail(&t),
                })),
            now,
        )
        .await?;
        store::view(conn, user, t, now).await
    })
    .await
}

fn clocks_detail(t: &Ticket) -> serde_json::Value {
    let one = |w| {
        let c = t.clock(w);
        serde_json::json!({"target_minutes": c.target.num_minutes(), "due_at": c.due_at})
    };
    serde_json::json!({"first_response": one(Which::FirstResponse), "resolution": one(Which::Resolution)})
}

/// Moves a ticket to a queue and/or an analyst.
pub async fn assign(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    body: &Assignment,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    if body
        .reason
        .as_deref()
        .is_some_and(|r| r.chars().count() > TEXT_MAX)
    {
        return Err(ApiError::validation("reason", "length", "too long"));
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut t = store::find_visible(conn, user, id, true).await?;
        check_if_match(if_match, t.version, false)?;
        if t.state.is_final() {
            return Err(ApiError::conflict(
                "ticket_final",
                format!("{} is {}", t.number(), t.state),
            ));
        }
        let mut problems = Vec::new();
        let queue = match body.queue_id {
            Some(q) => {
                let found = settings::queue(conn, q).await?;
                if found.is_none() {
                    problems.push(crate::platform::error::FieldError::new(
                        "queue_id",
                        "unknown",
                        format!("no queue {q}"),
                    ));
                }
                found.map(|f| (q, f))
            }
            None => None,
        };
        if let Some(a) = body.assignee_id {
            let roles: Option<Vec<domain::roles::Role>> = users::table
                .find(a)
                .filter(users::active.eq(true))
                .select(users::roles)
                .first::<Vec<domain::roles::Role>>(conn)
                .await
                .optional()?;
            if !roles.is_some_and(|r| r.iter().any(|x| domain::ticket::SUPPORT_ROLES.contains(x))) {
                problems.push(crate::platform::error::FieldError::new(
                    "assignee_id",
                    "unknown",
                    format!("no active support user {a}"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::Validation(problems));
        }
        let mut detail =
            serde_json::json!({"assignee_from": t.assignee_id, "assignee_to": body.assignee_id});
        if let Some((qid, (team, code))) = queue {
            detail["queue_from"] = t.queue_id.into();
            detail["queue_to"] = qid.into();
            detail["queue"] = code.into();
            let new_team = team != t.team;
            t.queue_id = qid;
            if new_team && t.kind != TicketKind::Incident {
                // The receiving team's own target, counted from now (glpi #1911).
                t.team = team;
                t.received_at = now;
                t.sla_pinned_at = now;
                let targets = targets_for(conn, &t, t.priority).await?;
                let basis = ClockBasis::of_ticket(conn, &t, now).await?;
                let h = basis.hours();
                let start = |target| {
                    SlaClock::start(h, now, target).map_err(|e| ApiError::context("clock", e))
                };
                let mut response = start(targets.response)?;
                let mut resolution = start(targets.resolution)?;
                if t.state != TicketState::New {
                    response.stop(h, now);
                }
                if t.state == TicketState::Pending {
                    resolution.pause(h, now);
                }
                t.set_clock(Which::FirstResponse, response);
                t.set_clock(Which::Resolution, resolution);
                detail["ola_restarted"] = true.into();
            } else {
                t.team = team;
            }
        }
        t.assignee_id = body.assignee_id;
        store::save(conn, &mut t, now).await?;
        let basis = ClockBasis::of_ticket(conn, &t, now).await?;
        jobs::schedule_clocks(conn, &t, basis.hours(), now).await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, t.id, "assign")
                .by(Some(user.id))
                .because(body.reason.clone())
                .detail(detail),
            now,
        )
        .await?;
        store::view(conn, user, t, now).await
    })
    .await
}

/// What the clocks would be.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatIf {
    pub priority: Priority,
    /// Whether the answer assumes the ticket goes pending now.
    pub pending: bool,
    /// When the pending ticket is assumed to resume (its resolution clock's due instant
    /// then counts from there).
    pub resume_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
    pub clocks: Clocks,
}

/// "If this ticket became priority X / went pending now, when would each clock end?" — the
/// same computation as the real change, on a copy; nothing is written.
pub async fn what_if(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    priority: Option<Priority>,
    pending: bool,
    resume_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<WhatIf> {
    if resume_at.is_some_and(|r| r < now) {
        return Err(ApiError::validation(
            "resume_at",
            "range",
            "must not be before now",
        ));
    }
    if resume_at.is_some() && !pending {
        return Err(ApiError::validation(
            "resume_at",
            "needs_pending",
            "give pending=true with resume_at",
        ));
    }
    let mut t = store::find_visible(conn, user, id, false).await?;
    let basis = ClockBasis::of_ticket(conn, &t, now).await?;
    let h = basis.hours();
    let priority = priority.unwrap_or(t.priority);
    if priority != t.priority {
        let targets = targets_for(conn, &t, priority).await?;
        retarget(&mut t, &basis, targets, now, true)?;
    }
    if pending {
        t.preview_clock(Which::Resolution, |c| {
            c.pause(h, now);
            match resume_at {
                Some(r) => c.resume(h, r),
                None => Ok(()),
            }
        })?;
    }
    Ok(WhatIf {
        priority,
        pending,
        resume_at,
        at: now,
        clocks: Clocks {
            first_response: clock_view(&t.clock(Which::FirstResponse), h, now),
            resolution: clock_view(&t.clock(Which::Resolution), h, now),
        },
    })
}
