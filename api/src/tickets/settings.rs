//! The support catalog as the ticket rules read it (SPEC §4.1), all data: settings, SLA
//! targets per item and priority, the teams' OLAs, contracts and ordered routing rules.
use crate::db::enums::Stored;
use crate::db::schema::{
    contracts, organizations, queues, routing_rules, sla_targets, support_items, team_olas,
    ticket_settings,
};
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::rdm::Priority;
use domain::roles::Team;
use serde::Serialize;
use utoipa::ToSchema;

/// The numbers of SPEC §4.3 (one row, `ticket_settings`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_settings)]
pub struct Settings {
    pub default_calendar_id: i64,
    pub auto_close_business_hours: i32,
    pub reminder_business_hours: i32,
    pub max_contact_attempts: i32,
    pub contact_window_hours: i32,
}

pub async fn load(conn: &mut AsyncPgConnection) -> ApiResult<Settings> {
    ticket_settings::table
        .select(Settings::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::internal("ticket_settings has no row: seed the reference data"))
}

/// A support-catalog item.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = support_items)]
pub struct Item {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub product: String,
    pub round_the_clock: bool,
}

pub async fn item(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Option<Item>> {
    Ok(support_items::table
        .find(id)
        .select(Item::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// First-response and resolution targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub response: Duration,
    pub resolution: Duration,
}

/// The item's targets for `priority` in force at `at` (the latest defined by then).
pub async fn sla_targets(
    conn: &mut AsyncPgConnection,
    item_id: i64,
    priority: Priority,
    at: DateTime<Utc>,
) -> ApiResult<Option<Targets>> {
    let row: Option<(i32, i32)> = sla_targets::table
        .filter(sla_targets::item_id.eq(item_id))
        .filter(sla_targets::priority.eq(priority.db()))
        .filter(sla_targets::valid_from.le(at))
        .order(sla_targets::valid_from.desc())
        .select((
            sla_targets::response_minutes,
            sla_targets::resolution_minutes,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(targets))
}

/// A team's own internal targets (OLA) for `priority` in force at `at`.
pub async fn team_ola(
    conn: &mut AsyncPgConnection,
    team: Team,
    priority: Priority,
    at: DateTime<Utc>,
) -> ApiResult<Option<Targets>> {
    let row: Option<(i32, i32)> = team_olas::table
        .filter(team_olas::team.eq(team.db()))
        .filter(team_olas::priority.eq(priority.db()))
        .filter(team_olas::valid_from.le(at))
        .order(team_olas::valid_from.desc())
        .select((team_olas::response_minutes, team_olas::resolution_minutes))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(targets))
}

fn targets((response, resolution): (i32, i32)) -> Targets {
    Targets {
        response: Duration::minutes(response.into()),
        resolution: Duration::minutes(resolution.into()),
    }
}

/// Where intake sends a ticket, and why.
#[derive(Debug, Clone)]
pub struct Route {
    pub queue_id: i64,
    pub team: Team,
    pub queue_code: String,
    /// The rule that matched; None: no rule matched, the default queue took it.
    pub rule_id: Option<i64>,
    /// The contract in force for the item's product, if any.
    pub contract_id: Option<i64>,
    /// The calendar the ticket counts in: the contract's, else the organisation's, else the
    /// default.
    pub calendar_id: i64,
}

/// Applies the routing rules in order: the first whose item, contract product (a contract in
/// force today for the organisation) and organisation all match.
pub async fn route(
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    item: &Item,
    settings: &Settings,
    now: DateTime<Utc>,
) -> ApiResult<Route> {
    let today = now.date_naive();
    let in_force: Vec<(i64, String, Option<i64>)> = contracts::table
        .filter(contracts::organization_id.eq(organization_id))
        .filter(contracts::valid_from.le(today))
        .filter(
            contracts::valid_until
                .is_null()
                .or(contracts::valid_until.ge(today)),
        )
        .order(contracts::id)
        .select((contracts::id, contracts::product, contracts::calendar_id))
        .load(conn)
        .await?;
    type RuleRow = (i64, Option<i64>, Option<String>, Option<i64>, i64);
    let rules: Vec<RuleRow> = routing_rules::table
        .order(routing_rules::position)
        .select((
            routing_rules::id,
            routing_rules::item_id,
            routing_rules::contract_product,
            routing_rules::organization_id,
            routing_rules::queue_id,
        ))
        .load(conn)
        .await?;
    let matched = rules.into_iter().find(|(_, item_id, product, org, _)| {
        item_id.is_none_or(|i| i == item.id)
            && org.is_none_or(|o| o == organization_id)
            && product
                .as_ref()
                .is_none_or(|p| in_force.iter().any(|(_, cp, _)| cp == p))
    });
    let (queue_id, team, queue_code): (i64, Team, String) = match &matched {
        Some((_, _, _, _, q)) => {
            queues::table
                .find(q)
                .select((queues::id, queues::team, queues::code))
                .first(conn)
                .await?
        }
        None => queues::table
            .filter(queues::is_default.eq(true))
            .select((queues::id, queues::team, queues::code))
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| ApiError::internal("no default queue: seed the reference data"))?,
    };
    let contract = in_force.iter().find(|(_, p, _)| *p == item.product);
    let org_calendar: Option<i64> = organizations::table
        .find(organization_id)
        .select(organizations::calendar_id)
        .first(conn)
        .await?;
    let calendar_id = contract
        .and_then(|(_, _, c)| *c)
        .or(org_calendar)
        .unwrap_or(settings.default_calendar_id);
    Ok(Route {
        queue_id,
        team,
        queue_code,
        rule_id: matched.map(|m| m.0),
        contract_id: contract.map(|c| c.0),
        calendar_id,
    })
}

/// The queue a team's children go to (its own, not the default).
pub async fn team_queue(conn: &mut AsyncPgConnection, team: Team) -> ApiResult<(i64, String)> {
    queues::table
        .filter(queues::team.eq(team.db()))
        .order((queues::is_default.asc(), queues::id))
        .select((queues::id, queues::code))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::internal(format!("team {} has no queue", team.as_str())))
}

/// A queue's team and code, if it exists.
pub async fn queue(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Option<(Team, String)>> {
    Ok(queues::table
        .find(id)
        .select((queues::team, queues::code))
        .first(conn)
        .await
        .optional()?)
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct SupportItem {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The product a contract names.
    pub product: String,
    /// Clocks count every hour (24×7).
    pub round_the_clock: bool,
}

pub async fn items(conn: &mut AsyncPgConnection) -> ApiResult<Vec<SupportItem>> {
    Ok(support_items::table
        .order(support_items::code)
        .select((
            support_items::id,
            support_items::code,
            support_items::name,
            support_items::product,
            support_items::round_the_clock,
        ))
        .load(conn)
        .await?)
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct Queue {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub team: Team,
    /// Where a ticket no routing rule matches goes.
    pub is_default: bool,
}

pub async fn queues(conn: &mut AsyncPgConnection) -> ApiResult<Vec<Queue>> {
    Ok(queues::table
        .order(queues::code)
        .select((
            queues::id,
            queues::code,
            queues::name,
            queues::team,
            queues::is_default,
        ))
        .load(conn)
        .await?)
}

/// The escalation policy an item uses for a priority, if any (a policy names the priorities
/// it covers).
pub async fn policy_for(
    conn: &mut AsyncPgConnection,
    item_id: i64,
    priority: Priority,
) -> ApiResult<Option<i64>> {
    use crate::db::enums::StoredList;
    use crate::db::schema::escalation_policies;
    Ok(support_items::table
        .inner_join(
            escalation_policies::table
                .on(support_items::escalation_policy_id.eq(escalation_policies::id.nullable())),
        )
        .filter(support_items::id.eq(item_id))
        .filter(escalation_policies::priorities.contains(vec![priority].db()))
        .select(escalation_policies::id)
        .first(conn)
        .await
        .optional()?)
}

/// One escalation level as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, serde::Deserialize, ToSchema)]
#[diesel(table_name = crate::db::schema::escalation_levels)]
pub struct EscalationLevel {
    #[serde(skip_serializing, default)]
    pub policy_id: i64,
    pub level: i32,
    /// `first_response` or `resolution`.
    pub clock: String,
    /// Share of the target elapsed that triggers it, in percent.
    pub threshold_percent: i32,
    /// `queue`, `role`, `user` or `on_call`.
    pub target_kind: String,
    /// For `queue`: the queue whose team is told (null: the ticket's own queue).
    pub target_queue_id: Option<i64>,
    pub target_role: Option<domain::roles::Role>,
    pub target_user_id: Option<i64>,
    /// For `on_call`: the team whose on-call person is told.
    pub target_team: Option<Team>,
}

impl EscalationLevel {
    pub fn rule(&self) -> domain::escalation::Level {
        domain::escalation::Level {
            level: self.level,
            clock: if self.clock == "first_response" {
                domain::escalation::Watched::FirstResponse
            } else {
                domain::escalation::Watched::Resolution
            },
            share: f64::from(self.threshold_percent) / 100.0,
            on_call: self.target_kind == "on_call",
        }
    }
}

/// A policy's levels, lowest first.
pub async fn levels(
    conn: &mut AsyncPgConnection,
    policy_id: i64,
) -> ApiResult<Vec<EscalationLevel>> {
    use crate::db::schema::escalation_levels;
    Ok(escalation_levels::table
        .filter(escalation_levels::policy_id.eq(policy_id))
        .order(escalation_levels::level)
        .select(EscalationLevel::as_select())
        .load(conn)
        .await?)
}

/// An escalation policy with its levels.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationPolicyView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub priorities: Vec<Priority>,
    /// Items that use it.
    pub items: Vec<String>,
    pub levels: Vec<EscalationLevel>,
}

pub async fn policies(conn: &mut AsyncPgConnection) -> ApiResult<Vec<EscalationPolicyView>> {
    use crate::db::schema::escalation_policies;
    let rows: Vec<(i64, String, String, Vec<Priority>)> = escalation_policies::table
        .order(escalation_policies::code)
        .select((
            escalation_policies::id,
            escalation_policies::code,
            escalation_policies::name,
            escalation_policies::priorities,
        ))
        .load(conn)
        .await?;
    let mut out = Vec::new();
    for (id, code, name, priorities) in rows {
        let items: Vec<String> = support_items::table
            .filter(support_items::escalation_policy_id.eq(id))
            .order(support_items::code)
            .select(support_items::code)
            .load(conn)
            .await?;
        out.push(EscalationPolicyView {
            id,
            code,
            name,
            priorities,
            items,
            levels: levels(conn, id).await?,
        });
    }
    Ok(out)
}
