//! The lifecycle actions on an RDM (SPEC §3.2, §3.3, §3.6), all through [`perform`], which
//! asks the domain's state machine and applies its answer in one transaction, with the
//! notifications each decision sends.
use super::store::{self, check_if_match, RdmView};
use crate::changes::committees::{committee_policy, required_voters};
use crate::changes::meetings;
use crate::changes::votes;
use crate::changes::windows;
use crate::db::enums::Stored;
use crate::db::models::{Meeting, Rdm};
use crate::db::schema::{committees, rdms as t};
use crate::identity::principal::{either, AuthUser};
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::rdm::{decide, Action, CommitteeKind};
use domain::schedule::{book, FitError};
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

/// Performs `action` on RDM `id` for `user`.
#[allow(clippy::too_many_arguments)]
pub async fn perform(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    id: i64,
    action: Action,
    body: ActionBody,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<RdmView> {
    // Who may never take this action is refused before the RDM is read: no state, no
    // existence, no version leaks to them.
    user.require(&action_roles(action))?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let rdm = store::lock(conn, id).await?;
        check_if_match(if_match, rdm.version, false)?;
        let reason = body.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
        // What the action would change, applied to a copy so the facts reflect it.
        let mut next = rdm.clone();
        let links = store::links(conn, &rdm).await?;
        let mut booked = links.window;
        let mut detail = serde_json::json!({});
        match action {
            Action::Schedule => {
                if let Some(wid) = body.window_id {
                    let w = windows::lock_for_booking(conn, wid).await?;
                    let (d, r) = store::needs(&rdm);
                    let start = book(w.starts_at, w.ends_at, body.planned_start, d, r, now).map_err(|e| {
                        let field = if body.planned_start.is_some() && e != FitError::WindowOver { "planned_start" } else { "window_id" };
                        ApiError::validation(field, e.code(), e.to_string())
                    })?;
                    next.window_id = Some(w.id);
                    next.planned_start = Some(start);
                    booked = Some((w.starts_at, w.ends_at));
                } else {
                    booked = None;
                }
            }
            Action::Close if body.review.is_some() => next.review = body.review.clone(),
            _ => {}
        }
        let facts = store::facts(&next, !links.item_ids.is_empty(), booked, now);
        let tr = decide(&facts, action, &store::actor(user, &rdm)).map_err(|mut r| {
            // Name the window and its times: the agent sees when execution may start.
            if action == Action::StartExecution && r.missing.is_empty() {
                if let (Some(wid), Some((starts, ends))) = (rdm.window_id, booked) {
                    r.reason = format!(
                        "{} (window {wid}: {} to {}; now {})",
                        r.reason,
                        starts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        ends.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    );
                }
            }
            ApiError::from(r)
        })?;
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
                    windows::window_conflicts(conn, next.window_id.unwrap_or_default(), Some(id)).await?;
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
                let policy = committee_policy(conn, committee_id).await?;
                let required = required_voters(conn, committee_id, id).await?;
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
        store::apply(conn, n, &rdm, tr, Some(user.id), reason.clone(), detail, now).await?;
        let after = store::find(conn, id).await?;
        // The CME has no meeting to remind at: its voters are reminded halfway to the links'
        // expiry. (Notifications follow from the action's event.)
        if action == Action::SendToCommittee && after.meeting_id.is_none() {
            votes::schedule_cme_reminder(conn, &after, now).await?;
        }
        store::view(conn, after, user, now).await
    })
    .await
}

/// Every role that could ever take `action` on some RDM: its permitted roles, and for the
/// requester's own actions (submit, cancel) whoever may file an RDM.
pub fn action_roles(action: Action) -> Vec<domain::roles::Role> {
    let permitted = domain::rdm::permitted_roles(action);
    if matches!(action, Action::Submit | Action::Cancel) {
        either(permitted, store::CREATORS)
    } else {
        permitted.to_vec()
    }
}

/// The committee an RDM goes to (CM for normal, CME for emergency) and, for the CM, the
/// next meeting whose cut-off it meets.
async fn book_committee(
    conn: &mut AsyncPgConnection,
    rdm: &Rdm,
    now: DateTime<Utc>,
) -> ApiResult<(i64, Option<Meeting>)> {
    let kind = CommitteeKind::for_type(rdm.rdm_type);
    let committee_id: i64 = committees::table
        .filter(committees::kind.eq(kind.db()))
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
    let meeting = meetings::next_meeting(conn, committee_id, now, now).await?;
    Ok((committee_id, Some(meeting)))
}
