use super::super::common::etag;
use crate::app::AppState;
use crate::changes::rdms::store::{self, RdmView};
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use actix_web::{get, http::header::ETAG, web, HttpResponse};

/// Get an RDM, with the actions the caller may take now.
#[utoipa::path(
    get, path = "/api/v1/rdms/{id}", tag = "rdms",
    params(("id" = i64, Path, description = "RDM id")),
    responses((status = 200, description = "The RDM", body = RdmView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/rdms/{id}")]
pub async fn get_rdm(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    let view = store::view_of(
        store::find_full(&mut conn, *id).await?,
        &user,
        state.clock.now(),
    );
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}
