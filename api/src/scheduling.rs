//! Loads calendars and the calendar policy from the database into domain types, and
//! materialises meeting and window occurrences when they are first needed.
use crate::error::{ApiError, ApiResult};
use crate::models::{Calendar, HolidayRow, Meeting, PolicyRow, Window};
use crate::schema::{
    calendar_policies, calendars, committee_meetings, holidays, maintenance_windows,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::calendar::{BusinessCalendar, DayRange, Holiday};
use domain::schedule::{parse_time, parse_weekday, CalendarPolicy, WeeklySlot};

/// How far ahead occurrences are materialised when booking.
pub const HORIZON_WEEKS: i64 = 12;

pub fn parse_tz(field: &str, s: &str) -> ApiResult<chrono_tz::Tz> {
    s.parse::<chrono_tz::Tz>().map_err(|_| {
        ApiError::validation(
            field,
            "invalid",
            format!("`{s}` is not an IANA time zone (e.g. America/Sao_Paulo)"),
        )
    })
}

pub fn calendar_from_rows(cal: &Calendar, hols: &[HolidayRow]) -> ApiResult<BusinessCalendar> {
    let tz = parse_tz("timezone", &cal.timezone)?;
    let days = cal
        .working_days
        .iter()
        .map(|d| {
            parse_weekday(d).map_err(|e| ApiError::internal(format!("calendar {}: {e}", cal.id)))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let ranges: Vec<DayRange> =
        serde_json::from_value(cal.business_hours.clone()).map_err(ApiError::internal)?;
    let holidays = hols
        .iter()
        .map(|h| {
            Ok(Holiday {
                date: h.date,
                name: h.name.clone(),
                open: serde_json::from_value(h.open_hours.clone()).map_err(ApiError::internal)?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    BusinessCalendar::new(tz, &days, ranges, holidays).map_err(ApiError::internal)
}

pub async fn load_calendar(
    conn: &mut AsyncPgConnection,
    calendar_id: i64,
) -> ApiResult<(Calendar, BusinessCalendar)> {
    let cal: Calendar = calendars::table
        .find(calendar_id)
        .select(Calendar::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("calendar {calendar_id}")))?;
    let hols: Vec<HolidayRow> = holidays::table
        .filter(holidays::calendar_id.eq(calendar_id))
        .order(holidays::date)
        .select(HolidayRow::as_select())
        .load(conn)
        .await?;
    let bc = calendar_from_rows(&cal, &hols)?;
    Ok((cal, bc))
}

pub fn policy_from_row(p: &PolicyRow) -> ApiResult<CalendarPolicy> {
    let err = |e: domain::schedule::ScheduleError| {
        ApiError::internal(format!("policy v{}: {e}", p.version))
    };
    let tz = parse_tz("timezone", &p.timezone)?;
    let meeting = WeeklySlot::new(
        parse_weekday(&p.meeting_weekday).map_err(err)?,
        parse_time("meeting_start", &p.meeting_start).map_err(err)?,
        p.meeting_duration_minutes as u32,
    )
    .map_err(err)?;
    let window = WeeklySlot::new(
        parse_weekday(&p.window_weekday).map_err(err)?,
        parse_time("window_start", &p.window_start).map_err(err)?,
        p.window_duration_minutes as u32,
    )
    .map_err(err)?;
    CalendarPolicy::new(
        tz,
        meeting,
        parse_time("cutoff_time", &p.cutoff_time).map_err(err)?,
        window,
    )
    .map_err(err)
}

pub async fn current_policy(conn: &mut AsyncPgConnection) -> ApiResult<PolicyRow> {
    calendar_policies::table
        .order(calendar_policies::version.desc())
        .select(PolicyRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| {
            ApiError::conflict(
                "no_calendar_policy",
                "no calendar policy is defined yet (run `gmud seed`)",
            )
        })
}

/// Makes sure the committee's meeting occurrences in [from, until) exist; returns them in order.
pub async fn ensure_meetings(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Meeting>> {
    let row = current_policy(conn).await?;
    let policy = policy_from_row(&row)?;
    let (_, cal) = load_calendar(conn, row.calendar_id).await?;
    let occ = policy.meetings(from, until, |d| cal.holiday_on(d).is_some());
    if !occ.is_empty() {
        let values: Vec<_> = occ
            .iter()
            .map(|m| {
                (
                    committee_meetings::committee_id.eq(committee_id),
                    committee_meetings::original_date.eq(m.occurrence.original_date),
                    committee_meetings::starts_at.eq(m.occurrence.starts_at),
                    committee_meetings::ends_at.eq(m.occurrence.ends_at),
                    committee_meetings::cutoff_at.eq(m.cutoff_at),
                    committee_meetings::on_holiday.eq(m.on_holiday),
                    committee_meetings::policy_version.eq(row.version),
                )
            })
            .collect();
        let created: Vec<Meeting> = diesel::insert_into(committee_meetings::table)
            .values(values)
            .on_conflict_do_nothing()
            .returning(Meeting::as_returning())
            .get_results(conn)
            .await?;
        // A meeting's timers are set when it comes to exist, in the same transaction.
        for m in &created {
            crate::committee_clock::schedule_meeting_timers(conn, m, now).await?;
        }
    }
    let dates: Vec<NaiveDate> = occ.iter().map(|m| m.occurrence.original_date).collect();
    // Rescheduled occurrences may have moved into or out of the range: select by both.
    Ok(committee_meetings::table
        .filter(committee_meetings::committee_id.eq(committee_id))
        .filter(
            committee_meetings::original_date
                .eq_any(dates)
                .or(committee_meetings::starts_at
                    .lt(until)
                    .and(committee_meetings::ends_at.gt(from))),
        )
        .order(committee_meetings::starts_at)
        .select(Meeting::as_select())
        .load(conn)
        .await?)
}

/// Makes sure the window occurrences in [from, until) exist; returns them in order.
pub async fn ensure_windows(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> ApiResult<Vec<Window>> {
    let row = current_policy(conn).await?;
    let policy = policy_from_row(&row)?;
    let occ = policy.windows(from, until);
    if !occ.is_empty() {
        let values: Vec<_> = occ
            .iter()
            .map(|w| {
                (
                    maintenance_windows::original_date.eq(w.original_date),
                    maintenance_windows::starts_at.eq(w.starts_at),
                    maintenance_windows::ends_at.eq(w.ends_at),
                    maintenance_windows::policy_version.eq(row.version),
                )
            })
            .collect();
        diesel::insert_into(maintenance_windows::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    let dates: Vec<NaiveDate> = occ.iter().map(|w| w.original_date).collect();
    Ok(maintenance_windows::table
        .filter(
            maintenance_windows::original_date
                .eq_any(dates)
                .or(maintenance_windows::starts_at
                    .lt(until)
                    .and(maintenance_windows::ends_at.gt(from))),
        )
        .order(maintenance_windows::starts_at)
        .select(Window::as_select())
        .load(conn)
        .await?)
}

/// The default range of a listing: from now, `weeks` ahead.
pub fn range_or_default(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    weeks: i64,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let from = from.unwrap_or(now);
    let to = to.unwrap_or(from + Duration::weeks(weeks));
    // Listing materialises occurrences: keep it to the years around now.
    let (earliest, latest) = (now - Duration::days(366), now + Duration::days(2 * 366));
    if from < earliest || from > latest {
        return Err(ApiError::validation(
            "from",
            "range",
            "must be within a year before and two years after now",
        ));
    }
    if to > latest + Duration::days(366) {
        return Err(ApiError::validation(
            "to",
            "range",
            "must be within three years from now",
        ));
    }
    if to <= from {
        return Err(ApiError::validation(
            "to",
            "range",
            "`to` must be after `from`",
        ));
    }
    if to - from > Duration::days(366) {
        return Err(ApiError::validation(
            "to",
            "range",
            "the range may span at most 366 days",
        ));
    }
    Ok((from, to))
}

/// A refused move of a meeting or window: 409 for the occurrence's state, 422 naming the field.
pub fn move_error(e: domain::schedule::MoveError, what: &str) -> ApiError {
    match e.field() {
        Some(field) => ApiError::validation(field, e.code(), e.to_string()),
        None => ApiError::conflict(e.code(), format!("{what}: {e}")),
    }
}
