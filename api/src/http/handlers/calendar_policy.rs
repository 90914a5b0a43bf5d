//! `/api/v1/calendar-policy`: when the CM meets, its cut-off and the weekly window
//! (`crate::changes::policy`).
use super::common::etag;
use crate::app::AppState;
use crate::changes::policy::{self, current_policy, PolicyInput, PolicyView};
use crate::http::extract::{header, ValidJson};
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use actix_web::{get, http::header::ETAG, put, web, HttpRequest, HttpResponse};
use domain::roles::Role;
use utoipa::OpenApi;

/// The calendar policy in force.
#[utoipa::path(
    get, path = "/api/v1/calendar-policy", tag = "calendar policy",
    responses((status = 200, description = "The current version", body = PolicyView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/calendar-policy")]
pub async fn get_policy(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    let p = current_policy(&mut conn).await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(p.version)))
        .json(PolicyView::from(p)))
}

/// Every version of the calendar policy, newest first (the audit trail).
#[utoipa::path(
    get, path = "/api/v1/calendar-policy/versions", tag = "calendar policy",
    responses((status = 200, description = "All versions", body = Vec<PolicyView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/calendar-policy/versions")]
pub async fn list_policy_versions(
    state: web::Data<AppState>,
    user: AuthUser,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(policy::versions(&mut conn).await?))
}

/// Replace the calendar policy: the body becomes the next version.
///
/// Future meetings and windows that nothing refers to (no RDM, vote, move or flex) are
/// dropped and regenerate from the new version; the others keep their times. Send `If-Match`
/// with the ETag of the version you edited to refuse a concurrent change.
#[utoipa::path(
    put, path = "/api/v1/calendar-policy", tag = "calendar policy",
    request_body = PolicyInput,
    params(("If-Match" = Option<String>, Header, description = "Optional: refuse if the policy changed since this ETag")),
    responses((status = 200, description = "The new version", body = PolicyView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["change_manager"])))
)]
#[put("/calendar-policy")]
pub async fn put_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: ValidJson<PolicyInput>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::ChangeManager])?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let v = policy::replace(
        &mut conn,
        user.id,
        &body,
        header(&req, "If-Match"),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(v.version)))
        .json(v))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_policy, list_policy_versions, put_policy),
    components(schemas(PolicyView, PolicyInput))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `versions` before anything that could shadow it.
    cfg.service(list_policy_versions)
        .service(get_policy)
        .service(put_policy);
}
