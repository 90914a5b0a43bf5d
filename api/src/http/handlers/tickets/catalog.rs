//! The support catalog's editable data: contracts and routing rules.
use crate::app::AppState;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use crate::tickets::support_catalog::{
    self, readers, Contract, NewContract, NewRoutingRule, RoutingRule, EDITORS,
};
use actix_web::{delete, get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContractQuery {
    pub organization_id: Option<i64>,
}

/// Organisations' product contracts.
#[utoipa::path(
    get, path = "/api/v1/contracts", tag = "tickets",
    params(ContractQuery),
    responses((status = 200, description = "Contracts", body = Vec<Contract>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst", "admin"])))
)]
#[get("/contracts")]
pub async fn list_contracts(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ValidQuery<ContractQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&readers())?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok()
        .json(support_catalog::contracts_list(&mut conn, q.into_inner().organization_id).await?))
}

/// Record an organisation's contract for a product (routing and calendar read it).
#[utoipa::path(
    post, path = "/api/v1/contracts", tag = "tickets",
    request_body = NewContract,
    responses((status = 201, description = "Created", body = Contract)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "support_coordinator"])))
)]
#[post("/contracts")]
pub async fn add_contract(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewContract>,
) -> ApiResult<HttpResponse> {
    user.require(EDITORS)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Created().json(support_catalog::add_contract(&mut conn, &body).await?))
}

/// The routing rules, in the order they are tried.
#[utoipa::path(
    get, path = "/api/v1/routing-rules", tag = "tickets",
    responses((status = 200, description = "Rules by position", body = Vec<RoutingRule>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst", "admin"])))
)]
#[get("/routing-rules")]
pub async fn list_routing_rules(
    state: web::Data<AppState>,
    user: AuthUser,
) -> ApiResult<HttpResponse> {
    user.require(&readers())?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(support_catalog::rules_list(&mut conn).await?))
}

/// Add a routing rule (item, contract product and/or organisation → queue).
#[utoipa::path(
    post, path = "/api/v1/routing-rules", tag = "tickets",
    request_body = NewRoutingRule,
    responses((status = 201, description = "Created", body = RoutingRule)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "support_coordinator"])))
)]
#[post("/routing-rules")]
pub async fn add_routing_rule(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewRoutingRule>,
) -> ApiResult<HttpResponse> {
    user.require(EDITORS)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Created().json(support_catalog::add_rule(&mut conn, &body).await?))
}

/// Remove a routing rule.
#[utoipa::path(
    delete, path = "/api/v1/routing-rules/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 204, description = "Removed")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "support_coordinator"])))
)]
#[delete("/routing-rules/{id}")]
pub async fn delete_routing_rule(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(EDITORS)?;
    let mut conn = state.pool.get().await?;
    support_catalog::delete_rule(&mut conn, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
