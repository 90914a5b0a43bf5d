//! Change management's side of the event log: every change it records goes through
//! [`record`], which appends the event and derives, in the same transaction, the
//! notifications it causes (`notifications::on_event`).
use super::notifications;
use crate::events::{self, Event, NewEvent};
use crate::notify::Notifier;
use crate::platform::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

/// Appends `e` at `at` and writes the notifications it causes.
pub async fn record(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    e: NewEvent,
    at: DateTime<Utc>,
) -> ApiResult<Event> {
    let event = events::append(conn, e, at).await?;
    notifications::on_event(conn, n, &event, at).await?;
    Ok(event)
}
