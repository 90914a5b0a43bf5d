//! Standard changes (SPEC §3.6): pre-approved templates. A `standard` RDM names one and
//! takes its plans and times.
use crate::db::models::StandardTemplate;
use crate::db::schema::standard_templates as t;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::input::not_blank;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
    pub implementation_plan: String,
    pub estimated_duration_minutes: i32,
    pub rollback_plan: String,
    pub estimated_rollback_minutes: i32,
    /// Only active templates can be used by new standard RDMs.
    pub active: bool,
}

impl From<StandardTemplate> for TemplateView {
    fn from(s: StandardTemplate) -> Self {
        TemplateView {
            id: s.id,
            code: s.code,
            name: s.name,
            description: s.description,
            implementation_plan: s.implementation_plan,
            estimated_duration_minutes: s.estimated_duration_minutes,
            rollback_plan: s.rollback_plan,
            estimated_rollback_minutes: s.estimated_rollback_minutes,
            active: s.active,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTemplate {
    /// Unique.
    #[validate(length(min = 1, max = 40), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 40, example = "ENV-UPDATE")]
    pub code: String,
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(min = 1, max = 20000), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 20000)]
    pub description: String,
    #[validate(length(min = 1, max = 20000), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 20000)]
    pub implementation_plan: String,
    #[validate(range(min = 1, max = 10080))]
    #[schema(minimum = 1, maximum = 10080)]
    pub estimated_duration_minutes: i32,
    #[validate(length(min = 1, max = 20000), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 20000)]
    pub rollback_plan: String,
    #[validate(range(min = 0, max = 10080))]
    #[schema(minimum = 0, maximum = 10080)]
    pub estimated_rollback_minutes: i32,
}

/// Standard templates by code.
pub async fn list(conn: &mut AsyncPgConnection) -> ApiResult<Vec<TemplateView>> {
    let rows: Vec<StandardTemplate> = t::table
        .order(t::code)
        .select(StandardTemplate::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<TemplateView> {
    let row: StandardTemplate = t::table
        .find(id)
        .select(StandardTemplate::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("standard template {id}")))?;
    Ok(row.into())
}

/// A new pre-approved template: RDMs using it skip the committee.
pub async fn create(conn: &mut AsyncPgConnection, b: &NewTemplate) -> ApiResult<TemplateView> {
    let row: StandardTemplate = diesel::insert_into(t::table)
        .values((
            t::code.eq(b.code.trim()),
            t::name.eq(b.name.trim()),
            t::description.eq(&b.description),
            t::implementation_plan.eq(&b.implementation_plan),
            t::estimated_duration_minutes.eq(b.estimated_duration_minutes),
            t::rollback_plan.eq(&b.rollback_plan),
            t::estimated_rollback_minutes.eq(b.estimated_rollback_minutes),
        ))
        .returning(StandardTemplate::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}
