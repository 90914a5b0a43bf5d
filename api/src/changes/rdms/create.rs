//! Filing an RDM: the form, its references checked (naming every bad field), priority from
//! the matrix, a standard change's template, and the first line of its history.
use super::store::{self, RdmView, CREATORS};
use crate::db::enums::{Stored, StoredList, StoredOption};
use crate::db::schema::{
    configuration_items, priority_matrix, rdm_involved_members, rdm_items, rdms as t,
    standard_templates, users,
};
use crate::identity::principal::AuthUser;
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::idempotency::{create_once, Created, Idempotency};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
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
    create_once(conn, idem.as_ref(), user.id, now, async |conn| {
        insert(conn, n, user, body, now).await
    })
    .await
}

async fn insert(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    body: &NewRdm,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<RdmView> {
    check_references(
        conn,
        Some(&body.configuration_item_ids),
        Some(&body.involved_member_ids),
    )
    .await?;
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
            let t: Option<(String, String, i32, String, i32)> = standard_templates::table
                .find(tid)
                .filter(standard_templates::active.eq(true))
                .select((
                    standard_templates::description,
                    standard_templates::implementation_plan,
                    standard_templates::estimated_duration_minutes,
                    standard_templates::rollback_plan,
                    standard_templates::estimated_rollback_minutes,
                ))
                .first(conn)
                .await
                .optional()?;
            let Some((d, ip, dur, rp, rb)) = t else {
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
    let priority = priority_of(conn, body.impact, body.urgency).await?;
    let id: i64 = diesel::insert_into(t::table)
        .values((
            t::rdm_type.eq(body.rdm_type.db()),
            t::state.eq(RdmState::Draft.db()),
            t::title.eq(body.title.trim()),
            t::description.eq(&description),
            t::justification.eq(&body.justification),
            t::category.eq(&body.category),
            t::impact.eq(body.impact.db()),
            t::urgency.eq(body.urgency.db()),
            t::priority.eq(priority.db()),
            t::risk.eq(body.risk.db()),
            t::implementation_plan.eq(implementation_plan),
            t::estimated_duration_minutes.eq(duration),
            t::rollback_plan.eq(rollback_plan),
            t::estimated_rollback_minutes.eq(rollback),
            t::homologation_evidence.eq(&body.homologation_evidence),
            t::communication_plan.eq(&body.communication_plan),
            t::standard_template_id.eq(body.standard_template_id),
            t::requester_id.eq(user.id),
            t::requester_group.eq(&body.requester_group),
            t::created_at.eq(now),
            t::updated_at.eq(now),
        ))
        .returning(t::id)
        .get_result(conn)
        .await?;
    replace_links(
        conn,
        id,
        Some(&body.configuration_item_ids),
        Some(&body.involved_member_ids),
    )
    .await?;
    store::record(
        conn,
        n,
        id,
        "create",
        None,
        RdmState::Draft,
        Some(user.id),
        None,
        serde_json::json!({}),
        now,
    )
    .await?;
    let rdm = store::find(conn, id).await?;
    store::view(conn, rdm, user, now).await
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
