//! `/api/v1/standard-templates`: pre-approved changes (`crate::changes::templates`).
use super::common::created;
use crate::app::AppState;
use crate::changes::templates::{self, NewTemplate, TemplateView};
use crate::http::extract::ValidJson;
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use actix_web::{get, post, web, HttpResponse};
use domain::roles::Role;
use utoipa::OpenApi;

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
    Ok(HttpResponse::Ok().json(templates::list(&mut conn).await?))
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
    Ok(HttpResponse::Ok().json(templates::get(&mut conn, *id).await?))
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
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let v = templates::create(&mut conn, &body).await?;
    Ok(created(format!("/api/v1/standard-templates/{}", v.id), &v))
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
