//! Ticket actions (SPEC §4.2–4.3): one function applies any action to a locked ticket, in the
//! caller's transaction, whoever calls it (an analyst's request, a customer's link, the
//! auto-close timer): the lifecycle's checks, the clocks, the parent/child propagation, the
//! event and the notifications it causes.
use super::jobs;
use super::notifications;
use super::settings::{self, Settings};
use super::store::{self, actor_of, facts_of, ClockBasis, Ticket, TicketView, Which};
use crate::db::schema::{ticket_contact_attempts, tickets};
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::input::check_if_match;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::ticket::{
    child_follows, transition, Actor, PendingOn, TicketAction, TicketKind, TicketState,
};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

/// Most characters of a reason or a solution.
pub const TEXT_MAX: usize = 10_000;

/// What an action may carry; each action says which fields it needs.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketActionBody {
    /// Why: required to pend, reopen and cancel.
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub reason: Option<String>,
    /// What solved it: required to resolve.
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub solution: Option<String>,
    /// Whom a pending ticket waits on: required to pend.
    pub pending_on: Option<PendingOn>,
}

impl TicketActionBody {
    fn text(field: &str, v: &Option<String>) -> ApiResult<Option<String>> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) if s.chars().count() > TEXT_MAX => Err(ApiError::validation(
                field,
                "length",
                format!("at most {TEXT_MAX} characters"),
            )),
            Some(s) => Ok(Some(s.to_string())),
        }
    }
}

/// Who acts, as the lifecycle and the event log see it.
#[derive(Debug, Clone, Copy)]
pub struct By {
    pub actor: Actor,
    /// None for the system.
    pub user_id: Option<i64>,
}

/// Applies `action` to the locked ticket `t`: checks, effects, cascade, event, mail.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    settings: &Settings,
    t: &mut Ticket,
    action: TicketAction,
    by: By,
    body: &TicketActionBody,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let reason = TicketActionBody::text("reason", &body.reason)?;
    let solution = TicketActionBody::text("solution", &body.solution)?;
    let mut facts = facts_of(conn, t, settings).await?;
    facts.has_reason = reason.is_some();
    facts.has_solution = solution.is_some();
    facts.has_pending_on = body.pending_on.is_some();
    let from = t.state;
    let id = t.id;
    let to = transition(t.kind, from, action, by.actor, &facts).map_err(|mut r| {
        // The domain names the route with a placeholder: the caller gets the real path.
        r.reason = r.reason.replace("{id}", &id.to_string());
        r
    })?;
    let basis = ClockBasis::of_ticket(conn, t, now).await?;
    let h = basis.hours();
    let mut detail = serde_json::json!({});
    match action {
        TicketAction::Start => {
            if t.assignee_id.is_none() && by.actor == Actor::Support {
                t.assignee_id = by.user_id;
            }
            // Taking the ticket up is the first response.
            t.with_clock(Which::FirstResponse, |c| {
                c.stop(h, now);
                Ok(())
            })?;
        }
        TicketAction::Pend => {
            t.pending_on = body.pending_on.map(|p| p.as_str().to_string());
            t.pending_reason = reason.clone();
            t.with_clock(Which::Resolution, |c| {
                c.pause(h, now);
                Ok(())
            })?;
        }
        TicketAction::Resume => {
            t.pending_on = None;
            t.pending_reason = None;
            t.with_clock(Which::Resolution, |c| c.resume(h, now))?;
        }
        TicketAction::Resolve => {
            for which in [Which::FirstResponse, Which::Resolution] {
                t.with_clock(which, |c| {
                    c.stop(h, now);
                    Ok(())
                })?;
            }
            t.solution = solution.clone();
            t.resolved_at = Some(now);
            t.resolution_no += 1;
            if t.kind == TicketKind::Incident {
                // Counted in business hours of the ticket's calendar, even for a 24×7 item:
                // the customer validates in business hours (SPEC §4.3).
                let b = basis.business();
                let hours = Duration::hours(settings.auto_close_business_hours.into());
                let close_at = b
                    .add(now, hours)
                    .map_err(|e| ApiError::context("computing auto_close_at", e))?;
                t.auto_close_at = Some(close_at);
                let before = Duration::hours(settings.reminder_business_hours.into());
                let remind_at = if before > Duration::zero() && before < hours {
                    Some(
                        b.add(now, hours - before)
                            .map_err(|e| ApiError::context("computing the reminder", e))?,
                    )
                } else {
                    None
                };
                jobs::schedule_close(conn, t, close_at, remind_at, now).await?;
                detail = serde_json::json!({"auto_close_at": close_at, "resolution_no": t.resolution_no});
            }
        }
        TicketAction::Reopen => {
            t.reopen_count += 1;
            t.resolved_at = None;
            t.auto_close_at = None;
            t.solution = None;
            // The time it waited for the customer's answer does not count; what it had
            // counted before is kept.
            t.with_clock(Which::Resolution, |c| c.restart(h, now))?;
            detail = serde_json::json!({"reopen_count": t.reopen_count});
        }
        TicketAction::Confirm | TicketAction::AutoClose | TicketAction::Close => {
            t.closed_at = Some(now);
            t.close_reason = Some(match action {
                TicketAction::Confirm => "confirmed by the customer".to_string(),
                TicketAction::AutoClose => format!(
                    "closed automatically {} business hours after the resolution",
                    settings.auto_close_business_hours
                ),
                _ => {
                    let ids: Vec<i64> = ticket_contact_attempts::table
                        .filter(ticket_contact_attempts::ticket_id.eq(t.id))
                        .filter(ticket_contact_attempts::answered.eq(false))
                        .order(ticket_contact_attempts::at)
                        .select(ticket_contact_attempts::id)
                        .load(conn)
                        .await?;
                    detail = serde_json::json!({"contact_attempts": ids});
                    format!(
                        "closed by support after {} unanswered contact attempts",
                        ids.len()
                    )
                }
            });
        }
        TicketAction::Cancel => {
            t.closed_at = Some(now);
            t.close_reason = reason.clone();
            for which in [Which::FirstResponse, Which::Resolution] {
                t.with_clock(which, |c| {
                    c.pause(h, now);
                    Ok(())
                })?;
            }
        }
    }
    t.state = to;
    if !matches!(to, TicketState::Pending) {
        t.pending_on = None;
        t.pending_reason = None;
    }
    store::save(conn, t, now).await?;
    jobs::schedule_clocks(conn, t, h, now).await?;
    append(
        conn,
        NewEvent::on(Entity::Ticket, t.id, action.as_str())
            .states(Some(from.as_str()), Some(to.as_str()))
            .by(by.user_id)
            .because(reason.clone().or(solution.clone()))
            .detail(detail),
        now,
    )
    .await?;
    if t.kind == TicketKind::Incident {
        cascade(conn, t, to, now).await?;
    }
    notifications::after_action(conn, n, t, action, now).await?;
    if t.kind != TicketKind::Incident && to == TicketState::Resolved {
        if let Some(parent) = t.parent_id {
            if store::open_children(conn, parent).await?.is_empty() {
                notifications::last_child_resolved(conn, n, parent, t, now).await?;
            }
        }
    }
    Ok(())
}

/// A parent's move carried to its children (the README's propagation matrix).
async fn cascade(
    conn: &mut AsyncPgConnection,
    parent: &Ticket,
    parent_to: TicketState,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let children: Vec<Ticket> = tickets::table
        .filter(tickets::parent_id.eq(parent.id))
        .order(tickets::id)
        .select(Ticket::as_select())
        .for_update()
        .load(conn)
        .await?;
    for mut child in children {
        let Some(to) = child_follows(parent_to, child.state) else {
            continue;
        };
        let from = child.state;
        let basis = ClockBasis::of_ticket(conn, &child, now).await?;
        let h = basis.hours();
        for which in [Which::FirstResponse, Which::Resolution] {
            child.with_clock(which, |c| {
                c.pause(h, now);
                Ok(())
            })?;
        }
        child.state = to;
        child.closed_at = Some(now);
        child.close_reason = Some(format!("{} {}", parent.number(), parent_to.as_str()));
        child.pending_on = None;
        child.pending_reason = None;
        store::save(conn, &mut child, now).await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, child.id, "follow_parent")
                .states(Some(from.as_str()), Some(to.as_str()))
                .detail(serde_json::json!({"parent_id": parent.id})),
            now,
        )
        .await?;
    }
    Ok(())
}

/// An action requested through the API by `user`: scope, If-Match, then [`apply`].
#[allow(clippy::too_many_arguments)]
pub async fn perform(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    id: i64,
    action: TicketAction,
    body: TicketActionBody,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    let actor = actor_of(user).ok_or_else(|| ApiError::Forbidden("not a ticket role".into()))?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut t = store::find_visible(conn, user, id, true).await?;
        check_if_match(if_match, t.version, false)?;
        let settings = settings::load(conn).await?;
        apply(
            conn,
            n,
            &settings,
            &mut t,
            action,
            By {
                actor,
                user_id: Some(user.id),
            },
            &body,
            now,
        )
        .await?;
        store::view(conn, user, t, now).await
    })
    .await
}

/// The roles that could ever take `action` (checked before the ticket is read).
pub fn action_roles(action: TicketAction) -> Vec<domain::roles::Role> {
    let mut roles = Vec::new();
    if domain::ticket::actor_may(action, Actor::Support) {
        roles.extend_from_slice(domain::ticket::SUPPORT_ROLES);
    }
    if domain::ticket::actor_may(action, Actor::Customer) {
        roles.push(domain::roles::Role::Customer);
    }
    roles
}
