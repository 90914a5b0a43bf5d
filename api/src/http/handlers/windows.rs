//! `/api/v1/windows`: maintenance windows, their bookings, conflicts and flexes
//! (`crate::changes::windows`).
use crate::app::AppState;
use crate::changes::occurrences::range_or_default;
use crate::changes::windows::{
    self, Booking, ConflictView, FlexDecision, FlexDecisionRequest, FlexRequest, FlexView,
    FlexVoteView, WindowDetail, WindowView, DEFAULT_WEEKS,
};
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
pub struct WindowFilter {
    /// Default: now.
    pub from: Option<DateTime<Utc>>,
    /// Default: `from` plus 8 weeks; at most 366 days after `from`.
    pub to: Option<DateTime<Utc>>,
}

/// List maintenance windows in a range, with how full they are and their conflicts.
#[utoipa::path(
    get, path = "/api/v1/windows", tag = "windows",
    params(WindowFilter),
    responses((status = 200, description = "Windows by start", body = Vec<WindowView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/windows")]
pub async fn list_windows(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<WindowFilter>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let (from, to) = range_or_default(filter.from, filter.to, state.clock.now(), DEFAULT_WEEKS)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(windows::list(&mut conn, from, to).await?))
}

/// Get a window with its bookings, conflicts and flexes.
#[utoipa::path(
    get, path = "/api/v1/windows/{id}", tag = "windows",
    params(("id" = i64, Path, description = "Window id")),
    responses((status = 200, description = "The window", body = WindowDetail)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/windows/{id}")]
pub async fn get_window(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(windows::get(&mut conn, *id).await?))
}

/// Ask to move or extend this one occurrence for an external reason. It takes effect only
/// once every member of the CM approves it (one rejection refuses it); the members are told
/// by e-mail. A permanent change is a new calendar policy version.
#[utoipa::path(
    post, path = "/api/v1/windows/{id}/flexes", tag = "windows",
    request_body = FlexRequest,
    params(("id" = i64, Path, description = "Window id")),
    responses((status = 201, description = "Requested (pending)", body = FlexView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["change_manager"])))
)]
#[post("/windows/{id}/flexes")]
pub async fn request_flex(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<FlexRequest>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::ChangeManager])?;
    let body = body.into_inner()?;

    let id = *id;
    let mut conn = state.pool.get().await?;
    let flex = windows::request_flex(
        &mut conn,
        &state.notifier,
        user.id,
        id,
        &body,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/windows/{id}")))
        .json(flex))
}

/// Approve a pending flex: your vote. Once every member of the CM has approved, the window
/// takes its new times; booked RDMs that no longer fit are then listed in `misfits` (they stay
/// booked: the change manager decides). One vote per member.
#[utoipa::path(
    post, path = "/api/v1/windows/{id}/flexes/{flex_id}/approve", tag = "windows",
    request_body(content = Option<FlexDecisionRequest>, description = "Optional"),
    params(
        ("id" = i64, Path, description = "Window id"),
        ("flex_id" = i64, Path, description = "Flex id")
    ),
    responses((status = 200, description = "Vote recorded; the flex (approved once all approved) and the window", body = FlexDecision)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["committee_member (of the CM)"])))
)]
#[post("/windows/{id}/flexes/{flex_id}/approve")]
pub async fn approve_flex(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
    body: OptionalJson<FlexDecisionRequest>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::CommitteeMember])?;
    let body = body.into_inner()?;

    let (id, flex_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let out = windows::decide(
        &mut conn,
        &state.notifier,
        &user,
        id,
        flex_id,
        true,
        body.reason,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Reject a pending flex (`reason` required): one rejection refuses it at once, and the window
/// keeps its times. One vote per member.
#[utoipa::path(
    post, path = "/api/v1/windows/{id}/flexes/{flex_id}/reject", tag = "windows",
    request_body = FlexDecisionRequest,
    params(
        ("id" = i64, Path, description = "Window id"),
        ("flex_id" = i64, Path, description = "Flex id")
    ),
    responses((status = 200, description = "Rejected", body = FlexDecision)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["committee_member (of the CM)"])))
)]
#[post("/windows/{id}/flexes/{flex_id}/reject")]
pub async fn reject_flex(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
    body: OptionalJson<FlexDecisionRequest>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::CommitteeMember])?;
    let body = body.into_inner()?;

    let (id, flex_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let out = windows::decide(
        &mut conn,
        &state.notifier,
        &user,
        id,
        flex_id,
        false,
        body.reason,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_windows, get_window, request_flex, approve_flex, reject_flex),
    components(schemas(
        WindowView,
        WindowDetail,
        Booking,
        ConflictView,
        FlexView,
        FlexVoteView,
        FlexRequest,
        FlexDecisionRequest,
        FlexDecision
    ))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_windows)
        .service(get_window)
        .service(request_flex)
        .service(approve_flex)
        .service(reject_flex);
}
