//! Configuration items and what they are made of (SPEC §3.1): organisations, their
//! topologies, services and environments. Customers see only their own organisation.
use super::common::{
    created, customer_scope, not_blank, page_cursor, page_limit, paginate, query_param, Problems,
    CATALOG_EDITORS,
};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{ValidJson, ValidQuery};
use crate::models::{ConfigurationItem, Organization, Service, Topology};
use crate::scheduling::parse_tz;
use crate::schema::{configuration_items, organizations, services, topologies};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::roles::Role;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::{IntoParams, OpenApi, ToSchema};
use validator::Validate;

// ---------------------------------------------------------------------------------------
// Views and requests.
// ---------------------------------------------------------------------------------------

/// Where a configuration item runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Production,
    Homologation,
}

impl Environment {
    pub const ALL: [Environment; 2] = [Environment::Production, Environment::Homologation];

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Homologation => "homologation",
        }
    }
}

impl FromStr for Environment {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Environment::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or(())
    }
}

/// A customer organisation (*código do cliente*).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// IANA time zone of the organisation.
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

impl From<Organization> for OrganizationView {
    fn from(o: Organization) -> Self {
        OrganizationView {
            id: o.id,
            code: o.code,
            name: o.name,
            timezone: o.timezone,
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// The customer code, unique.
    #[validate(length(min = 1, max = 40), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 40, example = "ACME")]
    pub code: String,
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// IANA time zone (default `America/Sao_Paulo`).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64, example = "America/Sao_Paulo")]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopologyView {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub description: String,
}

impl From<Topology> for TopologyView {
    fn from(t: Topology) -> Self {
        TopologyView {
            id: t.id,
            organization_id: t.organization_id,
            name: t.name,
            description: t.description,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTopology {
    /// Unique within the organisation.
    #[validate(length(min = 1, max = 100), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
}

impl From<Service> for ServiceView {
    fn from(s: Service) -> Self {
        ServiceView {
            id: s.id,
            code: s.code,
            name: s.name,
            description: s.description,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    #[validate(length(min = 1, max = 40), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 40, example = "ESOCIAL")]
    pub code: String,
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub description: String,
}

/// What a change touches: an organisation's service in one environment (and topology).
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub id: i64,
    pub organization_id: i64,
    pub topology_id: Option<i64>,
    pub environment: Environment,
    pub service_id: i64,
    pub name: String,
}

impl TryFrom<ConfigurationItem> for ItemView {
    type Error = ApiError;
    fn try_from(i: ConfigurationItem) -> ApiResult<Self> {
        let environment = i.environment.parse().map_err(|_| {
            ApiError::internal(format!("item {}: environment {}", i.id, i.environment))
        })?;
        Ok(ItemView {
            id: i.id,
            organization_id: i.organization_id,
            topology_id: i.topology_id,
            environment,
            service_id: i.service_id,
            name: i.name,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemPage {
    pub items: Vec<ItemView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub organization_id: i64,
    /// Must belong to the organisation.
    pub topology_id: Option<i64>,
    pub environment: Environment,
    pub service_id: i64,
    /// Unique within the organisation.
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

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

// ---------------------------------------------------------------------------------------
// Organisations and topologies.
// ---------------------------------------------------------------------------------------

async fn find_organization(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
) -> ApiResult<Organization> {
    // Another organisation is as good as missing to a customer.
    if customer_scope(user).is_some_and(|own| own != id) {
        return Err(ApiError::not_found(format!("organisation {id}")));
    }
    organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("organisation {id}")))
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
    let mut q = organizations::table.into_boxed();
    if let Some(own) = customer_scope(&user) {
        q = q.filter(organizations::id.eq(own));
    }
    let mut conn = state.pool.get().await?;
    let rows: Vec<Organization> = q
        .order(organizations::code)
        .select(Organization::as_select())
        .load(&mut conn)
        .await?;
    let out: Vec<OrganizationView> = rows.into_iter().map(Into::into).collect();
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
    let org = find_organization(&mut conn, &user, *id).await?;
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
    let body = body.0;
    let tz = match body.timezone.as_deref() {
        Some(tz) => parse_tz("timezone", tz.trim())?,
        None => chrono_tz::America::Sao_Paulo,
    };
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let org: Organization = diesel::insert_into(organizations::table)
        .values((
            organizations::code.eq(body.code.trim()),
            organizations::name.eq(body.name.trim()),
            organizations::timezone.eq(tz.name()),
            organizations::created_at.eq(now),
        ))
        .returning(Organization::as_returning())
        .get_result(&mut conn)
        .await?;
    Ok(created(
        format!("/api/v1/organizations/{}", org.id),
        &OrganizationView::from(org),
    ))
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
    let org = find_organization(&mut conn, &user, *id).await?;
    let rows: Vec<Topology> = topologies::table
        .filter(topologies::organization_id.eq(org.id))
        .order(topologies::name)
        .select(Topology::as_select())
        .load(&mut conn)
        .await?;
    let out: Vec<TopologyView> = rows.into_iter().map(Into::into).collect();
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
    let body = body.0;
    let mut conn = state.pool.get().await?;
    let org = find_organization(&mut conn, &user, *id).await?;
    let t: Topology = diesel::insert_into(topologies::table)
        .values((
            topologies::organization_id.eq(org.id),
            topologies::name.eq(body.name.trim()),
            topologies::description.eq(&body.description),
        ))
        .returning(Topology::as_returning())
        .get_result(&mut conn)
        .await?;
    Ok(created(
        format!("/api/v1/organizations/{}/topologies", org.id),
        &TopologyView::from(t),
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
    let rows: Vec<Service> = services::table
        .order(services::code)
        .select(Service::as_select())
        .load(&mut conn)
        .await?;
    let out: Vec<ServiceView> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(out))
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
    let body = body.0;
    let mut conn = state.pool.get().await?;
    let s: Service = diesel::insert_into(services::table)
        .values((
            services::code.eq(body.code.trim()),
            services::name.eq(body.name.trim()),
            services::description.eq(&body.description),
        ))
        .returning(Service::as_returning())
        .get_result(&mut conn)
        .await?;
    Ok(created(
        format!("/api/v1/services/{}", s.id),
        &ServiceView::from(s),
    ))
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
    let org = p.take(query_param::<i64>(
        "organization_id",
        filter.organization_id.as_deref(),
        "an id",
    ));
    let service = p.take(query_param::<i64>(
        "service_id",
        filter.service_id.as_deref(),
        "an id",
    ));
    let env = p.take(query_param::<Environment>(
        "environment",
        filter.environment.as_deref(),
        "an environment (production, homologation)",
    ));
    let limit = p.take(page_limit(filter.limit.as_deref()));
    let cursor = p.take(page_cursor(filter.cursor.as_deref()));
    p.finish()?;

    let mut q = configuration_items::table.into_boxed();
    if let Some(own) = customer_scope(&user) {
        q = q.filter(configuration_items::organization_id.eq(own));
    }
    if let Some(o) = org {
        q = q.filter(configuration_items::organization_id.eq(o));
    }
    if let Some(s) = service {
        q = q.filter(configuration_items::service_id.eq(s));
    }
    if let Some(e) = env {
        q = q.filter(configuration_items::environment.eq(e.as_str()));
    }
    if let Some(c) = cursor {
        q = q.filter(configuration_items::id.gt(c));
    }
    let mut conn = state.pool.get().await?;
    let rows: Vec<ConfigurationItem> = q
        .order(configuration_items::id)
        .limit(limit + 1)
        .select(ConfigurationItem::as_select())
        .load(&mut conn)
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |i| i.id);
    let items = rows
        .into_iter()
        .map(ItemView::try_from)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(ItemPage { items, next_cursor }))
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
    let item: ConfigurationItem = configuration_items::table
        .find(*id)
        .select(ConfigurationItem::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .filter(|i| match customer_scope(&user) {
            Some(own) => own == i.organization_id,
            None => true,
        })
        .ok_or_else(|| ApiError::not_found(format!("configuration item {id}")))?;
    Ok(HttpResponse::Ok().json(ItemView::try_from(item)?))
}

/// Checks what a new item refers to, naming every bad field.
async fn check_item_references(conn: &mut AsyncPgConnection, body: &NewItem) -> ApiResult<()> {
    let mut errors = Vec::new();
    let org_exists: bool = diesel::select(diesel::dsl::exists(
        organizations::table.find(body.organization_id),
    ))
    .get_result(conn)
    .await?;
    if !org_exists {
        errors.push(FieldError::new(
            "organization_id",
            "unknown",
            format!("no organisation {}", body.organization_id),
        ));
    }
    let service_exists: bool =
        diesel::select(diesel::dsl::exists(services::table.find(body.service_id)))
            .get_result(conn)
            .await?;
    if !service_exists {
        errors.push(FieldError::new(
            "service_id",
            "unknown",
            format!("no service {}", body.service_id),
        ));
    }
    if let Some(tid) = body.topology_id {
        let owner: Option<i64> = topologies::table
            .find(tid)
            .select(topologies::organization_id)
            .first(conn)
            .await
            .optional()?;
        match owner {
            None => errors.push(FieldError::new(
                "topology_id",
                "unknown",
                format!("no topology {tid}"),
            )),
            Some(o) if o != body.organization_id => errors.push(FieldError::new(
                "topology_id",
                "invalid",
                format!(
                    "topology {tid} belongs to another organisation than {}",
                    body.organization_id
                ),
            )),
            Some(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
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
    let body = body.0;
    let mut conn = state.pool.get().await?;
    let item = conn
        .transaction::<_, ApiError, _>(async |conn| {
            check_item_references(conn, &body).await?;
            Ok(diesel::insert_into(configuration_items::table)
                .values((
                    configuration_items::organization_id.eq(body.organization_id),
                    configuration_items::topology_id.eq(body.topology_id),
                    configuration_items::environment.eq(body.environment.as_str()),
                    configuration_items::service_id.eq(body.service_id),
                    configuration_items::name.eq(body.name.trim()),
                ))
                .returning(ConfigurationItem::as_returning())
                .get_result::<ConfigurationItem>(conn)
                .await?)
        })
        .await?;
    Ok(created(
        format!("/api/v1/configuration-items/{}", item.id),
        &ItemView::try_from(item)?,
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
