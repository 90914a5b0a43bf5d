//! An RDM's append-only history: every transition and recorded fact, oldest first.
use super::store;
use crate::db::models::TransitionRow;
use crate::db::schema::rdm_transitions;
use crate::platform::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
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

pub async fn history(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Vec<HistoryEntry>> {
    store::find(conn, id).await?;
    let rows: Vec<TransitionRow> = rdm_transitions::table
        .filter(rdm_transitions::rdm_id.eq(id))
        .order(rdm_transitions::id)
        .select(TransitionRow::as_select())
        .load(conn)
        .await?;
    let out: Vec<HistoryEntry> = rows
        .into_iter()
        .map(|r| HistoryEntry {
            id: r.id,
            action: r.action,
            from_state: r.from_state,
            to_state: r.to_state,
            actor_id: r.actor_id,
            reason: r.reason,
            detail: r.detail,
            at: r.at,
        })
        .collect();
    Ok(out)
}
