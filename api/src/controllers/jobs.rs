//! `/api/v1/jobs`: the job queue as an admin sees it: what is pending, done or dead, and a
//! way to give a dead job another round once its cause is fixed.
use super::common::{page_cursor, page_limit, paginate, query_param, Problems};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidQuery;
use crate::jobs::Job;
use crate::schema::jobs;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::roles::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Done,
    Dead,
}

impl JobStatus {
    fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
}

impl std::str::FromStr for JobStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "pending" => Ok(JobStatus::Pending),
            "done" => Ok(JobStatus::Done),
            "dead" => Ok(JobStatus::Dead),
            _ => Err(()),
        }
    }
}

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

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<Job>,
    pub next_cursor: Option<i64>,
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
        p.push(crate::error::FieldError::new(
            "kind",
            "length",
            "at most 50 characters",
        ));
    }
    p.finish()?;
    let mut q = jobs::table.into_boxed();
    if let Some(s) = status {
        q = q.filter(jobs::status.eq(s.as_str()));
    }
    if let Some(k) = filter
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        q = q.filter(jobs::kind.eq(k.to_string()));
    }
    if let Some(c) = cursor {
        q = q.filter(jobs::id.lt(c));
    }
    let mut conn = state.pool.get().await?;
    let rows: Vec<Job> = q
        .order(jobs::id.desc())
        .limit(limit + 1)
        .select(Job::as_select())
        .load(&mut conn)
        .await?;
    let (items, next_cursor) = paginate(rows, limit, |j| j.id);
    let items = items.into_iter().map(Job::redacted).collect();
    Ok(HttpResponse::Ok().json(JobPage { items, next_cursor }))
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
    let job: Job = jobs::table
        .find(*id)
        .select(Job::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("job {id}")))?;
    Ok(HttpResponse::Ok().json(job.redacted()))
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
    let id = *id;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let job = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let job: Job = jobs::table
                .find(id)
                .for_update()
                .select(Job::as_select())
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found(format!("job {id}")))?;
            if job.status != "dead" {
                return Err(ApiError::conflict(
                    "job_not_dead",
                    format!("job {id} is {}: only a dead job can be retried", job.status),
                ));
            }
            Ok(diesel::update(jobs::table.find(id))
                .set((
                    jobs::status.eq("pending"),
                    jobs::attempts.eq(0),
                    jobs::run_at.eq(now),
                    jobs::finished_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                ))
                .returning(Job::as_returning())
                .get_result(conn)
                .await?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(job.redacted()))
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
