//! Demo and reference data (fixtures/): users per role, organisations and configuration
//! items, the BR-SP calendar with Brazil's holidays, CM and CME, the weekly policy.
//! Seeding is idempotent: what exists (by code/username) is left alone.
use crate::db::enums::{Stored, StoredList, StoredOption};
use crate::db::schema::*;
use crate::identity::passwords::hash_password;
use crate::platform::pool::{
    build_pool, ensure_database, run_migrations, DbSetupError, Pool, SetupLock,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::approval::PolicyKind;
use domain::calendar::{DayRange, Holiday};
use domain::catalog::Environment;
use domain::holiday_rules::{HolidayRule, RuleDate};
use domain::rdm::{CommitteeKind, Level, Priority};
use domain::roles::{Role, Team};
use serde::Deserialize;
use std::collections::BTreeMap;

const DEMO: &str = include_str!("../../fixtures/demo.json");
const HOLIDAYS_BR: &str = include_str!("../../fixtures/holidays-br.json");
const HOLIDAY_RULES_BR: &str = include_str!("../../fixtures/holiday-rules-br.json");
const SUPPORT: &str = include_str!("../../fixtures/support.json");

/// The support catalog (fixtures/support.json): calendars with rules, queues, items with
/// their SLA targets, team OLAs, routing rules, ticket settings; demo contracts.
#[derive(Debug, Deserialize)]
struct Support {
    calendars: Vec<SupportCal>,
    national_rules_calendar: String,
    queues: Vec<QueueFx>,
    items: Vec<ItemFx>,
    team_olas: BTreeMap<Team, BTreeMap<Priority, (i32, i32)>>,
    routing_rules: Vec<RuleFx>,
    escalation_policies: Vec<PolicyFx>,
    settings: SettingsFx,
    demo: SupportDemo,
}
#[derive(Debug, Deserialize)]
struct PolicyFx {
    code: String,
    name: String,
    priorities: Vec<Priority>,
    items: Vec<String>,
    levels: Vec<LevelFx>,
}
#[derive(Debug, Deserialize)]
struct LevelFx {
    level: i32,
    clock: String,
    threshold_percent: i32,
    target_kind: String,
    target_role: Option<Role>,
    target_team: Option<Team>,
}
#[derive(Debug, Deserialize)]
struct RotationFx {
    team: Team,
    name: String,
    position: i32,
    calendar: String,
    members: Vec<String>,
    anchor: DateTime<Utc>,
    period_days: i32,
    coverage: String,
    window_weekday: Option<String>,
    window_start: Option<String>,
    window_minutes: Option<i32>,
}
#[derive(Debug, Deserialize)]
struct SupportCal {
    code: String,
    name: String,
    timezone: String,
    working_days: Vec<String>,
    business_hours: Vec<DayRange>,
    includes: Vec<String>,
    rules: Vec<HolidayRule>,
}
#[derive(Debug, Deserialize)]
struct QueueFx {
    code: String,
    name: String,
    team: Team,
    #[serde(default)]
    is_default: bool,
}
#[derive(Debug, Deserialize)]
struct ItemFx {
    code: String,
    name: String,
    product: String,
    round_the_clock: bool,
    /// Per priority: (first response, resolution) in minutes.
    targets: BTreeMap<Priority, (i32, i32)>,
}
#[derive(Debug, Deserialize)]
struct RuleFx {
    position: i32,
    item: Option<String>,
    contract_product: Option<String>,
    organization: Option<String>,
    queue: String,
}
#[derive(Debug, Deserialize)]
struct SettingsFx {
    default_calendar: String,
    auto_close_business_hours: i32,
    reminder_business_hours: i32,
    max_contact_attempts: i32,
    contact_window_hours: i32,
}
#[derive(Debug, Deserialize)]
struct SupportDemo {
    organization_calendars: BTreeMap<String, String>,
    oncall_rotations: Vec<RotationFx>,
    contracts: Vec<ContractFx>,
}
#[derive(Debug, Deserialize)]
struct ContractFx {
    organization: String,
    product: String,
    calendar: Option<String>,
    valid_from: chrono::NaiveDate,
    valid_until: Option<chrono::NaiveDate>,
}

fn support() -> Support {
    serde_json::from_str(SUPPORT).expect("fixtures/support.json is valid")
}

pub fn holiday_rules_br() -> Vec<HolidayRule> {
    serde_json::from_str(HOLIDAY_RULES_BR).expect("fixtures/holiday-rules-br.json is valid")
}

async fn calendar_id(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<i64> {
    calendars::table
        .filter(calendars::code.eq(code))
        .select(calendars::id)
        .first(conn)
        .await
}

/// Inserts `rule` on `cal_id` unless the same rule is there.
async fn seed_rule(
    conn: &mut AsyncPgConnection,
    cal_id: i64,
    rule: &HolidayRule,
) -> QueryResult<()> {
    let (month, day, offset) = match rule.date {
        RuleDate::Fixed { month, day } => (Some(month as i32), Some(day as i32), None),
        RuleDate::Easter { offset_days } => (None, None, Some(offset_days)),
    };
    let exists: i64 = holiday_rules::table
        .filter(holiday_rules::calendar_id.eq(cal_id))
        .filter(holiday_rules::name.eq(&rule.name))
        .count()
        .get_result(conn)
        .await?;
    if exists == 0 {
        diesel::insert_into(holiday_rules::table)
            .values((
                holiday_rules::calendar_id.eq(cal_id),
                holiday_rules::name.eq(&rule.name),
                holiday_rules::month.eq(month),
                holiday_rules::day.eq(day),
                holiday_rules::easter_offset.eq(offset),
                holiday_rules::open_hours.eq(serde_json::to_value(&rule.open).expect("ranges")),
                holiday_rules::first_year.eq(rule.first_year),
                holiday_rules::last_year.eq(rule.last_year),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The support catalog every installation needs (and, with the demo, contracts and the
/// organisations' calendars).
async fn seed_support(
    conn: &mut AsyncPgConnection,
    with_demo: bool,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let s = support();
    let national = calendar_id(conn, &s.national_rules_calendar).await?;
    for rule in holiday_rules_br() {
        seed_rule(conn, national, &rule).await?;
    }
    for c in &s.calendars {
        diesel::insert_into(calendars::table)
            .values((
                calendars::code.eq(&c.code),
                calendars::name.eq(&c.name),
                calendars::timezone.eq(&c.timezone),
                calendars::working_days.eq(&c.working_days),
                calendars::business_hours
                    .eq(serde_json::to_value(&c.business_hours).expect("ranges")),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        let id = calendar_id(conn, &c.code).await?;
        for inc in &c.includes {
            let included = calendar_id(conn, inc).await?;
            diesel::insert_into(calendar_includes::table)
                .values((
                    calendar_includes::calendar_id.eq(id),
                    calendar_includes::included_id.eq(included),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        for rule in &c.rules {
            seed_rule(conn, id, rule).await?;
        }
    }
    for q in &s.queues {
        diesel::insert_into(queues::table)
            .values((
                queues::code.eq(&q.code),
                queues::name.eq(&q.name),
                queues::team.eq(q.team.db()),
                queues::is_default.eq(q.is_default),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    // The targets in force since the epoch: a ticket of any date finds them.
    let since = DateTime::<Utc>::UNIX_EPOCH;
    for i in &s.items {
        diesel::insert_into(support_items::table)
            .values((
                support_items::code.eq(&i.code),
                support_items::name.eq(&i.name),
                support_items::product.eq(&i.product),
                support_items::round_the_clock.eq(i.round_the_clock),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        let item_id: i64 = support_items::table
            .filter(support_items::code.eq(&i.code))
            .select(support_items::id)
            .first(conn)
            .await?;
        for (priority, (response, resolution)) in &i.targets {
            diesel::insert_into(sla_targets::table)
                .values((
                    sla_targets::item_id.eq(item_id),
                    sla_targets::priority.eq(priority.db()),
                    sla_targets::response_minutes.eq(response),
                    sla_targets::resolution_minutes.eq(resolution),
                    sla_targets::valid_from.eq(since),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
    }
    for (team, targets) in &s.team_olas {
        for (priority, (response, resolution)) in targets {
            diesel::insert_into(team_olas::table)
                .values((
                    team_olas::team.eq(team.db()),
                    team_olas::priority.eq(priority.db()),
                    team_olas::response_minutes.eq(response),
                    team_olas::resolution_minutes.eq(resolution),
                    team_olas::valid_from.eq(since),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
    }
    let st = &s.settings;
    let default_cal = calendar_id(conn, &st.default_calendar).await?;
    diesel::insert_into(ticket_settings::table)
        .values((
            ticket_settings::id.eq(true),
            ticket_settings::default_calendar_id.eq(default_cal),
            ticket_settings::auto_close_business_hours.eq(st.auto_close_business_hours),
            ticket_settings::reminder_business_hours.eq(st.reminder_business_hours),
            ticket_settings::max_contact_attempts.eq(st.max_contact_attempts),
            ticket_settings::contact_window_hours.eq(st.contact_window_hours),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    for p in &s.escalation_policies {
        diesel::insert_into(escalation_policies::table)
            .values((
                escalation_policies::code.eq(&p.code),
                escalation_policies::name.eq(&p.name),
                escalation_policies::priorities.eq(p.priorities.clone().db()),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        let pid: i64 = escalation_policies::table
            .filter(escalation_policies::code.eq(&p.code))
            .select(escalation_policies::id)
            .first(conn)
            .await?;
        for l in &p.levels {
            diesel::insert_into(escalation_levels::table)
                .values((
                    escalation_levels::policy_id.eq(pid),
                    escalation_levels::level.eq(l.level),
                    escalation_levels::clock.eq(&l.clock),
                    escalation_levels::threshold_percent.eq(l.threshold_percent),
                    escalation_levels::target_kind.eq(&l.target_kind),
                    escalation_levels::target_role.eq(l.target_role.db()),
                    escalation_levels::target_team.eq(l.target_team.db()),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        diesel::update(support_items::table.filter(support_items::code.eq_any(&p.items)))
            .filter(support_items::escalation_policy_id.is_null())
            .set(support_items::escalation_policy_id.eq(pid))
            .execute(conn)
            .await?;
    }
    if !with_demo {
        return seed_routing(conn, &s.routing_rules).await;
    }
    for r in &s.demo.oncall_rotations {
        let cal_id = calendar_id(conn, &r.calendar).await?;
        let mut members = Vec::new();
        for m in &r.members {
            members.push(
                users::table
                    .filter(users::username.eq(m))
                    .select(users::id)
                    .first::<i64>(conn)
                    .await?,
            );
        }
        diesel::insert_into(oncall_rotations::table)
            .values((
                oncall_rotations::team.eq(r.team.db()),
                oncall_rotations::name.eq(&r.name),
                oncall_rotations::position.eq(r.position),
                oncall_rotations::calendar_id.eq(cal_id),
                oncall_rotations::members.eq(members),
                oncall_rotations::anchor.eq(r.anchor),
                oncall_rotations::period_days.eq(r.period_days),
                oncall_rotations::coverage.eq(&r.coverage),
                oncall_rotations::window_weekday.eq(&r.window_weekday),
                oncall_rotations::window_start.eq(&r.window_start),
                oncall_rotations::window_minutes.eq(r.window_minutes),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    for (org, cal) in &s.demo.organization_calendars {
        let cal_id = calendar_id(conn, cal).await?;
        diesel::update(organizations::table.filter(organizations::code.eq(org)))
            .filter(organizations::calendar_id.is_null())
            .set(organizations::calendar_id.eq(cal_id))
            .execute(conn)
            .await?;
    }
    for c in &s.demo.contracts {
        let org_id: i64 = organizations::table
            .filter(organizations::code.eq(&c.organization))
            .select(organizations::id)
            .first(conn)
            .await?;
        let cal_id = match &c.calendar {
            Some(code) => Some(calendar_id(conn, code).await?),
            None => None,
        };
        let exists: i64 = contracts::table
            .filter(contracts::organization_id.eq(org_id))
            .filter(contracts::product.eq(&c.product))
            .count()
            .get_result(conn)
            .await?;
        if exists == 0 {
            diesel::insert_into(contracts::table)
                .values((
                    contracts::organization_id.eq(org_id),
                    contracts::product.eq(&c.product),
                    contracts::calendar_id.eq(cal_id),
                    contracts::valid_from.eq(c.valid_from),
                    contracts::valid_until.eq(c.valid_until),
                ))
                .execute(conn)
                .await?;
        }
    }
    let _ = now;
    seed_routing(conn, &s.routing_rules).await
}

async fn seed_routing(conn: &mut AsyncPgConnection, rules: &[RuleFx]) -> QueryResult<()> {
    for r in rules {
        let item_id: Option<i64> = match &r.item {
            Some(code) => Some(
                support_items::table
                    .filter(support_items::code.eq(code))
                    .select(support_items::id)
                    .first(conn)
                    .await?,
            ),
            None => None,
        };
        let org_id: Option<i64> = match &r.organization {
            Some(code) => organizations::table
                .filter(organizations::code.eq(code))
                .select(organizations::id)
                .first(conn)
                .await
                .optional()?,
            None => None,
        };
        if r.organization.is_some() && org_id.is_none() {
            continue;
        }
        let queue_id: i64 = queues::table
            .filter(queues::code.eq(&r.queue))
            .select(queues::id)
            .first(conn)
            .await?;
        diesel::insert_into(routing_rules::table)
            .values((
                routing_rules::position.eq(r.position),
                routing_rules::item_id.eq(item_id),
                routing_rules::contract_product.eq(&r.contract_product),
                routing_rules::organization_id.eq(org_id),
                routing_rules::queue_id.eq(queue_id),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct Demo {
    pub password: String,
    organizations: Vec<Org>,
    services: Vec<Svc>,
    configuration_items: Vec<Item>,
    pub users: Vec<DemoUser>,
    calendars: Vec<Cal>,
    committees: Vec<Com>,
    calendar_policy: Policy,
    priority_matrix: Vec<Prio>,
    standard_templates: Vec<Tpl>,
}

#[derive(Debug, Deserialize)]
struct Org {
    code: String,
    name: String,
    timezone: String,
    topologies: Vec<Topo>,
}
#[derive(Debug, Deserialize)]
struct Topo {
    name: String,
    description: String,
}
#[derive(Debug, Deserialize)]
struct Svc {
    code: String,
    name: String,
    description: String,
}
#[derive(Debug, Deserialize)]
struct Item {
    organization: String,
    topology: String,
    environment: Environment,
    service: String,
    name: String,
}
#[derive(Debug, Deserialize)]
pub struct DemoUser {
    pub username: String,
    display_name: String,
    email: String,
    pub roles: Vec<Role>,
    team: Option<Team>,
    organization: Option<String>,
}
#[derive(Debug, Deserialize)]
struct Cal {
    code: String,
    name: String,
    timezone: String,
    working_days: Vec<String>,
    business_hours: Vec<DayRange>,
    holidays_file: String,
}
#[derive(Debug, Deserialize)]
struct Com {
    code: String,
    name: String,
    kind: CommitteeKind,
    approval_policy: PolicyKind,
    members: Vec<String>,
}
#[derive(Debug, Deserialize)]
struct Policy {
    timezone: String,
    calendar: String,
    meeting_weekday: String,
    meeting_start: String,
    meeting_duration_minutes: i32,
    cutoff_time: String,
    window_weekday: String,
    window_start: String,
    window_duration_minutes: i32,
    holiday_notice_days: i32,
    cme_vote_hours: i32,
    note: String,
}
#[derive(Debug, Deserialize)]
struct Prio {
    impact: Level,
    urgency: Level,
    priority: Priority,
}
#[derive(Debug, Deserialize)]
struct Tpl {
    code: String,
    name: String,
    description: String,
    implementation_plan: String,
    estimated_duration_minutes: i32,
    rollback_plan: String,
    estimated_rollback_minutes: i32,
}

pub fn demo() -> Demo {
    serde_json::from_str(DEMO).expect("fixtures/demo.json is valid")
}

pub fn holidays_br() -> Vec<Holiday> {
    serde_json::from_str(HOLIDAYS_BR).expect("fixtures/holidays-br.json is valid")
}

/// Creates the database if missing, migrates it and, when asked (`Some(demo)`), seeds it:
/// one process at a time, so instances started together on a new database wait for each
/// other instead of racing (see [`SetupLock`]). What failed is said in the error.
pub async fn prepare(
    url: &str,
    pool_size: usize,
    seed_demo: Option<bool>,
) -> Result<Pool, DbSetupError> {
    let lock = SetupLock::acquire(url).await?;
    let out = async {
        ensure_database(url).await?;
        let n = run_migrations(url).await?;
        if n > 0 {
            tracing::info!(migrations = n, "applied migrations");
        }
        let pool = build_pool(url, pool_size)?;
        if let Some(demo) = seed_demo {
            let mut conn = pool
                .get()
                .await
                .map_err(|e| DbSetupError(format!("cannot connect to seed: {e}")))?;
            seed(&mut conn, demo, Utc::now())
                .await
                .map_err(|e| DbSetupError(format!("seeding failed: {e}")))?;
        }
        Ok(pool)
    }
    .await;
    lock.release().await;
    out
}

/// Reference data every installation needs: calendar, holidays, committees, policy, priorities.
/// With `with_demo`, also the demo organisations, items, users and template.
pub async fn seed(
    conn: &mut AsyncPgConnection,
    with_demo: bool,
    now: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    let d = demo();
    let hash = if with_demo {
        Some(hash_password(&d.password).expect("hash demo password"))
    } else {
        None
    };
    conn.transaction(async |conn| {
        for p in &d.priority_matrix {
            diesel::insert_into(priority_matrix::table)
                .values((
                    priority_matrix::impact.eq(p.impact.db()),
                    priority_matrix::urgency.eq(p.urgency.db()),
                    priority_matrix::priority.eq(p.priority.db()),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        for c in &d.calendars {
            diesel::insert_into(calendars::table)
                .values((
                    calendars::code.eq(&c.code),
                    calendars::name.eq(&c.name),
                    calendars::timezone.eq(&c.timezone),
                    calendars::working_days.eq(&c.working_days),
                    calendars::business_hours
                        .eq(serde_json::to_value(&c.business_hours).expect("ranges")),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            let cal_id: i64 = calendars::table
                .filter(calendars::code.eq(&c.code))
                .select(calendars::id)
                .first(conn)
                .await?;
            let hols = match c.holidays_file.as_str() {
                "holidays-br.json" => holidays_br(),
                other => panic!("unknown holidays file {other}"),
            };
            for h in hols {
                diesel::insert_into(holidays::table)
                    .values((
                        holidays::calendar_id.eq(cal_id),
                        holidays::date.eq(h.date),
                        holidays::name.eq(&h.name),
                        holidays::open_hours.eq(serde_json::to_value(&h.open).expect("ranges")),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
            }
        }
        for c in &d.committees {
            diesel::insert_into(committees::table)
                .values((
                    committees::code.eq(&c.code),
                    committees::name.eq(&c.name),
                    committees::kind.eq(c.kind.db()),
                    committees::approval_policy.eq(c.approval_policy.db()),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        let has_policy: i64 = calendar_policies::table.count().get_result(conn).await?;
        if has_policy == 0 {
            let p = &d.calendar_policy;
            let cal_id: i64 = calendars::table
                .filter(calendars::code.eq(&p.calendar))
                .select(calendars::id)
                .first(conn)
                .await?;
            diesel::insert_into(calendar_policies::table)
                .values((
                    calendar_policies::version.eq(1),
                    calendar_policies::timezone.eq(&p.timezone),
                    calendar_policies::calendar_id.eq(cal_id),
                    calendar_policies::meeting_weekday.eq(&p.meeting_weekday),
                    calendar_policies::meeting_start.eq(&p.meeting_start),
                    calendar_policies::meeting_duration_minutes.eq(p.meeting_duration_minutes),
                    calendar_policies::cutoff_time.eq(&p.cutoff_time),
                    calendar_policies::window_weekday.eq(&p.window_weekday),
                    calendar_policies::window_start.eq(&p.window_start),
                    calendar_policies::window_duration_minutes.eq(p.window_duration_minutes),
                    calendar_policies::note.eq(&p.note),
                    calendar_policies::holiday_notice_days.eq(p.holiday_notice_days),
                    calendar_policies::cme_vote_hours.eq(p.cme_vote_hours),
                    calendar_policies::created_at.eq(now),
                ))
                .execute(conn)
                .await?;
        }
        let Some(hash) = &hash else {
            return seed_support(conn, false, now).await;
        };
        for o in &d.organizations {
            diesel::insert_into(organizations::table)
                .values((
                    organizations::code.eq(&o.code),
                    organizations::name.eq(&o.name),
                    organizations::timezone.eq(&o.timezone),
                    organizations::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            let org_id: i64 = organizations::table
                .filter(organizations::code.eq(&o.code))
                .select(organizations::id)
                .first(conn)
                .await?;
            for t in &o.topologies {
                diesel::insert_into(topologies::table)
                    .values((
                        topologies::organization_id.eq(org_id),
                        topologies::name.eq(&t.name),
                        topologies::description.eq(&t.description),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
            }
        }
        for s in &d.services {
            diesel::insert_into(services::table)
                .values((
                    services::code.eq(&s.code),
                    services::name.eq(&s.name),
                    services::description.eq(&s.description),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        for i in &d.configuration_items {
            let org_id: i64 = organizations::table
                .filter(organizations::code.eq(&i.organization))
                .select(organizations::id)
                .first(conn)
                .await?;
            let topo_id: i64 = topologies::table
                .filter(topologies::organization_id.eq(org_id))
                .filter(topologies::name.eq(&i.topology))
                .select(topologies::id)
                .first(conn)
                .await?;
            let svc_id: i64 = services::table
                .filter(services::code.eq(&i.service))
                .select(services::id)
                .first(conn)
                .await?;
            diesel::insert_into(configuration_items::table)
                .values((
                    configuration_items::organization_id.eq(org_id),
                    configuration_items::topology_id.eq(topo_id),
                    configuration_items::environment.eq(i.environment.db()),
                    configuration_items::service_id.eq(svc_id),
                    configuration_items::name.eq(&i.name),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        for u in &d.users {
            let org_id: Option<i64> = match &u.organization {
                Some(code) => Some(
                    organizations::table
                        .filter(organizations::code.eq(code))
                        .select(organizations::id)
                        .first(conn)
                        .await?,
                ),
                None => None,
            };
            diesel::insert_into(users::table)
                .values((
                    users::username.eq(&u.username),
                    users::display_name.eq(&u.display_name),
                    users::email.eq(&u.email),
                    users::password_hash.eq(hash),
                    users::roles.eq(u.roles.clone().db()),
                    users::team.eq(u.team.db()),
                    users::organization_id.eq(org_id),
                    users::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        for c in &d.committees {
            let cid: i64 = committees::table
                .filter(committees::code.eq(&c.code))
                .select(committees::id)
                .first(conn)
                .await?;
            for m in &c.members {
                let uid: i64 = users::table
                    .filter(users::username.eq(m))
                    .select(users::id)
                    .first(conn)
                    .await?;
                diesel::insert_into(committee_members::table)
                    .values((
                        committee_members::committee_id.eq(cid),
                        committee_members::user_id.eq(uid),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
            }
        }
        for t in &d.standard_templates {
            diesel::insert_into(standard_templates::table)
                .values((
                    standard_templates::code.eq(&t.code),
                    standard_templates::name.eq(&t.name),
                    standard_templates::description.eq(&t.description),
                    standard_templates::implementation_plan.eq(&t.implementation_plan),
                    standard_templates::estimated_duration_minutes.eq(t.estimated_duration_minutes),
                    standard_templates::rollback_plan.eq(&t.rollback_plan),
                    standard_templates::estimated_rollback_minutes.eq(t.estimated_rollback_minutes),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        seed_support(conn, true, now).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_parse_and_cover_every_role() {
        let d = demo();
        for role in domain::roles::Role::ALL {
            assert!(
                d.users.iter().any(|u| u.roles.contains(&role)),
                "no demo user for {role}"
            );
        }
        let h = holidays_br();
        assert!(h.len() >= 26);
        // Carnival and Corpus Christi are there (SPEC §6).
        for date in [
            "2026-02-16",
            "2026-02-17",
            "2026-06-04",
            "2027-02-08",
            "2027-02-09",
            "2027-05-27",
        ] {
            assert!(h.iter().any(|x| x.date.to_string() == date), "{date}");
        }
        // And they make a valid calendar.
        domain::calendar::BusinessCalendar::default_brazil()
            .with_holidays(h)
            .unwrap();
    }
}
