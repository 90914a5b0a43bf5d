//! `/api/v1/jobs`: the job queue as an admin sees it (`crate::queue::admin`).
use crate::app::AppState;
use crate::http::extract::ValidQuery;
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiResult, FieldError};
use crate::platform::input::Problems;
use crate::platform::pagination::{page_cursor, page_limit, query_param};
use crate::queue::admin::{self, Job, JobPage, JobStatus};
use actix_web::{get, post, web, HttpResponse};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobFilter {
    /// pending, done or dead.
    #[param(value_type = Option<JobStatus>)]
    pub status: Option<String>,
    /// mail, meeting_cutoff, meeting_start, meeting_end, holiday_notice, calendar_tick.
    #[param(max_length = 50)]
    pub kind: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page (newest first).
    #[param(value_type = Option<i64>)]
    pub cursor: Option<String>,
}

/// List jobs, newest first; `status=dead` shows what gave up after its last retry.
#[utoipa::path(
    get, path = "/api/v1/jobs", tag = "jobs",
    params(JobFilter),
    responses((status = 200, description = "A page of jobs", body = JobPage)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin"])))
)]
#[get("/jobs")]
pub async fn list_jobs(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<JobFilter>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let mut p = Problems::default();
    let status = p.take(query_param::<JobStatus>(
        "status",
        filter.status.as_deref(),
        "pending, done or dead",
    ));
    let limit = p.take(page_limit(filter.limit.as_deref()));
    let cursor = p.take(page_cursor(filter.cursor.as_deref()));
    if filter.kind.as_deref().is_some_and(|k| k.len() > 50) {
        p.push(FieldError::new("kind", "length", "at most 50 characters"));
    }
    p.finish()?;
    let kind = filter
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let mut conn = state.pool.get().await?;
    let page = admin::list(&mut conn, &state.registry, status, kind, limit, cursor).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One job.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = Job)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin"])))
)]
#[get("/jobs/{id}")]
pub async fn get_job(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(admin::get(&mut conn, &state.registry, *id).await?))
}

/// Give a dead job another full round of attempts, due now (after fixing its cause: an
/// address, the SMTP settings...). Only dead jobs can be retried: a pending one will run and
/// a done one must not run twice.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/retry", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "Pending again", body = Job)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin"])))
)]
#[post("/jobs/{id}/retry")]
pub async fn retry_job(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let mut conn = state.pool.get().await?;
    let job = admin::retry(&mut conn, &state.registry, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(job))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_jobs, get_job, retry_job),
    components(schemas(Job, JobPage, JobStatus))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_jobs).service(get_job).service(retry_job);
}
