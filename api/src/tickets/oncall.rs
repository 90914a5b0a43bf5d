//! On-call (SPEC §4.4): who is on call for a team at an instant, from the team's rotations
//! (the cloud team's stand-by outside business hours, weekends and holidays; the Thursday
//! 00:00–06:00 window rotation) and overrides. The rule is `domain::escalation::on_call`.
use crate::calendar::load_calendar;
use crate::db::enums::Stored;
use crate::db::models::User;
use crate::db::schema::{oncall_overrides, oncall_rotations, users};
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::input::not_blank;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::escalation::{on_call, Coverage, OnCall, Override, Rotation};
use domain::roles::Team;
use domain::schedule::parse_weekday;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oncall_rotations)]
struct RotationRow {
    id: i64,
    calendar_id: i64,
    members: Vec<i64>,
    anchor: DateTime<Utc>,
    period_days: i32,
    coverage: String,
    window_weekday: Option<String>,
    window_start: Option<String>,
    window_minutes: Option<i32>,
}

impl RotationRow {
    fn rotation(&self) -> ApiResult<Rotation> {
        let bad = |what: &str| ApiError::internal(format!("on-call rotation {}: {what}", self.id));
        let coverage = match self.coverage.as_str() {
            "always" => Coverage::Always,
            "outside_business_hours" => Coverage::OutsideBusinessHours,
            _ => Coverage::Weekly {
                weekday: parse_weekday(self.window_weekday.as_deref().unwrap_or_default())
                    .map_err(|_| bad("weekday"))?,
                start: NaiveTime::parse_from_str(
                    self.window_start.as_deref().unwrap_or_default(),
                    "%H:%M",
                )
                .map_err(|_| bad("start"))?,
                minutes: self.window_minutes.unwrap_or_default().into(),
            },
        };
        Ok(Rotation {
            id: self.id,
            members: self.members.clone(),
            anchor: self.anchor,
            period: Duration::days(self.period_days.into()),
            coverage,
        })
    }
}

/// Who may put someone on call.
pub const ROTA_EDITORS: &[domain::roles::Role] = &[
    domain::roles::Role::SupportCoordinator,
    domain::roles::Role::Admin,
];

/// Who is on call for `team` at `at`, if anyone.
pub async fn who(
    conn: &mut AsyncPgConnection,
    team: Team,
    at: DateTime<Utc>,
) -> ApiResult<Option<OnCall>> {
    let overrides: Vec<Override> = oncall_overrides::table
        .filter(oncall_overrides::team.eq(team.db()))
        .filter(oncall_overrides::starts_at.le(at))
        .filter(oncall_overrides::ends_at.gt(at))
        .select((
            oncall_overrides::id,
            oncall_overrides::user_id,
            oncall_overrides::starts_at,
            oncall_overrides::ends_at,
        ))
        .load::<(i64, i64, DateTime<Utc>, DateTime<Utc>)>(conn)
        .await?
        .into_iter()
        .map(|(id, user_id, starts_at, ends_at)| Override {
            id,
            user_id,
            starts_at,
            ends_at,
        })
        .collect();
    let rows: Vec<RotationRow> = oncall_rotations::table
        .filter(oncall_rotations::team.eq(team.db()))
        .order(oncall_rotations::position)
        .select(RotationRow::as_select())
        .load(conn)
        .await?;
    if !overrides.is_empty() {
        let (_, cal) = match <[RotationRow]>::first(&rows) {
            Some(r) => load_calendar(conn, r.calendar_id, at).await?,
            None => {
                return Ok(on_call(
                    &[],
                    &overrides,
                    &domain::calendar::BusinessCalendar::default_brazil(),
                    at,
                ))
            }
        };
        return Ok(on_call(&[], &overrides, &cal, at));
    }
    // Each rotation in order, with its own calendar: the first that covers the instant.
    for row in rows {
        let (_, cal) = load_calendar(conn, row.calendar_id, at).await?;
        if let Some(found) = on_call(&[row.rotation()?], &[], &cal, at) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The answer to "who is on call?".
#[derive(Debug, Serialize, ToSchema)]
pub struct OnCallView {
    pub team: Team,
    pub at: DateTime<Utc>,
    /// Null when nobody is (e.g. business hours, when the team itself answers).
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// `override`, `rotation` or `none`.
    pub source: &'static str,
    pub rotation_id: Option<i64>,
    pub override_id: Option<i64>,
}

pub async fn view(
    conn: &mut AsyncPgConnection,
    team: Team,
    at: DateTime<Utc>,
) -> ApiResult<OnCallView> {
    let found = who(conn, team, at).await?;
    let user: Option<(String, String)> = match found {
        Some(o) => users::table
            .find(o.user_id())
            .select((users::username, users::display_name))
            .first(conn)
            .await
            .optional()?,
        None => None,
    };
    let (source, rotation_id, override_id) = match found {
        Some(OnCall::Override { override_id, .. }) => ("override", None, Some(override_id)),
        Some(OnCall::Rotation { rotation_id, .. }) => ("rotation", Some(rotation_id), None),
        None => ("none", None, None),
    };
    Ok(OnCallView {
        team,
        at,
        user_id: found.map(OnCall::user_id),
        username: user.as_ref().map(|u| u.0.clone()),
        display_name: user.map(|u| u.1),
        source,
        rotation_id,
        override_id,
    })
}

/// The on-call person as a user to notify, if active.
pub async fn person(
    conn: &mut AsyncPgConnection,
    team: Team,
    at: DateTime<Utc>,
) -> ApiResult<Option<User>> {
    match who(conn, team, at).await? {
        Some(o) => Ok(crate::notify::active_users(conn, &[o.user_id()])
            .await?
            .pop()),
        None => Ok(None),
    }
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOverride {
    pub user_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 2000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Puts `user_id` on call for `team` over a period, ahead of the rotations.
pub async fn add_override(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    team: Team,
    body: &NewOverride,
    now: DateTime<Utc>,
) -> ApiResult<OnCallView> {
    let mut bad = Vec::new();
    if body.ends_at <= body.starts_at {
        bad.push(FieldError::new(
            "ends_at",
            "range",
            "must be after starts_at",
        ));
    }
    if body.ends_at - body.starts_at > Duration::days(366) {
        bad.push(FieldError::new(
            "ends_at",
            "range",
            "an override lasts at most a year",
        ));
    }
    let active: Option<bool> = users::table
        .find(body.user_id)
        .select(users::active)
        .first(conn)
        .await
        .optional()?;
    if active != Some(true) {
        bad.push(FieldError::new(
            "user_id",
            "unknown",
            format!("no active user {}", body.user_id),
        ));
    }
    if !bad.is_empty() {
        return Err(ApiError::Validation(bad));
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let id: i64 = diesel::insert_into(oncall_overrides::table)
            .values((
                oncall_overrides::team.eq(team.db()),
                oncall_overrides::user_id.eq(body.user_id),
                oncall_overrides::starts_at.eq(body.starts_at),
                oncall_overrides::ends_at.eq(body.ends_at),
                oncall_overrides::reason.eq(body.reason.trim()),
                oncall_overrides::created_by.eq(user.id),
                oncall_overrides::created_at.eq(now),
            ))
            .returning(oncall_overrides::id)
            .get_result(conn)
            .await?;
        append(
            conn,
            NewEvent::on(Entity::User, body.user_id, "on_call_override")
                .by(Some(user.id))
                .because(Some(body.reason.trim().to_string()))
                .detail(serde_json::json!({
                    "override_id": id, "team": team,
                    "starts_at": body.starts_at, "ends_at": body.ends_at,
                })),
            now,
        )
        .await?;
        view(conn, team, body.starts_at).await
    })
    .await
}
