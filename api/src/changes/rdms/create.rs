//! Filing an RDM: the form, its references checked (naming every bad field), priority from
//! the matrix, a standard change's template, and the first line of its history.
use super::store::{self, RdmView, CREATORS};
use crate::changes::notifications;
use crate::db::enums::{Stored, StoredList};
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
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz};
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

/// What the form refers to, checked in one statement: unknown configuration items and
/// members, the priority from the matrix, and the standard template (if any, and active).
#[derive(Debug, QueryableByName)]
struct Checked {
    #[diesel(sql_type = Array<BigInt>)]
    unknown_items: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    unknown_members: Vec<i64>,
    #[diesel(sql_type = Nullable<sql::Priority>)]
    priority: Option<Priority>,
    #[diesel(sql_type = Nullable<Text>)]
    t_description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    t_implementation_plan: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    t_duration: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    t_rollback_plan: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    t_rollback: Option<i32>,
}

const CHECK: &str = "SELECT \
    ARRAY(SELECT DISTINCT x FROM unnest(?::bigint[]) x \
          WHERE NOT EXISTS (SELECT 1 FROM configuration_items c WHERE c.id = x) ORDER BY x) AS unknown_items, \
    ARRAY(SELECT DISTINCT x FROM unnest(?::bigint[]) x \
          WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = x AND ? = ANY(u.roles)) ORDER BY x) AS unknown_members, \
    (SELECT priority FROM priority_matrix WHERE impact = ? AND urgency = ?) AS priority, \
    t.description AS t_description, t.implementation_plan AS t_implementation_plan, \
    t.estimated_duration_minutes AS t_duration, t.rollback_plan AS t_rollback_plan, \
    t.estimated_rollback_minutes AS t_rollback \
    FROM (SELECT 1) one LEFT JOIN standard_templates t ON t.id = ? AND t.active";

/// The RDM, its items and members, and the first line of its history, in one statement.
const INSERT: &str = "WITH r AS ( \
    INSERT INTO rdms (rdm_type, state, title, description, justification, category, impact, urgency, \
      priority, risk, implementation_plan, estimated_duration_minutes, rollback_plan, \
      estimated_rollback_minutes, homologation_evidence, communication_plan, standard_template_id, \
      requester_id, requester_group, created_at, updated_at) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *), \
  i AS (INSERT INTO rdm_items (rdm_id, item_id) SELECT r.id, x FROM r, unnest(?::bigint[]) x \
        ON CONFLICT DO NOTHING), \
  m AS (INSERT INTO rdm_involved_members (rdm_id, user_id) SELECT r.id, x FROM r, unnest(?::bigint[]) x \
        ON CONFLICT DO NOTHING), \
  e AS (INSERT INTO events (entity, entity_id, action, to_state, actor_id, at) \
        SELECT ?, r.id, ?, r.state::text, r.requester_id, r.created_at FROM r RETURNING id AS event_id) \
  SELECT r.*, e.event_id FROM r, e";

#[derive(Debug, QueryableByName)]
struct Inserted {
    #[diesel(embed)]
    rdm: crate::db::models::Rdm,
    #[diesel(sql_type = BigInt)]
    event_id: i64,
}

/// Sorted, without repeats: how an RDM's items and members are kept and shown.
fn ids(v: &[i64]) -> Vec<i64> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// Files the RDM: two statements, one to check what it refers to, one to write it all.
async fn insert(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    body: &NewRdm,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<RdmView> {
    let items = ids(&body.configuration_item_ids);
    let members = ids(&body.involved_member_ids);
    let checked: Checked = prepared(
        CHECK,
        (
            bind::<Array<BigInt>, _>(&items),
            bind::<Array<BigInt>, _>(&members),
            bind::<sql::UserRole, _>(Role::CommitteeMember),
            bind::<Nullable<sql::Level>, _>(body.impact),
            bind::<Nullable<sql::Level>, _>(body.urgency),
            bind::<Nullable<BigInt>, _>(body.standard_template_id),
        ),
    )
    .get_result(conn)
    .await?;
    let mut errors = Vec::new();
    if !checked.unknown_items.is_empty() {
        errors.push(FieldError::new(
            "configuration_item_ids",
            "unknown",
            format!("no configuration item {}", joined(&checked.unknown_items)),
        ));
    }
    if !checked.unknown_members.is_empty() {
        errors.push(FieldError::new(
            "involved_member_ids",
            "unknown",
            format!(
                "not committee members: {}",
                joined(&checked.unknown_members)
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut implementation_plan = body.implementation_plan.clone();
    let mut duration = body.estimated_duration_minutes;
    let mut rollback_plan = body.rollback_plan.clone();
    let mut rollback = body.estimated_rollback_minutes;
    let mut description = body.description.clone();
    match (body.rdm_type, body.standard_template_id) {
        (RdmType::Standard, None) => {
            return Err(ApiError::validation(
                "standard_template_id",
                "required",
                "a standard change names its pre-approved template",
            ))
        }
        (RdmType::Standard, Some(tid)) => {
            let template = (
                checked.t_description,
                checked.t_implementation_plan,
                checked.t_duration,
                checked.t_rollback_plan,
                checked.t_rollback,
            );
            let (Some(d), Some(ip), Some(dur), Some(rp), Some(rb)) = template else {
                return Err(ApiError::validation(
                    "standard_template_id",
                    "unknown",
                    format!("no active standard template {tid}"),
                ));
            };
            if description.trim().is_empty() {
                description = d;
            }
            // Pre-approved means the template's plan, times and rollback: nothing else.
            template_owned(
                body.implementation_plan.is_some(),
                body.estimated_duration_minutes.is_some(),
                body.rollback_plan.is_some(),
                body.estimated_rollback_minutes.is_some(),
            )?;
            implementation_plan = Some(ip);
            duration = Some(dur);
            rollback_plan = Some(rp);
            rollback = Some(rb);
        }
        (_, Some(_)) => {
            return Err(ApiError::validation(
                "standard_template_id",
                "invalid",
                "only standard changes use a template",
            ))
        }
        _ => {}
    }
    let row: Inserted = prepared(
        INSERT,
        (
            (
                bind::<sql::RdmType, _>(body.rdm_type),
                bind::<sql::RdmState, _>(RdmState::Draft),
                bind::<Text, _>(body.title.trim()),
                bind::<Text, _>(&description),
                bind::<Text, _>(&body.justification),
                bind::<Nullable<Text>, _>(&body.category),
                bind::<Nullable<sql::Level>, _>(body.impact),
                bind::<Nullable<sql::Level>, _>(body.urgency),
                bind::<Nullable<sql::Priority>, _>(checked.priority),
                bind::<Nullable<sql::Level>, _>(body.risk),
                bind::<Nullable<Text>, _>(&implementation_plan),
            ),
            (
                bind::<Nullable<Integer>, _>(duration),
                bind::<Nullable<Text>, _>(&rollback_plan),
                bind::<Nullable<Integer>, _>(rollback),
                bind::<Nullable<Text>, _>(&body.homologation_evidence),
                bind::<Nullable<Text>, _>(&body.communication_plan),
                bind::<Nullable<BigInt>, _>(body.standard_template_id),
                bind::<BigInt, _>(user.id),
                bind::<Nullable<Text>, _>(&body.requester_group),
                bind::<Timestamptz, _>(now),
                bind::<Timestamptz, _>(now),
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
    let rdm = row.rdm;
    // What the creation notifies follows from its event (today: nothing).
    let event = Event {
        id: row.event_id,
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
