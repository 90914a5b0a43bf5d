use super::super::common::etag;
use crate::app::AppState;
use crate::changes::rdms::customer_notice::{self, CustomerNotification};
use crate::changes::rdms::store::RdmView;
use crate::http::extract::ValidJson;
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use actix_web::{http::header::ETAG, post, web, HttpResponse};

/// Record that all affected customers were notified of the unavailability. An emergency
/// change cannot start executing before this is recorded.
#[utoipa::path(
    post, path = "/api/v1/rdms/{id}/customer-notification", tag = "rdms",
    request_body = CustomerNotification,
    params(("id" = i64, Path, description = "RDM id")),
    responses((status = 200, description = "The RDM with the notification recorded", body = RdmView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["change_manager", "change_agent", "the requester"])))
)]
#[post("/rdms/{id}/customer-notification")]
pub async fn notify_customers(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<CustomerNotification>,
) -> ApiResult<HttpResponse> {
    user.require(&customer_notice::may_record_some())?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let view = customer_notice::record(
        &mut conn,
        &state.notifier,
        &user,
        *id,
        &body,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}
