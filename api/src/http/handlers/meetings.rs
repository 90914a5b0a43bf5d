//! `/api/v1/meetings`: CM meeting occurrences (`crate::changes::meetings`).
use crate::app::AppState;
use crate::changes::meetings::{
    self, AgendaItem, CloseRequest, CloseResult, MeetingDetail, MeetingView, RescheduleRequest,
    RescheduleView, DEFAULT_WEEKS,
};
use crate::changes::occurrences::range_or_default;
use crate::http::extract::{OptionalJson, ValidJson, ValidQuery};
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MeetingFilter {
    /// Default: the first committee of kind `cm`.
    pub committee_id: Option<i64>,
    /// Default: now.
    pub from: Option<DateTime<Utc>>,
    /// Default: `from` plus 8 weeks; at most 366 days after `from`.
    pub to: Option<DateTime<Utc>>,
}

/// List a committee's meetings in a range, flagging holiday occurrences still to be moved.
#[utoipa::path(
    get, path = "/api/v1/meetings", tag = "meetings",
    params(MeetingFilter),
    responses((status = 200, description = "Meetings by start", body = Vec<MeetingView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/meetings")]
pub async fn list_meetings(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<MeetingFilter>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let now = state.clock.now();
    let (from, to) = range_or_default(filter.from, filter.to, now, DEFAULT_WEEKS)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok()
        .json(meetings::list(&mut conn, filter.committee_id, from, to, now).await?))
}

/// Get a meeting with its agenda and its moves.
#[utoipa::path(
    get, path = "/api/v1/meetings/{id}", tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, description = "The meeting", body = MeetingDetail)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/meetings/{id}")]
pub async fn get_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(meetings::get(&mut conn, *id).await?))
}

/// Move one meeting occurrence (e.g. one falling on a holiday), in advance.
///
/// Its cut-off follows the new start under the policy in force; the move is audited.
#[utoipa::path(
    post, path = "/api/v1/meetings/{id}/reschedule", tag = "meetings",
    request_body = RescheduleRequest,
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, description = "The moved meeting", body = MeetingDetail)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["change_manager"])))
)]
#[post("/meetings/{id}/reschedule")]
pub async fn reschedule_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<RescheduleRequest>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::ChangeManager])?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let out = meetings::reschedule(
        &mut conn,
        &state.notifier,
        user.id,
        *id,
        &body,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Close a meeting once it has started. RDMs on its agenda still awaiting the committee (votes
/// not all in) are carried over to the next meeting whose cut-off they meet.
#[utoipa::path(
    post, path = "/api/v1/meetings/{id}/close", tag = "meetings",
    request_body(content = Option<CloseRequest>, description = "Optional"),
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, description = "Closed", body = CloseResult)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["change_manager"])))
)]
#[post("/meetings/{id}/close")]
pub async fn close_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: OptionalJson<CloseRequest>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::ChangeManager])?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let out = meetings::close(
        &mut conn,
        &state.notifier,
        user.id,
        *id,
        body.note,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_meetings, get_meeting, reschedule_meeting, close_meeting),
    components(schemas(
        MeetingView,
        MeetingDetail,
        AgendaItem,
        RescheduleView,
        RescheduleRequest,
        CloseRequest,
        CloseResult
    ))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_meetings)
        .service(get_meeting)
        .service(reschedule_meeting)
        .service(close_meeting);
}
