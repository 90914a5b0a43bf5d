//! `/api/v1/meetings`: CM meeting occurrences (SPEC §3.4), materialised from the calendar
//! policy when first listed; moving one occurrence, and closing one with carry-over.
use crate::auth::AuthUser;
use crate::controllers::rdms::actions::next_meeting;
use crate::error::{ApiError, ApiResult};
use crate::extract::{OptionalJson, ValidJson, ValidQuery};
use crate::models::{Meeting, Rdm};
use crate::rdms::{self, STAFF};
use crate::scheduling::move_error;
use crate::scheduling::{current_policy, ensure_meetings, policy_from_row, range_or_default};
use crate::schema::{committee_meetings, committees, meeting_reschedules, rdms as t};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::roles::Role;
use domain::schedule::cutoff_for;
use domain::schedule::{carry_over_ready_at, check_meeting_move};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use validator::Validate;

/// How far ahead a listing goes by default.
const DEFAULT_WEEKS: i64 = 8;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MeetingFilter {
    /// Default: the first committee of kind `cm`.
    pub committee_id: Option<i64>,
    /// Default: now.
    pub from: Option<DateTime<Utc>>,
    /// Default: `from` plus 8 weeks; at most 366 days after `from`.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: i64,
    pub committee_id: i64,
    /// The local date the policy generated it for; stays its identity when it is moved.
    pub original_date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// RDMs ready before this instant go on its agenda.
    pub cutoff_at: DateTime<Utc>,
    /// The original date is a holiday of the policy's calendar.
    pub on_holiday: bool,
    pub rescheduled: bool,
    /// `scheduled` or `closed`.
    pub status: String,
    /// Falls on a holiday and was not moved yet: the change manager should reschedule it.
    pub needs_reschedule: bool,
    /// The calendar policy version it was generated from.
    pub policy_version: i32,
    /// Who closed it, when, and their note.
    pub closed_by: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_note: Option<String>,
    /// When the cut-off froze its agenda and sent it to the members.
    pub agenda_frozen_at: Option<DateTime<Utc>>,
    /// When the change managers were told it falls on a holiday.
    pub holiday_flagged_at: Option<DateTime<Utc>>,
}

fn needs_reschedule(m: &Meeting) -> bool {
    domain::schedule::needs_reschedule(m.on_holiday, m.rescheduled, m.status == "scheduled")
}

impl From<Meeting> for MeetingView {
    fn from(m: Meeting) -> Self {
        MeetingView {
            needs_reschedule: needs_reschedule(&m),
            id: m.id,
            committee_id: m.committee_id,
            original_date: m.original_date,
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            cutoff_at: m.cutoff_at,
            on_holiday: m.on_holiday,
            rescheduled: m.rescheduled,
            status: m.status,
            policy_version: m.policy_version,
            closed_by: m.closed_by,
            closed_at: m.closed_at,
            close_note: m.close_note,
            agenda_frozen_at: m.agenda_frozen_at,
            holiday_flagged_at: m.holiday_flagged_at,
        }
    }
}

/// An RDM on a meeting's agenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaItem {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub state: String,
    pub rdm_type: String,
    pub priority: Option<String>,
}

/// One move of the meeting (audit).
#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = meeting_reschedules)]
pub struct RescheduleView {
    pub id: i64,
    pub old_starts_at: DateTime<Utc>,
    pub new_starts_at: DateTime<Utc>,
    pub new_ends_at: DateTime<Utc>,
    pub reason: String,
    pub actor_id: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingDetail {
    #[serde(flatten)]
    pub meeting: MeetingView,
    /// RDMs booked on it, by id.
    pub agenda: Vec<AgendaItem>,
    /// Its moves, oldest first.
    pub reschedules: Vec<RescheduleView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    /// The new start; in the future.
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`, at most 24 hours later.
    pub ends_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Minutes or remarks; kept in the carry-over history of each RDM moved on.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CloseResult {
    pub meeting: MeetingView,
    /// RDMs still awaiting the committee, moved to the next meeting.
    pub carried_over: Vec<i64>,
    /// Where they went; null when nothing was carried over.
    pub next_meeting_id: Option<i64>,
    pub note: Option<String>,
}

/// Refuses a move of meeting `m` to [starts_at, ends_at) at `now`.
fn check_reschedule(
    m: &Meeting,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    check_meeting_move(
        m.status == "scheduled",
        m.starts_at,
        starts_at,
        ends_at,
        now,
    )
    .map_err(|e| move_error(e, &format!("meeting {}", m.id)))
}

pub(crate) async fn find(conn: &mut AsyncPgConnection, id: i64, lock: bool) -> ApiResult<Meeting> {
    let q = committee_meetings::table
        .find(id)
        .select(Meeting::as_select());
    let found = if lock {
        q.for_no_key_update().first(conn).await
    } else {
        q.first(conn).await
    };
    found
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("meeting {id}")))
}

async fn detail(conn: &mut AsyncPgConnection, m: Meeting) -> ApiResult<MeetingDetail> {
    let agenda: Vec<(i64, String, String, String, Option<String>)> = t::table
        .filter(t::meeting_id.eq(m.id))
        .order(t::id)
        .select((t::id, t::title, t::state, t::rdm_type, t::priority))
        .load(conn)
        .await?;
    let reschedules: Vec<RescheduleView> = meeting_reschedules::table
        .filter(meeting_reschedules::meeting_id.eq(m.id))
        .order(meeting_reschedules::id)
        .select(RescheduleView::as_select())
        .load(conn)
        .await?;
    Ok(MeetingDetail {
        meeting: m.into(),
        agenda: agenda
            .into_iter()
            .map(|(id, title, state, rdm_type, priority)| AgendaItem {
                id,
                number: rdms::number(id),
                title,
                state,
                rdm_type,
                priority,
            })
            .collect(),
        reschedules,
    })
}

/// List a committee's meetings in a range, flagging holiday occurrences still to be moved.
#[utoipa::path(
    get, path = "/api/v1/meetings", tag = "meetings",
    params(MeetingFilter),
    responses((status = 200, description = "Meetings by start", body = Vec<MeetingView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/meetings")]
pub async fn list_meetings(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<MeetingFilter>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let (from, to) = range_or_default(filter.from, filter.to, state.clock.now(), DEFAULT_WEEKS)?;
    let mut conn = state.pool.get().await?;
    let committee: Option<(i64, String)> = match filter.committee_id {
        Some(id) => committees::table
            .find(id)
            .select((committees::id, committees::kind))
            .first(&mut conn)
            .await
            .optional()?,
        None => committees::table
            .filter(committees::kind.eq("cm"))
            .order(committees::id)
            .select((committees::id, committees::kind))
            .first(&mut conn)
            .await
            .optional()?,
    };
    let committee_id = match (committee, filter.committee_id) {
        (Some((id, kind)), _) if kind == "cm" => id,
        (Some(_), _) => {
            return Err(ApiError::validation(
                "committee_id",
                "invalid",
                "a cme committee decides at any time and has no meetings",
            ))
        }
        (None, Some(id)) => {
            return Err(ApiError::validation(
                "committee_id",
                "unknown",
                format!("no committee {id}"),
            ))
        }
        (None, None) => {
            return Err(ApiError::conflict(
                "no_committee",
                "no cm committee is configured",
            ))
        }
    };
    let meetings = ensure_meetings(&mut conn, committee_id, from, to, state.clock.now()).await?;
    let out: Vec<MeetingView> = meetings.into_iter().map(MeetingView::from).collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Get a meeting with its agenda and its moves.
#[utoipa::path(
    get, path = "/api/v1/meetings/{id}", tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, description = "The meeting", body = MeetingDetail)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/meetings/{id}")]
pub async fn get_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    let m = find(&mut conn, *id, false).await?;
    Ok(HttpResponse::Ok().json(detail(&mut conn, m).await?))
}

/// Move one meeting occurrence (e.g. one falling on a holiday), in advance.
///
/// Its cut-off follows the new start under the policy in force; the move is audited.
#[utoipa::path(
    post, path = "/api/v1/meetings/{id}/reschedule", tag = "meetings",
    request_body = RescheduleRequest,
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, description = "The moved meeting", body = MeetingDetail)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["change_manager"])))
)]
#[post("/meetings/{id}/reschedule")]
pub async fn reschedule_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<RescheduleRequest>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::ChangeManager])?;
    let body = body.0;
    let reason = body.reason.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::validation(
            "reason",
            "required",
            "say why it moves",
        ));
    }
    let now = state.clock.now();
    let id = *id;
    let mut conn = state.pool.get().await?;
    let out = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let m = find(conn, id, true).await?;
            check_reschedule(&m, body.starts_at, body.ends_at, now)?;
            let policy = policy_from_row(&current_policy(conn).await?)?;
            let cutoff_at = cutoff_for(policy.tz(), policy.cutoff(), body.starts_at);
            diesel::update(committee_meetings::table.find(id))
                .set((
                    committee_meetings::starts_at.eq(body.starts_at),
                    committee_meetings::ends_at.eq(body.ends_at),
                    committee_meetings::cutoff_at.eq(cutoff_at),
                    committee_meetings::rescheduled.eq(true),
                ))
                .execute(conn)
                .await?;
            diesel::insert_into(meeting_reschedules::table)
                .values((
                    meeting_reschedules::meeting_id.eq(id),
                    meeting_reschedules::old_starts_at.eq(m.starts_at),
                    meeting_reschedules::new_starts_at.eq(body.starts_at),
                    meeting_reschedules::new_ends_at.eq(body.ends_at),
                    meeting_reschedules::reason.eq(&reason),
                    meeting_reschedules::actor_id.eq(user.id),
                    meeting_reschedules::at.eq(now),
                ))
                .execute(conn)
                .await?;
            let m = find(conn, id, false).await?;
            // New timers for the new instants; the old ones find the meeting moved and do nothing.
            crate::committee_clock::schedule_meeting_timers(conn, &m, now).await?;
            detail(conn, m).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Close a meeting once it has started. RDMs on its agenda still awaiting the committee (votes
/// not all in) are carried over to the next meeting whose cut-off they meet.
#[utoipa::path(
    post, path = "/api/v1/meetings/{id}/close", tag = "meetings",
    request_body(content = Option<CloseRequest>, description = "Optional"),
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, description = "Closed", body = CloseResult)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["change_manager"])))
)]
#[post("/meetings/{id}/close")]
pub async fn close_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: OptionalJson<CloseRequest>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::ChangeManager])?;
    let note = body
        .0
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let now = state.clock.now();
    let id = *id;
    let mut conn = state.pool.get().await?;
    let out = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let m = find(conn, id, true).await?;
            if m.status != "scheduled" {
                return Err(ApiError::conflict(
                    "meeting_closed",
                    format!("meeting {id} is already closed"),
                ));
            }
            if m.starts_at > now {
                return Err(ApiError::conflict(
                    "meeting_not_started",
                    format!("meeting {id} has not started yet; reschedule it instead"),
                ));
            }
            close_and_carry_over(conn, &state.notifier, m, Some(user.id), note, now).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Closes meeting `m` (locked by the caller) and carries the RDMs still awaiting the committee
/// over to the next meeting whose cut-off they meet; everyone concerned is told. `closed_by`
/// is None when the meeting's end timer closes it.
pub async fn close_and_carry_over(
    conn: &mut AsyncPgConnection,
    notifier: &crate::notify::Notifier,
    m: Meeting,
    closed_by: Option<i64>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<CloseResult> {
    let id = m.id;
    diesel::update(committee_meetings::table.find(id))
        .set((
            committee_meetings::status.eq("closed"),
            committee_meetings::closed_by.eq(closed_by),
            committee_meetings::closed_at.eq(now),
            committee_meetings::close_note.eq(&note),
        ))
        .execute(conn)
        .await?;
    let pending: Vec<Rdm> = t::table
        .filter(t::meeting_id.eq(id))
        .filter(t::state.eq("awaiting_committee"))
        .order(t::id)
        .for_no_key_update()
        .select(Rdm::as_select())
        .load(conn)
        .await?;
    let mut next_id = None;
    if !pending.is_empty() {
        // After its end, and never onto a meeting whose cut-off has already passed
        // (a meeting closed late).
        let next = next_meeting(
            conn,
            m.committee_id,
            carry_over_ready_at(m.ends_at, now),
            now,
        )
        .await?;
        next_id = Some(next.id);
        for rdm in &pending {
            diesel::update(t::table.find(rdm.id))
                .set(t::meeting_id.eq(next.id))
                .execute(conn)
                .await?;
            rdms::bump(conn, rdm, now).await?;
            rdms::record(
                conn,
                rdm.id,
                "carry_over",
                Some("awaiting_committee"),
                "awaiting_committee",
                closed_by,
                None,
                serde_json::json!({
                    "from_meeting_id": id,
                    "to_meeting_id": next.id,
                    "note": note,
                }),
                now,
            )
            .await?;
            // Everyone is told (SPEC §3.2 step 6); missing voters get links for the new meeting.
            let moved = rdms::find(conn, rdm.id).await?;
            crate::notify::carried_over(conn, notifier, &moved, &m, &next, now).await?;
        }
    }
    let m = find(conn, id, false).await?;
    Ok(CloseResult {
        meeting: m.into(),
        carried_over: pending.iter().map(|r| r.id).collect(),
        next_meeting_id: next_id,
        note,
    })
}

#[derive(OpenApi)]
#[openapi(
    paths(list_meetings, get_meeting, reschedule_meeting, close_meeting),
    components(schemas(
        MeetingView,
        MeetingDetail,
        AgendaItem,
        RescheduleView,
        RescheduleRequest,
        CloseRequest,
        CloseResult
    ))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_meetings)
        .service(get_meeting)
        .service(reschedule_meeting)
        .service(close_meeting);
}
