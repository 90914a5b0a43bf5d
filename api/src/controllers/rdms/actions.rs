//! One endpoint per lifecycle action, all through [`perform`], which asks the domain's
//! state machine and applies its answer in one transaction.
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{header, OptionalJson};
use crate::models::{Meeting, Window};
use crate::notify::{self, VoteMail};
use crate::rdms::{self, check_if_match, etag, RdmView};
use crate::scheduling::{ensure_meetings, HORIZON_WEEKS};
use crate::schema::{committees, maintenance_windows, rdm_items, rdms as t};
use crate::state::AppState;
use actix_web::{http::header::ETAG, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::rdm::{decide, Action, CommitteeKind};
use domain::schedule::{agenda_meeting, book, find_conflicts, AgendaSlot, FitError};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

/// What an action may carry. Which fields matter depends on the action.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// Why: required to veto, reject, cancel, unschedule or report a failure.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
    /// `schedule`: the window to book into.
    pub window_id: Option<i64>,
    /// `schedule`: when in the window the change starts (default: the window's start).
    pub planned_start: Option<DateTime<Utc>>,
    /// `close`: the post-implementation review.
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub review: Option<String>,
}

async fn window(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Window> {
    // Shared lock: a flex cannot move the window under a booking being checked against it.
    maintenance_windows::table
        .find(id)
        .for_share()
        .select(Window::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::validation("window_id", "unknown", format!("no window {id}")))
}

/// Performs `action` on RDM `id` for `user`.
pub async fn perform(
    state: &AppState,
    user: &AuthUser,
    id: i64,
    action: Action,
    body: ActionBody,
    if_match: Option<&str>,
) -> ApiResult<RdmView> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let rdm = rdms::lock(conn, id).await?;
        check_if_match(if_match, rdm.version, false)?;
        let reason = body.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
        // What the action would change, applied to a copy so the facts reflect it.
        let mut next = rdm.clone();
        let mut booked: Option<Window> = rdms::window_of(conn, &rdm).await?;
        let mut detail = serde_json::json!({});
        match action {
            Action::Schedule => {
                if let Some(wid) = body.window_id {
                    let w = window(conn, wid).await?;
                    let (d, r) = rdms::needs(&rdm);
                    let start = book(w.starts_at, w.ends_at, body.planned_start, d, r, now).map_err(|e| {
                        let field = if body.planned_start.is_some() && e != FitError::WindowOver { "planned_start" } else { "window_id" };
                        ApiError::validation(field, e.code(), e.to_string())
                    })?;
                    next.window_id = Some(w.id);
                    next.planned_start = Some(start);
                    booked = Some(w);
                } else {
                    booked = None;
                }
            }
            Action::Close if body.review.is_some() => next.review = body.review.clone(),
            _ => {}
        }
        let has_items = !rdms::item_ids(conn, id).await?.is_empty();
        let facts = rdms::facts(&next, has_items, booked.as_ref(), now)?;
        let tr = decide(&facts, action, &rdms::actor(user, &rdm))?;
        if action.requires_reason() && reason.is_none() {
            return Err(ApiError::validation("reason", "required", format!("say why you {action}")));
        }
        match action {
            Action::Schedule => {
                diesel::update(t::table.find(id))
                    .set((t::window_id.eq(next.window_id), t::planned_start.eq(next.planned_start)))
                    .execute(conn)
                    .await?;
                // This RDM is not `scheduled` until `apply` below: count it in explicitly.
                let conflicts =
                    window_conflicts(conn, next.window_id.unwrap_or_default(), Some(id)).await?;
                let mine: Vec<_> = conflicts.into_iter().filter(|c| c.rdms.contains(&id)).collect();
                detail = serde_json::json!({
                    "window_id": next.window_id,
                    "planned_start": next.planned_start,
                    "conflicts": mine.iter().map(|c| serde_json::json!({"item_id": c.item, "rdm_ids": c.rdms})).collect::<Vec<_>>(),
                });
            }
            Action::Unschedule => {
                detail = serde_json::json!({ "window_id": rdm.window_id });
                diesel::update(t::table.find(id))
                    .set((t::window_id.eq(None::<i64>), t::planned_start.eq(None::<DateTime<Utc>>)))
                    .execute(conn)
                    .await?;
            }
            Action::Close => {
                diesel::update(t::table.find(id)).set(t::review.eq(&next.review)).execute(conn).await?;
            }
            Action::SendToCommittee => {
                let (committee_id, meeting) = book_committee(conn, &rdm, now).await?;
                let policy = super::votes::committee_policy(conn, committee_id).await?;
                let required = super::votes::required_voters(conn, committee_id, id).await?;
                policy
                    .can_decide(required.len() as u32)
                    .map_err(|e| ApiError::conflict("committee_cannot_decide", format!("the committee cannot decide this RDM: {e}")))?;
                diesel::update(t::table.find(id))
                    .set((t::committee_id.eq(committee_id), t::meeting_id.eq(meeting.as_ref().map(|m| m.id))))
                    .execute(conn)
                    .await?;
                detail = serde_json::json!({
                    "committee_id": committee_id,
                    "meeting_id": meeting.as_ref().map(|m| m.id),
                    "meeting_starts_at": meeting.as_ref().map(|m| m.starts_at),
                });
            }
            _ => {}
        }
        rdms::apply(conn, &rdm, tr, Some(user.id), reason.clone(), detail, now).await?;
        let after = rdms::find(conn, id).await?;
        // Notifications, written in this transaction (SPEC §8).
        let n = &state.notifier;
        match action {
            Action::Veto => notify::rdm_decided(conn, n, &rdm, false, "o gestor de mudanças", reason.as_deref(), now).await?,
            Action::PoReject => notify::rdm_decided(conn, n, &rdm, false, "o product owner", reason.as_deref(), now).await?,
            Action::Approve => notify::rdm_decided(conn, n, &rdm, true, "o gestor de mudanças", reason.as_deref(), now).await?,
            Action::SendToCommittee => {
                notify::vote_requests(conn, n, &after, VoteMail::Request, now).await?;
                // The CME has no meeting to remind at: its voters are reminded halfway to the
                // links' expiry.
                if after.meeting_id.is_none() {
                    crate::committee_clock::schedule_cme_reminder(conn, &after, now).await?;
                }
            }
            // Change managers hear of an emergency when it is raised, before any execution.
            Action::Submit if after.rdm_type == "emergency" => notify::emergency_raised(conn, n, &after, user.id, now).await?,
            _ => {}
        }
        rdms::view(conn, after, user, now).await
    })
    .await
}

/// The committee an RDM goes to (CM for normal, CME for emergency) and, for the CM, the
/// next meeting whose cut-off it meets.
async fn book_committee(
    conn: &mut AsyncPgConnection,
    rdm: &crate::models::Rdm,
    now: DateTime<Utc>,
) -> ApiResult<(i64, Option<Meeting>)> {
    let kind = CommitteeKind::for_type(rdms::parse_type(&rdm.rdm_type)?);
    let committee_id: i64 = committees::table
        .filter(committees::kind.eq(kind.as_str()))
        .order(committees::id)
        .select(committees::id)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| {
            ApiError::conflict(
                "no_committee",
                format!("no {} committee is configured", kind.as_str()),
            )
        })?;
    if !kind.meets() {
        return Ok((committee_id, None));
    }
    let meeting = next_meeting(conn, committee_id, now, now).await?;
    Ok((committee_id, Some(meeting)))
}

/// The first open meeting whose cut-off is after `ready_at`.
pub async fn next_meeting(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
    ready_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Meeting> {
    let meetings = ensure_meetings(
        conn,
        committee_id,
        ready_at,
        ready_at + Duration::weeks(HORIZON_WEEKS),
        now,
    )
    .await?;
    let open: Vec<&Meeting> = meetings
        .iter()
        // A frozen agenda (its cut-off passed, even if the meeting moved since) takes no more.
        .filter(|m| m.status == "scheduled" && m.agenda_frozen_at.is_none())
        .collect();
    let slots: Vec<AgendaSlot<i64>> = open
        .iter()
        .map(|m| AgendaSlot {
            id: m.id,
            cutoff_at: m.cutoff_at,
        })
        .collect();
    let chosen = agenda_meeting(ready_at, &slots).ok_or_else(|| {
        ApiError::conflict(
            "no_meeting",
            "no committee meeting is scheduled in the coming weeks",
        )
    })?;
    Ok(open
        .into_iter()
        .find(|m| m.id == chosen)
        .cloned()
        .expect("chosen from the list"))
}

/// Configuration items booked by more than one RDM in a window (RDMs `scheduled` or
/// `in_execution` there, plus `being_booked`).
pub async fn window_conflicts(
    conn: &mut AsyncPgConnection,
    window_id: i64,
    being_booked: Option<i64>,
) -> ApiResult<Vec<domain::schedule::Conflict<i64, i64>>> {
    let pairs: Vec<(i64, i64)> = t::table
        .inner_join(rdm_items::table)
        .filter(t::window_id.eq(window_id))
        .filter(
            t::state
                .eq_any(["scheduled", "in_execution"])
                .or(t::id.nullable().eq(being_booked)),
        )
        .select((t::id, rdm_items::item_id))
        .load(conn)
        .await?;
    let mut bookings: Vec<(i64, Vec<i64>)> = Vec::new();
    for (rdm, item) in pairs {
        match bookings.iter_mut().find(|(r, _)| *r == rdm) {
            Some((_, items)) => items.push(item),
            None => bookings.push((rdm, vec![item])),
        }
    }
    Ok(find_conflicts(&bookings))
}

macro_rules! action_endpoint {
    ($fn_name:ident, $action:expr, $path:literal, $route:literal, $roles:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $path, tag = "rdm lifecycle",
            request_body(content = Option<ActionBody>, description = "Optional; see each field"),
            params(
                ("id" = i64, Path, description = "RDM id"),
                ("If-Match" = Option<String>, Header, description = "Optional: refuse if the RDM changed since this ETag")
            ),
            responses((status = 200, description = "The RDM after the action", body = RdmView, headers(("ETag" = String)))),
            security(("bearer" = [])),
            extensions(("x-roles" = json!($roles)))
        )]
        #[post($route)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            user: AuthUser,
            req: HttpRequest,
            id: web::Path<i64>,
            body: OptionalJson<ActionBody>,
        ) -> ApiResult<HttpResponse> {
            let view = perform(&state, &user, *id, $action, body.0, header(&req, "If-Match")).await?;
            Ok(HttpResponse::Ok().insert_header((ETAG, etag(view.version))).json(view))
        }
    };
}

action_endpoint!(
    submit,
    Action::Submit,
    "/api/v1/rdms/{id}/submit",
    "/rdms/{id}/submit",
    ["the requester", "change_manager"],
    "Submit the filled form (`draft` → `submitted`; a standard change is approved on submission)."
);
action_endpoint!(
    start_assessment,
    Action::StartAssessment,
    "/api/v1/rdms/{id}/start-assessment",
    "/rdms/{id}/start-assessment",
    ["change_manager"],
    "The change manager starts evaluating it (`submitted` → `assessment`)."
);
action_endpoint!(
    veto,
    Action::Veto,
    "/api/v1/rdms/{id}/veto",
    "/rdms/{id}/veto",
    ["change_manager"],
    "The change manager vetoes it during assessment (→ `rejected`; `reason` required)."
);
action_endpoint!(
    po_approve,
    Action::PoApprove,
    "/api/v1/rdms/{id}/po-approve",
    "/rdms/{id}/po-approve",
    ["product_owner"],
    "The product owner approves it after the technical opinion (`assessment` → `po_approved`)."
);
action_endpoint!(
    po_reject,
    Action::PoReject,
    "/api/v1/rdms/{id}/po-reject",
    "/rdms/{id}/po-reject",
    ["product_owner"],
    "The product owner rejects it (→ `rejected`; `reason` required)."
);
action_endpoint!(send_to_committee, Action::SendToCommittee, "/api/v1/rdms/{id}/send-to-committee", "/rdms/{id}/send-to-committee", ["change_manager"],
    "Put it before the committee: a normal RDM goes on the agenda of the next CM meeting whose 10:00 cut-off it meets; an emergency goes to the CME at once.");
action_endpoint!(approve, Action::Approve, "/api/v1/rdms/{id}/approve", "/rdms/{id}/approve", ["change_manager"],
    "Low-risk change: the change manager's approval is final, no committee (`po_approved` → `approved`).");
action_endpoint!(schedule, Action::Schedule, "/api/v1/rdms/{id}/schedule", "/rdms/{id}/schedule", ["change_manager"],
    "Book it into a maintenance window (`window_id`, optional `planned_start`): duration plus rollback must fit in what is left.");
action_endpoint!(
    unschedule,
    Action::Unschedule,
    "/api/v1/rdms/{id}/unschedule",
    "/rdms/{id}/unschedule",
    ["change_manager"],
    "Take it out of its window (`scheduled` → `approved`; `reason` required)."
);
action_endpoint!(
    start_execution,
    Action::StartExecution,
    "/api/v1/rdms/{id}/start-execution",
    "/rdms/{id}/start-execution",
    ["change_agent"],
    "Start executing: inside its window; an emergency at any time once customers were notified."
);
action_endpoint!(
    complete,
    Action::Complete,
    "/api/v1/rdms/{id}/complete",
    "/rdms/{id}/complete",
    ["change_agent"],
    "The change is implemented (`in_execution` → `implemented`)."
);
action_endpoint!(
    fail,
    Action::Fail,
    "/api/v1/rdms/{id}/fail",
    "/rdms/{id}/fail",
    ["change_agent"],
    "The change failed (`in_execution` → `failed`; `reason` required)."
);
action_endpoint!(
    roll_back,
    Action::RollBack,
    "/api/v1/rdms/{id}/roll-back",
    "/rdms/{id}/roll-back",
    ["change_agent"],
    "The rollback plan was applied (`failed` → `rolled_back`)."
);
action_endpoint!(
    close,
    Action::Close,
    "/api/v1/rdms/{id}/close",
    "/rdms/{id}/close",
    ["change_manager", "committee_member"],
    "Post-implementation review done (→ `closed`; `review` required)."
);
action_endpoint!(
    cancel,
    Action::Cancel,
    "/api/v1/rdms/{id}/cancel",
    "/rdms/{id}/cancel",
    ["the requester", "change_manager"],
    "Cancel before execution starts (`reason` required)."
);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(submit)
        .service(start_assessment)
        .service(veto)
        .service(po_approve)
        .service(po_reject)
        .service(send_to_committee)
        .service(approve)
        .service(schedule)
        .service(unschedule)
        .service(start_execution)
        .service(complete)
        .service(fail)
        .service(roll_back)
        .service(close)
        .service(cancel);
}
