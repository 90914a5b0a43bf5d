use super::super::common::etag;
use crate::app::AppState;
use crate::changes::rdms::store::RdmView;
use crate::changes::rdms::update::{self, RdmPatch};
use crate::http::extract::{header, ValidJson};
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use actix_web::{http::header::ETAG, patch, web, HttpRequest, HttpResponse};

/// Edit an RDM. Send `If-Match` with the ETag you read: a stale version gets 409.
///
/// Only until approval: what was approved is what gets executed.
#[utoipa::path(
    patch, path = "/api/v1/rdms/{id}", tag = "rdms",
    request_body = RdmPatch,
    params(
        ("id" = i64, Path, description = "RDM id"),
        ("If-Match" = String, Header, description = "ETag of the version being edited")
    ),
    responses((status = 200, description = "Updated", body = RdmView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["the requester", "change_manager", "change_agent", "support_analyst", "test_analyst"])))
)]
#[patch("/rdms/{id}")]
pub async fn update_rdm(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidJson<RdmPatch>,
) -> ApiResult<HttpResponse> {
    user.require(&update::may_edit_some_rdm())?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let view = update::update(
        &mut conn,
        &state.notifier,
        &user,
        *id,
        &body,
        header(&req, "If-Match"),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}
