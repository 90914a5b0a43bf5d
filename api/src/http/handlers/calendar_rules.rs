//! `/api/v1/calendars/{id}/rules`, `/includes`, `/effective-holidays`: holiday rules, included
//! calendars, and the holidays a calendar counts with in a year (`crate::calendar::rules`).
use super::common::created;
use crate::app::AppState;
use crate::calendar::rules::{self, Includes, NewHolidayRule, RuleView, RulesView};
use crate::calendar::HolidayView;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::identity::principal::{AuthUser, CATALOG_EDITORS};
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::pagination::query_param;
use actix_web::{delete, get, post, put, web, HttpResponse};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

/// A calendar's holiday rules and the calendars it includes.
#[utoipa::path(
    get, path = "/api/v1/calendars/{id}/rules", tag = "calendars",
    params(("id" = i64, Path, description = "Calendar id")),
    responses((status = 200, description = "Rules and includes", body = RulesView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role"])))
)]
#[get("/calendars/{id}/rules")]
pub async fn list_rules(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(rules::rules_of(&mut conn, *id).await?))
}

/// Add a holiday rule: a fixed day every year, or a day relative to Easter.
#[utoipa::path(
    post, path = "/api/v1/calendars/{id}/rules", tag = "calendars",
    params(("id" = i64, Path, description = "Calendar id")),
    request_body = NewHolidayRule,
    responses((status = 201, description = "Created", body = RuleView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/calendars/{id}/rules")]
pub async fn add_rule(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewHolidayRule>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let r = rules::add_rule(&mut conn, *id, &body).await?;
    Ok(created(
        format!("/api/v1/calendars/{}/rules/{}", *id, r.id),
        &r,
    ))
}

/// Remove a holiday rule.
#[utoipa::path(
    delete, path = "/api/v1/calendars/{id}/rules/{rule_id}", tag = "calendars",
    params(("id" = i64, Path, description = "Calendar id"), ("rule_id" = i64, Path, description = "Rule id")),
    responses((status = 204, description = "Removed")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[delete("/calendars/{id}/rules/{rule_id}")]
pub async fn delete_rule(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let (cal, rule) = path.into_inner();
    let mut conn = state.pool.get().await?;
    rules::delete_rule(&mut conn, cal, rule).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace the calendars this one includes (national + state + municipal).
#[utoipa::path(
    put, path = "/api/v1/calendars/{id}/includes", tag = "calendars",
    params(("id" = i64, Path, description = "Calendar id")),
    request_body = Includes,
    responses((status = 200, description = "Rules and includes", body = RulesView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[put("/calendars/{id}/includes")]
pub async fn set_includes(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<Includes>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(rules::set_includes(&mut conn, *id, &body).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year.
    #[param(value_type = i32, required = true, minimum = 1900, maximum = 2200)]
    pub year: Option<String>,
}

/// The holidays a calendar counts with in a year: its own dates, its rules' dates, and those
/// of the calendars it includes.
#[utoipa::path(
    get, path = "/api/v1/calendars/{id}/effective-holidays", tag = "calendars",
    params(("id" = i64, Path, description = "Calendar id"), YearQuery),
    responses((status = 200, description = "Holidays by date", body = Vec<HolidayView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role"])))
)]
#[get("/calendars/{id}/effective-holidays")]
pub async fn effective_holidays(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: ValidQuery<YearQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let year = query_param::<i32>("year", q.year.as_deref(), "a year")?
        .ok_or_else(|| ApiError::validation("year", "required", "give the year"))?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(rules::effective_holidays(&mut conn, *id, year).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_rules, add_rule, delete_rule, set_includes, effective_holidays),
    components(schemas(RulesView, RuleView, NewHolidayRule, Includes))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_rules)
        .service(add_rule)
        .service(delete_rule)
        .service(set_includes)
        .service(effective_holidays);
}
