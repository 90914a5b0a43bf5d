//! The calendar policy (SPEC §3.4): when the CM meets, its cut-off and the weekly window.
//! Data the change manager edits, versioned and append-only: the policy in force is the
//! highest version.
use crate::db::enums::Stored;
use crate::db::models::PolicyRow;
use crate::db::schema::{
    calendar_policies, calendars, committee_meetings, events, maintenance_windows, rdm_votes, rdms,
    window_flexes,
};
use crate::events::Entity;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::input::{check_if_match, parse_tz};
use chrono::{DateTime, NaiveTime, Utc};
use diesel::dsl::{exists, max, not};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::schedule::MeetingStatus;
use domain::schedule::{
    parse_time, parse_weekday, weekday_name, CalendarPolicy, ScheduleError, WeeklySlot,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    pub version: i32,
    /// IANA time zone the weekly rules are read in.
    pub timezone: String,
    /// The business calendar whose holidays flag meetings.
    pub calendar_id: i64,
    /// monday..sunday.
    pub meeting_weekday: String,
    /// Local time, HH:MM.
    pub meeting_start: String,
    pub meeting_duration_minutes: i32,
    /// Local time on the meeting day, HH:MM: RDMs ready before it go on that meeting's agenda.
    pub cutoff_time: String,
    pub window_weekday: String,
    pub window_start: String,
    pub window_duration_minutes: i32,
    pub note: String,
    /// How many days ahead a meeting on a holiday is flagged to the change managers.
    pub holiday_notice_days: i32,
    /// How long the CME's e-mail vote links stay valid, in hours.
    pub cme_vote_hours: i32,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<PolicyRow> for PolicyView {
    fn from(p: PolicyRow) -> Self {
        PolicyView {
            version: p.version,
            timezone: p.timezone,
            calendar_id: p.calendar_id,
            meeting_weekday: p.meeting_weekday,
            meeting_start: p.meeting_start,
            meeting_duration_minutes: p.meeting_duration_minutes,
            cutoff_time: p.cutoff_time,
            window_weekday: p.window_weekday,
            window_start: p.window_start,
            window_duration_minutes: p.window_duration_minutes,
            note: p.note,
            holiday_notice_days: p.holiday_notice_days,
            cme_vote_hours: p.cme_vote_hours,
            created_by: p.created_by,
            created_at: p.created_at,
        }
    }
}

/// A whole new policy; it becomes the next version. Formats are checked by the domain
/// (all bad fields at once), only lengths up front.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// IANA time zone, e.g. `America/Sao_Paulo`.
    #[validate(length(max = 64))]
    #[schema(max_length = 64, example = "America/Sao_Paulo")]
    pub timezone: String,
    pub calendar_id: i64,
    /// monday..sunday.
    #[validate(length(max = 20))]
    #[schema(max_length = 20, example = "tuesday")]
    pub meeting_weekday: String,
    /// HH:MM, local.
    #[validate(length(max = 5))]
    #[schema(max_length = 5, example = "14:00")]
    pub meeting_start: String,
    #[validate(range(min = 1, max = 1440))]
    #[schema(minimum = 1, maximum = 1440)]
    pub meeting_duration_minutes: i32,
    /// HH:MM, local, on the meeting day; not after `meeting_start`.
    #[validate(length(max = 5))]
    #[schema(max_length = 5, example = "10:00")]
    pub cutoff_time: String,
    #[validate(length(max = 20))]
    #[schema(max_length = 20, example = "thursday")]
    pub window_weekday: String,
    #[validate(length(max = 5))]
    #[schema(max_length = 5, example = "00:00")]
    pub window_start: String,
    #[validate(range(min = 1, max = 10080))]
    #[schema(minimum = 1, maximum = 10080)]
    pub window_duration_minutes: i32,
    /// Why the policy changes.
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: String,
    /// Days ahead a meeting on a holiday is flagged to the change managers (default 14).
    #[serde(default = "default_holiday_notice_days")]
    #[validate(range(min = 1, max = 90))]
    #[schema(minimum = 1, maximum = 90, default = 14)]
    pub holiday_notice_days: i32,
    /// Hours the CME's e-mail vote links stay valid (default 24).
    #[serde(default = "default_cme_vote_hours")]
    #[validate(range(min = 1, max = 168))]
    #[schema(minimum = 1, maximum = 168, default = 24)]
    pub cme_vote_hours: i32,
}

fn default_holiday_notice_days() -> i32 {
    14
}
fn default_cme_vote_hours() -> i32 {
    24
}

/// The input checked by the domain, normalised (weekday names, HH:MM), or every bad field.
fn checked(input: &PolicyInput) -> Result<PolicyInput, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = Vec::new();
    let bad = |field: &str, e: ScheduleError| FieldError::new(field, "invalid", e.to_string());
    let tz = match parse_tz("timezone", input.timezone.trim()) {
        Ok(tz) => Some(tz),
        Err(ApiError::Validation(v)) => {
            errors.extend(v);
            None
        }
        Err(e) => {
            errors.push(FieldError::new("timezone", "invalid", e.to_string()));
            None
        }
    };
    let mut day = |field: &str, s: &str| {
        parse_weekday(s.trim())
            .map_err(|e| errors.push(bad(field, e)))
            .ok()
    };
    let meeting_day = day("meeting_weekday", &input.meeting_weekday);
    let window_day = day("window_weekday", &input.window_weekday);
    let mut time = |field: &'static str, s: &str| {
        parse_time(field, s.trim())
            .map_err(|e| errors.push(bad(field, e)))
            .ok()
    };
    let meeting_start = time("meeting_start", &input.meeting_start);
    let cutoff = time("cutoff_time", &input.cutoff_time);
    let window_start = time("window_start", &input.window_start);
    let mut slot = |field: &str, day, start, minutes: i32| match (day, start) {
        (Some(d), Some(s)) => WeeklySlot::new(d, s, minutes.max(0) as u32)
            .map_err(|e| errors.push(bad(field, e)))
            .ok(),
        _ => None,
    };
    let meeting = slot(
        "meeting_duration_minutes",
        meeting_day,
        meeting_start,
        input.meeting_duration_minutes,
    );
    let window = slot(
        "window_duration_minutes",
        window_day,
        window_start,
        input.window_duration_minutes,
    );
    let (Some(tz), Some(m), Some(c), Some(w)) = (tz, meeting, cutoff, window) else {
        return Err(errors);
    };
    if let Err(e) = CalendarPolicy::new(tz, m, c, w) {
        errors.push(bad("cutoff_time", e));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let hm = |t: NaiveTime| t.format("%H:%M").to_string();
    Ok(PolicyInput {
        timezone: tz.name().to_string(),
        calendar_id: input.calendar_id,
        meeting_weekday: weekday_name(m.weekday()).to_string(),
        meeting_start: hm(m.start()),
        meeting_duration_minutes: input.meeting_duration_minutes,
        cutoff_time: hm(c),
        window_weekday: weekday_name(w.weekday()).to_string(),
        window_start: hm(w.start()),
        window_duration_minutes: input.window_duration_minutes,
        note: input.note.trim().to_string(),
        holiday_notice_days: input.holiday_notice_days,
        cme_vote_hours: input.cme_vote_hours,
    })
}

pub fn policy_from_row(p: &PolicyRow) -> ApiResult<CalendarPolicy> {
    let err = |e: domain::schedule::ScheduleError| {
        ApiError::context(format!("reading calendar policy v{}", p.version), e)
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

/// The versions, newest first (the audit trail).
pub async fn versions(conn: &mut AsyncPgConnection) -> ApiResult<Vec<PolicyView>> {
    let rows: Vec<PolicyRow> = calendar_policies::table
        .order(calendar_policies::version.desc())
        .select(PolicyRow::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(PolicyView::from).collect())
}

/// Saves `body` as the next version. Future meetings and windows that nothing refers to
/// (no RDM, vote, move or flex) are dropped and regenerate from the new version; the others
/// keep their times. `if_match` refuses a concurrent change.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    body: &PolicyInput,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<PolicyView> {
    let mut input = checked(body).map_err(ApiError::Validation)?;
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let known: i64 = calendars::table
                .find(input.calendar_id)
                .count()
                .get_result(conn)
                .await?;
            if known == 0 {
                return Err(ApiError::validation(
                    "calendar_id",
                    "unknown",
                    format!("no calendar {}", input.calendar_id),
                ));
            }
            let current: Option<i32> = calendar_policies::table
                .select(max(calendar_policies::version))
                .first(conn)
                .await?;
            check_if_match(if_match, current.unwrap_or(0), false)?;
            let row = PolicyRow {
                version: current.unwrap_or(0) + 1,
                timezone: std::mem::take(&mut input.timezone),
                calendar_id: input.calendar_id,
                meeting_weekday: std::mem::take(&mut input.meeting_weekday),
                meeting_start: std::mem::take(&mut input.meeting_start),
                meeting_duration_minutes: input.meeting_duration_minutes,
                cutoff_time: std::mem::take(&mut input.cutoff_time),
                window_weekday: std::mem::take(&mut input.window_weekday),
                window_start: std::mem::take(&mut input.window_start),
                window_duration_minutes: input.window_duration_minutes,
                note: std::mem::take(&mut input.note),
                holiday_notice_days: input.holiday_notice_days,
                cme_vote_hours: input.cme_vote_hours,
                created_by: Some(user_id),
                created_at: now,
            };
            // Two concurrent PUTs read the same current version; the primary key lets one win.
            match diesel::insert_into(calendar_policies::table)
                .values(&row)
                .execute(conn)
                .await
            {
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
                    if info.constraint_name() == Some("calendar_policies_pkey") =>
                {
                    return Err(ApiError::conflict(
                        "concurrent_update",
                        "another calendar policy version was saved at the same time; reload and retry",
                    ));
                }
                r => r?,
            };
            // Unreferenced future occurrences regenerate from the new version when next listed.
            diesel::delete(
                committee_meetings::table
                    .filter(committee_meetings::starts_at.gt(now))
                    .filter(committee_meetings::status.eq(MeetingStatus::Scheduled.db()))
                    .filter(committee_meetings::rescheduled.eq(false))
                    .filter(not(exists(
                        rdms::table.filter(rdms::meeting_id.eq(committee_meetings::id.nullable())),
                    )))
                    .filter(not(exists(rdm_votes::table.filter(
                        rdm_votes::meeting_id.eq(committee_meetings::id.nullable()),
                    ))))
                    // Nothing happened to it yet (no move, no frozen agenda, no notice).
                    .filter(not(exists(
                        events::table
                            .filter(events::entity.eq(Entity::Meeting.db()))
                            .filter(events::entity_id.eq(committee_meetings::id)),
                    ))),
            )
            .execute(conn)
            .await?;
            diesel::delete(
                maintenance_windows::table
                    .filter(maintenance_windows::starts_at.gt(now))
                    .filter(maintenance_windows::flexed.eq(false))
                    .filter(not(exists(
                        rdms::table.filter(rdms::window_id.eq(maintenance_windows::id.nullable())),
                    )))
                    .filter(not(exists(window_flexes::table.filter(
                        window_flexes::window_id.eq(maintenance_windows::id),
                    )))),
            )
            .execute(conn)
            .await?;
            Ok(row)
        })
        .await?;
    Ok(PolicyView::from(row))
}
