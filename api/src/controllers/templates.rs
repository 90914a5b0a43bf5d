//! `/api/v1/standard-templates`: pre-approved changes (SPEC §3.6). A `standard` RDM names
//! one and takes its plans and times.
use crate::auth::AuthUser;
use crate::controllers::common::{created, not_blank};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::models::StandardTemplate;
use crate::rdms::STAFF;
use crate::schema::standard_templates as t;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::roles::Role;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
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

/// List standard templates by code.
#[utoipa::path(
    get, path = "/api/v1/standard-templates", tag = "standard-templates",
    responses((status = 200, description = "Templates, by code", body = Vec<TemplateView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/standard-templates")]
pub async fn list_templates(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    let rows: Vec<StandardTemplate> = t::table
        .order(t::code)
        .select(StandardTemplate::as_select())
        .load(&mut conn)
        .await?;
    let out: Vec<TemplateView> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Get a standard template.
#[utoipa::path(
    get, path = "/api/v1/standard-templates/{id}", tag = "standard-templates",
    params(("id" = i64, Path, description = "Template id")),
    responses((status = 200, description = "The template", body = TemplateView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/standard-templates/{id}")]
pub async fn get_template(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    let row: StandardTemplate = t::table
        .find(*id)
        .select(StandardTemplate::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("standard template {id}")))?;
    Ok(HttpResponse::Ok().json(TemplateView::from(row)))
}

/// Create a standard template (pre-approved: RDMs using it skip the committee).
#[utoipa::path(
    post, path = "/api/v1/standard-templates", tag = "standard-templates",
    request_body = NewTemplate,
    responses((status = 201, description = "Created", body = TemplateView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["change_manager"])))
)]
#[post("/standard-templates")]
pub async fn create_template(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewTemplate>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::ChangeManager])?;
    let b = body.0;
    let mut conn = state.pool.get().await?;
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
        .get_result(&mut conn)
        .await?;
    Ok(created(
        format!("/api/v1/standard-templates/{}", row.id),
        &TemplateView::from(row),
    ))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_templates, get_template, create_template),
    components(schemas(TemplateView, NewTemplate))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_templates)
        .service(create_template)
        .service(get_template);
}
