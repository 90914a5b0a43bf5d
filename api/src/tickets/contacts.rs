//! Contact attempts on a resolved critical incident (SPEC §4.3): support validates by phone
//! or remote session; at most N attempts within a window from the first (both data, 3 in
//! 72 hours by default), each with its evidence; after the Nth unanswered one support may
//! close the ticket, citing them.
use super::settings;
use super::store;
use crate::db::schema::ticket_contact_attempts;
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::input::not_blank;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::rdm::Priority;
use domain::ticket::TicketState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    RemoteSession,
    Email,
    Chat,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::RemoteSession => "remote_session",
            Channel::Email => "email",
            Channel::Chat => "chat",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContactAttempt {
    pub channel: Channel,
    /// When the attempt was made (not in the future, not before the resolution).
    pub at: DateTime<Utc>,
    /// Whether the customer answered.
    pub answered: bool,
    /// What shows it happened: call log, session id, screenshot reference…
    #[validate(length(min = 1, max = 10000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 10000)]
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable)]
pub struct ContactAttempt {
    pub id: i64,
    pub ticket_id: i64,
    /// `phone`, `remote_session`, `email` or `chat`.
    pub channel: String,
    pub at: DateTime<Utc>,
    pub answered: bool,
    pub evidence: String,
    pub recorded_by: i64,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactAttempts {
    pub items: Vec<ContactAttempt>,
    /// The most attempts allowed, and the window (hours from the first) they must fall in.
    pub max_attempts: i32,
    pub window_hours: i32,
    /// When the window ends (from the first attempt), once there is one.
    pub window_ends_at: Option<DateTime<Utc>>,
}

async fn load(conn: &mut AsyncPgConnection, ticket_id: i64) -> ApiResult<Vec<ContactAttempt>> {
    Ok(ticket_contact_attempts::table
        .filter(ticket_contact_attempts::ticket_id.eq(ticket_id))
        .order((ticket_contact_attempts::at, ticket_contact_attempts::id))
        .select((
            ticket_contact_attempts::id,
            ticket_contact_attempts::ticket_id,
            ticket_contact_attempts::channel,
            ticket_contact_attempts::at,
            ticket_contact_attempts::answered,
            ticket_contact_attempts::evidence,
            ticket_contact_attempts::recorded_by,
            ticket_contact_attempts::recorded_at,
        ))
        .load(conn)
        .await?)
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
) -> ApiResult<ContactAttempts> {
    let t = store::find_visible(conn, user, id, false).await?;
    let s = settings::load(conn).await?;
    let items = load(conn, t.id).await?;
    Ok(ContactAttempts {
        window_ends_at: items
            .iter()
            .map(|f| f.at)
            .min()
            .map(|at| at + Duration::hours(s.contact_window_hours.into())),
        items,
        max_attempts: s.max_contact_attempts,
        window_hours: s.contact_window_hours,
    })
}

pub async fn record(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    body: &NewContactAttempt,
    now: DateTime<Utc>,
) -> ApiResult<ContactAttempts> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let t = store::find_visible(conn, user, id, true).await?;
        if t.priority != Priority::Critical || t.state != TicketState::Resolved {
            return Err(ApiError::conflict(
                "not_awaiting_validation",
                format!(
                    "contact attempts are recorded for a resolved critical incident awaiting validation; {} is {} with priority {}",
                    t.number(), t.state, t.priority
                ),
            ));
        }
        let s = settings::load(conn).await?;
        let mut bad = Vec::new();
        if body.at > now {
            bad.push(FieldError::new("at", "future", "an attempt is recorded after it was made"));
        }
        if t.resolved_at.is_some_and(|r| body.at < r) {
            bad.push(FieldError::new("at", "before_resolution", "the attempt must follow the resolution"));
        }
        if !bad.is_empty() {
            return Err(ApiError::Validation(bad));
        }
        let existing = load(conn, t.id).await?;
        if existing.len() as i32 >= s.max_contact_attempts {
            return Err(ApiError::conflict(
                "contact_attempts_exhausted",
                format!(
                    "{} contact attempts are already recorded (at most {}); support may now close the ticket, citing them",
                    existing.len(),
                    s.max_contact_attempts
                ),
            ));
        }
        let window = Duration::hours(s.contact_window_hours.into());
        let first = existing.iter().map(|a| a.at).chain([body.at]).min().expect("one");
        let last = existing.iter().map(|a| a.at).chain([body.at]).max().expect("one");
        if last - first > window {
            return Err(ApiError::conflict(
                "contact_window_passed",
                format!(
                    "the attempts must fall within {} hours of the first",
                    s.contact_window_hours
                ),
            ));
        }
        let aid: i64 = diesel::insert_into(ticket_contact_attempts::table)
            .values((
                ticket_contact_attempts::ticket_id.eq(t.id),
                ticket_contact_attempts::organization_id.eq(t.organization_id),
                ticket_contact_attempts::channel.eq(body.channel.as_str()),
                ticket_contact_attempts::at.eq(body.at),
                ticket_contact_attempts::answered.eq(body.answered),
                ticket_contact_attempts::evidence.eq(body.evidence.trim()),
                ticket_contact_attempts::recorded_by.eq(user.id),
                ticket_contact_attempts::recorded_at.eq(now),
            ))
            .returning(ticket_contact_attempts::id)
            .get_result(conn)
            .await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, t.id, "contact_attempt")
                .by(Some(user.id))
                .detail(serde_json::json!({
                    "attempt_id": aid, "channel": body.channel.as_str(),
                    "at": body.at, "answered": body.answered,
                })),
            now,
        )
        .await?;
        let items = load(conn, t.id).await?;
        Ok(ContactAttempts {
            window_ends_at: items.iter().map(|f| f.at).min().map(|at| at + window),
            items,
            max_attempts: s.max_contact_attempts,
            window_hours: s.contact_window_hours,
        })
    })
    .await
}
