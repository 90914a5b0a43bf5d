//! Escalation policies and on-call: who is on call for a team, and overrides.
use crate::app::AppState;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use crate::tickets::oncall::{self, NewOverride, OnCallView, ROTA_EDITORS};
use crate::tickets::settings::{self, EscalationPolicyView};
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::roles::{Role, Team};
use domain::ticket::SUPPORT_ROLES;
use serde::Deserialize;
use utoipa::IntoParams;

/// The escalation policies, with their levels and the items that use them.
#[utoipa::path(
    get, path = "/api/v1/escalation-policies", tag = "tickets",
    responses((status = 200, description = "Policies by code", body = Vec<EscalationPolicyView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst"])))
)]
#[get("/escalation-policies")]
pub async fn list_policies(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.require(SUPPORT_ROLES)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(settings::policies(&mut conn).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// The instant (default: now).
    pub at: Option<DateTime<Utc>>,
}

/// Who is on call for a team at an instant: an override, else the first rotation covering it.
#[utoipa::path(
    get, path = "/api/v1/on-call/{team}", tag = "tickets",
    params(("team" = Team, Path, description = "Support team"), AtQuery),
    responses((status = 200, description = "Who is on call", body = OnCallView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst", "admin"])))
)]
#[get("/on-call/{team}")]
pub async fn who_is_on_call(
    state: web::Data<AppState>,
    user: AuthUser,
    team: web::Path<Team>,
    q: ValidQuery<AtQuery>,
) -> ApiResult<HttpResponse> {
    let mut roles = SUPPORT_ROLES.to_vec();
    roles.push(Role::Admin);
    user.require(&roles)?;
    let at = q.into_inner().at.unwrap_or_else(|| state.clock.now());
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(oncall::view(&mut conn, *team, at).await?))
}

/// Put someone on call for a team over a period, ahead of the rotations.
#[utoipa::path(
    post, path = "/api/v1/on-call/{team}/overrides", tag = "tickets",
    request_body = NewOverride,
    params(("team" = Team, Path, description = "Support team")),
    responses((status = 201, description = "Who is on call when the override starts", body = OnCallView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_coordinator", "admin"])))
)]
#[post("/on-call/{team}/overrides")]
pub async fn add_override(
    state: web::Data<AppState>,
    user: AuthUser,
    team: web::Path<Team>,
    body: ValidJson<NewOverride>,
) -> ApiResult<HttpResponse> {
    user.require(ROTA_EDITORS)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let v = oncall::add_override(&mut conn, &user, *team, &body, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(v))
}
