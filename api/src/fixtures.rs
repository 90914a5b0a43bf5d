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
use domain::rdm::{CommitteeKind, Level, Priority};
use domain::roles::{Role, Team};
use serde::Deserialize;

const DEMO: &str = include_str!("../../fixtures/demo.json");
const HOLIDAYS_BR: &str = include_str!("../../fixtures/holidays-br.json");

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
        let Some(hash) = &hash else { return Ok(()) };
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
        Ok(())
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
