//! The catalogue of what changes touch (SPEC §3.1): organisations, their topologies,
//! services, environments and configuration items. Customers see only their own
//! organisation: every read takes the caller's scope (`Some(org)` for a customer).
use crate::db::enums::Stored;
use crate::db::models::{ConfigurationItem, Organization, Service, Topology};
use crate::db::schema::{configuration_items, organizations, services, topologies};
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::input::{not_blank, parse_tz};
use crate::platform::pagination::paginate;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

pub use domain::catalog::Environment;

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
        let environment = i.environment;
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

// ---------------------------------------------------------------------------------------
// Organisations and topologies.
// ---------------------------------------------------------------------------------------

/// An organisation the caller may see (another organisation is as good as missing to a
/// customer).
pub async fn find_organization(
    conn: &mut AsyncPgConnection,
    scope: Option<i64>,
    id: i64,
) -> ApiResult<Organization> {
    if scope.is_some_and(|own| own != id) {
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

/// Organisations by code (a customer: only its own).
pub async fn list_organizations(
    conn: &mut AsyncPgConnection,
    scope: Option<i64>,
) -> ApiResult<Vec<OrganizationView>> {
    let mut q = organizations::table.into_boxed();
    if let Some(own) = scope {
        q = q.filter(organizations::id.eq(own));
    }
    let rows: Vec<Organization> = q
        .order(organizations::code)
        .select(Organization::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn create_organization(
    conn: &mut AsyncPgConnection,
    body: &NewOrganization,
    now: DateTime<Utc>,
) -> ApiResult<OrganizationView> {
    let tz = match body.timezone.as_deref() {
        Some(tz) => parse_tz("timezone", tz.trim())?,
        None => chrono_tz::America::Sao_Paulo,
    };
    let org: Organization = diesel::insert_into(organizations::table)
        .values((
            organizations::code.eq(body.code.trim()),
            organizations::name.eq(body.name.trim()),
            organizations::timezone.eq(tz.name()),
            organizations::created_at.eq(now),
        ))
        .returning(Organization::as_returning())
        .get_result(conn)
        .await?;
    Ok(org.into())
}

/// An organisation's topologies by name.
pub async fn list_topologies(
    conn: &mut AsyncPgConnection,
    scope: Option<i64>,
    org_id: i64,
) -> ApiResult<Vec<TopologyView>> {
    let org = find_organization(conn, scope, org_id).await?;
    let rows: Vec<Topology> = topologies::table
        .filter(topologies::organization_id.eq(org.id))
        .order(topologies::name)
        .select(Topology::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn create_topology(
    conn: &mut AsyncPgConnection,
    scope: Option<i64>,
    org_id: i64,
    body: &NewTopology,
) -> ApiResult<TopologyView> {
    let org = find_organization(conn, scope, org_id).await?;
    let t: Topology = diesel::insert_into(topologies::table)
        .values((
            topologies::organization_id.eq(org.id),
            topologies::name.eq(body.name.trim()),
            topologies::description.eq(&body.description),
        ))
        .returning(Topology::as_returning())
        .get_result(conn)
        .await?;
    Ok(t.into())
}

// ---------------------------------------------------------------------------------------
// Services.
// ---------------------------------------------------------------------------------------

/// Services by code.
pub async fn list_services(conn: &mut AsyncPgConnection) -> ApiResult<Vec<ServiceView>> {
    let rows: Vec<Service> = services::table
        .order(services::code)
        .select(Service::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn create_service(
    conn: &mut AsyncPgConnection,
    body: &NewService,
) -> ApiResult<ServiceView> {
    let s: Service = diesel::insert_into(services::table)
        .values((
            services::code.eq(body.code.trim()),
            services::name.eq(body.name.trim()),
            services::description.eq(&body.description),
        ))
        .returning(Service::as_returning())
        .get_result(conn)
        .await?;
    Ok(s.into())
}

// ---------------------------------------------------------------------------------------
// Configuration items.
// ---------------------------------------------------------------------------------------

/// Which items to list.
#[derive(Debug, Default, Clone, Copy)]
pub struct ItemQuery {
    pub organization_id: Option<i64>,
    pub service_id: Option<i64>,
    pub environment: Option<Environment>,
    pub limit: i64,
    pub cursor: Option<i64>,
}

/// Configuration items by id, filtered and paginated (keyset on id).
pub async fn list_items(
    conn: &mut AsyncPgConnection,
    scope: Option<i64>,
    f: ItemQuery,
) -> ApiResult<ItemPage> {
    let mut q = configuration_items::table.into_boxed();
    if let Some(own) = scope {
        q = q.filter(configuration_items::organization_id.eq(own));
    }
    if let Some(o) = f.organization_id {
        q = q.filter(configuration_items::organization_id.eq(o));
    }
    if let Some(s) = f.service_id {
        q = q.filter(configuration_items::service_id.eq(s));
    }
    if let Some(e) = f.environment {
        q = q.filter(configuration_items::environment.eq(e.db()));
    }
    if let Some(c) = f.cursor {
        q = q.filter(configuration_items::id.gt(c));
    }
    let rows: Vec<ConfigurationItem> = q
        .order(configuration_items::id)
        .limit(f.limit + 1)
        .select(ConfigurationItem::as_select())
        .load(conn)
        .await?;
    let (rows, next_cursor) = paginate(rows, f.limit, |i| i.id);
    let items = rows
        .into_iter()
        .map(ItemView::try_from)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ItemPage { items, next_cursor })
}

pub async fn get_item(
    conn: &mut AsyncPgConnection,
    scope: Option<i64>,
    id: i64,
) -> ApiResult<ItemView> {
    let item: ConfigurationItem = configuration_items::table
        .find(id)
        .select(ConfigurationItem::as_select())
        .first(conn)
        .await
        .optional()?
        .filter(|i| match scope {
            Some(own) => own == i.organization_id,
            None => true,
        })
        .ok_or_else(|| ApiError::not_found(format!("configuration item {id}")))?;
    ItemView::try_from(item)
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

pub async fn create_item(conn: &mut AsyncPgConnection, body: &NewItem) -> ApiResult<ItemView> {
    let item = conn
        .transaction::<_, ApiError, _>(async |conn| {
            check_item_references(conn, body).await?;
            Ok(diesel::insert_into(configuration_items::table)
                .values((
                    configuration_items::organization_id.eq(body.organization_id),
                    configuration_items::topology_id.eq(body.topology_id),
                    configuration_items::environment.eq(body.environment.db()),
                    configuration_items::service_id.eq(body.service_id),
                    configuration_items::name.eq(body.name.trim()),
                ))
                .returning(ConfigurationItem::as_returning())
                .get_result::<ConfigurationItem>(conn)
                .await?)
        })
        .await?;
    ItemView::try_from(item)
}
