use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::models::{Committee, Rdm, Vote};
use crate::notify::Notifier;
use crate::rdms::{self, RdmView, STAFF};
use crate::schema::{committee_members, committees, rdm_involved_members, rdm_votes};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::approval::{
    check_vote, tally_votes, ApprovalPolicy, Outcome, VoteDecision, VoteRefusal,
};
use domain::rdm::{decide, Action, Actor, RdmState};
use domain::roles::Role;
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

/// The approval policy a committee decides by.
pub async fn committee_policy(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
) -> ApiResult<ApprovalPolicy> {
    let committee: Committee = committees::table
        .find(committee_id)
        .select(Committee::as_select())
        .first(conn)
        .await?;
    ApprovalPolicy::from_parts(&committee.approval_policy, committee.approval_n)
        .map_err(ApiError::internal)
}

/// Required voters: the committee's fixed members plus the members the RDM involves.
pub async fn required_voters(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
    rdm_id: i64,
) -> ApiResult<Vec<i64>> {
    let mut ids: Vec<i64> = committee_members::table
        .filter(committee_members::committee_id.eq(committee_id))
        .select(committee_members::user_id)
        .load(conn)
        .await?;
    let involved: Vec<i64> = rdm_involved_members::table
        .filter(rdm_involved_members::rdm_id.eq(rdm_id))
        .select(rdm_involved_members::user_id)
        .load(conn)
        .await?;
    ids.extend(involved);
    ids.sort();
    ids.dedup();
    Ok(ids)
}

async fn tally(conn: &mut AsyncPgConnection, rdm: &Rdm) -> ApiResult<Tally> {
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
        .map(|v| Ok((v.voter_id, v.decision.parse().map_err(ApiError::internal)?)))
        .collect::<ApiResult<_>>()?;
    let outcome = tally_votes(&policy, &required, &ballots).ok();
    let counted = ballots.iter().filter(|(voter, _)| required.contains(voter));
    let approvals = counted
        .clone()
        .filter(|(_, d)| *d == VoteDecision::Approve)
        .count() as u32;
    let rejections = counted.filter(|(_, d)| *d == VoteDecision::Reject).count() as u32;
    let pending = required
        .iter()
        .copied()
        .filter(|u| !ballots.iter().any(|(voter, _)| voter == u))
        .collect();
    Ok(Tally {
        committee_id: Some(cid),
        policy: Some(policy.to_string()),
        required_voter_ids: required,
        pending_voter_ids: pending,
        approvals,
        rejections,
        outcome,
        votes: votes
            .into_iter()
            .map(|v| VoteView {
                voter_id: v.voter_id,
                decision: v.decision,
                reason: v.reason,
                revision: v.revision,
                current: v.revision == rdm.revision,
                at: v.at,
                cast_by: v.cast_by,
                channel: v.channel,
            })
            .collect(),
    })
}

/// Cast your vote on an RDM awaiting its committee. When the committee's approval policy
/// reaches a decision (consensual by default: all approve, or one rejection vetoes), the RDM
/// moves to `approved` or `rejected` at once.
#[utoipa::path(
    post, path = "/api/v1/rdms/{id}/votes", tag = "rdms",
    request_body = NewVote,
    params(("id" = i64, Path, description = "RDM id")),
    responses((status = 200, description = "The RDM after the vote", body = RdmView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["committee_member (a required voter of this RDM)"])))
)]
#[post("/rdms/{id}/votes")]
pub async fn cast_vote(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewVote>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::CommitteeMember])?;
    let body = body.0;
    let id = *id;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let view = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let rdm = rdms::lock(conn, id).await?;
            let voter_id = match body.on_behalf_of {
                None => user.id,
                Some(member) if member == user.id => user.id,
                Some(member) => {
                    if !crate::notify::is_substitute(conn, member, user.id, now).await? {
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
            record_vote(
                conn,
                &state.notifier,
                &rdm,
                ballot,
                &rdms::actor(&user, &rdm),
                now,
            )
            .await?;
            let rdm = rdms::find(conn, id).await?;
            rdms::view(conn, rdm, &user, now).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// How a vote arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Api,
    /// A one-time e-mail link.
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Email => "email",
        }
    }
}

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
    let st = rdms::parse_state(&rdm.state)?;
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
                let f = rdms::load_facts(conn, rdm, now).await?;
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
    let decision = ballot.decision.as_str();
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
                rdm_votes::decision.eq(decision),
                rdm_votes::reason.eq(&reason),
                rdm_votes::revision.eq(rdm.revision),
                rdm_votes::meeting_id.eq(rdm.meeting_id),
                rdm_votes::at.eq(now),
                rdm_votes::cast_by.eq(ballot.cast_by),
                rdm_votes::channel.eq(ballot.channel.as_str()),
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
                    rdm_votes::decision.eq(decision),
                    rdm_votes::reason.eq(&reason),
                    rdm_votes::revision.eq(rdm.revision),
                    rdm_votes::meeting_id.eq(rdm.meeting_id),
                    rdm_votes::at.eq(now),
                    rdm_votes::cast_by.eq(ballot.cast_by),
                    rdm_votes::channel.eq(ballot.channel.as_str()),
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
    rdms::record(
        conn,
        id,
        "vote",
        Some(&rdm.state),
        &rdm.state,
        Some(ballot.cast_by.unwrap_or(ballot.voter_id)),
        reason.clone(),
        detail,
        now,
    )
    .await?;
    let settled = settle(conn, notifier, rdm, now).await?;
    if settled.is_none() {
        rdms::bump(conn, rdm, now).await?;
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
    let f = rdms::load_facts(conn, rdm, now).await?;
    let tr = decide(&f, action, &Actor::system())?;
    let why = (action == Action::CommitteeReject).then(|| {
        let reasons: Vec<String> = t
            .votes
            .iter()
            .filter(|v| v.current && v.decision == "reject")
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
    rdms::apply(conn, rdm, tr, None, why.clone(), detail, now).await?;
    let committee: String = committees::table
        .find(rdm.committee_id.unwrap_or_default())
        .select(committees::name)
        .first(conn)
        .await?;
    crate::notify::rdm_decided(
        conn,
        notifier,
        rdm,
        action == Action::CommitteeApprove,
        &committee,
        why.as_deref(),
        now,
    )
    .await?;
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
    use crate::schema::rdms as t;
    let ids: Vec<i64> = t::table
        .filter(t::committee_id.eq(committee_id))
        .filter(t::state.eq("awaiting_committee"))
        .select(t::id)
        .order(t::id)
        .load(conn)
        .await?;
    let policy = committee_policy(conn, committee_id).await?;
    let mut decided = Vec::new();
    for id in ids {
        let rdm = rdms::lock(conn, id).await?;
        let required = required_voters(conn, committee_id, id).await?;
        policy.can_decide(required.len() as u32).map_err(|e| {
            ApiError::conflict(
                "committee_in_use",
                format!(
                    "{} awaits this committee and could no longer be decided: {e}",
                    rdms::number(id)
                ),
            )
        })?;
        if settle(conn, notifier, &rdm, now).await?.is_some() {
            decided.push(id);
        }
    }
    Ok(decided)
}

/// The votes on an RDM and where its committee's decision stands.
#[utoipa::path(
    get, path = "/api/v1/rdms/{id}/votes", tag = "rdms",
    params(("id" = i64, Path, description = "RDM id")),
    responses((status = 200, description = "Votes and tally", body = Tally)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/rdms/{id}/votes")]
pub async fn list_votes(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    let rdm = rdms::find(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(tally(&mut conn, &rdm).await?))
}
