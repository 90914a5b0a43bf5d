//! `/api/v1/organizations`, `/services`, `/environments`, `/configuration-items`: the
//! catalogue (`crate::catalog`). Customers see only their own organisation.
use super::common::created;
use crate::app::AppState;
use crate::catalog::{
    self, Environment, ItemPage, ItemQuery, ItemView, NewItem, NewOrganization, NewService,
    NewTopology, OrganizationView, ServiceView, TopologyView,
};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::identity::principal::{AuthUser, CATALOG_EDITORS, STAFF};
use crate::platform::error::ApiResult;
use crate::platform::input::Problems;
use crate::platform::pagination::{page_cursor, page_limit, query_param};
use actix_web::{get, post, web, HttpResponse};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

/// Filters of the item list. Parsed by hand so that a bad value names its parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    #[param(value_type = Option<i64>)]
    pub organization_id: Option<String>,
    #[param(value_type = Option<i64>)]
    pub service_id: Option<String>,
    #[param(value_type = Option<Environment>)]
    pub environment: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<i64>)]
    pub cursor: Option<String>,
}

/// List organisations by code (a customer sees only its own).
#[utoipa::path(
    get, path = "/api/v1/organizations", tag = "catalog",
    responses((status = 200, description = "Organisations, by code", body = Vec<OrganizationView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role (customer: only its own organisation)"])))
)]
#[get("/organizations")]
pub async fn list_organizations(
    state: web::Data<AppState>,
    user: AuthUser,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut conn = state.pool.get().await?;
    let out = catalog::list_organizations(&mut conn, user.customer_scope(STAFF)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Get an organisation (a customer only its own).
#[utoipa::path(
    get, path = "/api/v1/organizations/{id}", tag = "catalog",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, description = "The organisation", body = OrganizationView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role (customer: only its own organisation)"])))
)]
#[get("/organizations/{id}")]
pub async fn get_organization(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut conn = state.pool.get().await?;
    let org = catalog::find_organization(&mut conn, user.customer_scope(STAFF), *id).await?;
    Ok(HttpResponse::Ok().json(OrganizationView::from(org)))
}

/// Create an organisation.
#[utoipa::path(
    post, path = "/api/v1/organizations", tag = "catalog",
    request_body = NewOrganization,
    responses((status = 201, description = "Created", body = OrganizationView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/organizations")]
pub async fn create_organization(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewOrganization>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let org = catalog::create_organization(&mut conn, &body, state.clock.now()).await?;
    Ok(created(format!("/api/v1/organizations/{}", org.id), &org))
}

/// List an organisation's topologies by name.
#[utoipa::path(
    get, path = "/api/v1/organizations/{id}/topologies", tag = "catalog",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, description = "Topologies, by name", body = Vec<TopologyView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role (customer: only its own organisation)"])))
)]
#[get("/organizations/{id}/topologies")]
pub async fn list_topologies(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut conn = state.pool.get().await?;
    let out = catalog::list_topologies(&mut conn, user.customer_scope(STAFF), *id).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Add a topology to an organisation.
#[utoipa::path(
    post, path = "/api/v1/organizations/{id}/topologies", tag = "catalog",
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = NewTopology,
    responses((status = 201, description = "Created", body = TopologyView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/organizations/{id}/topologies")]
pub async fn create_topology(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewTopology>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let t = catalog::create_topology(&mut conn, user.customer_scope(STAFF), *id, &body).await?;
    Ok(created(
        format!("/api/v1/organizations/{}/topologies", t.organization_id),
        &t,
    ))
}

// ---------------------------------------------------------------------------------------
// Services and environments.
// ---------------------------------------------------------------------------------------

/// List services by code.
#[utoipa::path(
    get, path = "/api/v1/services", tag = "catalog",
    responses((status = 200, description = "Services, by code", body = Vec<ServiceView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role"])))
)]
#[get("/services")]
pub async fn list_services(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(catalog::list_services(&mut conn).await?))
}

/// Create a service.
#[utoipa::path(
    post, path = "/api/v1/services", tag = "catalog",
    request_body = NewService,
    responses((status = 201, description = "Created", body = ServiceView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/services")]
pub async fn create_service(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewService>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let s = catalog::create_service(&mut conn, &body).await?;
    Ok(created(format!("/api/v1/services/{}", s.id), &s))
}

/// The environments a configuration item can be in.
#[utoipa::path(
    get, path = "/api/v1/environments", tag = "catalog",
    responses((status = 200, description = "The fixed list of environments", body = Vec<Environment>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role"])))
)]
#[get("/environments")]
pub async fn list_environments(user: AuthUser) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    Ok(HttpResponse::Ok().json(Environment::ALL))
}

// ---------------------------------------------------------------------------------------
// Configuration items.
// ---------------------------------------------------------------------------------------

/// List configuration items by id, filtered and paginated (keyset on id). A customer sees
/// only its organisation's.
#[utoipa::path(
    get, path = "/api/v1/configuration-items", tag = "catalog",
    params(ItemFilter),
    responses((status = 200, description = "A page of items", body = ItemPage)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role (customer: only its own organisation)"])))
)]
#[get("/configuration-items")]
pub async fn list_items(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<ItemFilter>,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut p = Problems::default();
    let organization_id = p.take(query_param::<i64>(
        "organization_id",
        filter.organization_id.as_deref(),
        "an id",
    ));
    let service_id = p.take(query_param::<i64>(
        "service_id",
        filter.service_id.as_deref(),
        "an id",
    ));
    let environment = p.take(query_param::<Environment>(
        "environment",
        filter.environment.as_deref(),
        "an environment (production, homologation)",
    ));
    let limit = p.take(page_limit(filter.limit.as_deref()));
    let cursor = p.take(page_cursor(filter.cursor.as_deref()));
    p.finish()?;
    let mut conn = state.pool.get().await?;
    let page = catalog::list_items(
        &mut conn,
        user.customer_scope(STAFF),
        ItemQuery {
            organization_id,
            service_id,
            environment,
            limit,
            cursor,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Get a configuration item (a customer only its organisation's).
#[utoipa::path(
    get, path = "/api/v1/configuration-items/{id}", tag = "catalog",
    params(("id" = i64, Path, description = "Configuration item id")),
    responses((status = 200, description = "The item", body = ItemView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role (customer: only its own organisation)"])))
)]
#[get("/configuration-items/{id}")]
pub async fn get_item(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok()
        .json(catalog::get_item(&mut conn, user.customer_scope(STAFF), *id).await?))
}

/// Create a configuration item.
#[utoipa::path(
    post, path = "/api/v1/configuration-items", tag = "catalog",
    request_body = NewItem,
    responses((status = 201, description = "Created", body = ItemView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/configuration-items")]
pub async fn create_item(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewItem>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let item = catalog::create_item(&mut conn, &body).await?;
    Ok(created(
        format!("/api/v1/configuration-items/{}", item.id),
        &item,
    ))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_organizations,
        get_organization,
        create_organization,
        list_topologies,
        create_topology,
        list_services,
        create_service,
        list_environments,
        list_items,
        get_item,
        create_item,
    ),
    components(schemas(
        Environment,
        OrganizationView,
        NewOrganization,
        TopologyView,
        NewTopology,
        ServiceView,
        NewService,
        ItemView,
        ItemPage,
        NewItem,
    ))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_organizations)
        .service(create_organization)
        .service(get_organization)
        .service(list_topologies)
        .service(create_topology)
        .service(list_services)
        .service(create_service)
        .service(list_environments)
        .service(list_items)
        .service(create_item)
        .service(get_item);
}
