//! One-time e-mail vote links (SPEC §3.5), the rules: whether the link a token names may be
//! used now ([`domain::vote_link::check_link`]), what its confirmation page shows, and
//! confirming it, which records the vote through the same rules as the API
//! ([`votes::record_vote`]) and spends the link, in one transaction. Showing reads only:
//! mail scanners open links too. How it looks is `http::vote_pages`'s business.
use super::committees::required_voters;
use super::mails::RdmEssentials;
use super::notifications;
use super::policy::current_policy;
use super::rdms::store;
use super::substitutes;
use super::votes::{self, Ballot, Channel};
use crate::db::enums::StoredOption;
use crate::db::models::Rdm;
use crate::db::schema::{committee_meetings, committees, rdm_votes, users, vote_links};
use crate::notify::Notifier;
use crate::platform::error::ApiError;
use crate::platform::links::{parse_token, LinkBinding, ParsedToken};
use crate::platform::pool::Pool;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::approval::VoteDecision;
use domain::rdm::{Actor, RdmState};
use domain::vote_link::{check_link, link_expiry, LinkFacts, LinkRefusal};

/// The longest reason accepted (as in the API's `NewVote`).
pub const REASON_MAX_CHARS: usize = 2000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = vote_links, check_for_backend(diesel::pg::Pg))]
struct LinkRow {
    id: i64,
    rdm_id: i64,
    committee_id: i64,
    voter_id: i64,
    recipient_id: i64,
    revision: i32,
    meeting_id: Option<i64>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    used_decision: Option<VoteDecision>,
}

impl LinkRow {
    fn binding(&self) -> LinkBinding {
        LinkBinding {
            link_id: self.id,
            rdm_id: self.rdm_id,
            voter_id: self.voter_id,
            recipient_id: self.recipient_id,
            revision: self.revision,
            meeting_id: self.meeting_id,
        }
    }
}

/// What a refusal may say about the link's RDM (never told for a tampered link).
#[derive(Debug, Clone)]
pub struct About {
    pub number: String,
    pub used_decision: Option<VoteDecision>,
    pub tz: Tz,
}

/// What the confirmation page of a usable link shows.
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub decision: VoteDecision,
    pub rdm: RdmEssentials,
    /// The member the vote counts for.
    pub voter: String,
    /// Who the link was mailed to: the voter, or their substitute.
    pub recipient: String,
    pub by_substitute: bool,
    pub committee: String,
    /// The meeting (start, end); None for the CME.
    pub meeting: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The instant the link stops working.
    pub expires_at: DateTime<Utc>,
    pub tz: Tz,
}

/// What the page after a recorded vote says.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub decision: VoteDecision,
    pub number: String,
    pub title: String,
    /// The member the substitute voted for, when a substitute voted.
    pub on_behalf_of: Option<String>,
    /// The RDM's state after the vote.
    pub state: RdmState,
}

/// A reason the confirmation form is shown again, with nothing recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormProblem {
    ReasonRequired,
    TooLong,
    BadCharacters,
}

/// Why a request ends without a vote. Either way nothing was written.
pub enum Failure {
    /// The link may not be used (see [`check_link`]).
    Refused {
        refusal: LinkRefusal,
        about: Option<About>,
    },
    /// The form was filled wrong: shown again with the problem and what was typed.
    Form {
        problem: FormProblem,
        page: Box<Confirmation>,
        typed: String,
    },
    /// Something unexpected (logged; shown opaque).
    Api(ApiError),
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::Api(e.into())
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

fn tampered() -> Failure {
    Failure::Refused {
        refusal: LinkRefusal::Tampered,
        about: None,
    }
}

/// A link that passed every check.
struct Ctx {
    link: LinkRow,
    decision: VoteDecision,
    rdm: Rdm,
    expires_at: DateTime<Utc>,
    tz: Tz,
}

/// The confirmation page of the link `token` names. Reads only (a read-only transaction).
pub async fn show(
    pool: &Pool,
    n: &Notifier,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Confirmation, Failure> {
    let parsed = parse_token(token).ok_or_else(tampered)?;
    let mut conn = pool.get().await.map_err(ApiError::from)?;
    conn.build_transaction()
        .read_only()
        .run::<_, Failure, _>(async |conn| {
            let ctx = check(conn, n, &parsed, false, now).await?;
            confirmation(conn, &ctx).await
        })
        .await
}

/// Confirms the link `token` names with the reason typed in its form: records the vote
/// (channel `email`; for a substitute's link, cast by the substitute on the member's behalf)
/// under the committee's rules and spends the link, in one transaction.
pub async fn confirm(
    pool: &Pool,
    n: &Notifier,
    token: &str,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<Recorded, Failure> {
    let parsed = parse_token(token).ok_or_else(tampered)?;
    let typed = typed.replace("\r\n", "\n");
    let mut conn = pool.get().await.map_err(ApiError::from)?;
    conn.transaction::<_, Failure, _>(async |conn| {
        let ctx = check(conn, n, &parsed, true, now).await?;
        let reason = typed.trim();
        let problem = if reason.contains('\0') {
            Some(FormProblem::BadCharacters)
        } else if reason.chars().count() > REASON_MAX_CHARS {
            Some(FormProblem::TooLong)
        } else if reason.is_empty() && ctx.decision == VoteDecision::Reject {
            Some(FormProblem::ReasonRequired)
        } else {
            None
        };
        if let Some(problem) = problem {
            let shown = if problem == FormProblem::BadCharacters {
                String::new()
            } else {
                typed.clone()
            };
            return Err(Failure::Form {
                problem,
                page: Box::new(confirmation(conn, &ctx).await?),
                typed: shown,
            });
        }
        let link = &ctx.link;
        let ballot = Ballot {
            voter_id: link.voter_id,
            cast_by: (link.recipient_id != link.voter_id).then_some(link.recipient_id),
            decision: ctx.decision,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            channel: Channel::Email,
        };
        votes::record_vote(conn, n, &ctx.rdm, ballot, &Actor::system(), now)
            .await
            .map_err(|e| backstop(e, &ctx))?;
        let spent = diesel::update(
            vote_links::table
                .find(link.id)
                .filter(vote_links::used_at.is_null()),
        )
        .set((
            vote_links::used_at.eq(now),
            vote_links::used_decision.eq(Some(ctx.decision).db()),
        ))
        .execute(conn)
        .await?;
        if spent != 1 {
            // The row is locked: this cannot happen; never record a vote twice anyway.
            return Err(Failure::Api(ApiError::conflict(
                "concurrent_update",
                "the link was used at the same time",
            )));
        }
        let after = store::find(conn, ctx.rdm.id).await?;
        tracing::info!(
            link_id = link.id,
            rdm_id = ctx.rdm.id,
            voter_id = link.voter_id,
            recipient_id = link.recipient_id,
            decision = VoteDecision::as_str(ctx.decision),
            state = %after.state,
            "vote recorded through an e-mail link"
        );
        let on_behalf_of = if link.recipient_id != link.voter_id {
            Some(name(conn, link.voter_id).await?)
        } else {
            None
        };
        Ok(Recorded {
            decision: ctx.decision,
            number: store::number(after.id),
            title: after.title.clone(),
            on_behalf_of,
            state: after.state,
        })
    })
    .await
}

async fn find_link(
    conn: &mut AsyncPgConnection,
    id: i64,
    lock: bool,
) -> Result<Option<LinkRow>, Failure> {
    let q = vote_links::table.find(id).select(LinkRow::as_select());
    let row = if lock {
        q.for_update().first(conn).await.optional()?
    } else {
        q.first(conn).await.optional()?
    };
    Ok(row)
}

async fn tz(conn: &mut AsyncPgConnection) -> Tz {
    current_policy(conn)
        .await
        .ok()
        .and_then(|p| p.timezone.parse().ok())
        .unwrap_or(chrono_tz::America::Sao_Paulo)
}

/// Loads the link the token names and applies [`check_link`]. With `lock`, the RDM and then
/// the link row are locked until the transaction ends (the RDM first, as every other writer
/// of votes and links does), so two confirmations of one link queue and the second sees the
/// first spent it.
async fn check(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    token: &ParsedToken,
    lock: bool,
    now: DateTime<Utc>,
) -> Result<Ctx, Failure> {
    // An unknown id or a bad signature: the first rule, and nothing else is looked at.
    let Some(row) = find_link(conn, token.link_id, false).await? else {
        tracing::info!(link_id = token.link_id, "vote link refused: unknown link");
        return Err(tampered());
    };
    if !n.signer.verify(token, &row.binding()) {
        tracing::warn!(link_id = row.id, "vote link refused: bad signature");
        return Err(tampered());
    }
    let rdm = if lock {
        store::lock(conn, row.rdm_id).await?
    } else {
        store::find(conn, row.rdm_id).await?
    };
    let link = if lock {
        find_link(conn, row.id, true).await?.ok_or_else(tampered)?
    } else {
        row
    };
    let meeting_ends_at = match link.meeting_id {
        Some(m) => committee_meetings::table
            .find(m)
            .select(committee_meetings::ends_at)
            .first(conn)
            .await
            .optional()?,
        None => None,
    };
    let awaits_this_committee = rdm.committee_id == Some(link.committee_id);
    let voter_required = awaits_this_committee
        && required_voters(conn, link.committee_id, rdm.id)
            .await?
            .contains(&link.voter_id);
    let already_voted = diesel::select(diesel::dsl::exists(
        rdm_votes::table
            .filter(rdm_votes::rdm_id.eq(rdm.id))
            .filter(rdm_votes::committee_id.eq(link.committee_id))
            .filter(rdm_votes::voter_id.eq(link.voter_id))
            .filter(rdm_votes::revision.eq(rdm.revision)),
    ))
    .get_result::<bool>(conn)
    .await?;
    let recipient_active: bool = users::table
        .find(link.recipient_id)
        .select(users::active)
        .first(conn)
        .await?;
    let delegation_active = if link.recipient_id != link.voter_id {
        Some(substitutes::is_substitute(conn, link.voter_id, link.recipient_id, now).await?)
    } else {
        None
    };
    let facts = LinkFacts {
        signature_valid: true,
        used_at: link.used_at,
        state: rdm.state,
        link_committee_id: link.committee_id,
        current_committee_id: rdm.committee_id,
        link_revision: link.revision,
        current_revision: rdm.revision,
        link_meeting_id: link.meeting_id,
        current_meeting_id: rdm.meeting_id,
        meeting_ends_at,
        link_expires_at: link.expires_at,
        recipient_active,
        voter_required,
        already_voted,
        delegation_active,
    };
    let tz = tz(conn).await;
    if let Err(refusal) = check_link(&facts, now) {
        tracing::info!(
            link_id = link.id,
            rdm_id = rdm.id,
            refusal = refusal.code(),
            "vote link refused"
        );
        let about = About {
            number: store::number(rdm.id),
            used_decision: link.used_decision,
            tz,
        };
        return Err(Failure::Refused {
            refusal,
            about: Some(about),
        });
    }
    Ok(Ctx {
        expires_at: link_expiry(&facts),
        decision: token.decision,
        link,
        rdm,
        tz,
    })
}

/// `record_vote` refused after the link's checks passed (they cover its rules, so only a
/// race could get here): the matching refusal.
fn backstop(e: ApiError, ctx: &Ctx) -> Failure {
    let about = About {
        number: store::number(ctx.rdm.id),
        used_decision: None,
        tz: ctx.tz,
    };
    let refusal = match &e {
        ApiError::Conflict {
            code: "already_voted",
            ..
        } => LinkRefusal::AlreadyVoted,
        ApiError::Transition(r) => LinkRefusal::Decided { state: r.state },
        ApiError::Forbidden(_) => LinkRefusal::NotRequired,
        _ => return Failure::Api(e),
    };
    Failure::Refused {
        refusal,
        about: Some(about),
    }
}

async fn name(conn: &mut AsyncPgConnection, id: i64) -> Result<String, Failure> {
    Ok(users::table
        .find(id)
        .select(users::display_name)
        .first(conn)
        .await?)
}

async fn confirmation(conn: &mut AsyncPgConnection, ctx: &Ctx) -> Result<Confirmation, Failure> {
    let rdm = notifications::essentials(conn, &ctx.rdm).await?;
    let voter = name(conn, ctx.link.voter_id).await?;
    let recipient = name(conn, ctx.link.recipient_id).await?;
    let committee: String = committees::table
        .find(ctx.link.committee_id)
        .select(committees::name)
        .first(conn)
        .await?;
    let meeting = match ctx.link.meeting_id {
        Some(m) => committee_meetings::table
            .find(m)
            .select((committee_meetings::starts_at, committee_meetings::ends_at))
            .first(conn)
            .await
            .optional()?,
        None => None,
    };
    Ok(Confirmation {
        decision: ctx.decision,
        rdm,
        voter,
        recipient,
        by_substitute: ctx.link.recipient_id != ctx.link.voter_id,
        committee,
        meeting,
        expires_at: ctx.expires_at,
        tz: ctx.tz,
    })
}
