//! The records behind a figure: the incidents or RDMs it counts, from the tables themselves
//! (not the rollup), newest first, keyset-paginated on id.
use super::{Scope, OUTCOMES};
use crate::platform::error::{ApiError, ApiResult};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::review::Period;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, QueryableByName)]
pub struct DrillItem {
    /// `ticket` or `rdm`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// `INC-000042`, `RDM-000007`.
    #[diesel(sql_type = Text)]
    pub number: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    /// For a ratio (the records listed are its denominator's): whether this one is in the
    /// numerator (an SLA met, a reopened incident, an emergency change…). Null for counts.
    #[diesel(sql_type = Nullable<diesel::sql_types::Bool>)]
    pub in_numerator: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DrillPage {
    pub figure: String,
    pub items: Vec<DrillItem>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<i64>,
}

/// For a ratio over incidents, the numerator's condition on `t`.
fn ticket_numerator(figure: &str) -> Option<&'static str> {
    Some(match figure {
        "response_sla" => "t.response_breached_at IS NULL",
        "resolution_sla" => "t.resolution_breached_at IS NULL",
        "reopen_rate" => "t.reopen_count > 0",
        "kb_solved" => {
            "EXISTS (SELECT 1 FROM kb_article_uses u WHERE u.ticket_id = t.id \
                        AND u.used_at >= $1 AND u.used_at < $2 AND u.solved)"
        }
        _ => return None,
    })
}

/// For a ratio over changes, the numerator's condition on `r`.
fn rdm_numerator(figure: &str) -> Option<String> {
    Some(match figure {
        "emergency_share" => "r.rdm_type = 'emergency'".into(),
        "change_success_rate" => format!(
            "EXISTS (SELECT 1 FROM ({OUTCOMES}) o2 WHERE o2.rdm_id = r.id AND o2.to_state = 'implemented')"
        ),
        "change_failure_rate" => "EXISTS (SELECT 1 FROM ticket_rdm_links l WHERE l.rdm_id = r.id \
                                  AND l.relation = 'caused_by')"
            .into(),
        _ => return None,
    })
}

/// The incidents a ticket figure counts (a ratio: its denominator): a condition on `t` ($1,
/// $2: the period's instants).
fn ticket_condition(figure: &str) -> Option<String> {
    const LEFT: &str = "CASE WHEN t.state IN ('resolved', 'closed') AND t.resolved_at IS NOT NULL THEN t.resolved_at \
                        WHEN t.state IN ('closed', 'cancelled') THEN t.closed_at END";
    let resolved =
        "t.state IN ('resolved', 'closed') AND t.resolved_at >= $1 AND t.resolved_at < $2";
    Some(match figure {
        "opened" => "t.opened_at >= $1 AND t.opened_at < $2".into(),
        "resolved" | "mttr_business_hours" | "mttr_wall_hours" | "reopen_rate" => resolved.into(),
        "closed" => "t.state = 'closed' AND t.closed_at >= $1 AND t.closed_at < $2".into(),
        "cancelled" => "t.state = 'cancelled' AND t.closed_at >= $1 AND t.closed_at < $2".into(),
        "backlog" => format!("t.opened_at < $2 AND ({LEFT} IS NULL OR {LEFT} >= $2)"),
        "response_sla" => "coalesce(t.response_breached_at, t.response_stopped_at) >= $1 \
                           AND coalesce(t.response_breached_at, t.response_stopped_at) < $2".into(),
        "resolution_sla" => "coalesce(t.resolution_breached_at, t.resolution_stopped_at) >= $1 \
                             AND coalesce(t.resolution_breached_at, t.resolution_stopped_at) < $2".into(),
        "mtta_business_hours" | "mtta_wall_hours" => {
            "t.response_stopped_at >= $1 AND t.response_stopped_at < $2".into()
        }
        "escalations" => "EXISTS (SELECT 1 FROM events e WHERE e.entity = 'ticket' AND e.action = 'escalate' \
                          AND e.entity_id = t.id AND e.at >= $1 AND e.at < $2)".into(),
        "problem_linked_incidents" => "EXISTS (SELECT 1 FROM problem_incidents pi WHERE pi.ticket_id = t.id \
                                       AND pi.linked_at >= $1 AND pi.linked_at < $2)".into(),
        "kb_used" | "kb_solved" => "EXISTS (SELECT 1 FROM kb_article_uses u WHERE u.ticket_id = t.id \
                                    AND u.used_at >= $1 AND u.used_at < $2)".into(),
        "incidents_caused_by_changes" => format!(
            "EXISTS (SELECT 1 FROM ticket_rdm_links l JOIN ({OUTCOMES}) o ON o.rdm_id = l.rdm_id \
             WHERE l.ticket_id = t.id AND l.relation = 'caused_by' AND o.to_state IN ('implemented', 'failed'))"
        ),
        f => {
            let level: i32 = f.strip_prefix("escalations_level_")?.parse().ok()?;
            format!("EXISTS (SELECT 1 FROM events e WHERE e.entity = 'ticket' AND e.action = 'escalate' \
                     AND e.entity_id = t.id AND e.at >= $1 AND e.at < $2 AND e.detail->>'level' = '{level}')")
        }
    })
}

/// The RDMs a change figure counts (a ratio: its denominator): a condition on the outcome `o`.
fn rdm_condition(figure: &str) -> Option<&'static str> {
    Some(match figure {
        "changes_executed" | "emergency_share" | "change_success_rate" | "change_failure_rate" => {
            "o.to_state IN ('implemented', 'failed')"
        }
        "changes_failed" => "o.to_state = 'failed'",
        "changes_rolled_back" => "o.to_state = 'rolled_back'",
        _ => return None,
    })
}

/// Every figure key a drill-down knows (the escalation levels besides).
pub const FIGURES: &[&str] = &[
    "opened",
    "resolved",
    "closed",
    "cancelled",
    "backlog",
    "response_sla",
    "resolution_sla",
    "mtta_business_hours",
    "mtta_wall_hours",
    "mttr_business_hours",
    "mttr_wall_hours",
    "reopen_rate",
    "escalations",
    "problem_linked_incidents",
    "kb_used",
    "kb_solved",
    "changes_executed",
    "changes_failed",
    "changes_rolled_back",
    "emergency_share",
    "change_success_rate",
    "change_failure_rate",
    "incidents_caused_by_changes",
];

pub fn known(figure: &str) -> bool {
    ticket_condition(figure).is_some() || rdm_condition(figure).is_some()
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    figure: &str,
    p: &Period,
    scope: &Scope,
    limit: i64,
    cursor: Option<i64>,
) -> ApiResult<DrillPage> {
    let (a, b) = p.instants();
    let sql = if let Some(cond) = ticket_condition(figure) {
        format!(
            "SELECT 'ticket' AS kind, t.id, 'INC-' || lpad(t.id::text, 6, '0') AS number, t.title,
               {} AS in_numerator
             FROM tickets t
             WHERE t.kind = 'incident' AND ({cond})
               AND ($3::bigint IS NULL OR t.item_id = $3) AND ($4::bigint IS NULL OR t.organization_id = $4)
               AND ($5::bigint IS NULL OR t.id < $5)
             ORDER BY t.id DESC LIMIT $6",
            ticket_numerator(figure).unwrap_or("NULL::boolean")
        )
    } else if let Some(cond) = rdm_condition(figure) {
        // Changes are not per service or organisation: $3 and $4 are read and ignored.
        format!(
            "SELECT 'rdm' AS kind, r.id, 'RDM-' || lpad(r.id::text, 6, '0') AS number, r.title,
               {} AS in_numerator
             FROM rdms r
             WHERE EXISTS (SELECT 1 FROM ({OUTCOMES}) o WHERE o.rdm_id = r.id AND {cond})
               AND ($3::bigint IS NULL OR TRUE) AND ($4::bigint IS NULL OR TRUE)
               AND ($5::bigint IS NULL OR r.id < $5)
             ORDER BY r.id DESC LIMIT $6",
            rdm_numerator(figure).unwrap_or_else(|| "NULL::boolean".into())
        )
    } else {
        return Err(ApiError::validation(
            "figure",
            "unknown",
            format!("no figure `{figure}`"),
        ));
    };
    let mut items: Vec<DrillItem> = diesel::sql_query(sql)
        .bind::<Timestamptz, _>(a)
        .bind::<Timestamptz, _>(b)
        .bind::<Nullable<BigInt>, _>(scope.item_id)
        .bind::<Nullable<BigInt>, _>(scope.organization_id)
        .bind::<Nullable<BigInt>, _>(cursor)
        .bind::<BigInt, _>(limit + 1)
        .load(conn)
        .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|i| i.id)
    } else {
        None
    };
    Ok(DrillPage {
        figure: figure.to_string(),
        items,
        next_cursor,
    })
}
