//! `/api/v1/calendars`: business calendars, their holidays, and business-time arithmetic
//! (`crate::calendar`).
use super::common::created;
use crate::app::AppState;
use crate::calendar::{
    self, in_years, BusinessTime, CalendarSummary, CalendarView, Deadline, HolidayView,
    NewCalendar, NewHoliday, TimeRange, MAX_HOURS,
};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::identity::principal::{AuthUser, CATALOG_EDITORS};
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::input::Problems;
use crate::platform::pagination::query_param;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

fn blank(raw: Option<&str>) -> bool {
    raw.map(str::trim).unwrap_or_default().is_empty()
}

/// An RFC 3339 instant from the query string. A `+` offset arrives as a space when the
/// client did not percent-encode it; read it back.
fn instant_param(name: &str, raw: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let parsed = DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_rfc3339(&s.replace(' ', "+")))
        .map_err(|_| {
            ApiError::validation(
                name,
                "invalid",
                format!("`{s}` is not an RFC 3339 instant (e.g. 2026-11-23T12:00:00Z)"),
            )
        })?
        .with_timezone(&Utc);
    in_years(name, parsed.year())?;
    Ok(Some(parsed))
}

// ---------------------------------------------------------------------------------------
// Calendars.
// ---------------------------------------------------------------------------------------

/// List calendars by code.
#[utoipa::path(
    get, path = "/api/v1/calendars", tag = "calendars",
    responses((status = 200, description = "Calendars, by code", body = Vec<CalendarSummary>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role"])))
)]
#[get("/calendars")]
pub async fn list_calendars(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(calendar::list(&mut conn).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// Only the holidays of this year.
    #[param(value_type = Option<i32>, minimum = 1900, maximum = 2200)]
    pub year: Option<String>,
}

/// Get a calendar with its holidays, by date.
#[utoipa::path(
    get, path = "/api/v1/calendars/{id}", tag = "calendars",
    params(("id" = i64, Path, description = "Calendar id"), CalendarQuery),
    responses((status = 200, description = "The calendar", body = CalendarView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role"])))
)]
#[get("/calendars/{id}")]
pub async fn get_calendar(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    query: ValidQuery<CalendarQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let year = query_param::<i32>("year", query.year.as_deref(), "a year")?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(calendar::get(&mut conn, *id, year).await?))
}

/// Create a calendar (without holidays; add them one by one).
#[utoipa::path(
    post, path = "/api/v1/calendars", tag = "calendars",
    request_body = NewCalendar,
    responses((status = 201, description = "Created", body = CalendarSummary)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/calendars")]
pub async fn create_calendar(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewCalendar>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let cal = calendar::create(&mut conn, &body).await?;
    Ok(created(format!("/api/v1/calendars/{}", cal.id), &cal))
}

// ---------------------------------------------------------------------------------------
// Holidays.
// ---------------------------------------------------------------------------------------

/// Add a holiday (whole or partial day) to a calendar.
#[utoipa::path(
    post, path = "/api/v1/calendars/{id}/holidays", tag = "calendars",
    params(("id" = i64, Path, description = "Calendar id")),
    request_body = NewHoliday,
    responses((status = 201, description = "Created", body = HolidayView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/calendars/{id}/holidays")]
pub async fn add_holiday(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewHoliday>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let cal_id = *id;
    let h = calendar::add_holiday(&mut conn, cal_id, &body).await?;
    Ok(created(
        format!("/api/v1/calendars/{cal_id}/holidays/{}", h.date),
        &h,
    ))
}

/// Remove a calendar's holiday.
#[utoipa::path(
    delete, path = "/api/v1/calendars/{id}/holidays/{date}", tag = "calendars",
    params(
        ("id" = i64, Path, description = "Calendar id"),
        ("date" = NaiveDate, Path, description = "The holiday's date, YYYY-MM-DD"),
    ),
    responses((status = 204, description = "Removed")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[delete("/calendars/{id}/holidays/{date}")]
pub async fn delete_holiday(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, NaiveDate)>,
) -> ApiResult<HttpResponse> {
    user.require(CATALOG_EDITORS)?;
    let (cal_id, date) = path.into_inner();
    let mut conn = state.pool.get().await?;
    calendar::delete_holiday(&mut conn, cal_id, date).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------
// Business-time arithmetic.
// ---------------------------------------------------------------------------------------

/// Parameters of a deadline. Parsed by hand so that a bad value names its parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadlineQuery {
    /// Start instant, RFC 3339 (default: now). Outside business time, counting starts at
    /// the next opening.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub from: Option<String>,
    /// Business hours to add; may be fractional.
    #[param(value_type = f64, required = true, minimum = 0, maximum = 100000, example = 60)]
    pub hours: Option<String>,
}

/// When `hours` business hours after `from` fall on this calendar.
#[utoipa::path(
    get, path = "/api/v1/calendars/{id}/deadline", tag = "calendars",
    params(("id" = i64, Path, description = "Calendar id"), DeadlineQuery),
    responses((status = 200, description = "The deadline", body = Deadline)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role"])))
)]
#[get("/calendars/{id}/deadline")]
pub async fn deadline(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    query: ValidQuery<DeadlineQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut p = Problems::default();
    let from = p.take(instant_param("from", query.from.as_deref()));
    let hours = p.take(query_param::<f64>(
        "hours",
        query.hours.as_deref(),
        "a number",
    ));
    match hours {
        None if blank(query.hours.as_deref()) => p.push(FieldError::new(
            "hours",
            "required",
            "how many business hours to add",
        )),
        Some(h) if !(h.is_finite() && (0.0..=MAX_HOURS).contains(&h)) => p.push(FieldError::new(
            "hours",
            "range",
            format!("must be between 0 and {MAX_HOURS}"),
        )),
        _ => {}
    }
    p.finish()?;
    let hours = hours.unwrap_or_default();
    let from = from.unwrap_or_else(|| state.clock.now());
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(calendar::deadline(&mut conn, *id, from, hours).await?))
}

/// Parameters of a business-time measure.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BusinessTimeQuery {
    /// Start instant, RFC 3339 (default: now).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub from: Option<String>,
    /// End instant, RFC 3339; not before `from`, at most 100 years after it.
    #[param(value_type = DateTime<Utc>, required = true)]
    pub to: Option<String>,
}

/// How much business time lies between two instants on this calendar.
#[utoipa::path(
    get, path = "/api/v1/calendars/{id}/business-time", tag = "calendars",
    params(("id" = i64, Path, description = "Calendar id"), BusinessTimeQuery),
    responses((status = 200, description = "Business time between the two instants", body = BusinessTime)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role"])))
)]
#[get("/calendars/{id}/business-time")]
pub async fn business_time(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    query: ValidQuery<BusinessTimeQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&Role::ALL)?;
    let mut p = Problems::default();
    let from = p.take(instant_param("from", query.from.as_deref()));
    let to = p.take(instant_param("to", query.to.as_deref()));
    if blank(query.to.as_deref()) {
        p.push(FieldError::new("to", "required", "the end of the span"));
    }
    p.finish()?;
    let from = from.unwrap_or_else(|| state.clock.now());
    let to = to.expect("checked above");
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(calendar::business_time(&mut conn, *id, from, to).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_calendars,
        get_calendar,
        create_calendar,
        add_holiday,
        delete_holiday,
        deadline,
        business_time,
    ),
    components(schemas(
        TimeRange,
        CalendarSummary,
        CalendarView,
        HolidayView,
        NewCalendar,
        NewHoliday,
        Deadline,
        BusinessTime,
    ))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_calendars)
        .service(create_calendar)
        .service(get_calendar)
        .service(add_holiday)
        .service(delete_holiday)
        .service(deadline)
        .service(business_time);
}
