use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::rdms::{self, etag, RdmView};
use crate::schema::rdms as t;
use crate::state::AppState;
use actix_web::{http::header::ETAG, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerNotification {
    /// How and whom: channels, organisations, message.
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub note: String,
    /// When they were notified (default: now; not in the future).
    pub notified_at: Option<DateTime<Utc>>,
}

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
    let body = body.0;
    let id = *id;
    let now = state.clock.now();
    let at = body.notified_at.unwrap_or(now);
    if at > now {
        return Err(ApiError::validation(
            "notified_at",
            "range",
            "cannot be in the future",
        ));
    }
    let mut conn = state.pool.get().await?;
    let view = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let rdm = rdms::lock(conn, id).await?;
            if !(rdm.requester_id == user.id
                || user.roles.any(&[Role::ChangeManager, Role::ChangeAgent]))
            {
                return Err(ApiError::Forbidden(
                    "only the requester, change_manager or change_agent may record this".into(),
                ));
            }
            if at < rdm.created_at {
                return Err(ApiError::validation(
                    "notified_at",
                    "range",
                    "cannot be before the RDM was filed",
                ));
            }
            let st = rdms::parse_state(&rdm.state)?;
            if st.is_terminal() {
                return Err(ApiError::conflict(
                    "not_editable",
                    format!("the RDM is {st}"),
                ));
            }
            diesel::update(t::table.find(id))
                .set((
                    t::customers_notified_at.eq(at),
                    t::customers_notification.eq(&body.note),
                ))
                .execute(conn)
                .await?;
            rdms::bump(conn, &rdm, now).await?;
            rdms::record(
                conn,
                id,
                "notify_customers",
                Some(&rdm.state),
                &rdm.state,
                Some(user.id),
                None,
                serde_json::json!({ "notified_at": at, "note": body.note }),
                now,
            )
            .await?;
            let rdm = rdms::find(conn, id).await?;
            rdms::view(conn, rdm, &user, now).await
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}
