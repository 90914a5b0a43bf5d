//! Who hears what of change management (SPEC §8): each function renders its messages and
//! writes one `mail` job per recipient in the caller's transaction, so a notification exists
//! if and only if its event committed. Each job's key names the event and the recipient: the
//! same event never produces a second message.
use super::committees::required_voters;
use super::labels;
use super::mails::{self as templates, ConflictingRdm, RdmEssentials};
use super::policy::current_policy;
use super::substitutes::active_substitutes;
use crate::db::enums::Stored;
use crate::db::enums::StoredOption;
use crate::db::models::{Meeting, Rdm, User};
use crate::db::schema::{
    committee_meetings, committee_members, committees, configuration_items, maintenance_windows,
    rdm_items, rdm_votes, rdms, users, vote_links,
};
use crate::events::{Entity, Event};
use crate::notify::{active_users as load_users, send, users_with_role, Notifier};
use crate::platform::error::ApiResult;
use crate::platform::links::LinkBinding;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::approval::VoteDecision;
use domain::rdm::{Action, CommitteeKind, RdmState, RdmType};
use domain::roles::Role;
use domain::roles::Team;

async fn tz(conn: &mut AsyncPgConnection) -> chrono_tz::Tz {
    match current_policy(conn).await {
        Ok(p) => p.timezone.parse().unwrap_or(chrono_tz::America::Sao_Paulo),
        Err(_) => chrono_tz::America::Sao_Paulo,
    }
}

/// The requester and, when the RDM names a requester group that is a team, its members.
pub async fn requester_group(conn: &mut AsyncPgConnection, rdm: &Rdm) -> ApiResult<Vec<User>> {
    let mut q = users::table
        .filter(users::active.eq(true))
        .filter(users::id.eq(rdm.requester_id))
        .into_boxed();
    // A requester group that names a team (`rh`, `cloud`…) reaches its members too.
    if let Some(team) = rdm
        .requester_group
        .as_deref()
        .and_then(|g| g.trim().parse::<Team>().ok())
    {
        q = q.or_filter(users::team.eq(Some(team).db()).and(users::active.eq(true)));
    }
    Ok(q.order(users::id)
        .select(User::as_select())
        .load(conn)
        .await?)
}

pub async fn essentials(conn: &mut AsyncPgConnection, rdm: &Rdm) -> ApiResult<RdmEssentials> {
    let requester: String = users::table
        .find(rdm.requester_id)
        .select(users::display_name)
        .first(conn)
        .await?;
    let items: Vec<(i64, String)> = rdm_items::table
        .inner_join(configuration_items::table)
        .filter(rdm_items::rdm_id.eq(rdm.id))
        .order(configuration_items::name)
        .select((configuration_items::id, configuration_items::name))
        .load(conn)
        .await?;
    let (item_ids, items): (Vec<i64>, Vec<String>) = items.into_iter().unzip();
    let window = match rdm.window_id {
        Some(id) => maintenance_windows::table
            .find(id)
            .select((maintenance_windows::starts_at, maintenance_windows::ends_at))
            .first(conn)
            .await
            .optional()?,
        None => None,
    };
    let conflicts = conflicting_rdms(conn, rdm, &item_ids).await?;
    Ok(RdmEssentials {
        number: labels::number(rdm.id),
        title: rdm.title.clone(),
        rdm_type: rdm.rdm_type,
        description: rdm.description.clone(),
        justification: rdm.justification.clone(),
        risk: rdm.risk,
        priority: rdm.priority,
        implementation_plan: rdm.implementation_plan.clone(),
        estimated_duration_minutes: rdm.estimated_duration_minutes,
        rollback_plan: rdm.rollback_plan.clone(),
        estimated_rollback_minutes: rdm.estimated_rollback_minutes,
        communication_plan: rdm.communication_plan.clone(),
        requester_name: requester,
        requester_group: rdm.requester_group.clone(),
        configuration_items: items,
        revision: rdm.revision,
        window,
        conflicts,
    })
}

/// The states in which an RDM may still run, or is running: those another RDM's change can
/// collide with.
const OPEN_STATES: [RdmState; 4] = [
    RdmState::AwaitingCommittee,
    RdmState::Approved,
    RdmState::Scheduled,
    RdmState::InExecution,
];

/// The other open RDMs touching at least one of `items`, `rdm`'s configuration items (when
/// `rdm` is booked into a window, only those booked into the same window), by id, each with
/// the items they share. One query; `rdm_items (item_id, rdm_id)` is indexed.
async fn conflicting_rdms(
    conn: &mut AsyncPgConnection,
    rdm: &Rdm,
    items: &[i64],
) -> ApiResult<Vec<ConflictingRdm>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    // Booked: only the same window; not booked: any.
    let any_window = rdm.window_id.is_none();
    let rows: Vec<(i64, String, String)> = rdm_items::table
        .inner_join(rdms::table)
        .inner_join(configuration_items::table)
        .filter(rdm_items::item_id.eq_any(items))
        .filter(rdms::id.ne(rdm.id))
        .filter(rdms::state.eq_any(OPEN_STATES.map(Stored::db)))
        .filter(
            rdms::window_id
                .eq(rdm.window_id)
                .or(any_window.into_sql::<diesel::sql_types::Bool>().nullable()),
        )
        .order((rdms::id, configuration_items::name))
        .select((rdms::id, rdms::title, configuration_items::name))
        .load(conn)
        .await?;
    let mut out: Vec<(i64, ConflictingRdm)> = Vec::new();
    for (id, title, item) in rows {
        match out.last_mut() {
            Some((last, c)) if *last == id => c.shared_items.push(item),
            _ => out.push((
                id,
                ConflictingRdm {
                    number: labels::number(id),
                    title,
                    shared_items: vec![item],
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// The required voters whose vote on the RDM's current revision is in.
async fn voted_on_current_revision(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
    rdm: &Rdm,
) -> ApiResult<Vec<i64>> {
    Ok(rdm_votes::table
        .filter(rdm_votes::rdm_id.eq(rdm.id))
        .filter(rdm_votes::committee_id.eq(committee_id))
        .filter(rdm_votes::revision.eq(rdm.revision))
        .select(rdm_votes::voter_id)
        .load(conn)
        .await?)
}

/// When the links for an RDM's vote expire: with its meeting (CM), or `cme_vote_hours`
/// after they are sent (CME).
async fn link_expiry(
    conn: &mut AsyncPgConnection,
    rdm: &Rdm,
    now: DateTime<Utc>,
) -> ApiResult<(Option<Meeting>, DateTime<Utc>)> {
    match rdm.meeting_id {
        Some(mid) => {
            let m: Meeting = crate::db::schema::committee_meetings::table
                .find(mid)
                .select(Meeting::as_select())
                .first(conn)
                .await?;
            let ends = m.ends_at;
            Ok((Some(m), ends))
        }
        None => {
            let hours = current_policy(conn).await?.cme_vote_hours;
            Ok((None, now + Duration::hours(hours as i64)))
        }
    }
}

/// A link row for (voter, recipient) on the RDM's current revision and meeting, reused when
/// it exists (a reminder re-signs the same link).
async fn link_for(
    conn: &mut AsyncPgConnection,
    rdm: &Rdm,
    committee_id: i64,
    voter_id: i64,
    recipient_id: i64,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<LinkBinding> {
    diesel::insert_into(vote_links::table)
        .values((
            vote_links::rdm_id.eq(rdm.id),
            vote_links::committee_id.eq(committee_id),
            vote_links::voter_id.eq(voter_id),
            vote_links::recipient_id.eq(recipient_id),
            vote_links::revision.eq(rdm.revision),
            vote_links::meeting_id.eq(rdm.meeting_id),
            vote_links::expires_at.eq(expires_at),
            vote_links::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let id: i64 = vote_links::table
        .filter(vote_links::rdm_id.eq(rdm.id))
        .filter(vote_links::voter_id.eq(voter_id))
        .filter(vote_links::recipient_id.eq(recipient_id))
        .filter(vote_links::revision.eq(rdm.revision))
        .filter(vote_links::meeting_id.is_not_distinct_from(rdm.meeting_id))
        .select(vote_links::id)
        .first(conn)
        .await?;
    Ok(LinkBinding {
        link_id: id,
        rdm_id: rdm.id,
        voter_id,
        recipient_id,
        revision: rdm.revision,
        meeting_id: rdm.meeting_id,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum VoteMail {
    /// First request for this revision and meeting.
    Request,
    /// Fresh links after an edit or a carry-over.
    Replacement,
    Reminder,
}

/// Sends each required voter who has not voted on the current revision (and each of their
/// active substitutes) a personal approve/reject link pair for the RDM, which must be
/// awaiting its committee.
async fn vote_requests(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    rdm: &Rdm,
    kind: VoteMail,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let Some(cid) = rdm.committee_id else {
        return Ok(0);
    };
    if rdm.state != RdmState::AwaitingCommittee {
        return Ok(0);
    }
    let required = required_voters(conn, cid, rdm.id).await?;
    let voted = voted_on_current_revision(conn, cid, rdm).await?;
    let committee_name: String = committees::table
        .find(cid)
        .select(committees::name)
        .first(conn)
        .await?;
    let (meeting, expires_at) = link_expiry(conn, rdm, now).await?;
    // Links that would arrive expired are not sent (a timer that ran late).
    if expires_at <= now {
        return Ok(0);
    }
    let ess = essentials(conn, rdm).await?;
    let tz = tz(conn).await;
    let mut sent = 0;
    for voter in load_users(conn, &required).await? {
        if voted.contains(&voter.id) {
            continue;
        }
        let mut recipients = vec![(voter.clone(), None)];
        let subs = active_substitutes(conn, voter.id, now).await?;
        for s in load_users(conn, &subs).await? {
            recipients.push((s, Some(voter.display_name.clone())));
        }
        for (to, on_behalf_of) in recipients {
            let b = link_for(conn, rdm, cid, voter.id, to.id, expires_at, now).await?;
            let approve_url = n.vote_url(&n.signer.sign(&b, VoteDecision::Approve));
            let reject_url = n.vote_url(&n.signer.sign(&b, VoteDecision::Reject));
            let request = templates::VoteRequest {
                to_name: &to.display_name,
                rdm: &ess,
                committee_name: &committee_name,
                meeting_starts_at: meeting.as_ref().map(|m| m.starts_at),
                approve_url: &approve_url,
                reject_url: &reject_url,
                expires_at,
                on_behalf_of: on_behalf_of.as_deref(),
                replaces_earlier: kind == VoteMail::Replacement,
                tz,
            };
            let (event, rendered) = match kind {
                VoteMail::Reminder => (
                    format!("vote_reminder:link:{}", b.link_id),
                    templates::vote_reminder(&templates::VoteReminder { request }),
                ),
                _ => (
                    format!("vote_request:link:{}", b.link_id),
                    templates::vote_request(&request),
                ),
            };
            if send(conn, n, &to, event, rendered, now).await? {
                sent += 1;
            }
        }
    }
    Ok(sent)
}

/// The requester group learns the RDM was approved or refused, and why: once per decision
/// (`event_id`, the decision's event).
#[allow(clippy::too_many_arguments)]
async fn rdm_decided(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    event_id: i64,
    rdm: &Rdm,
    approved: bool,
    decided_by: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let ess = essentials(conn, rdm).await?;
    for to in requester_group(conn, rdm).await? {
        let r = templates::rdm_decided(&templates::RdmDecided {
            to_name: &to.display_name,
            rdm: &ess,
            approved,
            decided_by,
            reason,
        });
        let event = format!("rdm_decided:{}:event:{event_id}", rdm.id);
        send(conn, n, &to, event, r, now).await?;
    }
    Ok(())
}

/// An RDM moved from one meeting to the next: its requester group and its required voters
/// are told; voters still to vote get fresh links for the new meeting.
async fn carried_over(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    rdm: &Rdm,
    from: &Meeting,
    to_meeting: &Meeting,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let ess = essentials(conn, rdm).await?;
    let tz = tz(conn).await;
    let mut people = requester_group(conn, rdm).await?;
    let mut pending_votes = 0;
    if let Some(cid) = rdm.committee_id {
        let required = required_voters(conn, cid, rdm.id).await?;
        let voted = voted_on_current_revision(conn, cid, rdm).await?;
        pending_votes = required.iter().filter(|v| !voted.contains(v)).count();
        for u in load_users(conn, &required).await? {
            if !people.iter().any(|p| p.id == u.id) {
                people.push(u);
            }
        }
    }
    for to in &people {
        let r = templates::carried_over(&templates::CarriedOver {
            to_name: &to.display_name,
            rdm: &ess,
            from_meeting_starts_at: from.starts_at,
            to_meeting_starts_at: to_meeting.starts_at,
            pending_votes,
            tz,
        });
        let event = format!("carried_over:{}:from:{}", rdm.id, from.id);
        send(conn, n, to, event, r, now).await?;
    }
    vote_requests(conn, n, rdm, VoteMail::Replacement, now).await?;
    Ok(())
}

/// Change managers hear of an emergency RDM as soon as it is raised, before execution.
async fn emergency_raised(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    rdm: &Rdm,
    raised_by: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let ess = essentials(conn, rdm).await?;
    let by: String = users::table
        .find(raised_by)
        .select(users::display_name)
        .first(conn)
        .await?;
    let url = n.api_url(&format!("/rdms/{}", rdm.id));
    for to in users_with_role(conn, Role::ChangeManager).await? {
        let r = templates::emergency_raised(&templates::EmergencyRaised {
            to_name: &to.display_name,
            rdm: &ess,
            raised_by: &by,
            rdm_url: &url,
        });
        send(conn, n, &to, format!("emergency_raised:{}", rdm.id), r, now).await?;
    }
    Ok(())
}

/// A meeting on a holiday, flagged to the change managers ahead of time.
async fn holiday_meeting(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    meeting: &Meeting,
    holiday_name: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let committee_name: String = committees::table
        .find(meeting.committee_id)
        .select(committees::name)
        .first(conn)
        .await?;
    let tz = tz(conn).await;
    let url = n.api_url(&format!("/meetings/{}/reschedule", meeting.id));
    for to in users_with_role(conn, Role::ChangeManager).await? {
        let r = templates::holiday_meeting(&templates::HolidayMeeting {
            to_name: &to.display_name,
            committee_name: &committee_name,
            meeting_id: meeting.id,
            meeting_starts_at: meeting.starts_at,
            holiday_name,
            reschedule_url: &url,
            tz,
        });
        send(
            conn,
            n,
            &to,
            format!("holiday_meeting:{}", meeting.id),
            r,
            now,
        )
        .await?;
    }
    Ok(())
}

/// The members of the CM (who approve it, consensually) hear of a window flex request.
async fn flex_requested(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    e: &Event,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let window_id = e.entity_id;
    let flex_id = detail_i64(e, "flex_id").unwrap_or_default();
    let instant = |field: &str| -> ApiResult<DateTime<Utc>> {
        let v = e.detail.get(field).cloned().unwrap_or_default();
        Ok(serde_json::from_value(v)?)
    };
    let current = (instant("current_starts_at")?, instant("current_ends_at")?);
    let new = (instant("new_starts_at")?, instant("new_ends_at")?);
    let reason = e.reason.as_deref().unwrap_or_default();
    let by: String = users::table
        .find(e.actor_id.unwrap_or_default())
        .select(users::display_name)
        .first(conn)
        .await?;
    let members: Vec<i64> = committee_members::table
        .inner_join(committees::table)
        .filter(committees::kind.eq(CommitteeKind::Cm.db()))
        .select(committee_members::user_id)
        .load(conn)
        .await?;
    let tz = tz(conn).await;
    let url = n.api_url(&format!("/windows/{window_id}/flexes/{flex_id}/approve"));
    for to in load_users(conn, &members).await? {
        let r = templates::flex_requested(&templates::FlexRequested {
            to_name: &to.display_name,
            window_id,
            flex_id,
            current_starts_at: current.0,
            current_ends_at: current.1,
            new_starts_at: new.0,
            new_ends_at: new.1,
            reason,
            requested_by: &by,
            approve_url: &url,
            tz,
        });
        send(conn, n, &to, format!("flex_requested:{flex_id}"), r, now).await?;
    }
    Ok(())
}

/// At the cut-off: the frozen agenda, to the committee's members and the members the RDMs on
/// it involve.
async fn agenda(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    meeting: &Meeting,
    rdms_on_agenda: &[Rdm],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let committee_name: String = committees::table
        .find(meeting.committee_id)
        .select(committees::name)
        .first(conn)
        .await?;
    let mut recipients: Vec<i64> = committee_members::table
        .filter(committee_members::committee_id.eq(meeting.committee_id))
        .select(committee_members::user_id)
        .load(conn)
        .await?;
    let mut per_rdm = Vec::new();
    for rdm in rdms_on_agenda {
        let cid = rdm.committee_id.unwrap_or(meeting.committee_id);
        let required = required_voters(conn, cid, rdm.id).await?;
        let voted = voted_on_current_revision(conn, cid, rdm).await?;
        recipients.extend(required.iter().copied());
        per_rdm.push((essentials(conn, rdm).await?, voted));
    }
    recipients.sort();
    recipients.dedup();
    let tz = tz(conn).await;
    for to in load_users(conn, &recipients).await? {
        let items = per_rdm
            .iter()
            .map(|(e, voted)| templates::AgendaItem {
                rdm: e,
                voted: voted.contains(&to.id),
            })
            .collect();
        let r = templates::agenda(&templates::Agenda {
            to_name: &to.display_name,
            committee_name: &committee_name,
            meeting_starts_at: meeting.starts_at,
            meeting_ends_at: meeting.ends_at,
            items,
            tz,
        });
        let event = format!("agenda:{}:{}", meeting.id, meeting.cutoff_at.timestamp());
        send(conn, n, &to, event, r, now).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Notifications derived from events.
// ---------------------------------------------------------------------------------------

fn detail_i64(e: &Event, field: &str) -> Option<i64> {
    e.detail.get(field).and_then(|v| v.as_i64())
}

async fn rdm_row(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Rdm> {
    Ok(rdms::table
        .find(id)
        .select(Rdm::as_select())
        .first(conn)
        .await?)
}

async fn meeting_row(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Meeting> {
    Ok(committee_meetings::table
        .find(id)
        .select(Meeting::as_select())
        .first(conn)
        .await?)
}

/// The RDMs awaiting the committee on meeting `id`'s agenda, by id.
async fn awaiting_on(conn: &mut AsyncPgConnection, meeting_id: i64) -> ApiResult<Vec<Rdm>> {
    Ok(rdms::table
        .filter(rdms::meeting_id.eq(meeting_id))
        .filter(rdms::state.eq(RdmState::AwaitingCommittee.db()))
        .order(rdms::id)
        .select(Rdm::as_select())
        .load(conn)
        .await?)
}

/// Whom an event tells what (SPEC §8), written in the event's transaction. Each message's
/// key names the event (or, for vote links, the link), so an event never sends twice.
pub async fn on_event(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    e: &Event,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    match e.entity {
        Entity::Rdm => on_rdm_event(conn, n, e, now).await,
        Entity::Meeting => on_meeting_event(conn, n, e, now).await,
        Entity::Window => match e.action.as_str() {
            "flex_requested" => flex_requested(conn, n, e, now).await,
            _ => Ok(()),
        },
        Entity::Delegation => match e.action.as_str() {
            // A delegation in force: the substitute gets the member's pending links.
            "create" | "start"
                if e.detail.get("active").and_then(|v| v.as_bool()) == Some(true) =>
            {
                let member = detail_i64(e, "member_id").unwrap_or_default();
                invite_substitute(conn, n, member, now).await
            }
            _ => Ok(()),
        },
        // Account changes notify nobody by mail; tickets and problems tell their own
        // (`crate::tickets::notifications`, `crate::problems`).
        Entity::User
        | Entity::Ticket
        | Entity::Problem
        | Entity::Postmortem
        | Entity::KbArticle => Ok(()),
        Entity::Committee => match e.action.as_str() {
            // A new required voter of RDMs already awaiting this committee gets their links.
            "member_added" => {
                let awaiting: Vec<Rdm> = rdms::table
                    .filter(rdms::committee_id.eq(e.entity_id))
                    .filter(rdms::state.eq(RdmState::AwaitingCommittee.db()))
                    .order(rdms::id)
                    .select(Rdm::as_select())
                    .load(conn)
                    .await?;
                for rdm in awaiting {
                    vote_requests(conn, n, &rdm, VoteMail::Request, now).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        },
    }
}

async fn on_rdm_event(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    e: &Event,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Ok(action) = e.action.parse::<Action>() else {
        // Recorded facts that are not lifecycle actions (edit, vote, carry_over…).
        return on_rdm_fact(conn, n, e, now).await;
    };
    let rdm = rdm_row(conn, e.entity_id).await?;
    let reason = e.reason.as_deref();
    match action {
        Action::Veto => {
            rdm_decided(
                conn,
                n,
                e.id,
                &rdm,
                false,
                "o gestor de mudanças",
                reason,
                now,
            )
            .await
        }
        Action::PoReject => {
            rdm_decided(conn, n, e.id, &rdm, false, "o product owner", reason, now).await
        }
        Action::Approve => {
            rdm_decided(
                conn,
                n,
                e.id,
                &rdm,
                true,
                "o gestor de mudanças",
                reason,
                now,
            )
            .await
        }
        Action::CommitteeApprove | Action::CommitteeReject => {
            let committee: String = committees::table
                .find(rdm.committee_id.unwrap_or_default())
                .select(committees::name)
                .first(conn)
                .await?;
            let approved = action == Action::CommitteeApprove;
            rdm_decided(conn, n, e.id, &rdm, approved, &committee, reason, now).await
        }
        Action::SendToCommittee => vote_requests(conn, n, &rdm, VoteMail::Request, now)
            .await
            .map(|_| ()),
        // Change managers hear of an emergency when it is raised, before any execution.
        Action::Submit if rdm.rdm_type == RdmType::Emergency => {
            emergency_raised(conn, n, &rdm, e.actor_id.unwrap_or(rdm.requester_id), now).await
        }
        _ => Ok(()),
    }
}

async fn on_rdm_fact(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    e: &Event,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    match e.action.as_str() {
        // Links to the older revision no longer work: voters get fresh ones.
        "edit" => {
            let rdm = rdm_row(conn, e.entity_id).await?;
            vote_requests(conn, n, &rdm, VoteMail::Replacement, now)
                .await
                .map(|_| ())
        }
        "carry_over" => {
            let rdm = rdm_row(conn, e.entity_id).await?;
            let from =
                meeting_row(conn, detail_i64(e, "from_meeting_id").unwrap_or_default()).await?;
            let to = meeting_row(conn, detail_i64(e, "to_meeting_id").unwrap_or_default()).await?;
            carried_over(conn, n, &rdm, &from, &to, now).await
        }
        "vote_reminder" => {
            let rdm = rdm_row(conn, e.entity_id).await?;
            vote_requests(conn, n, &rdm, VoteMail::Reminder, now)
                .await
                .map(|_| ())
        }
        _ => Ok(()),
    }
}

async fn on_meeting_event(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    e: &Event,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    match e.action.as_str() {
        // The cut-off froze the agenda: it goes to the members.
        "agenda_frozen" => {
            let m = meeting_row(conn, e.entity_id).await?;
            // A cut-off timer run after the meeting began (the server was down): the agenda
            // is frozen all the same, but mailing it would announce a meeting already held.
            if now >= m.starts_at {
                return Ok(());
            }
            let items = awaiting_on(conn, m.id).await?;
            agenda(conn, n, &m, &items, now).await
        }
        // The meeting starts: voters still missing are reminded (the timer locked the RDMs).
        "start" => {
            for rdm in awaiting_on(conn, e.entity_id).await? {
                vote_requests(conn, n, &rdm, VoteMail::Reminder, now).await?;
            }
            Ok(())
        }
        "holiday_flagged" => {
            let m = meeting_row(conn, e.entity_id).await?;
            let name = e
                .detail
                .get("holiday")
                .and_then(|v| v.as_str())
                .unwrap_or("feriado")
                .to_string();
            holiday_meeting(conn, n, &m, &name, now).await
        }
        _ => Ok(()),
    }
}

/// Sends the substitute of a delegation in force the member's links for every RDM awaiting
/// a vote from the member (links already sent are not sent again).
async fn invite_substitute(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    member_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    use crate::db::schema::rdm_involved_members;
    let committees: Vec<i64> = committee_members::table
        .filter(committee_members::user_id.eq(member_id))
        .select(committee_members::committee_id)
        .load(conn)
        .await?;
    let involved: Vec<i64> = rdm_involved_members::table
        .filter(rdm_involved_members::user_id.eq(member_id))
        .select(rdm_involved_members::rdm_id)
        .load(conn)
        .await?;
    let awaiting: Vec<Rdm> = rdms::table
        .filter(rdms::state.eq(RdmState::AwaitingCommittee.db()))
        .filter(
            rdms::committee_id
                .eq_any(&committees)
                .or(rdms::id.eq_any(&involved)),
        )
        .order(rdms::id)
        .select(Rdm::as_select())
        .load(conn)
        .await?;
    for rdm in awaiting {
        vote_requests(conn, n, &rdm, VoteMail::Request, now).await?;
    }
    Ok(())
}
