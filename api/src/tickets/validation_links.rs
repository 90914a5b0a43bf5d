//! The customer's confirm/reopen links (SPEC §4.3), built like the vote links: a token names a
//! `ticket_links` row and an action, signed over the ticket, the resolution and the
//! recipient. `GET` shows what would happen and never decides; `POST` decides, once: the row
//! is marked used, and a link of an earlier resolution (the ticket was reopened and resolved
//! again) or of a ticket no longer resolved does nothing.
use super::lifecycle::{apply, By, TicketActionBody, TEXT_MAX};
use super::settings;
use super::store::{self, Ticket};
use crate::db::schema::{calendars, ticket_links, users};
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::links::{parse_ticket_token, TicketLinkAction, TicketLinkBinding};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::ticket::{Actor, TicketAction, TicketState};

/// Why a link does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkFailure {
    /// Not a token, a forged or altered one, or an unknown row.
    Invalid,
    /// Already used (by this or the other action).
    Used { action: String },
    /// The ticket moved on: resolved again since, or no longer resolved.
    Stale { state: TicketState },
}

/// What a valid link is about.
#[derive(Debug, Clone)]
pub struct LinkAbout {
    pub action: TicketLinkAction,
    pub number: String,
    pub title: String,
    pub solution: Option<String>,
    pub recipient: String,
    pub auto_close_at: Option<DateTime<Utc>>,
    pub tz: chrono_tz::Tz,
}

/// The form problem of a reopen without a usable reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormProblem {
    ReasonRequired,
    TooLong,
}

pub enum Outcome {
    Done {
        about: LinkAbout,
        state: TicketState,
    },
    Form {
        about: LinkAbout,
        problem: FormProblem,
    },
    Failed(LinkFailure),
}

#[derive(Queryable)]
struct LinkRow {
    id: i64,
    ticket_id: i64,
    resolution_no: i32,
    recipient_id: i64,
    used_at: Option<DateTime<Utc>>,
    used_action: Option<String>,
}

async fn resolve(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    token: &str,
    lock: bool,
) -> ApiResult<Result<(LinkRow, TicketLinkAction, Ticket), LinkFailure>> {
    let Some(parsed) = parse_ticket_token(token) else {
        return Ok(Err(LinkFailure::Invalid));
    };
    let q = ticket_links::table.find(parsed.link_id).select((
        ticket_links::id,
        ticket_links::ticket_id,
        ticket_links::resolution_no,
        ticket_links::recipient_id,
        ticket_links::used_at,
        ticket_links::used_action,
    ));
    let row: Option<LinkRow> = if lock {
        q.for_update().first(conn).await.optional()?
    } else {
        q.first(conn).await.optional()?
    };
    let Some(row) = row else {
        return Ok(Err(LinkFailure::Invalid));
    };
    let binding = TicketLinkBinding {
        link_id: row.id,
        ticket_id: row.ticket_id,
        resolution_no: row.resolution_no,
        recipient_id: row.recipient_id,
    };
    if !n.signer.verify_ticket(&parsed, &binding) {
        return Ok(Err(LinkFailure::Invalid));
    }
    if row.used_at.is_some() {
        return Ok(Err(LinkFailure::Used {
            action: row.used_action.clone().unwrap_or_default(),
        }));
    }
    // A deactivated account's links stop working with it.
    let active: bool = users::table
        .find(row.recipient_id)
        .select(users::active)
        .first(conn)
        .await?;
    if !active {
        return Ok(Err(LinkFailure::Invalid));
    }
    let t = store::find(conn, row.ticket_id, lock).await?;
    if t.state != TicketState::Resolved || t.resolution_no != row.resolution_no {
        return Ok(Err(LinkFailure::Stale { state: t.state }));
    }
    Ok(Ok((row, parsed.action, t)))
}

async fn about(
    conn: &mut AsyncPgConnection,
    row: &LinkRow,
    action: TicketLinkAction,
    t: &Ticket,
) -> ApiResult<LinkAbout> {
    let recipient: String = users::table
        .find(row.recipient_id)
        .select(users::display_name)
        .first(conn)
        .await?;
    let tz: String = calendars::table
        .find(t.calendar_id)
        .select(calendars::timezone)
        .first(conn)
        .await?;
    Ok(LinkAbout {
        action,
        number: t.number(),
        title: t.title.clone(),
        solution: t.solution.clone(),
        recipient,
        auto_close_at: t.auto_close_at,
        tz: tz.parse().unwrap_or(chrono_tz::America::Sao_Paulo),
    })
}

/// What `GET` shows: reads only.
pub async fn show(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    token: &str,
) -> ApiResult<Result<LinkAbout, LinkFailure>> {
    match resolve(conn, n, token, false).await? {
        Err(f) => Ok(Err(f)),
        Ok((row, action, t)) => Ok(Ok(about(conn, &row, action, &t).await?)),
    }
}

/// What `POST` does: the action, as the recipient, once.
pub async fn decide(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    token: &str,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<Outcome> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let (row, action, mut t) = match resolve(conn, n, token, true).await? {
            Err(f) => return Ok(Outcome::Failed(f)),
            Ok(found) => found,
        };
        let about = about(conn, &row, action, &t).await?;
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if action == TicketLinkAction::Reopen {
            match &reason {
                None => {
                    return Ok(Outcome::Form {
                        about,
                        problem: FormProblem::ReasonRequired,
                    })
                }
                Some(r) if r.chars().count() > TEXT_MAX => {
                    return Ok(Outcome::Form {
                        about,
                        problem: FormProblem::TooLong,
                    })
                }
                _ => {}
            }
        }
        let settings = settings::load(conn).await?;
        let body = TicketActionBody {
            reason,
            ..Default::default()
        };
        let ticket_action = match action {
            TicketLinkAction::Confirm => TicketAction::Confirm,
            TicketLinkAction::Reopen => TicketAction::Reopen,
        };
        let by = By {
            actor: Actor::Customer,
            user_id: Some(row.recipient_id),
        };
        apply(conn, n, &settings, &mut t, ticket_action, by, &body, now).await?;
        diesel::update(ticket_links::table.find(row.id))
            .set((
                ticket_links::used_at.eq(now),
                ticket_links::used_action.eq(action.as_str()),
            ))
            .execute(conn)
            .await?;
        Ok(Outcome::Done {
            about,
            state: t.state,
        })
    })
    .await
}
