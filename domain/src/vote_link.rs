//! Whether a one-time e-mail vote link may be used now (SPEC §3.5).
//!
//! A link is bound to one required voter (and the person it was mailed to: the voter, or a
//! substitute), one RDM, one revision of it and, for the CM, one meeting. It works once, until
//! the meeting ends (its *current* end: a rescheduled meeting moves the expiry) or, for the
//! CME, until the link's own expiry. An edit of the RDM or its carry-over to another meeting
//! supersedes it: a newer link was mailed.
//!
//! [`check_link`] is the one rule; the caller gathers [`LinkFacts`] from the row, the RDM and
//! the clock. The page shown for a link (confirmation page or refusal) and the vote it
//! records both go through it.
use crate::rdm::RdmState;
use chrono::{DateTime, Utc};
use std::fmt;

/// What is known about a link and its RDM when it is opened or confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkFacts {
    /// The token's signature matches the row it names (false also for an unknown row).
    pub signature_valid: bool,
    /// When the link was used, if it was.
    pub used_at: Option<DateTime<Utc>>,
    /// The RDM's state now.
    pub state: RdmState,
    /// The committee the link was minted for, and the one the RDM awaits now.
    pub link_committee_id: i64,
    pub current_committee_id: Option<i64>,
    /// The revision the link was minted for, and the RDM's current one.
    pub link_revision: i32,
    pub current_revision: i32,
    /// The meeting the link was minted for (None: CME, no meeting), and the RDM's current one.
    pub link_meeting_id: Option<i64>,
    pub current_meeting_id: Option<i64>,
    /// The current end of the link's meeting (it may have been rescheduled since the mail).
    /// Read only when `link_meeting_id` is set.
    pub meeting_ends_at: Option<DateTime<Utc>>,
    /// The expiry stored with the link: what counts for a CME link, and the fallback when the
    /// meeting's end is not known.
    pub link_expires_at: DateTime<Utc>,
    /// The account the link was mailed to is still active (a disabled account's links die
    /// with it, as its logins do).
    pub recipient_active: bool,
    /// The voter is still a required voter of the RDM.
    pub voter_required: bool,
    /// A vote for this voter is already recorded on the current revision (by any channel,
    /// by the voter or by a substitute).
    pub already_voted: bool,
    /// For a substitute's link (recipient ≠ voter): whether the delegation is active now.
    /// None for the voter's own link.
    pub delegation_active: Option<bool>,
}

/// Why a newer link replaced this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supersession {
    /// The RDM was edited after the mail: its revision is now `current`.
    NewRevision { link: i32, current: i32 },
    /// The RDM was carried over to another meeting (or now awaits another committee).
    OtherMeeting,
}

/// Why a link may not be used. Checked in this order (the first that applies wins):
/// [`Tampered`](LinkRefusal::Tampered), [`Used`](LinkRefusal::Used),
/// [`Decided`](LinkRefusal::Decided), [`Superseded`](LinkRefusal::Superseded),
/// [`Expired`](LinkRefusal::Expired), [`AccountInactive`](LinkRefusal::AccountInactive),
/// [`NotRequired`](LinkRefusal::NotRequired),
/// [`AlreadyVoted`](LinkRefusal::AlreadyVoted),
/// [`DelegationEnded`](LinkRefusal::DelegationEnded).
///
/// The order goes from what makes the link meaningless to what only makes this use of it
/// wrong: a forged link says nothing else; a used link is over whatever happened next; a
/// decided RDM needs no vote, whatever the link; a superseded link points at another one
/// (even after its own expiry); then time; then who may still vote, and whether the vote
/// slot is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Malformed, unknown or not signed by us for what it names.
    Tampered,
    /// Already used once.
    Used { at: DateTime<Utc> },
    /// The RDM no longer awaits a committee vote: it is in `state`.
    Decided { state: RdmState },
    /// A newer link was sent.
    Superseded(Supersession),
    /// The meeting ended (or, for the CME, the link's time ran out) at `at`.
    Expired { at: DateTime<Utc> },
    /// The account the link was mailed to was deactivated.
    AccountInactive,
    /// The voter no longer has to vote on this RDM (left the committee, no longer involved).
    NotRequired,
    /// A vote for this member is already recorded on this revision.
    AlreadyVoted,
    /// The substitute's delegation ended or was revoked.
    DelegationEnded,
}

impl LinkRefusal {
    /// Stable machine-readable name (for logs).
    pub fn code(&self) -> &'static str {
        match self {
            LinkRefusal::Tampered => "tampered",
            LinkRefusal::Used { .. } => "used",
            LinkRefusal::Decided { .. } => "decided",
            LinkRefusal::Superseded(_) => "superseded",
            LinkRefusal::Expired { .. } => "expired",
            LinkRefusal::AccountInactive => "account_inactive",
            LinkRefusal::NotRequired => "not_required",
            LinkRefusal::AlreadyVoted => "already_voted",
            LinkRefusal::DelegationEnded => "delegation_ended",
        }
    }
}

impl fmt::Display for LinkRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkRefusal::Tampered => f.write_str("the link is not valid"),
            LinkRefusal::Used { at } => write!(f, "the link was already used at {at}"),
            LinkRefusal::Decided { state } => {
                write!(f, "the RDM no longer awaits the committee; it is {state}")
            }
            LinkRefusal::Superseded(Supersession::NewRevision { link, current }) => write!(
                f,
                "the link is for revision {link}; the RDM was edited and is at revision {current}"
            ),
            LinkRefusal::Superseded(Supersession::OtherMeeting) => {
                f.write_str("the RDM moved to another meeting; newer links were sent")
            }
            LinkRefusal::Expired { at } => write!(f, "the link expired at {at}"),
            LinkRefusal::AccountInactive => f.write_str("the recipient's account is inactive"),
            LinkRefusal::NotRequired => f.write_str("the member no longer votes on this RDM"),
            LinkRefusal::AlreadyVoted => {
                f.write_str("a vote for this member is already recorded on this revision")
            }
            LinkRefusal::DelegationEnded => f.write_str("the delegation to the substitute ended"),
        }
    }
}

/// When the link stops working: the current end of its meeting (CM), else its own expiry.
pub fn link_expiry(f: &LinkFacts) -> DateTime<Utc> {
    match (f.link_meeting_id, f.meeting_ends_at) {
        (Some(_), Some(ends)) => ends,
        _ => f.link_expires_at,
    }
}

/// Whether the link may be used at `now`; see [`LinkRefusal`] for the order of the checks.
pub fn check_link(f: &LinkFacts, now: DateTime<Utc>) -> Result<(), LinkRefusal> {
    if !f.signature_valid {
        return Err(LinkRefusal::Tampered);
    }
    if let Some(at) = f.used_at {
        return Err(LinkRefusal::Used { at });
    }
    if f.state != RdmState::AwaitingCommittee || f.current_committee_id.is_none() {
        return Err(LinkRefusal::Decided { state: f.state });
    }
    if f.link_revision != f.current_revision {
        return Err(LinkRefusal::Superseded(Supersession::NewRevision {
            link: f.link_revision,
            current: f.current_revision,
        }));
    }
    if f.link_meeting_id != f.current_meeting_id
        || f.current_committee_id != Some(f.link_committee_id)
    {
        return Err(LinkRefusal::Superseded(Supersession::OtherMeeting));
    }
    let expiry = link_expiry(f);
    if now >= expiry {
        return Err(LinkRefusal::Expired { at: expiry });
    }
    if !f.recipient_active {
        return Err(LinkRefusal::AccountInactive);
    }
    if !f.voter_required {
        return Err(LinkRefusal::NotRequired);
    }
    if f.already_voted {
        return Err(LinkRefusal::AlreadyVoted);
    }
    if f.delegation_active == Some(false) {
        return Err(LinkRefusal::DelegationEnded);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    /// A CM link that may be used: meeting 9 ends in an hour.
    fn good() -> LinkFacts {
        LinkFacts {
            signature_valid: true,
            used_at: None,
            state: RdmState::AwaitingCommittee,
            link_committee_id: 1,
            current_committee_id: Some(1),
            link_revision: 2,
            current_revision: 2,
            link_meeting_id: Some(9),
            current_meeting_id: Some(9),
            meeting_ends_at: Some(now() + Duration::hours(1)),
            link_expires_at: now() + Duration::hours(1),
            recipient_active: true,
            voter_required: true,
            already_voted: false,
            delegation_active: None,
        }
    }

    /// A CME link (no meeting) valid for three more hours.
    fn cme() -> LinkFacts {
        LinkFacts {
            link_meeting_id: None,
            current_meeting_id: None,
            meeting_ends_at: None,
            link_expires_at: now() + Duration::hours(3),
            ..good()
        }
    }

    #[test]
    fn a_fresh_link_of_an_awaiting_rdm_may_be_used() {
        assert_eq!(check_link(&good(), now()), Ok(()));
        assert_eq!(check_link(&cme(), now()), Ok(()));
        let sub = LinkFacts {
            delegation_active: Some(true),
            ..good()
        };
        assert_eq!(check_link(&sub, now()), Ok(()));
    }

    #[test]
    fn a_bad_signature_is_tampered() {
        let f = LinkFacts {
            signature_valid: false,
            ..good()
        };
        assert_eq!(check_link(&f, now()), Err(LinkRefusal::Tampered));
    }

    #[test]
    fn a_used_link_is_used() {
        let at = now() - Duration::minutes(5);
        let f = LinkFacts {
            used_at: Some(at),
            ..good()
        };
        assert_eq!(check_link(&f, now()), Err(LinkRefusal::Used { at }));
    }

    #[test]
    fn an_rdm_out_of_the_committee_is_decided_with_its_state() {
        for state in RdmState::ALL
            .iter()
            .copied()
            .filter(|s| *s != RdmState::AwaitingCommittee)
        {
            let f = LinkFacts { state, ..good() };
            assert_eq!(check_link(&f, now()), Err(LinkRefusal::Decided { state }));
        }
        // Awaiting, but no committee: nothing to vote in.
        let f = LinkFacts {
            current_committee_id: None,
            ..good()
        };
        assert_eq!(
            check_link(&f, now()),
            Err(LinkRefusal::Decided {
                state: RdmState::AwaitingCommittee
            })
        );
    }

    #[test]
    fn an_edited_rdm_supersedes_the_link() {
        let f = LinkFacts {
            current_revision: 3,
            ..good()
        };
        assert_eq!(
            check_link(&f, now()),
            Err(LinkRefusal::Superseded(Supersession::NewRevision {
                link: 2,
                current: 3
            }))
        );
    }

    #[test]
    fn a_carry_over_or_another_committee_supersedes_the_link() {
        let f = LinkFacts {
            current_meeting_id: Some(10),
            ..good()
        };
        assert_eq!(
            check_link(&f, now()),
            Err(LinkRefusal::Superseded(Supersession::OtherMeeting))
        );
        let f = LinkFacts {
            current_meeting_id: None,
            ..good()
        };
        assert_eq!(
            check_link(&f, now()),
            Err(LinkRefusal::Superseded(Supersession::OtherMeeting))
        );
        let f = LinkFacts {
            current_committee_id: Some(2),
            ..good()
        };
        assert_eq!(
            check_link(&f, now()),
            Err(LinkRefusal::Superseded(Supersession::OtherMeeting))
        );
    }

    #[test]
    fn a_cm_link_expires_when_its_meeting_ends_now() {
        let ends = now() + Duration::hours(1);
        // The stored expiry is later, but the meeting was moved earlier: the meeting counts.
        let f = LinkFacts {
            meeting_ends_at: Some(ends),
            link_expires_at: ends + Duration::days(7),
            ..good()
        };
        assert_eq!(check_link(&f, ends - Duration::seconds(1)), Ok(()));
        assert_eq!(check_link(&f, ends), Err(LinkRefusal::Expired { at: ends }));
        // Rescheduled later: a link whose stored expiry passed still works until the new end.
        let later = now() + Duration::days(2);
        let f = LinkFacts {
            meeting_ends_at: Some(later),
            link_expires_at: now() - Duration::hours(1),
            ..good()
        };
        assert_eq!(check_link(&f, now()), Ok(()));
        assert_eq!(link_expiry(&f), later);
        // Meeting end unknown: the stored expiry.
        let f = LinkFacts {
            meeting_ends_at: None,
            link_expires_at: now(),
            ..good()
        };
        assert_eq!(
            check_link(&f, now()),
            Err(LinkRefusal::Expired { at: now() })
        );
    }

    #[test]
    fn a_cme_link_expires_at_its_own_expiry() {
        let f = LinkFacts {
            // A meeting end given for a CME link is ignored.
            meeting_ends_at: Some(now() + Duration::days(1)),
            ..cme()
        };
        let exp = f.link_expires_at;
        assert_eq!(check_link(&f, exp - Duration::seconds(1)), Ok(()));
        assert_eq!(check_link(&f, exp), Err(LinkRefusal::Expired { at: exp }));
        assert_eq!(
            check_link(&f, exp + Duration::days(1)),
            Err(LinkRefusal::Expired { at: exp })
        );
    }

    #[test]
    fn a_deactivated_recipient_is_refused() {
        let f = LinkFacts {
            recipient_active: false,
            ..good()
        };
        assert_eq!(check_link(&f, now()), Err(LinkRefusal::AccountInactive));
    }

    #[test]
    fn a_voter_no_longer_required_is_refused() {
        let f = LinkFacts {
            voter_required: false,
            ..good()
        };
        assert_eq!(check_link(&f, now()), Err(LinkRefusal::NotRequired));
    }

    #[test]
    fn a_filled_vote_slot_is_already_voted() {
        let f = LinkFacts {
            already_voted: true,
            ..good()
        };
        assert_eq!(check_link(&f, now()), Err(LinkRefusal::AlreadyVoted));
    }

    #[test]
    fn a_substitute_without_an_active_delegation_is_refused() {
        let f = LinkFacts {
            delegation_active: Some(false),
            ..good()
        };
        assert_eq!(check_link(&f, now()), Err(LinkRefusal::DelegationEnded));
    }

    /// Everything wrong at once, then fixing one problem at a time: each step must report the
    /// next refusal in the documented order.
    #[test]
    fn refusals_come_in_the_documented_order() {
        let mut f = LinkFacts {
            signature_valid: false,
            used_at: Some(now() - Duration::hours(1)),
            state: RdmState::Approved,
            link_committee_id: 1,
            current_committee_id: Some(1),
            link_revision: 1,
            current_revision: 2,
            link_meeting_id: Some(9),
            current_meeting_id: Some(9),
            meeting_ends_at: Some(now() - Duration::minutes(1)),
            link_expires_at: now() - Duration::minutes(1),
            recipient_active: false,
            voter_required: false,
            already_voted: true,
            delegation_active: Some(false),
        };
        let mut seen = Vec::new();
        let fixes: [fn(&mut LinkFacts); 9] = [
            |f| f.signature_valid = true,
            |f| f.used_at = None,
            |f| f.state = RdmState::AwaitingCommittee,
            |f| f.current_revision = f.link_revision,
            |f| f.meeting_ends_at = Some(now() + Duration::hours(1)),
            |f| f.recipient_active = true,
            |f| f.voter_required = true,
            |f| f.already_voted = false,
            |f| f.delegation_active = Some(true),
        ];
        for fix in fixes {
            seen.push(check_link(&f, now()).map_err(|r| r.code()));
            fix(&mut f);
        }
        seen.push(check_link(&f, now()).map_err(|r| r.code()));
        assert_eq!(
            seen,
            vec![
                Err("tampered"),
                Err("used"),
                Err("decided"),
                Err("superseded"),
                Err("expired"),
                Err("account_inactive"),
                Err("not_required"),
                Err("already_voted"),
                Err("delegation_ended"),
                Ok(()),
            ]
        );
    }

    #[test]
    fn pairwise_precedence_holds() {
        // Each refusal, as the one flaw of an otherwise good link.
        let flaws: [fn(&mut LinkFacts); 9] = [
            |f| f.signature_valid = false,
            |f| f.used_at = Some(now() - Duration::hours(1)),
            |f| f.state = RdmState::Rejected,
            |f| f.current_meeting_id = Some(10),
            |f| f.meeting_ends_at = Some(now() - Duration::hours(1)),
            |f| f.recipient_active = false,
            |f| f.voter_required = false,
            |f| f.already_voted = true,
            |f| f.delegation_active = Some(false),
        ];
        let code = |f: &LinkFacts| check_link(f, now()).unwrap_err().code();
        let order = [
            "tampered",
            "used",
            "decided",
            "superseded",
            "expired",
            "account_inactive",
            "not_required",
            "already_voted",
            "delegation_ended",
        ];
        for (i, a) in flaws.iter().enumerate() {
            let mut alone = good();
            a(&mut alone);
            assert_eq!(code(&alone), order[i]);
            for b in &flaws[i + 1..] {
                let mut both = good();
                a(&mut both);
                b(&mut both);
                assert_eq!(code(&both), order[i], "{} must win", order[i]);
            }
        }
    }
}
