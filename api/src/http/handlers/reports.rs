//! `/api/v1/reports`: the weekly operations review (`crate::reports`) as JSON and CSV, and the
//! records behind each figure. Reads the reports pool (a replica when configured).
use crate::app::AppState;
use crate::http::extract::ValidQuery;
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::links::ReportLinkBinding;
use crate::reports::drill::{self, DrillPage};
use crate::reports::figures::{self, Review};
use crate::reports::{self, canonical_query, parse_date, Scope, READERS};
use actix_web::{get, http::header, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::review::Period;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

/// How long the review's HTML link (`html_url`) opens the page.
pub const PAGE_LINK_MINUTES: i64 = 15;

#[derive(OpenApi)]
#[openapi(
    paths(ops_review, ops_review_csv, ops_review_drill_down),
    tags((name = "reports", description = "The weekly operations review (SPEC §7): incidents, SLA attainment, MTTA/MTTR, escalations, reopen rate, problems, knowledge base and changes for a period, per service and organisation; each figure with its formula and drill-down. Support coordinators, change managers and admins; never customers."))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The literal paths first: `ops-review.csv` and `ops-review/drill-down` are not ids.
    cfg.service(ops_review_csv)
        .service(ops_review_drill_down)
        .service(ops_review);
}

/// The period and filters, as text: each is parsed here so that every bad one is named at
/// once, with 400.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// First day, `YYYY-MM-DD` (São Paulo). Default: the Monday of the last full week (or
    /// `to` − 6 days).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day, included. Default: the Sunday of the last full week (or `from` + 6 days). At
    /// most 367 days from `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Only this service (support catalog item).
    #[param(value_type = Option<i64>)]
    pub item_id: Option<String>,
    /// Only this organisation.
    #[param(value_type = Option<i64>)]
    pub organization_id: Option<String>,
}

fn id_field(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>) -> Option<i64> {
    let v = v.as_deref()?;
    match v.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errors.push(FieldError::new(
                field,
                "invalid",
                format!("`{v}` is not an id"),
            ));
            None
        }
    }
}

/// The period and scope a query names, or 400 naming each bad field.
pub fn period_and_scope(q: &ReviewQuery, now: DateTime<Utc>) -> ApiResult<(Period, Scope)> {
    let mut errors = Vec::new();
    let mut date = |field: &str, v: &Option<String>| match v.as_deref() {
        None => None,
        Some(s) => parse_date(s).or_else(|| {
            errors.push(FieldError::new(
                field,
                "invalid",
                format!("`{s}` is not a date (YYYY-MM-DD)"),
            ));
            None
        }),
    };
    let from = date("from", &q.from);
    let to = date("to", &q.to);
    let item_id = id_field(&mut errors, "item_id", &q.item_id);
    let organization_id = id_field(&mut errors, "organization_id", &q.organization_id);
    let bad_dates = errors.iter().any(|e| e.field == "from" || e.field == "to");
    let period = if bad_dates {
        None
    } else {
        match Period::new(from, to, now) {
            Ok(p) => Some(p),
            Err(e) => {
                if let (Some(f), Some(t)) = (from, to) {
                    if t < f {
                        errors.push(FieldError::new(
                            "from",
                            "after_to",
                            format!("`from` ({f}) is after `to` ({t})"),
                        ));
                    }
                }
                errors.push(FieldError::new(e.field, "invalid_period", e.message));
                None
            }
        }
    };
    match period {
        Some(p) if errors.is_empty() => Ok((
            p,
            Scope {
                item_id,
                organization_id,
            },
        )),
        _ => Err(ApiError::BadQuery(errors)),
    }
}

/// The review's HTML page for `user`: a signed link valid for [`PAGE_LINK_MINUTES`].
pub fn page_link(state: &AppState, user_id: i64, p: &Period, scope: &Scope) -> String {
    let query = canonical_query(p, scope);
    let expires = (state.clock.now() + chrono::Duration::minutes(PAGE_LINK_MINUTES)).timestamp();
    let sig = state.notifier.signer.sign_report(&ReportLinkBinding {
        user_id,
        expires,
        query: &query,
    });
    format!(
        "{}/reports/ops-review?{query}&user={user_id}&expires={expires}&sig={sig}",
        state.notifier.public_url
    )
}

async fn compute(state: &AppState, user: &AuthUser, q: &ReviewQuery) -> ApiResult<Review> {
    user.require(READERS)?;
    let (p, scope) = period_and_scope(q, state.clock.now())?;
    let mut conn = state.reports().get().await?;
    let mut review = reports::review(&mut conn, &p, &scope).await?;
    review.html_url = Some(page_link(state, user.id, &p, &scope));
    Ok(review)
}

/// The weekly operations review of a period (default: the last full week, Monday–Sunday,
/// São Paulo), optionally for one service and/or organisation, with a breakdown by each.
/// Every figure carries its formula, numerator, denominator and drill-down link; `html_url`
/// is a short-lived signed link to the page with charts (a browser sends no token).
#[utoipa::path(
    get, path = "/api/v1/reports/ops-review", tag = "reports",
    params(ReviewQuery),
    responses(
        (status = 200, description = "The review", body = Review),
        (status = 400, description = "A bad date, id or period: `errors` names each bad field", body = crate::platform::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_coordinator", "change_manager", "admin"])))
)]
#[get("/reports/ops-review")]
pub async fn ops_review(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ValidQuery<ReviewQuery>,
) -> ApiResult<HttpResponse> {
    let review = compute(&state, &user, &q).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(review))
}

/// The review as CSV: one figure per row with its formula (`group`: `all`, then each `item`
/// and `organization`).
#[utoipa::path(
    get, path = "/api/v1/reports/ops-review.csv", tag = "reports",
    params(ReviewQuery),
    responses(
        (status = 200, description = "The review, one figure per row", body = String, content_type = "text/csv"),
        (status = 400, description = "A bad date, id or period: `errors` names each bad field", body = crate::platform::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_coordinator", "change_manager", "admin"])))
)]
#[get("/reports/ops-review.csv")]
pub async fn ops_review_csv(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ValidQuery<ReviewQuery>,
) -> ApiResult<HttpResponse> {
    let review = compute(&state, &user, &q).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"ops-review-{}-{}.csv\"",
                review.period.from, review.period.to
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(figures::csv(&review)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DrillQuery {
    /// A figure's `key` (`opened`, `resolution_sla`, `escalations_level_2`, `change_failure_rate`…).
    pub figure: Option<String>,
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    #[param(value_type = Option<i64>)]
    pub item_id: Option<String>,
    #[param(value_type = Option<i64>)]
    pub organization_id: Option<String>,
    /// Page size (default 50, at most 200).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<i64>)]
    pub cursor: Option<String>,
}

/// The incidents or RDMs behind a figure of the review, newest first.
#[utoipa::path(
    get, path = "/api/v1/reports/ops-review/drill-down", tag = "reports",
    params(DrillQuery),
    responses(
        (status = 200, description = "A page of the records the figure counts", body = DrillPage),
        (status = 400, description = "A bad figure, date, id, period, limit or cursor: `errors` names each bad field", body = crate::platform::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_coordinator", "change_manager", "admin"])))
)]
#[get("/reports/ops-review/drill-down")]
pub async fn ops_review_drill_down(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ValidQuery<DrillQuery>,
) -> ApiResult<HttpResponse> {
    user.require(READERS)?;
    let q = q.into_inner();
    let mut errors = Vec::new();
    let figure = match q.figure.as_deref() {
        Some(f) if drill::known(f) => f.to_string(),
        Some(f) => {
            errors.push(FieldError::new(
                "figure",
                "unknown",
                format!("no figure `{f}`; one of: {}", drill::FIGURES.join(", ")),
            ));
            String::new()
        }
        None => {
            errors.push(FieldError::new("figure", "required", "name the figure"));
            String::new()
        }
    };
    let limit = match q.limit.as_deref().map(str::parse::<i64>) {
        None => 50,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new(
                "limit",
                "range",
                "an integer from 1 to 200",
            ));
            50
        }
    };
    let cursor = id_field(&mut errors, "cursor", &q.cursor);
    let review_query = ReviewQuery {
        from: q.from,
        to: q.to,
        item_id: q.item_id,
        organization_id: q.organization_id,
    };
    let ps = period_and_scope(&review_query, state.clock.now());
    let (p, scope) = match ps {
        Ok(ps) if errors.is_empty() => ps,
        Ok(_) => return Err(ApiError::BadQuery(errors)),
        Err(ApiError::BadQuery(more)) => {
            errors.extend(more);
            return Err(ApiError::BadQuery(errors));
        }
        Err(e) => return Err(e),
    };
    let mut conn = state.reports().get().await?;
    let page: DrillPage = drill::page(&mut conn, &figure, &p, &scope, limit, cursor).await?;
    Ok(HttpResponse::Ok().json(page))
}
