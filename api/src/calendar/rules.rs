//! Holiday rules and included calendars (SPEC §6): a rule is a fixed day every year or a day
//! relative to Easter; a calendar includes others (national + state + municipal). The
//! effective holidays of a year are what the deadlines count with.
use super::{find_calendar, in_years, load_calendar, HolidayRuleRow, HolidayView, TimeRange};
use crate::db::schema::{calendar_includes, calendars, holiday_rules};
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::input::not_blank;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::calendar::{BusinessCalendar, DayRange, Holiday};
use domain::holiday_rules::{HolidayRule, RuleDate, RuleError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// The same month and day every year.
    Fixed,
    /// Days after Easter Sunday (negative: before).
    Easter,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHolidayRule {
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200, example = "Carnaval (segunda-feira)")]
    pub name: String,
    pub kind: RuleKind,
    /// For `fixed`: 1–12.
    pub month: Option<u32>,
    /// For `fixed`: 1–31 (a day the month has; 29 February only in leap years).
    pub day: Option<u32>,
    /// For `easter`: days after Easter Sunday, −200 to 200 (Carnival Monday −48, Good Friday
    /// −2, Corpus Christi 60).
    pub offset_days: Option<i32>,
    /// Empty (default): closed all day. Otherwise the business ranges of a partial day.
    #[serde(default)]
    #[validate(length(max = 48))]
    #[schema(value_type = Vec<TimeRange>, max_items = 48)]
    pub open: Vec<DayRange>,
    /// The first year it applies (default: always).
    pub first_year: Option<i32>,
    /// The last year it applies (default: always).
    pub last_year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    pub id: i64,
    pub name: String,
    pub kind: RuleKind,
    pub month: Option<i32>,
    pub day: Option<i32>,
    pub offset_days: Option<i32>,
    pub open: Vec<TimeRange>,
    pub first_year: Option<i32>,
    pub last_year: Option<i32>,
}

fn rule_view(r: HolidayRuleRow) -> ApiResult<RuleView> {
    let rule = r.rule()?;
    Ok(RuleView {
        id: r.id,
        name: r.name,
        kind: if r.easter_offset.is_some() {
            RuleKind::Easter
        } else {
            RuleKind::Fixed
        },
        month: r.month,
        day: r.day,
        offset_days: r.easter_offset,
        open: rule.open.iter().map(TimeRange::from).collect(),
        first_year: r.first_year,
        last_year: r.last_year,
    })
}

/// A calendar's own rules and the codes of the calendars it includes.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesView {
    pub calendar_id: i64,
    pub rules: Vec<RuleView>,
    /// Calendars whose holidays and rules this one takes too.
    pub includes: Vec<String>,
}

pub async fn rules_of(conn: &mut AsyncPgConnection, cal_id: i64) -> ApiResult<RulesView> {
    find_calendar(conn, cal_id).await?;
    let rows: Vec<HolidayRuleRow> = holiday_rules::table
        .filter(holiday_rules::calendar_id.eq(cal_id))
        .order(holiday_rules::id)
        .select(HolidayRuleRow::as_select())
        .load(conn)
        .await?;
    let includes: Vec<String> = calendar_includes::table
        .inner_join(calendars::table.on(calendars::id.eq(calendar_includes::included_id)))
        .filter(calendar_includes::calendar_id.eq(cal_id))
        .order(calendars::code)
        .select(calendars::code)
        .load(conn)
        .await?;
    Ok(RulesView {
        calendar_id: cal_id,
        rules: rows.into_iter().map(rule_view).collect::<ApiResult<_>>()?,
        includes,
    })
}

/// Adds a rule, checked by the domain (month and day exist, offset in range, years ordered,
/// the partial day's ranges valid).
pub async fn add_rule(
    conn: &mut AsyncPgConnection,
    cal_id: i64,
    body: &NewHolidayRule,
) -> ApiResult<RuleView> {
    let mut bad = Vec::new();
    let date = match body.kind {
        RuleKind::Fixed => {
            if body.month.is_none() {
                bad.push(FieldError::new(
                    "month",
                    "required",
                    "a fixed rule needs a month",
                ));
            }
            if body.day.is_none() {
                bad.push(FieldError::new(
                    "day",
                    "required",
                    "a fixed rule needs a day",
                ));
            }
            if body.offset_days.is_some() {
                bad.push(FieldError::new(
                    "offset_days",
                    "not_allowed",
                    "only an Easter rule has an offset",
                ));
            }
            RuleDate::Fixed {
                month: body.month.unwrap_or(1),
                day: body.day.unwrap_or(1),
            }
        }
        RuleKind::Easter => {
            if body.offset_days.is_none() {
                bad.push(FieldError::new(
                    "offset_days",
                    "required",
                    "an Easter rule needs an offset",
                ));
            }
            for (f, v) in [("month", body.month), ("day", body.day)] {
                if v.is_some() {
                    bad.push(FieldError::new(
                        f,
                        "not_allowed",
                        "only a fixed rule has a month and a day",
                    ));
                }
            }
            RuleDate::Easter {
                offset_days: body.offset_days.unwrap_or(0),
            }
        }
    };
    for (f, y) in [
        ("first_year", body.first_year),
        ("last_year", body.last_year),
    ] {
        if let Some(y) = y {
            if let Err(ApiError::Validation(e)) = in_years(f, y) {
                bad.extend(e);
            }
        }
    }
    let rule = HolidayRule {
        name: body.name.trim().to_string(),
        date,
        open: body.open.clone(),
        first_year: body.first_year,
        last_year: body.last_year,
    };
    if bad.is_empty() {
        if let Err(e) = rule.validate() {
            let field = match e {
                RuleError::Month(_) => "month",
                RuleError::Day { .. } => "day",
                RuleError::Offset => "offset_days",
                RuleError::Years => "last_year",
            };
            bad.push(FieldError::new(field, "invalid", e.to_string()));
        }
    }
    // The partial day's ranges, checked (and sorted) as a holiday's would be.
    let open = match BusinessCalendar::default_brazil().with_holidays(vec![Holiday::partial(
        NaiveDate::from_ymd_opt(2024, 1, 1).expect("a date"),
        "x",
        body.open.clone(),
    )]) {
        Ok(c) => c
            .holiday_on(NaiveDate::from_ymd_opt(2024, 1, 1).expect("a date"))
            .map(|h| h.open.clone())
            .unwrap_or_default(),
        Err(e) => {
            bad.push(FieldError::new("open", "invalid", e.to_string()));
            vec![]
        }
    };
    if !bad.is_empty() {
        return Err(ApiError::Validation(bad));
    }
    let (month, day, offset) = match rule.date {
        RuleDate::Fixed { month, day } => (Some(month as i32), Some(day as i32), None),
        RuleDate::Easter { offset_days } => (None, None, Some(offset_days)),
    };
    conn.transaction::<_, ApiError, _>(async |conn| {
        find_calendar(conn, cal_id).await?;
        let row: HolidayRuleRow = diesel::insert_into(holiday_rules::table)
            .values((
                holiday_rules::calendar_id.eq(cal_id),
                holiday_rules::name.eq(&rule.name),
                holiday_rules::month.eq(month),
                holiday_rules::day.eq(day),
                holiday_rules::easter_offset.eq(offset),
                holiday_rules::open_hours.eq(serde_json::to_value(&open)?),
                holiday_rules::first_year.eq(rule.first_year),
                holiday_rules::last_year.eq(rule.last_year),
            ))
            .returning(HolidayRuleRow::as_returning())
            .get_result(conn)
            .await?;
        rule_view(row)
    })
    .await
}

pub async fn delete_rule(conn: &mut AsyncPgConnection, cal_id: i64, rule_id: i64) -> ApiResult<()> {
    let n = diesel::delete(
        holiday_rules::table
            .filter(holiday_rules::calendar_id.eq(cal_id))
            .filter(holiday_rules::id.eq(rule_id)),
    )
    .execute(conn)
    .await?;
    if n == 0 {
        return Err(ApiError::not_found(format!(
            "rule {rule_id} of calendar {cal_id}"
        )));
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Includes {
    /// The calendars (by id) this one includes, replacing the current list.
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub calendar_ids: Vec<i64>,
}

/// Replaces the calendars `cal_id` includes. Refused: itself, an unknown calendar, or one that
/// (through its own includes) already includes `cal_id` (a cycle).
pub async fn set_includes(
    conn: &mut AsyncPgConnection,
    cal_id: i64,
    body: &Includes,
) -> ApiResult<RulesView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        find_calendar(conn, cal_id).await?;
        let mut bad = Vec::new();
        for id in &body.calendar_ids {
            if *id == cal_id {
                bad.push(FieldError::new("calendar_ids", "itself", "a calendar cannot include itself"));
                continue;
            }
            if find_calendar(conn, *id).await.is_err() {
                bad.push(FieldError::new("calendar_ids", "unknown", format!("no calendar {id}")));
                continue;
            }
            #[derive(diesel::QueryableByName)]
            struct Reaches {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                reaches: bool,
            }
            let r: Reaches = diesel::sql_query(
                "WITH RECURSIVE inc(id) AS (
                   SELECT $1::bigint
                   UNION
                   SELECT ci.included_id FROM calendar_includes ci JOIN inc ON ci.calendar_id = inc.id
                 ) SELECT EXISTS (SELECT 1 FROM inc WHERE id = $2) AS reaches",
            )
            .bind::<diesel::sql_types::BigInt, _>(*id)
            .bind::<diesel::sql_types::BigInt, _>(cal_id)
            .get_result(conn)
            .await?;
            if r.reaches {
                bad.push(FieldError::new(
                    "calendar_ids",
                    "cycle",
                    format!("calendar {id} already includes this one"),
                ));
            }
        }
        if !bad.is_empty() {
            return Err(ApiError::Validation(bad));
        }
        diesel::delete(calendar_includes::table.filter(calendar_includes::calendar_id.eq(cal_id)))
            .execute(conn)
            .await?;
        for id in &body.calendar_ids {
            diesel::insert_into(calendar_includes::table)
                .values((
                    calendar_includes::calendar_id.eq(cal_id),
                    calendar_includes::included_id.eq(id),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        rules_of(conn, cal_id).await
    })
    .await
}

/// The holidays a calendar counts with in `year`: its dates, its rules' and its included
/// calendars', as the deadlines see them.
pub async fn effective_holidays(
    conn: &mut AsyncPgConnection,
    cal_id: i64,
    year: i32,
) -> ApiResult<Vec<HolidayView>> {
    in_years("year", year)?;
    let mid = Utc
        .with_ymd_and_hms(year, 7, 1, 12, 0, 0)
        .single()
        .ok_or_else(|| ApiError::internal("a mid-year instant"))?;
    let (_, bc) = load_calendar(conn, cal_id, mid).await?;
    Ok(bc
        .holidays()
        .filter(|h| h.date.year() == year)
        .map(|h| HolidayView {
            date: h.date,
            name: h.name.clone(),
            open: h.open.iter().map(TimeRange::from).collect(),
        })
        .collect())
}
