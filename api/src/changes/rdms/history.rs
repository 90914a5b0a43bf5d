//! An RDM's append-only history: every transition and recorded fact, oldest first.
use super::store;
use crate::events::{self, Entity};
use crate::platform::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;

/// One line of an RDM's append-only history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    /// Who acted; empty for the system.
    pub actor_id: Option<i64>,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// The RDM's history, read from the event log.
pub async fn history(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Vec<HistoryEntry>> {
    store::find(conn, id).await?;
    Ok(events::of(conn, Entity::Rdm, id)
        .await?
        .into_iter()
        .map(|e| HistoryEntry {
            id: e.id,
            action: e.action,
            from_state: e.from_state,
            // Every RDM event carries the state it left the RDM in.
            to_state: e.to_state.unwrap_or_default(),
            actor_id: e.actor_id,
            reason: e.reason,
            detail: e.detail,
            at: e.at,
        })
        .collect())
}
