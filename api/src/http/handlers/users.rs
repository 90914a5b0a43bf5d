//! `/api/v1/users`: accounts and their roles (`crate::identity::users`).
use super::common::created;
use crate::app::AppState;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::identity::principal::AuthUser;
use crate::identity::users::{
    self, AccessChange, NewUserInput, UserPage, UserView, DIRECTORY_READERS,
};
use crate::platform::error::ApiResult;
use crate::platform::input::Problems;
use crate::platform::pagination::{page_cursor, page_limit, query_param};
use actix_web::{get, patch, post, web, HttpResponse};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

/// Filters of the user list. Parsed by hand so that a bad value names its parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Users holding this role.
    #[param(value_type = Option<Role>)]
    pub role: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<i64>)]
    pub cursor: Option<String>,
}

/// Create a user.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users", operation_id = "create_user",
    request_body = NewUserInput,
    responses((status = 201, description = "Created", body = UserView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin"])))
)]
#[post("/users")]
pub async fn create_user_handler(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewUserInput>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let body = body.into_inner()?;

    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let id = users::create_user(&mut conn, &state.password_checks, body, now).await?;
    let view = UserView::try_from(users::find_user(&mut conn, id).await?)?;
    Ok(created(format!("/api/v1/users/{id}"), &view))
}

/// List users by id, optionally those holding a role (paginated, keyset on id).
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    params(UserFilter),
    responses((status = 200, description = "A page of users", body = UserPage)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<UserFilter>,
) -> ApiResult<HttpResponse> {
    user.require(DIRECTORY_READERS)?;
    let mut p = Problems::default();
    let role = p.take(query_param::<Role>(
        "role",
        filter.role.as_deref(),
        "a role (requester, support_analyst, ..., admin)",
    ));
    let limit = p.take(page_limit(filter.limit.as_deref()));
    let cursor = p.take(page_cursor(filter.cursor.as_deref()));
    p.finish()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(users::list_users(&mut conn, role, limit, cursor).await?))
}

/// Get a user (admins and change managers any; everyone else only themself).
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, description = "The user", body = UserView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager", "the user themself"])))
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    if user.id != *id {
        user.require(DIRECTORY_READERS)?;
    }
    let mut conn = state.pool.get().await?;
    let view = UserView::try_from(users::find_user(&mut conn, *id).await?)?;
    Ok(HttpResponse::Ok().json(view))
}

/// Change an account's access: deactivate or reactivate it, or change its roles. Tokens
/// already issued follow at once: a deactivated account's are refused (401 `token_revoked`),
/// a changed account's act with the new roles. The last active admin cannot be demoted or
/// deactivated. Recorded in the event log.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users", operation_id = "change_user_access",
    params(("id" = i64, Path, description = "User id")),
    request_body = AccessChange,
    responses((status = 200, description = "The account after the change", body = UserView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin"])))
)]
#[patch("/users/{id}")]
pub async fn change_access(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<AccessChange>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let changed = users::change_access(
        &mut conn,
        &state.access,
        user.id,
        *id,
        body,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(UserView::try_from(changed)?))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_user_handler, list_users, get_user, change_access),
    components(schemas(NewUserInput, UserView, UserPage, AccessChange))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_user_handler)
        .service(list_users)
        .service(get_user)
        .service(change_access);
}
