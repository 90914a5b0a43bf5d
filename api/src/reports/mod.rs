//! The weekly operations review (SPEC §7): incident, SLA, escalation, problem, knowledge-base
//! and change figures for a period, per service (support item) and organisation, each with its
//! formula and the records behind it (`drill`).
//!
//! Incident figures read the rollups `ops_daily` and `ops_daily_escalations` (migration
//! 000012: kept by triggers in the transaction of every ticket change, so a month is a few
//! hundred rows whatever the size of `tickets`); problems, knowledge base and changes are
//! small tables or a partial index of the event log, read directly.
pub mod drill;
pub mod figures;

use crate::platform::error::ApiResult;
use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::review::Period;
pub use figures::{Figure, Review};
use serde::Serialize;
use utoipa::ToSchema;

/// Who may read the review: never customers (SPEC §7).
pub const READERS: &[domain::roles::Role] = &[
    domain::roles::Role::SupportCoordinator,
    domain::roles::Role::ChangeManager,
    domain::roles::Role::Admin,
];

/// The review's filters: one service and/or one organisation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Scope {
    pub item_id: Option<i64>,
    pub organization_id: Option<i64>,
}

/// The rollup's sums for one group (the whole scope, one item or one organisation).
#[derive(Debug, Clone, Default, QueryableByName)]
pub struct Sums {
    #[diesel(sql_type = Nullable<BigInt>)]
    pub item_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub organization_id: Option<i64>,
    #[diesel(sql_type = Integer)]
    pub g_item: i32,
    #[diesel(sql_type = Integer)]
    pub g_org: i32,
    #[diesel(sql_type = BigInt)]
    pub opened: i64,
    #[diesel(sql_type = BigInt)]
    pub backlog: i64,
    #[diesel(sql_type = BigInt)]
    pub resolved: i64,
    #[diesel(sql_type = BigInt)]
    pub resolved_reopened: i64,
    #[diesel(sql_type = BigInt)]
    pub closed: i64,
    #[diesel(sql_type = BigInt)]
    pub cancelled: i64,
    #[diesel(sql_type = BigInt)]
    pub responded: i64,
    #[diesel(sql_type = BigInt)]
    pub response_business_s: i64,
    #[diesel(sql_type = BigInt)]
    pub response_wall_s: i64,
    #[diesel(sql_type = BigInt)]
    pub resolution_business_s: i64,
    #[diesel(sql_type = BigInt)]
    pub resolution_wall_s: i64,
    #[diesel(sql_type = BigInt)]
    pub response_met: i64,
    #[diesel(sql_type = BigInt)]
    pub response_breached: i64,
    #[diesel(sql_type = BigInt)]
    pub resolution_met: i64,
    #[diesel(sql_type = BigInt)]
    pub resolution_breached: i64,
}

/// Sums over days `from..=to` of the scope, whole and per item and per organisation; the
/// backlog sums every day up to `to` (it is a balance).
const SUMS: &str = "\
SELECT item_id, organization_id, GROUPING(item_id) AS g_item, GROUPING(organization_id) AS g_org,
  coalesce(sum(opened) FILTER (WHERE day >= $1), 0)::bigint AS opened,
  coalesce(sum(backlog_delta), 0)::bigint AS backlog,
  coalesce(sum(resolved) FILTER (WHERE day >= $1), 0)::bigint AS resolved,
  coalesce(sum(resolved_reopened) FILTER (WHERE day >= $1), 0)::bigint AS resolved_reopened,
  coalesce(sum(closed) FILTER (WHERE day >= $1), 0)::bigint AS closed,
  coalesce(sum(cancelled) FILTER (WHERE day >= $1), 0)::bigint AS cancelled,
  coalesce(sum(responded) FILTER (WHERE day >= $1), 0)::bigint AS responded,
  coalesce(sum(response_business_s) FILTER (WHERE day >= $1), 0)::bigint AS response_business_s,
  coalesce(sum(response_wall_s) FILTER (WHERE day >= $1), 0)::bigint AS response_wall_s,
  coalesce(sum(resolution_business_s) FILTER (WHERE day >= $1), 0)::bigint AS resolution_business_s,
  coalesce(sum(resolution_wall_s) FILTER (WHERE day >= $1), 0)::bigint AS resolution_wall_s,
  coalesce(sum(response_met) FILTER (WHERE day >= $1), 0)::bigint AS response_met,
  coalesce(sum(response_breached) FILTER (WHERE day >= $1), 0)::bigint AS response_breached,
  coalesce(sum(resolution_met) FILTER (WHERE day >= $1), 0)::bigint AS resolution_met,
  coalesce(sum(resolution_breached) FILTER (WHERE day >= $1), 0)::bigint AS resolution_breached
FROM ops_daily
WHERE day <= $2 AND ($3::bigint IS NULL OR item_id = $3) AND ($4::bigint IS NULL OR organization_id = $4)
GROUP BY GROUPING SETS ((), (item_id), (organization_id))";

#[derive(Debug, Clone, QueryableByName)]
pub struct Week {
    #[diesel(sql_type = Integer)]
    pub ago: i32,
    #[diesel(sql_type = BigInt)]
    pub opened: i64,
    #[diesel(sql_type = BigInt)]
    pub resolved: i64,
    #[diesel(sql_type = BigInt)]
    pub resolution_business_s: i64,
    #[diesel(sql_type = BigInt)]
    pub resolution_wall_s: i64,
}

/// The 8 weeks ending on `$2`: week 0 ends on it.
const WEEKS: &str = "\
SELECT (($2::date - day) / 7)::int AS ago,
  coalesce(sum(opened), 0)::bigint AS opened, coalesce(sum(resolved), 0)::bigint AS resolved,
  coalesce(sum(resolution_business_s), 0)::bigint AS resolution_business_s,
  coalesce(sum(resolution_wall_s), 0)::bigint AS resolution_wall_s
FROM ops_daily
WHERE day > $2::date - 56 AND day <= $2 AND $1::date IS NOT NULL
  AND ($3::bigint IS NULL OR item_id = $3) AND ($4::bigint IS NULL OR organization_id = $4)
GROUP BY 1";

#[derive(Debug, Clone, QueryableByName)]
pub struct LevelCount {
    #[diesel(sql_type = Integer)]
    pub level: i32,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

const ESCALATIONS: &str = "\
SELECT level, sum(escalations)::bigint AS n FROM ops_daily_escalations
WHERE day >= $1 AND day <= $2 AND ($3::bigint IS NULL OR item_id = $3)
  AND ($4::bigint IS NULL OR organization_id = $4)
GROUP BY level ORDER BY level";

/// A problem and the incidents linked to it in the period.
#[derive(Debug, Clone, Serialize, ToSchema, QueryableByName)]
pub struct TopProblem {
    #[diesel(sql_type = BigInt)]
    pub problem_id: i64,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub state: String,
    /// Incidents (in the scope) linked to it during the period.
    #[diesel(sql_type = BigInt)]
    pub incidents: i64,
}

const TOP_PROBLEMS: &str = "\
SELECT p.id AS problem_id, p.title, p.state::text AS state, count(*)::bigint AS incidents
FROM problem_incidents pi
JOIN problems p ON p.id = pi.problem_id
JOIN tickets t ON t.id = pi.ticket_id
WHERE pi.linked_at >= $1 AND pi.linked_at < $2 AND t.kind = 'incident'
  AND ($3::bigint IS NULL OR t.item_id = $3) AND ($4::bigint IS NULL OR t.organization_id = $4)
GROUP BY p.id ORDER BY incidents DESC, p.id LIMIT 10";

#[derive(Debug, Clone, Default, QueryableByName)]
pub struct Counts2 {
    #[diesel(sql_type = BigInt)]
    pub a: i64,
    #[diesel(sql_type = BigInt)]
    pub b: i64,
}

const LINKED_INCIDENTS: &str = "\
SELECT count(*)::bigint AS a, count(DISTINCT pi.problem_id)::bigint AS b
FROM problem_incidents pi JOIN tickets t ON t.id = pi.ticket_id
WHERE pi.linked_at >= $1 AND pi.linked_at < $2 AND t.kind = 'incident'
  AND ($3::bigint IS NULL OR t.item_id = $3) AND ($4::bigint IS NULL OR t.organization_id = $4)";

const KB: &str = "\
SELECT count(DISTINCT u.ticket_id)::bigint AS a,
  count(DISTINCT u.ticket_id) FILTER (WHERE u.solved)::bigint AS b
FROM kb_article_uses u JOIN tickets t ON t.id = u.ticket_id
WHERE u.used_at >= $1 AND u.used_at < $2
  AND ($3::bigint IS NULL OR t.item_id = $3) AND ($4::bigint IS NULL OR t.organization_id = $4)";

#[derive(Debug, Clone, Default, QueryableByName)]
pub struct Changes {
    #[diesel(sql_type = BigInt)]
    pub executed: i64,
    #[diesel(sql_type = BigInt)]
    pub implemented: i64,
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    #[diesel(sql_type = BigInt)]
    pub rolled_back: i64,
    #[diesel(sql_type = BigInt)]
    pub emergency: i64,
    #[diesel(sql_type = BigInt)]
    pub causing: i64,
    #[diesel(sql_type = BigInt)]
    pub caused_incidents: i64,
}

/// RDM executions that ended in the period (`implemented` or `failed`), roll-backs, and the
/// incidents linked as caused by those changes.
pub const OUTCOMES: &str = "\
SELECT DISTINCT e.entity_id AS rdm_id, e.to_state FROM events e
WHERE e.entity = 'rdm' AND e.to_state IN ('implemented', 'failed', 'rolled_back')
  AND e.at >= $1 AND e.at < $2";

fn changes_sql() -> String {
    format!(
        "WITH o AS ({OUTCOMES}), x AS (SELECT DISTINCT rdm_id FROM o WHERE to_state IN ('implemented', 'failed'))
SELECT (SELECT count(*) FROM x)::bigint AS executed,
  (SELECT count(*) FROM o WHERE to_state = 'implemented')::bigint AS implemented,
  (SELECT count(*) FROM o WHERE to_state = 'failed')::bigint AS failed,
  (SELECT count(*) FROM o WHERE to_state = 'rolled_back')::bigint AS rolled_back,
  (SELECT count(*) FROM x JOIN rdms r ON r.id = x.rdm_id WHERE r.rdm_type = 'emergency')::bigint AS emergency,
  (SELECT count(*) FROM x WHERE EXISTS (SELECT 1 FROM ticket_rdm_links l
     WHERE l.rdm_id = x.rdm_id AND l.relation = 'caused_by'))::bigint AS causing,
  (SELECT count(*) FROM x JOIN ticket_rdm_links l ON l.rdm_id = x.rdm_id AND l.relation = 'caused_by')::bigint
    AS caused_incidents"
    )
}

/// Names of the items and organisations a breakdown shows.
#[derive(Debug, Clone, QueryableByName)]
pub struct Named {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub name: String,
}

/// Everything the figures are computed from.
#[derive(Debug, Clone, Default)]
pub struct Raw {
    pub groups: Vec<Sums>,
    pub weeks: Vec<Week>,
    pub escalations: Vec<LevelCount>,
    pub top_problems: Vec<TopProblem>,
    pub linked: Counts2,
    pub kb: Counts2,
    pub changes: Changes,
    pub items: Vec<Named>,
    pub organizations: Vec<Named>,
}

macro_rules! q {
    ($sql:expr, $p:expr, $s:expr, dates) => {
        diesel::sql_query($sql)
            .bind::<Date, _>($p.from)
            .bind::<Date, _>($p.to)
            .bind::<Nullable<BigInt>, _>($s.item_id)
            .bind::<Nullable<BigInt>, _>($s.organization_id)
    };
    ($sql:expr, $p:expr, $s:expr, instants) => {{
        let (a, b) = $p.instants();
        diesel::sql_query($sql)
            .bind::<Timestamptz, _>(a)
            .bind::<Timestamptz, _>(b)
            .bind::<Nullable<BigInt>, _>($s.item_id)
            .bind::<Nullable<BigInt>, _>($s.organization_id)
    }};
}

/// Reads what the review of `p` in `scope` is computed from (one connection: a replica's
/// when configured).
pub async fn read(conn: &mut AsyncPgConnection, p: &Period, scope: &Scope) -> ApiResult<Raw> {
    let groups: Vec<Sums> = q!(SUMS, p, scope, dates).load(conn).await?;
    let weeks: Vec<Week> = q!(WEEKS, p, scope, dates).load(conn).await?;
    let escalations: Vec<LevelCount> = q!(ESCALATIONS, p, scope, dates).load(conn).await?;
    let top_problems: Vec<TopProblem> = q!(TOP_PROBLEMS, p, scope, instants).load(conn).await?;
    let linked: Counts2 = q!(LINKED_INCIDENTS, p, scope, instants)
        .get_result(conn)
        .await?;
    let kb: Counts2 = q!(KB, p, scope, instants).get_result(conn).await?;
    let (a, b) = p.instants();
    let changes: Changes = diesel::sql_query(changes_sql())
        .bind::<Timestamptz, _>(a)
        .bind::<Timestamptz, _>(b)
        .get_result(conn)
        .await?;
    let item_ids: Vec<i64> = groups.iter().filter_map(|g| g.item_id).collect();
    let org_ids: Vec<i64> = groups.iter().filter_map(|g| g.organization_id).collect();
    let items: Vec<Named> = diesel::sql_query(
        "SELECT id, code, name FROM support_items WHERE id = ANY($1) ORDER BY id",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(item_ids)
    .load(conn)
    .await?;
    let organizations: Vec<Named> = diesel::sql_query(
        "SELECT id, code, name FROM organizations WHERE id = ANY($1) ORDER BY id",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(org_ids)
    .load(conn)
    .await?;
    Ok(Raw {
        groups,
        weeks,
        escalations,
        top_problems,
        linked,
        kb,
        changes,
        items,
        organizations,
    })
}

/// The review of `p` in `scope`.
pub async fn review(conn: &mut AsyncPgConnection, p: &Period, scope: &Scope) -> ApiResult<Review> {
    let raw = read(conn, p, scope).await?;
    Ok(figures::build(p, scope, &raw))
}

/// A query string naming the period and scope (`from=…&to=…[&item_id=…][&organization_id=…]`),
/// in one order: what links and drill-downs carry, and what a report link signs.
pub fn canonical_query(p: &Period, scope: &Scope) -> String {
    let mut q = format!("from={}&to={}", p.from, p.to);
    if let Some(i) = scope.item_id {
        q.push_str(&format!("&item_id={i}"));
    }
    if let Some(o) = scope.organization_id {
        q.push_str(&format!("&organization_id={o}"));
    }
    q
}

/// A date as the API takes it: `YYYY-MM-DD`, years 1900–2999 (nothing else has tickets, and
/// the period arithmetic stays far from chrono's limits).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    use chrono::Datelike;
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=2999).contains(&d.year()))
}
