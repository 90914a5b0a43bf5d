//! `/api/v1/committees`: the CM and CME, their fixed members and approval policies
//! (`crate::changes::committee_admin`).
use crate::app::AppState;
use crate::changes::committee_admin::{
    self as committees, CommitteeKind, CommitteePatch, CommitteeView, MemberView, NewCommittee,
    NewMember, PolicyKind, MANAGERS,
};
use crate::http::extract::ValidJson;
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa::OpenApi;

/// List the committees, by code, with their members and approval policies.
#[utoipa::path(
    get, path = "/api/v1/committees", tag = "committees",
    responses((status = 200, description = "Every committee", body = Vec<CommitteeView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/committees")]
pub async fn list_committees(
    state: web::Data<AppState>,
    user: AuthUser,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(committees::list(&mut conn).await?))
}

/// Get a committee with its members and approval policy.
#[utoipa::path(
    get, path = "/api/v1/committees/{id}", tag = "committees",
    params(("id" = i64, Path, description = "Committee id")),
    responses((status = 200, description = "The committee", body = CommitteeView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/committees/{id}")]
pub async fn get_committee(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(committees::view(&mut conn, *id).await?))
}

/// Create a committee. Its code is unique.
#[utoipa::path(
    post, path = "/api/v1/committees", tag = "committees",
    request_body = NewCommittee,
    responses((status = 201, description = "Created", body = CommitteeView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/committees")]
pub async fn create_committee(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewCommittee>,
) -> ApiResult<HttpResponse> {
    user.require(MANAGERS)?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let v = committees::create(&mut conn, &body).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/committees/{}", v.id)))
        .json(v))
}

/// Rename a committee or change its approval policy.
///
/// Switching away from `n_of_m` drops `approval_n`.
#[utoipa::path(
    patch, path = "/api/v1/committees/{id}", tag = "committees",
    request_body = CommitteePatch,
    params(("id" = i64, Path, description = "Committee id")),
    responses((status = 200, description = "Updated", body = CommitteeView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[patch("/committees/{id}")]
pub async fn update_committee(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<CommitteePatch>,
) -> ApiResult<HttpResponse> {
    user.require(MANAGERS)?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let v = committees::update(
        &mut conn,
        &state.notifier,
        user.id,
        *id,
        &body,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Add a fixed member. The user must hold the `committee_member` role.
#[utoipa::path(
    post, path = "/api/v1/committees/{id}/members", tag = "committees",
    request_body = NewMember,
    params(("id" = i64, Path, description = "Committee id")),
    responses((status = 201, description = "Added; the committee with its members", body = CommitteeView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/committees/{id}/members")]
pub async fn add_member(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewMember>,
) -> ApiResult<HttpResponse> {
    user.require(MANAGERS)?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let v = committees::add_member(
        &mut conn,
        &state.notifier,
        user.id,
        *id,
        body.user_id,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Remove a fixed member.
#[utoipa::path(
    delete, path = "/api/v1/committees/{id}/members/{user_id}", tag = "committees",
    params(
        ("id" = i64, Path, description = "Committee id"),
        ("user_id" = i64, Path, description = "The member's user id")
    ),
    responses((status = 204, description = "Removed")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[delete("/committees/{id}/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    user.require(MANAGERS)?;
    let (id, user_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    committees::remove_member(
        &mut conn,
        &state.notifier,
        user.id,
        id,
        user_id,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_committees,
        get_committee,
        create_committee,
        update_committee,
        add_member,
        remove_member
    ),
    components(schemas(
        CommitteeView,
        MemberView,
        NewCommittee,
        CommitteePatch,
        NewMember,
        CommitteeKind,
        PolicyKind
    ))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_committees)
        .service(get_committee)
        .service(create_committee)
        .service(update_committee)
        .service(add_member)
        .service(remove_member);
}
