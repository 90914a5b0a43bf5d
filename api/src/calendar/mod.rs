//! Business calendars (SPEC §6): a time zone, working weekdays, the business day and
//! holidays; what deadlines and SLA clocks are counted in. Loading one into the domain's
//! [`BusinessCalendar`], and keeping them.
pub mod rules;

use crate::db::models::{Calendar, HolidayRow};
use crate::db::schema::{calendars, holiday_rules, holidays};
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::input::{not_blank, parse_tz, Problems};
use chrono::Datelike;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::calendar::{BusinessCalendar, CalendarError, DayRange, Holiday};
use domain::holiday_rules::{holidays_for, years_around, HolidayRule, RuleDate};
use domain::schedule::{parse_weekday, weekday_name};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Years a date or instant may fall in: wide for any real use, and far from the limits of
/// the date types (so arithmetic on them cannot overflow).
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// Most business hours a deadline may add (about 40 years of 12-hour weekdays).
pub const MAX_HOURS: f64 = 100_000.0;

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
        .map_err(|e| ApiError::context(format!("reading {what}"), e))?;
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
pub fn calendar_error(e: CalendarError, no_days: bool) -> ApiError {
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

pub async fn find_calendar(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Calendar> {
    calendars::table
        .find(id)
        .select(Calendar::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("calendar {id}")))
}

pub fn in_years(field: &str, year: i32) -> ApiResult<()> {
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

#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessTime {
    pub calendar_id: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Whole minutes of business time in `[from, to)`.
    pub minutes: i64,
}

/// Calendars by code.
pub async fn list(conn: &mut AsyncPgConnection) -> ApiResult<Vec<CalendarSummary>> {
    let rows: Vec<Calendar> = calendars::table
        .order(calendars::code)
        .select(Calendar::as_select())
        .load(conn)
        .await?;
    rows.into_iter().map(summary).collect()
}

/// A calendar with its holidays (of `year`, or all), by date.
pub async fn get(
    conn: &mut AsyncPgConnection,
    id: i64,
    year: Option<i32>,
) -> ApiResult<CalendarView> {
    if let Some(y) = year {
        in_years("year", y)?;
    }
    let cal = find_calendar(conn, id).await?;
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
        .load(conn)
        .await?;
    let s = summary(cal)?;
    Ok(CalendarView {
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
    })
}

/// Creates a calendar (without holidays; they are added one by one).
pub async fn create(
    conn: &mut AsyncPgConnection,
    body: &NewCalendar,
) -> ApiResult<CalendarSummary> {
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
    let hours = serde_json::to_value(bc.day_ranges())?;
    let cal: Calendar = diesel::insert_into(calendars::table)
        .values((
            calendars::code.eq(body.code.trim()),
            calendars::name.eq(body.name.trim()),
            calendars::timezone.eq(tz.name()),
            calendars::working_days.eq(&working),
            calendars::business_hours.eq(&hours),
        ))
        .returning(Calendar::as_returning())
        .get_result(conn)
        .await?;
    summary(cal)
}

/// Adds a holiday (whole or partial day) to calendar `cal_id`.
pub async fn add_holiday(
    conn: &mut AsyncPgConnection,
    cal_id: i64,
    body: &NewHoliday,
) -> ApiResult<HolidayView> {
    use chrono::Datelike;
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
    let open = serde_json::to_value(&open)?;
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
    holiday_view(row)
}

pub async fn delete_holiday(
    conn: &mut AsyncPgConnection,
    cal_id: i64,
    date: NaiveDate,
) -> ApiResult<()> {
    let n = diesel::delete(
        holidays::table
            .filter(holidays::calendar_id.eq(cal_id))
            .filter(holidays::date.eq(date)),
    )
    .execute(conn)
    .await?;
    if n == 0 {
        return Err(ApiError::not_found(format!(
            "holiday {date} in calendar {cal_id}"
        )));
    }
    Ok(())
}

/// When `hours` business hours after `from` fall on calendar `id`.
pub async fn deadline(
    conn: &mut AsyncPgConnection,
    id: i64,
    from: DateTime<Utc>,
    hours: f64,
) -> ApiResult<Deadline> {
    let (cal, bc) = load_calendar(conn, id, from).await?;
    let amount = Duration::milliseconds((hours * 3_600_000.0).round() as i64);
    let due = bc
        .add_business_hours(from, amount)
        .map_err(|e| calendar_error(e, false))?;
    Ok(Deadline {
        calendar_id: cal.id,
        timezone: cal.timezone,
        from,
        hours,
        deadline: due,
        deadline_local: due
            .with_timezone(&bc.tz())
            .to_rfc3339_opts(SecondsFormat::AutoSi, false),
    })
}

/// Business time in `[from, to)` on calendar `id`.
pub async fn business_time(
    conn: &mut AsyncPgConnection,
    id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<BusinessTime> {
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
    let (cal, bc) = load_calendar(conn, id, from).await?;
    Ok(BusinessTime {
        calendar_id: cal.id,
        from,
        to,
        minutes: bc.business_time_between(from, to).num_minutes(),
    })
}

fn calendar_with(cal: &Calendar, holidays: Vec<Holiday>) -> ApiResult<BusinessCalendar> {
    let tz = parse_tz("timezone", &cal.timezone)?;
    let days = cal
        .working_days
        .iter()
        .map(|d| {
            parse_weekday(d)
                .map_err(|e| ApiError::context(format!("reading calendar {}", cal.id), e))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let ranges: Vec<DayRange> = serde_json::from_value(cal.business_hours.clone())
        .map_err(|e| ApiError::context(format!("reading calendar {}", cal.id), e))?;
    BusinessCalendar::new(tz, &days, ranges, holidays)
        .map_err(|e| ApiError::context(format!("reading calendar {}", cal.id), e))
}

/// A calendar as computations see it: its own dated holidays, those of the calendars it
/// includes (national, state, municipal…), and every one's holiday rules expanded for the
/// years around `around` (see [`years_around`]). A date listed on the calendar itself wins
/// over an included one or a rule on the same day.
pub async fn load_calendar(
    conn: &mut AsyncPgConnection,
    calendar_id: i64,
    around: DateTime<Utc>,
) -> ApiResult<(Calendar, BusinessCalendar)> {
    use diesel::sql_types::{Array, BigInt, Jsonb, Text};
    // One round trip: the calendar, and the dated holidays and rules of it and of every
    // calendar it includes. UNION, not UNION ALL: a cycle of includes ends instead of looping.
    #[derive(diesel::QueryableByName)]
    struct Loaded {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        code: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        timezone: String,
        #[diesel(sql_type = Array<Text>)]
        working_days: Vec<String>,
        #[diesel(sql_type = Jsonb)]
        business_hours: serde_json::Value,
        #[diesel(sql_type = Jsonb)]
        holidays: serde_json::Value,
        #[diesel(sql_type = Jsonb)]
        rules: serde_json::Value,
    }
    let found: Option<Loaded> = diesel::sql_query(
        "WITH RECURSIVE inc(id, depth) AS (
           SELECT $1::bigint, 0
           UNION
           SELECT ci.included_id, inc.depth + 1 FROM calendar_includes ci
           JOIN inc ON ci.calendar_id = inc.id WHERE inc.depth < 8
         )
         SELECT c.id, c.code, c.name, c.timezone, c.working_days, c.business_hours,
           COALESCE((SELECT jsonb_agg(jsonb_build_object('id', h.id, 'own', h.calendar_id = c.id,
               'date', h.date, 'name', h.name, 'open', h.open_hours) ORDER BY h.date, h.id)
             FROM holidays h WHERE h.calendar_id IN (SELECT DISTINCT id FROM inc)), '[]') AS holidays,
           COALESCE((SELECT jsonb_agg(jsonb_build_object('id', r.id, 'own', r.calendar_id = c.id,
               'name', r.name, 'month', r.month, 'day', r.day, 'easter_offset', r.easter_offset,
               'open', r.open_hours, 'first_year', r.first_year, 'last_year', r.last_year)
               ORDER BY r.calendar_id <> c.id, r.id)
             FROM holiday_rules r WHERE r.calendar_id IN (SELECT DISTINCT id FROM inc)), '[]') AS rules
         FROM calendars c WHERE c.id = $1",
    )
    .bind::<BigInt, _>(calendar_id)
    .get_result(conn)
    .await
    .optional()?;
    let l = found.ok_or_else(|| ApiError::not_found(format!("calendar {calendar_id}")))?;
    let context =
        |e: serde_json::Error| ApiError::context(format!("reading calendar {calendar_id}"), e);
    #[derive(Deserialize)]
    struct DatedRow {
        own: bool,
        date: NaiveDate,
        name: String,
        open: Vec<DayRange>,
    }
    #[derive(Deserialize)]
    struct RuleRow {
        id: i64,
        name: String,
        month: Option<i32>,
        day: Option<i32>,
        easter_offset: Option<i32>,
        open: serde_json::Value,
        first_year: Option<i32>,
        last_year: Option<i32>,
    }
    let mut dated: Vec<DatedRow> = serde_json::from_value(l.holidays).map_err(context)?;
    // Included calendars' dates first, the calendar's own last: the last one on a day wins.
    dated.sort_by_key(|h| (h.own, h.date));
    let dated: Vec<Holiday> = dated
        .into_iter()
        .map(|h| Holiday {
            date: h.date,
            name: h.name,
            open: h.open,
        })
        .collect();
    let rules: Vec<RuleRow> = serde_json::from_value(l.rules).map_err(context)?;
    let rules = rules
        .into_iter()
        .map(|r| {
            HolidayRuleRow {
                id: r.id,
                calendar_id,
                name: r.name,
                month: r.month,
                day: r.day,
                easter_offset: r.easter_offset,
                open_hours: r.open,
                first_year: r.first_year,
                last_year: r.last_year,
            }
            .rule()
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let cal = Calendar {
        id: l.id,
        code: l.code,
        name: l.name,
        timezone: l.timezone,
        working_days: l.working_days,
        business_hours: l.business_hours,
    };
    let merged = holidays_for(&rules, dated, years_around(around.year()));
    let bc = calendar_with(&cal, merged)?;
    Ok((cal, bc))
}

/// A stored holiday rule.
/// How long a calendar loaded for SLA clocks is kept in memory.
pub const CLOCK_CALENDAR_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// A calendar loaded for clocks: its row (code, time zone) and the computed calendar.
pub type SharedCalendar = std::sync::Arc<(Calendar, BusinessCalendar)>;

type CalendarCache =
    std::sync::Mutex<std::collections::HashMap<(i64, i32), (std::time::Instant, SharedCalendar)>>;

static CLOCK_CALENDARS: std::sync::LazyLock<CalendarCache> =
    std::sync::LazyLock::new(Default::default);

/// [`load_calendar`] for SLA clocks, which read a calendar on every ticket request: kept per
/// process for [`CLOCK_CALENDAR_TTL`] by calendar and year (holidays and rules change
/// rarely; an edit reaches the clocks within that time). Calendar endpoints and change
/// management read the database each time.
pub async fn clock_calendar(
    conn: &mut AsyncPgConnection,
    calendar_id: i64,
    around: DateTime<Utc>,
) -> ApiResult<SharedCalendar> {
    let key = (calendar_id, around.year());
    if let Some((at, cal)) = CLOCK_CALENDARS.lock().expect("cache lock").get(&key) {
        if at.elapsed() < CLOCK_CALENDAR_TTL {
            return Ok(cal.clone());
        }
    }
    let loaded = std::sync::Arc::new(load_calendar(conn, calendar_id, around).await?);
    let mut cache = CLOCK_CALENDARS.lock().expect("cache lock");
    // Bounded: calendars × years in use is small; an overgrown map is simply emptied.
    if cache.len() > 1024 {
        cache.clear();
    }
    cache.insert(key, (std::time::Instant::now(), loaded.clone()));
    Ok(loaded)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = holiday_rules)]
pub struct HolidayRuleRow {
    pub id: i64,
    pub calendar_id: i64,
    pub name: String,
    pub month: Option<i32>,
    pub day: Option<i32>,
    pub easter_offset: Option<i32>,
    pub open_hours: serde_json::Value,
    pub first_year: Option<i32>,
    pub last_year: Option<i32>,
}

impl HolidayRuleRow {
    pub fn rule(&self) -> ApiResult<HolidayRule> {
        let date = match (self.month, self.day, self.easter_offset) {
            (Some(month), Some(day), None) => RuleDate::Fixed {
                month: month as u32,
                day: day as u32,
            },
            (None, None, Some(offset_days)) => RuleDate::Easter { offset_days },
            _ => {
                return Err(ApiError::internal(format!(
                    "holiday rule {} is neither fixed nor Easter-relative",
                    self.id
                )))
            }
        };
        Ok(HolidayRule {
            name: self.name.clone(),
            date,
            open: serde_json::from_value(self.open_hours.clone())
                .map_err(|e| ApiError::context(format!("reading holiday rule {}", self.id), e))?,
            first_year: self.first_year,
            last_year: self.last_year,
        })
    }
}
