//! Filing an RDM: the form, its references checked (naming every bad field), priority from
//! the matrix, a standard change's template, and the first line of its history.
use super::store::{self, RdmView, CREATORS};
use crate::changes::notifications;
use crate::db::enums::{Stored, StoredList};
use crate::db::models::Rdm;
use crate::db::schema::sql_types as sql;
use crate::db::schema::{
    configuration_items, priority_matrix, rdm_involved_members, rdm_items, users,
};
use crate::events::{Entity, Event};
use crate::identity::principal::AuthUser;
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::idempotency::{create_once, Created, Idempotency};
use crate::platform::sql::{bind, prepared};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::rdm::{Level, Priority, RdmState, RdmType};
use domain::roles::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRdm {
    #[serde(default = "normal")]
    pub rdm_type: RdmType,
    #[validate(length(min = 3, max = 200))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: String,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub justification: String,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub category: Option<String>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    pub risk: Option<Level>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub implementation_plan: Option<String>,
    #[validate(range(min = 1, max = 10080))]
    #[schema(minimum = 1, maximum = 10080)]
    pub estimated_duration_minutes: Option<i32>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub rollback_plan: Option<String>,
    #[validate(range(min = 0, max = 10080))]
    #[schema(minimum = 0, maximum = 10080)]
    pub estimated_rollback_minutes: Option<i32>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub homologation_evidence: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub communication_plan: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub requester_group: Option<String>,
    /// Required for `standard` changes: the pre-approved template (fills plans and times left out).
    #[validate(range(min = 1))]
    #[schema(minimum = 1)]
    pub standard_template_id: Option<i64>,
    #[serde(default)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub configuration_item_ids: Vec<i64>,
    /// Committee members the RDM involves: required voters besides the fixed members.
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub involved_member_ids: Vec<i64>,
}

fn normal() -> RdmType {
    RdmType::Normal
}

/// Checks that referenced items and members exist; names each bad field.
pub async fn check_references(
    conn: &mut AsyncPgConnection,
    items: Option<&[i64]>,
    members: Option<&[i64]>,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(items) = items {
        let mut wanted: Vec<i64> = items.to_vec();
        wanted.sort();
        wanted.dedup();
        let found: Vec<i64> = configuration_items::table
            .filter(configuration_items::id.eq_any(&wanted))
            .select(configuration_items::id)
            .load(conn)
            .await?;
        let missing: Vec<String> = wanted
            .iter()
            .filter(|i| !found.contains(i))
            .map(|i| i.to_string())
            .collect();
        if !missing.is_empty() {
            errors.push(FieldError::new(
                "configuration_item_ids",
                "unknown",
                format!("no configuration item {}", missing.join(", ")),
            ));
        }
    }
    if let Some(members) = members {
        let mut wanted: Vec<i64> = members.to_vec();
        wanted.sort();
        wanted.dedup();
        let found: Vec<i64> = users::table
            .filter(users::id.eq_any(&wanted))
            .filter(users::roles.contains(vec![Role::CommitteeMember].db()))
            .select(users::id)
            .load(conn)
            .await?;
        let missing: Vec<String> = wanted
            .iter()
            .filter(|i| !found.contains(i))
            .map(|i| i.to_string())
            .collect();
        if !missing.is_empty() {
            errors.push(FieldError::new(
                "involved_member_ids",
                "unknown",
                format!("not committee members: {}", missing.join(", ")),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Priority from impact × urgency, looked up in the priority matrix (data, not code).
pub async fn priority_of(
    conn: &mut AsyncPgConnection,
    impact: Option<Level>,
    urgency: Option<Level>,
) -> ApiResult<Option<Priority>> {
    let (Some(i), Some(u)) = (impact, urgency) else {
        return Ok(None);
    };
    Ok(priority_matrix::table
        .filter(priority_matrix::impact.eq(i.db()))
        .filter(priority_matrix::urgency.eq(u.db()))
        .select(priority_matrix::priority)
        .first(conn)
        .await
        .optional()?)
}

/// Files an RDM (draft) for `user`. Repeating the request with the same idempotency key
/// returns the first result instead of a second RDM.
pub async fn create(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    body: &NewRdm,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<Created<RdmView>> {
    user.require(CREATORS)?;
    let idem = Idempotency::new(idempotency_key, "POST /api/v1/rdms", body)?;
    if idem.is_none() {
        // One write statement: atomic without a transaction of its own.
        return insert(conn, n, user, body, now).await.map(Created::New);
    }
    create_once(conn, idem.as_ref(), user.id, now, async |conn| {
        insert(conn, n, user, body, now).await
    })
    .await
}

/// One statement files the RDM: it checks what the form refers to (unknown configuration
/// items and members, the standard template), takes the priority from the matrix and the
/// template's plan, and, only if every check passed, writes the RDM, its items and members
/// and the first line of its history. It returns what the checks found, and the RDM written.
const CREATE: &str = "WITH chk AS ( \
    SELECT \
      ARRAY(SELECT DISTINCT x FROM unnest(?::bigint[]) x \
            WHERE NOT EXISTS (SELECT 1 FROM configuration_items c WHERE c.id = x) ORDER BY x) AS unknown_items, \
      ARRAY(SELECT DISTINCT x FROM unnest(?::bigint[]) x \
            WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = x AND ? = ANY(u.roles)) ORDER BY x) AS unknown_members, \
      (SELECT priority FROM priority_matrix WHERE impact = ? AND urgency = ?) AS priority, \
      t.id AS template_id, t.description AS t_description, t.implementation_plan AS t_plan, \
      t.estimated_duration_minutes AS t_duration, t.rollback_plan AS t_rollback_plan, \
      t.estimated_rollback_minutes AS t_rollback \
    FROM (SELECT 1) one LEFT JOIN standard_templates t ON t.id = ? AND t.active), \
  r AS ( \
    INSERT INTO rdms (rdm_type, state, title, description, justification, category, impact, urgency, \
      priority, risk, implementation_plan, estimated_duration_minutes, rollback_plan, \
      estimated_rollback_minutes, homologation_evidence, communication_plan, standard_template_id, \
      requester_id, requester_group, created_at, updated_at) \
    SELECT ?, ?, ?, CASE WHEN chk.template_id IS NOT NULL AND btrim(?) = '' THEN chk.t_description ELSE ? END, \
      ?, ?, ?, ?, chk.priority, ?, COALESCE(chk.t_plan, ?), COALESCE(chk.t_duration, ?), \
      COALESCE(chk.t_rollback_plan, ?), COALESCE(chk.t_rollback, ?), ?, ?, chk.template_id, ?, ?, ?, ? \
    FROM chk \
    WHERE cardinality(chk.unknown_items) = 0 AND cardinality(chk.unknown_members) = 0 \
      AND (? IS NULL OR chk.template_id IS NOT NULL) AND ? \
    RETURNING *), \
  i AS (INSERT INTO rdm_items (rdm_id, item_id) SELECT r.id, x FROM r, unnest(?::bigint[]) x \
        ON CONFLICT DO NOTHING), \
  m AS (INSERT INTO rdm_involved_members (rdm_id, user_id) SELECT r.id, x FROM r, unnest(?::bigint[]) x \
        ON CONFLICT DO NOTHING), \
  e AS (INSERT INTO events (entity, entity_id, action, to_state, actor_id, at) \
        SELECT ?, r.id, ?, r.state::text, r.requester_id, r.created_at FROM r RETURNING id AS event_id) \
  SELECT chk.unknown_items, chk.unknown_members, chk.template_id IS NOT NULL AS template_found, \
    to_jsonb(r) - 'search' AS rdm, e.event_id \
  FROM chk LEFT JOIN r ON true LEFT JOIN e ON true";

#[derive(Debug, QueryableByName)]
struct Filed {
    #[diesel(sql_type = Array<BigInt>)]
    unknown_items: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    unknown_members: Vec<i64>,
    #[diesel(sql_type = Bool)]
    template_found: bool,
    /// The RDM written; null when a check failed and nothing was.
    #[diesel(sql_type = Nullable<Jsonb>)]
    rdm: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<BigInt>)]
    event_id: Option<i64>,
}

/// Sorted, without repeats: how an RDM's items and members are kept and shown.
fn ids(v: &[i64]) -> Vec<i64> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// The rules between the form's fields (no database needed): a standard change names its
/// template and takes its plan, times and rollback from it; only standard changes do.
fn check_template_fields(body: &NewRdm) -> ApiResult<()> {
    match (body.rdm_type, body.standard_template_id) {
        (RdmType::Standard, None) => Err(ApiError::validation(
            "standard_template_id",
            "required",
            "a standard change names its pre-approved template",
        )),
        // Pre-approved means the template's plan, times and rollback: nothing else.
        (RdmType::Standard, Some(_)) => template_owned(
            body.implementation_plan.is_some(),
            body.estimated_duration_minutes.is_some(),
            body.rollback_plan.is_some(),
            body.estimated_rollback_minutes.is_some(),
        ),
        (_, Some(_)) => Err(ApiError::validation(
            "standard_template_id",
            "invalid",
            "only standard changes use a template",
        )),
        _ => Ok(()),
    }
}

/// Files the RDM in one statement.
async fn insert(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    body: &NewRdm,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<RdmView> {
    // Checked first but reported with the rest: the statement writes nothing unless all pass.
    let form = check_template_fields(body);
    let items = ids(&body.configuration_item_ids);
    let members = ids(&body.involved_member_ids);
    let template = body.standard_template_id;
    let filed: Filed = prepared(
        CREATE,
        (
            (
                bind::<Array<BigInt>, _>(&items),
                bind::<Array<BigInt>, _>(&members),
                bind::<sql::UserRole, _>(Role::CommitteeMember),
                bind::<Nullable<sql::Level>, _>(body.impact),
                bind::<Nullable<sql::Level>, _>(body.urgency),
                bind::<Nullable<BigInt>, _>(template),
            ),
            (
                bind::<sql::RdmType, _>(body.rdm_type),
                bind::<sql::RdmState, _>(RdmState::Draft),
                bind::<Text, _>(body.title.trim()),
                bind::<Text, _>(&body.description),
                bind::<Text, _>(&body.description),
                bind::<Text, _>(&body.justification),
                bind::<Nullable<Text>, _>(&body.category),
                bind::<Nullable<sql::Level>, _>(body.impact),
                bind::<Nullable<sql::Level>, _>(body.urgency),
                bind::<Nullable<sql::Level>, _>(body.risk),
                bind::<Nullable<Text>, _>(&body.implementation_plan),
                bind::<Nullable<Integer>, _>(body.estimated_duration_minutes),
            ),
            (
                bind::<Nullable<Text>, _>(&body.rollback_plan),
                bind::<Nullable<Integer>, _>(body.estimated_rollback_minutes),
                bind::<Nullable<Text>, _>(&body.homologation_evidence),
                bind::<Nullable<Text>, _>(&body.communication_plan),
                bind::<BigInt, _>(user.id),
                bind::<Nullable<Text>, _>(&body.requester_group),
                bind::<Timestamptz, _>(now),
                bind::<Timestamptz, _>(now),
                bind::<Nullable<BigInt>, _>(template),
                bind::<Bool, _>(form.is_ok()),
            ),
            (
                bind::<Array<BigInt>, _>(&items),
                bind::<Array<BigInt>, _>(&members),
                bind::<sql::EntityKind, _>(Entity::Rdm),
                bind::<Text, _>("create"),
            ),
        ),
    )
    .get_result(conn)
    .await?;
    let mut errors = match form {
        Err(ApiError::Validation(e)) => e,
        Err(other) => return Err(other),
        Ok(()) => Vec::new(),
    };
    if !filed.unknown_items.is_empty() {
        errors.push(FieldError::new(
            "configuration_item_ids",
            "unknown",
            format!("no configuration item {}", joined(&filed.unknown_items)),
        ));
    }
    if !filed.unknown_members.is_empty() {
        errors.push(FieldError::new(
            "involved_member_ids",
            "unknown",
            format!("not committee members: {}", joined(&filed.unknown_members)),
        ));
    }
    if let (Some(tid), false, RdmType::Standard) = (template, filed.template_found, body.rdm_type) {
        errors.push(FieldError::new(
            "standard_template_id",
            "unknown",
            format!("no active standard template {tid}"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (Some(rdm), Some(event_id)) = (filed.rdm, filed.event_id) else {
        return Err(ApiError::internal(
            "the RDM passed its checks but was not written",
        ));
    };
    let rdm: Rdm = serde_json::from_value(rdm)
        .map_err(|e| ApiError::context("reading the RDM just written", e))?;
    // What the creation notifies follows from its event (today: nothing).
    let event = Event {
        id: event_id,
        entity: Entity::Rdm,
        entity_id: rdm.id,
        action: "create".into(),
        from_state: None,
        to_state: Some(rdm.state.as_str().into()),
        actor_id: Some(user.id),
        reason: None,
        detail: serde_json::json!({}),
        at: now,
    };
    notifications::on_event(conn, n, &event, now).await?;
    let links = store::Links {
        item_ids: items,
        involved_ids: members,
        window: None,
    };
    Ok(store::view_of(store::Full { rdm, links }, user, now))
}

fn joined(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn replace_links(
    conn: &mut AsyncPgConnection,
    id: i64,
    items: Option<&[i64]>,
    members: Option<&[i64]>,
) -> ApiResult<()> {
    if let Some(items) = items {
        diesel::delete(rdm_items::table.filter(rdm_items::rdm_id.eq(id)))
            .execute(conn)
            .await?;
        let rows: Vec<_> = items
            .iter()
            .map(|i| (rdm_items::rdm_id.eq(id), rdm_items::item_id.eq(*i)))
            .collect();
        diesel::insert_into(rdm_items::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    if let Some(members) = members {
        diesel::delete(rdm_involved_members::table.filter(rdm_involved_members::rdm_id.eq(id)))
            .execute(conn)
            .await?;
        let rows: Vec<_> = members
            .iter()
            .map(|u| {
                (
                    rdm_involved_members::rdm_id.eq(id),
                    rdm_involved_members::user_id.eq(*u),
                )
            })
            .collect();
        diesel::insert_into(rdm_involved_members::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// A standard change runs its template's plan: these fields come from it and cannot be sent.
pub fn template_owned(
    plan: bool,
    duration: bool,
    rollback_plan: bool,
    rollback: bool,
) -> ApiResult<()> {
    let errors: Vec<FieldError> = [
        ("implementation_plan", plan),
        ("estimated_duration_minutes", duration),
        ("rollback_plan", rollback_plan),
        ("estimated_rollback_minutes", rollback),
    ]
    .into_iter()
    .filter(|(_, sent)| *sent)
    .map(|(field, _)| {
        FieldError::new(
            field,
            "template_owned",
            "a standard change runs its template's plan; this comes from the template",
        )
    })
    .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}
