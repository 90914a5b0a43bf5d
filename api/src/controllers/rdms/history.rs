use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::models::TransitionRow;
use crate::rdms::{self, STAFF};
use crate::schema::rdm_transitions;
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
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

/// The RDM's history: every transition and recorded fact, oldest first.
#[utoipa::path(
    get, path = "/api/v1/rdms/{id}/history", tag = "rdms",
    params(("id" = i64, Path, description = "RDM id")),
    responses((status = 200, description = "History, oldest first", body = Vec<HistoryEntry>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/rdms/{id}/history")]
pub async fn rdm_history(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    rdms::find(&mut conn, *id).await?;
    let rows: Vec<TransitionRow> = rdm_transitions::table
        .filter(rdm_transitions::rdm_id.eq(*id))
        .order(rdm_transitions::id)
        .select(TransitionRow::as_select())
        .load(&mut conn)
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
    Ok(HttpResponse::Ok().json(out))
}
