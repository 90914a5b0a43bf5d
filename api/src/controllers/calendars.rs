//! `/api/v1/calendars`: business-hours calendars and their holidays (SPEC §6), and the
//! deadline arithmetic the portal shows (when a ticket will close or escalate).
use crate::auth::AuthUser;
use crate::controllers::common::{created, not_blank, query_param, Problems, CATALOG_EDITORS};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{ValidJson, ValidQuery};
use crate::models::{Calendar, HolidayRow};
use crate::scheduling::{load_calendar, parse_tz};
use crate::schema::{calendars, holidays};
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::calendar::{BusinessCalendar, CalendarError, DayRange, Holiday};
use domain::roles::Role;
use domain::schedule::{parse_weekday, weekday_name};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use validator::Validate;

/// Years a date or instant may fall in: wide for any real use, and far from the limits of
/// the date types (so arithmetic on them cannot overflow).
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// Most business hours a deadline may add (about 40 years of 12-hour weekdays).
const MAX_HOURS: f64 = 100_000.0;

/// Local time range `[start, end)` of a day, `HH:MM` (`end` may be `24:00`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimeRange {
    #[schema(example = "07:00")]
    pub start: String,
    #[schema(example = "19:00")]
    pub end: String,
}

impl From<&DayRange> for TimeRange {
    fn from(r: &DayRange) -> Self {
        TimeRange {
            start: r.start_str(),
            end: r.end_str(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// IANA time zone the business day is defined in.
    pub timezone: String,
    /// Working weekdays, Monday first.
    #[schema(example = json!(["monday", "tuesday", "wednesday", "thursday", "friday"]))]
    pub working_days: Vec<String>,
    /// Business ranges of a normal working day.
    pub business_hours: Vec<TimeRange>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayView {
    pub date: NaiveDate,
    pub name: String,
    /// Empty: closed all day. Otherwise the business ranges of a partial day.
    pub open: Vec<TimeRange>,
}

/// A calendar with its holidays, by date.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub timezone: String,
    #[schema(example = json!(["monday", "tuesday", "wednesday", "thursday", "friday"]))]
    pub working_days: Vec<String>,
    pub business_hours: Vec<TimeRange>,
    pub holidays: Vec<HolidayView>,
}

fn ranges(value: &serde_json::Value, what: &str) -> ApiResult<Vec<TimeRange>> {
    let r: Vec<DayRange> = serde_json::from_value(value.clone())
        .map_err(|e| ApiError::internal(format!("{what}: {e}")))?;
    Ok(r.iter().map(TimeRange::from).collect())
}

fn summary(c: Calendar) -> ApiResult<CalendarSummary> {
    Ok(CalendarSummary {
        business_hours: ranges(&c.business_hours, &format!("calendar {}", c.id))?,
        id: c.id,
        code: c.code,
        name: c.name,
        timezone: c.timezone,
        working_days: c.working_days,
    })
}

fn holiday_view(h: HolidayRow) -> ApiResult<HolidayView> {
    Ok(HolidayView {
        open: ranges(&h.open_hours, &format!("holiday {}", h.id))?,
        date: h.date,
        name: h.name,
    })
}

/// A calendar rule broken by a request, on the field that carries it.
fn calendar_error(e: CalendarError, no_days: bool) -> ApiError {
    let field = match &e {
        CalendarError::NoWorkingTime if no_days => "working_days",
        CalendarError::InvalidHoliday { .. } | CalendarError::DuplicateHoliday(_) => "open",
        CalendarError::HorizonExceeded => "hours",
        _ => "business_hours",
    };
    let reason = match &e {
        CalendarError::InvalidHoliday { reason, .. } => reason.to_string(),
        _ => e.to_string(),
    };
    ApiError::validation(field, "invalid", reason)
}

async fn find_calendar(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Calendar> {
    calendars::table
        .find(id)
        .select(Calendar::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("calendar {id}")))
}

fn in_years(field: &str, year: i32) -> ApiResult<()> {
    if YEARS.contains(&year) {
        Ok(())
    } else {
        Err(ApiError::validation(
            field,
            "range",
            format!(
                "the year must be between {} and {}",
                YEARS.start(),
                YEARS.end()
            ),
        ))
    }
}

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
    let rows: Vec<Calendar> = calendars::table
        .order(calendars::code)
        .select(Calendar::as_select())
        .load(&mut conn)
        .await?;
    let out = rows
        .into_iter()
        .map(summary)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(out))
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
    if let Some(y) = year {
        in_years("year", y)?;
    }
    let mut conn = state.pool.get().await?;
    let cal = find_calendar(&mut conn, *id).await?;
    let mut q = holidays::table
        .filter(holidays::calendar_id.eq(cal.id))
        .into_boxed();
    if let Some(y) = year {
        let first = NaiveDate::from_ymd_opt(y, 1, 1).expect("year in range");
        let next = NaiveDate::from_ymd_opt(y + 1, 1, 1).expect("year in range");
        q = q.filter(holidays::date.ge(first).and(holidays::date.lt(next)));
    }
    let hols: Vec<HolidayRow> = q
        .order(holidays::date)
        .select(HolidayRow::as_select())
        .load(&mut conn)
        .await?;
    let s = summary(cal)?;
    Ok(HttpResponse::Ok().json(CalendarView {
        id: s.id,
        code: s.code,
        name: s.name,
        timezone: s.timezone,
        working_days: s.working_days,
        business_hours: s.business_hours,
        holidays: hols
            .into_iter()
            .map(holiday_view)
            .collect::<ApiResult<Vec<_>>>()?,
    }))
}

fn default_timezone() -> String {
    "America/Sao_Paulo".into()
}

fn default_working_days() -> Vec<String> {
    ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .map(String::from)
        .to_vec()
}

fn default_business_hours() -> Vec<DayRange> {
    vec![DayRange::new(7 * 60, 19 * 60).expect("07:00-19:00 is a range")]
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCalendar {
    /// Unique.
    #[validate(length(min = 1, max = 40), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 40, example = "BR-SP")]
    pub code: String,
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// IANA time zone (default `America/Sao_Paulo`).
    #[serde(default = "default_timezone")]
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64, example = "America/Sao_Paulo")]
    pub timezone: String,
    /// Weekday names (default Monday to Friday).
    #[serde(default = "default_working_days")]
    #[validate(length(min = 1, max = 7))]
    #[schema(min_items = 1, max_items = 7, example = json!(["monday", "tuesday", "wednesday", "thursday", "friday"]))]
    pub working_days: Vec<String>,
    /// Business ranges of a normal day, not overlapping (default 07:00–19:00).
    #[serde(default = "default_business_hours")]
    #[validate(length(min = 1, max = 48))]
    #[schema(value_type = Vec<TimeRange>, min_items = 1, max_items = 48)]
    pub business_hours: Vec<DayRange>,
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
    let body = body.0;
    let mut p = Problems::default();
    let tz = p.take(parse_tz("timezone", body.timezone.trim()).map(Some));
    let mut days = Vec::new();
    for d in &body.working_days {
        match parse_weekday(d.trim()) {
            Ok(w) => days.push(w),
            Err(e) => p.push(FieldError::new("working_days", "invalid", e.to_string())),
        }
    }
    p.finish()?;
    let tz = tz.expect("checked above");
    // The domain validates the whole calendar (ranges sorted, no overlap, some working time).
    let bc = BusinessCalendar::new(tz, &days, body.business_hours.clone(), vec![])
        .map_err(|e| calendar_error(e, days.is_empty()))?;
    let working: Vec<String> = bc
        .working_days()
        .into_iter()
        .map(|w| weekday_name(w).to_string())
        .collect();
    let hours = serde_json::to_value(bc.day_ranges()).map_err(ApiError::internal)?;
    let mut conn = state.pool.get().await?;
    let cal: Calendar = diesel::insert_into(calendars::table)
        .values((
            calendars::code.eq(body.code.trim()),
            calendars::name.eq(body.name.trim()),
            calendars::timezone.eq(tz.name()),
            calendars::working_days.eq(&working),
            calendars::business_hours.eq(&hours),
        ))
        .returning(Calendar::as_returning())
        .get_result(&mut conn)
        .await?;
    Ok(created(
        format!("/api/v1/calendars/{}", cal.id),
        &summary(cal)?,
    ))
}

// ---------------------------------------------------------------------------------------
// Holidays.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHoliday {
    /// Local date, `YYYY-MM-DD`; one holiday per date.
    #[schema(example = "2026-12-24")]
    pub date: NaiveDate,
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200, example = "Véspera de Natal")]
    pub name: String,
    /// Empty (default): closed all day. Otherwise the business ranges of a partial day.
    #[serde(default)]
    #[validate(length(max = 48))]
    #[schema(value_type = Vec<TimeRange>, max_items = 48)]
    pub open: Vec<DayRange>,
}

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
    let body = body.0;
    in_years("date", body.date.year())?;
    // Let the domain check (and sort) the partial day's ranges.
    let checked = BusinessCalendar::default_brazil()
        .with_holidays(vec![Holiday::partial(
            body.date,
            body.name.trim(),
            body.open.clone(),
        )])
        .map_err(|e| calendar_error(e, false))?;
    let open = checked
        .holiday_on(body.date)
        .map(|h| h.open.clone())
        .unwrap_or_default();
    let open = serde_json::to_value(&open).map_err(ApiError::internal)?;
    let mut conn = state.pool.get().await?;
    let cal_id = *id;
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let cal = find_calendar(conn, cal_id).await?;
            Ok(diesel::insert_into(holidays::table)
                .values((
                    holidays::calendar_id.eq(cal.id),
                    holidays::date.eq(body.date),
                    holidays::name.eq(body.name.trim()),
                    holidays::open_hours.eq(&open),
                ))
                .returning(HolidayRow::as_returning())
                .get_result::<HolidayRow>(conn)
                .await?)
        })
        .await?;
    Ok(created(
        format!("/api/v1/calendars/{cal_id}/holidays/{}", row.date),
        &holiday_view(row)?,
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
    let n = diesel::delete(
        holidays::table
            .filter(holidays::calendar_id.eq(cal_id))
            .filter(holidays::date.eq(date)),
    )
    .execute(&mut conn)
    .await?;
    if n == 0 {
        return Err(ApiError::not_found(format!(
            "holiday {date} in calendar {cal_id}"
        )));
    }
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

#[derive(Debug, Serialize, ToSchema)]
pub struct Deadline {
    pub calendar_id: i64,
    /// The calendar's time zone.
    pub timezone: String,
    pub from: DateTime<Utc>,
    pub hours: f64,
    /// `from` plus `hours` of business time; a deadline that completes exactly at closing
    /// time is that closing time.
    pub deadline: DateTime<Utc>,
    /// The deadline in the calendar's time zone, RFC 3339 with offset.
    #[schema(example = "2026-11-30T09:00:00-03:00")]
    pub deadline_local: String,
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
    let (cal, bc) = load_calendar(&mut conn, *id).await?;
    drop(conn);
    let amount = Duration::milliseconds((hours * 3_600_000.0).round() as i64);
    let due = bc
        .add_business_hours(from, amount)
        .map_err(|e| calendar_error(e, false))?;
    Ok(HttpResponse::Ok().json(Deadline {
        calendar_id: cal.id,
        timezone: cal.timezone,
        from,
        hours,
        deadline: due,
        deadline_local: due
            .with_timezone(&bc.tz())
            .to_rfc3339_opts(SecondsFormat::AutoSi, false),
    }))
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

#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessTime {
    pub calendar_id: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Whole minutes of business time in `[from, to)`.
    pub minutes: i64,
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
    if to < from {
        return Err(ApiError::validation(
            "to",
            "range",
            "`to` must not be before `from`",
        ));
    }
    if to - from > Duration::days(36525) {
        return Err(ApiError::validation(
            "to",
            "range",
            "the span may be at most 100 years",
        ));
    }
    let mut conn = state.pool.get().await?;
    let (cal, bc) = load_calendar(&mut conn, *id).await?;
    drop(conn);
    Ok(HttpResponse::Ok().json(BusinessTime {
        calendar_id: cal.id,
        from,
        to,
        minutes: bc.business_time_between(from, to).num_minutes(),
    }))
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
