//! Committee votes on RDMs (SPEC §3.2 step 6, §3.3): one rule for every channel (API,
//! e-mail link, substitute), the tally under the committee's approval policy, and settling
//! the RDM once its votes decide it.
use super::committees::{committee_policy, required_voters};
use super::policy::current_policy;
use super::rdms::store::{self, RdmView};
use super::substitutes;
use crate::db::enums::Stored;
use crate::db::models::{Rdm, Vote};
use crate::db::schema::rdm_votes;
use crate::identity::principal::AuthUser;
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use crate::queue::{enqueue, Lane, Queued, Timer};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::approval::{check_vote, count_ballots, Outcome, VoteDecision, VoteRefusal};
use domain::rdm::{decide, Action, Actor, RdmState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVote {
    pub decision: VoteDecision,
    /// Required when rejecting: it is sent to the requester group.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
    /// Vote as the substitute of this member, who named you for the current period
    /// (`/delegations`). The vote counts for the member and the history shows who cast it.
    #[validate(range(min = 1))]
    #[schema(minimum = 1)]
    pub on_behalf_of: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoteView {
    pub voter_id: i64,
    pub decision: String,
    pub reason: Option<String>,
    /// The RDM revision the vote was cast on.
    pub revision: i32,
    /// Cast on the current revision: only these count. An edit asks everyone again.
    pub current: bool,
    pub at: DateTime<Utc>,
    /// The substitute who cast it for `voter_id`, if any.
    pub cast_by: Option<i64>,
    /// `api` or `email` (a one-time link).
    pub channel: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Tally {
    pub committee_id: Option<i64>,
    /// consensual, any, majority or n_of_m.
    pub policy: Option<String>,
    pub required_voter_ids: Vec<i64>,
    pub pending_voter_ids: Vec<i64>,
    pub approvals: u32,
    pub rejections: u32,
    pub outcome: Option<Outcome>,
    pub votes: Vec<VoteView>,
}

pub async fn tally(conn: &mut AsyncPgConnection, rdm: &Rdm) -> ApiResult<Tally> {
    let Some(cid) = rdm.committee_id else {
        return Ok(Tally {
            committee_id: None,
            policy: None,
            required_voter_ids: vec![],
            pending_voter_ids: vec![],
            approvals: 0,
            rejections: 0,
            outcome: None,
            votes: vec![],
        });
    };
    let policy = committee_policy(conn, cid).await?;
    let required = required_voters(conn, cid, rdm.id).await?;
    let votes: Vec<Vote> = rdm_votes::table
        .filter(rdm_votes::rdm_id.eq(rdm.id))
        .filter(rdm_votes::committee_id.eq(cid))
        .order(rdm_votes::id)
        .select(Vote::as_select())
        .load(conn)
        .await?;
    // Only votes on the current revision count: an edit asks the committee again.
    let ballots: Vec<(i64, VoteDecision)> = votes
        .iter()
        .filter(|v| v.revision == rdm.revision)
        .map(|v| (v.voter_id, v.decision))
        .collect();
    let count = count_ballots(&policy, &required, &ballots);
    Ok(Tally {
        committee_id: Some(cid),
        policy: Some(policy.to_string()),
        required_voter_ids: required,
        pending_voter_ids: count.pending,
        approvals: count.approvals,
        rejections: count.rejections,
        outcome: count.outcome,
        votes: votes
            .into_iter()
            .map(|v| VoteView {
                voter_id: v.voter_id,
                decision: v.decision.as_str().to_string(),
                reason: v.reason,
                revision: v.revision,
                current: v.revision == rdm.revision,
                at: v.at,
                cast_by: v.cast_by,
                channel: v.channel.as_str().to_string(),
            })
            .collect(),
    })
}

/// Records the caller's vote (or, with `on_behalf_of`, the vote of the member who named them
/// substitute) on RDM `id`; returns the RDM after it.
pub async fn cast(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    id: i64,
    body: &NewVote,
    now: DateTime<Utc>,
) -> ApiResult<RdmView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let rdm = store::lock(conn, id).await?;
        let voter_id = match body.on_behalf_of {
            None => user.id,
            Some(member) if member == user.id => user.id,
            Some(member) => {
                if !substitutes::is_substitute(conn, member, user.id, now).await? {
                    return Err(ApiError::Forbidden(format!(
                        "user {member} has not named you as substitute for this period"
                    )));
                }
                member
            }
        };
        let ballot = Ballot {
            voter_id,
            cast_by: (voter_id != user.id).then_some(user.id),
            decision: body.decision,
            reason: body.reason.clone(),
            channel: Channel::Api,
        };
        record_vote(conn, n, &rdm, ballot, &store::actor(user, &rdm), now).await?;
        let rdm = store::find(conn, id).await?;
        store::view(conn, rdm, user, now).await
    })
    .await
}

pub use domain::approval::VoteChannel as Channel;

/// One vote as cast: for `voter_id` (a required voter), by them or by `cast_by`, their
/// substitute.
#[derive(Debug, Clone)]
pub struct Ballot {
    pub voter_id: i64,
    pub cast_by: Option<i64>,
    pub decision: VoteDecision,
    pub reason: Option<String>,
    pub channel: Channel,
}

/// Records a ballot on `rdm` (locked by the caller) under the committee's rules, whatever the
/// channel: the RDM must await its committee, the voter must be required, a rejection needs a
/// reason, one vote per voter and revision. Settles the RDM if the votes now decide it.
/// `actor` is who is asking, for the allowed actions of a refusal.
pub async fn record_vote(
    conn: &mut AsyncPgConnection,
    notifier: &Notifier,
    rdm: &Rdm,
    ballot: Ballot,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<Option<Action>> {
    let id = rdm.id;
    let st = rdm.state;
    let awaiting = st == RdmState::AwaitingCommittee && rdm.committee_id.is_some();
    let cid = rdm.committee_id.unwrap_or_default();
    let required = awaiting
        && required_voters(conn, cid, id)
            .await?
            .contains(&ballot.voter_id);
    let reason = ballot
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    if let Err(refusal) = check_vote(awaiting, required, ballot.decision, reason.is_some()) {
        return Err(match refusal {
            VoteRefusal::NotAwaitingCommittee => {
                let f = store::load_facts(conn, rdm, now).await?;
                ApiError::Transition(Box::new(domain::rdm::Refusal {
                    kind: domain::rdm::RefusalKind::IllegalTransition,
                    action: Action::CommitteeApprove,
                    state: st,
                    reason: format!("{refusal}; this RDM is {st}"),
                    missing: vec![],
                    allowed_actions: domain::rdm::allowed_actions(&f, actor),
                }))
            }
            VoteRefusal::NotARequiredVoter => ApiError::Forbidden(refusal.to_string()),
            VoteRefusal::ReasonRequired => {
                ApiError::validation("reason", "required", refusal.to_string())
            }
        });
    }
    let decision = ballot.decision;
    // One vote per voter and revision: a vote on an older revision is replaced.
    let earlier: Option<i32> = rdm_votes::table
        .filter(rdm_votes::rdm_id.eq(id))
        .filter(rdm_votes::committee_id.eq(cid))
        .filter(rdm_votes::voter_id.eq(ballot.voter_id))
        .select(rdm_votes::revision)
        .first(conn)
        .await
        .optional()?;
    match earlier {
        Some(rev) if rev == rdm.revision => {
            return Err(ApiError::conflict(
                "already_voted",
                "a vote for this member is already recorded on this revision of the RDM",
            ));
        }
        Some(_) => {
            diesel::update(
                rdm_votes::table
                    .filter(rdm_votes::rdm_id.eq(id))
                    .filter(rdm_votes::committee_id.eq(cid))
                    .filter(rdm_votes::voter_id.eq(ballot.voter_id)),
            )
            .set((
                rdm_votes::decision.eq(decision.db()),
                rdm_votes::reason.eq(&reason),
                rdm_votes::revision.eq(rdm.revision),
                rdm_votes::meeting_id.eq(rdm.meeting_id),
                rdm_votes::at.eq(now),
                rdm_votes::cast_by.eq(ballot.cast_by),
                rdm_votes::channel.eq(ballot.channel.db()),
            ))
            .execute(conn)
            .await?;
        }
        None => {
            diesel::insert_into(rdm_votes::table)
                .values((
                    rdm_votes::rdm_id.eq(id),
                    rdm_votes::committee_id.eq(cid),
                    rdm_votes::voter_id.eq(ballot.voter_id),
                    rdm_votes::decision.eq(decision.db()),
                    rdm_votes::reason.eq(&reason),
                    rdm_votes::revision.eq(rdm.revision),
                    rdm_votes::meeting_id.eq(rdm.meeting_id),
                    rdm_votes::at.eq(now),
                    rdm_votes::cast_by.eq(ballot.cast_by),
                    rdm_votes::channel.eq(ballot.channel.db()),
                ))
                .execute(conn)
                .await?;
        }
    }
    // The history shows who cast it: the voter, or their substitute on their behalf.
    let mut detail = serde_json::json!({
        "decision": decision,
        "committee_id": cid,
        "voter_id": ballot.voter_id,
        "revision": rdm.revision,
        "channel": ballot.channel.as_str(),
    });
    if let Some(sub) = ballot.cast_by {
        detail["substitute_id"] = sub.into();
        detail["on_behalf_of"] = ballot.voter_id.into();
    }
    store::record(
        conn,
        notifier,
        id,
        "vote",
        Some(rdm.state),
        rdm.state,
        Some(ballot.cast_by.unwrap_or(ballot.voter_id)),
        reason.clone(),
        detail,
        now,
    )
    .await?;
    let settled = settle(conn, notifier, rdm, now).await?;
    if settled.is_none() {
        store::bump(conn, rdm, now).await?;
    }
    Ok(settled)
}

/// Applies the committee's decision on `rdm` (locked by the caller) if its votes now reach
/// one: after a vote, and after the committee's members or policy change.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    notifier: &Notifier,
    rdm: &Rdm,
    now: DateTime<Utc>,
) -> ApiResult<Option<Action>> {
    let t = tally(conn, rdm).await?;
    let action = match t.outcome {
        Some(Outcome::Approved) => Action::CommitteeApprove,
        Some(Outcome::Rejected) => Action::CommitteeReject,
        _ => return Ok(None),
    };
    let f = store::load_facts(conn, rdm, now).await?;
    let tr = decide(&f, action, &Actor::system())?;
    let why = (action == Action::CommitteeReject).then(|| {
        let reasons: Vec<String> = t
            .votes
            .iter()
            .filter(|v| v.current && v.decision == VoteDecision::Reject.as_str())
            .filter_map(|v| v.reason.clone())
            .collect();
        if reasons.is_empty() {
            // Rejected because enough approvals can no longer come in.
            format!(
                "the {} policy can no longer be met",
                t.policy.clone().unwrap_or_default()
            )
        } else {
            reasons.join("; ")
        }
    });
    let detail = serde_json::json!({ "approvals": t.approvals, "rejections": t.rejections, "policy": t.policy });
    // The requester group hears of the decision from its event.
    store::apply(conn, notifier, rdm, tr, None, why, detail, now).await?;
    Ok(Some(action))
}

/// Settles every RDM awaiting `committee_id` after its members or policy changed; refuses the
/// change (rolling it back) if one of them could then never be decided.
pub async fn resettle_committee(
    conn: &mut AsyncPgConnection,
    notifier: &Notifier,
    committee_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<Vec<i64>> {
    use crate::db::schema::rdms as t;
    let ids: Vec<i64> = t::table
        .filter(t::committee_id.eq(committee_id))
        .filter(t::state.eq(RdmState::AwaitingCommittee.db()))
        .select(t::id)
        .order(t::id)
        .load(conn)
        .await?;
    let policy = committee_policy(conn, committee_id).await?;
    let mut decided = Vec::new();
    for id in ids {
        let rdm = store::lock(conn, id).await?;
        let required = required_voters(conn, committee_id, id).await?;
        policy.can_decide(required.len() as u32).map_err(|e| {
            ApiError::conflict(
                "committee_in_use",
                format!(
                    "{} awaits this committee and could no longer be decided: {e}",
                    store::number(id)
                ),
            )
        })?;
        if settle(conn, notifier, &rdm, now).await?.is_some() {
            decided.push(id);
        }
    }
    Ok(decided)
}

/// The votes on RDM `id` and where its committee's decision stands.
pub async fn list(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Tally> {
    let rdm = store::find(conn, id).await?;
    tally(conn, &rdm).await
}

// ---------------------------------------------------------------------------------------
// The CME's reminder.
// ---------------------------------------------------------------------------------------

/// A CME vote still open halfway to its links' expiry: the missing voters get their links
/// again (the CME has no meeting to remind at).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CmeReminder {
    pub rdm_id: i64,
    /// The revision voted on when it was set: an edit sets a new reminder.
    pub revision: i32,
}

impl Queued for CmeReminder {
    const KIND: &'static str = "cme_reminder";
    const LANE: Lane = Lane::Timers;
}

impl Timer for CmeReminder {
    type Context = Notifier;
    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let rdm = store::lock(conn, self.rdm_id).await?;
        if rdm.state != RdmState::AwaitingCommittee
            || rdm.revision != self.revision
            || rdm.meeting_id.is_some()
        {
            return Ok(());
        }
        // The reminder is a fact of the RDM's history; its mail follows from it.
        store::record(
            conn,
            n,
            rdm.id,
            "vote_reminder",
            Some(rdm.state),
            rdm.state,
            None,
            None,
            serde_json::json!({ "revision": rdm.revision }),
            now,
        )
        .await?;
        Ok(())
    }
}

/// Queues the reminder of an RDM sent to the CME: halfway to its links' expiry.
pub async fn schedule_cme_reminder(
    conn: &mut AsyncPgConnection,
    rdm: &Rdm,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let hours = current_policy(conn).await?.cme_vote_hours as i64;
    let at = now + chrono::Duration::minutes(hours * 30);
    let reminder = CmeReminder {
        rdm_id: rdm.id,
        revision: rdm.revision,
    };
    let key = format!("cme_reminder:{}:{}", rdm.id, rdm.revision);
    enqueue(conn, &reminder, at, Some(key), now).await?;
    Ok(())
}
