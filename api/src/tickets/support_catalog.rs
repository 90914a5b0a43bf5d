//! Editing the support catalog's data (SPEC §4.1): organisations' product contracts (product,
//! calendar, validity) and the ordered routing rules. Reading them is what intake does
//! (`settings::route`).
use crate::db::schema::{
    calendars, contracts, organizations, queues, routing_rules, support_items,
};
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::input::not_blank;
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::roles::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Who edits the support catalog.
pub const EDITORS: &[Role] = &[Role::Admin, Role::SupportCoordinator];

/// Who reads it: support and the admin.
pub fn readers() -> Vec<Role> {
    let mut r = domain::ticket::SUPPORT_ROLES.to_vec();
    r.push(Role::Admin);
    r
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct Contract {
    pub id: i64,
    pub organization_id: i64,
    pub product: String,
    /// The calendar its tickets count in (else the organisation's, else the default).
    pub calendar_id: Option<i64>,
    pub valid_from: NaiveDate,
    /// Inclusive; null: open-ended.
    pub valid_until: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    pub organization_id: i64,
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200, example = "SMART eSocial")]
    pub product: String,
    pub calendar_id: Option<i64>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

async fn exists<T>(conn: &mut AsyncPgConnection, q: T) -> ApiResult<bool>
where
    T: diesel_async::methods::LoadQuery<'static, AsyncPgConnection, i64> + Send + 'static,
{
    Ok(q.get_result::<i64>(conn).await.optional()?.is_some())
}

pub async fn contracts_list(
    conn: &mut AsyncPgConnection,
    organization_id: Option<i64>,
) -> ApiResult<Vec<Contract>> {
    let mut q = contracts::table.into_boxed();
    if let Some(o) = organization_id {
        q = q.filter(contracts::organization_id.eq(o));
    }
    Ok(q.order(contracts::id)
        .limit(1000)
        .select((
            contracts::id,
            contracts::organization_id,
            contracts::product,
            contracts::calendar_id,
            contracts::valid_from,
            contracts::valid_until,
        ))
        .load(conn)
        .await?)
}

pub async fn add_contract(conn: &mut AsyncPgConnection, body: &NewContract) -> ApiResult<Contract> {
    let mut bad = Vec::new();
    if !exists(
        conn,
        organizations::table
            .find(body.organization_id)
            .select(organizations::id),
    )
    .await?
    {
        bad.push(FieldError::new(
            "organization_id",
            "unknown",
            format!("no organisation {}", body.organization_id),
        ));
    }
    if let Some(c) = body.calendar_id {
        if !exists(conn, calendars::table.find(c).select(calendars::id)).await? {
            bad.push(FieldError::new(
                "calendar_id",
                "unknown",
                format!("no calendar {c}"),
            ));
        }
    }
    if body.valid_until.is_some_and(|u| u < body.valid_from) {
        bad.push(FieldError::new(
            "valid_until",
            "range",
            "must not be before valid_from",
        ));
    }
    if !bad.is_empty() {
        return Err(ApiError::Validation(bad));
    }
    Ok(diesel::insert_into(contracts::table)
        .values((
            contracts::organization_id.eq(body.organization_id),
            contracts::product.eq(body.product.trim()),
            contracts::calendar_id.eq(body.calendar_id),
            contracts::valid_from.eq(body.valid_from),
            contracts::valid_until.eq(body.valid_until),
        ))
        .returning((
            contracts::id,
            contracts::organization_id,
            contracts::product,
            contracts::calendar_id,
            contracts::valid_from,
            contracts::valid_until,
        ))
        .get_result(conn)
        .await?)
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct RoutingRule {
    pub id: i64,
    /// Lower first: the first rule that matches routes the ticket.
    pub position: i32,
    pub item_id: Option<i64>,
    /// The organisation must hold a contract in force for this product.
    pub contract_product: Option<String>,
    pub organization_id: Option<i64>,
    pub queue_id: i64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoutingRule {
    /// Unique; lower first.
    #[validate(range(min = 0, max = 1_000_000))]
    #[schema(minimum = 0, maximum = 1000000)]
    pub position: i32,
    pub item_id: Option<i64>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub contract_product: Option<String>,
    pub organization_id: Option<i64>,
    pub queue_id: i64,
}

fn rule_select() -> (
    routing_rules::id,
    routing_rules::position,
    routing_rules::item_id,
    routing_rules::contract_product,
    routing_rules::organization_id,
    routing_rules::queue_id,
) {
    (
        routing_rules::id,
        routing_rules::position,
        routing_rules::item_id,
        routing_rules::contract_product,
        routing_rules::organization_id,
        routing_rules::queue_id,
    )
}

pub async fn rules_list(conn: &mut AsyncPgConnection) -> ApiResult<Vec<RoutingRule>> {
    Ok(routing_rules::table
        .order(routing_rules::position)
        .select(rule_select())
        .load(conn)
        .await?)
}

pub async fn add_rule(
    conn: &mut AsyncPgConnection,
    body: &NewRoutingRule,
) -> ApiResult<RoutingRule> {
    let mut bad = Vec::new();
    if let Some(i) = body.item_id {
        if !exists(conn, support_items::table.find(i).select(support_items::id)).await? {
            bad.push(FieldError::new(
                "item_id",
                "unknown",
                format!("no support item {i}"),
            ));
        }
    }
    if let Some(o) = body.organization_id {
        if !exists(conn, organizations::table.find(o).select(organizations::id)).await? {
            bad.push(FieldError::new(
                "organization_id",
                "unknown",
                format!("no organisation {o}"),
            ));
        }
    }
    if !exists(conn, queues::table.find(body.queue_id).select(queues::id)).await? {
        bad.push(FieldError::new(
            "queue_id",
            "unknown",
            format!("no queue {}", body.queue_id),
        ));
    }
    if !bad.is_empty() {
        return Err(ApiError::Validation(bad));
    }
    diesel::insert_into(routing_rules::table)
        .values((
            routing_rules::position.eq(body.position),
            routing_rules::item_id.eq(body.item_id),
            routing_rules::contract_product.eq(body.contract_product.as_deref().map(str::trim)),
            routing_rules::organization_id.eq(body.organization_id),
            routing_rules::queue_id.eq(body.queue_id),
        ))
        .returning(rule_select())
        .get_result(conn)
        .await
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => ApiError::validation("position", "taken", "another rule has this position"),
            e => e.into(),
        })
}

pub async fn delete_rule(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<()> {
    let n = diesel::delete(routing_rules::table.find(id))
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(ApiError::not_found(format!("routing rule {id}")));
    }
    Ok(())
}
