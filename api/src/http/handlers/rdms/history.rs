use crate::app::AppState;
use crate::changes::rdms::history::{self, HistoryEntry};
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use actix_web::{get, web, HttpResponse};

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
    Ok(HttpResponse::Ok().json(history::history(&mut conn, *id).await?))
}
