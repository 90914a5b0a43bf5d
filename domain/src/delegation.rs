//! Delegation: a committee member names a substitute for a period; while it runs, the
//! substitute's vote counts for the member (and the history says who cast it).
//!
//! Periods are half-open, `[starts_at, ends_at)`.
use chrono::{DateTime, Duration, Utc};
use std::fmt;

/// The longest period one delegation may cover: an absence, not a standing proxy.
pub const MAX_DELEGATION_DAYS: i64 = 180;
/// How far ahead a delegation may start.
pub const MAX_START_AHEAD_DAYS: i64 = 366;

/// A delegation's period, `[starts_at, ends_at)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Period {
    pub fn new(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        Period { starts_at, ends_at }
    }

    /// Whether `at` falls inside the period.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && at < self.ends_at
    }

    /// Whether the two periods share an instant (touching ends do not overlap).
    pub fn overlaps(&self, other: &Period) -> bool {
        self.starts_at < other.ends_at && other.starts_at < self.ends_at
    }
}

/// What the rules need to know about the proposed substitute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubstituteFacts {
    /// The account is active.
    pub active: bool,
    /// Holds the `committee_member` role.
    pub committee_member: bool,
}

/// Why a delegation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DelegationError {
    #[error("must be after starts_at")]
    EndBeforeStart,
    #[error("the period must end in the future")]
    EndInPast,
    #[error("a delegation lasts at most {MAX_DELEGATION_DAYS} days")]
    TooLong,
    #[error("a delegation starts at most {MAX_START_AHEAD_DAYS} days ahead")]
    StartTooFar,
    #[error("a member cannot name themselves as substitute")]
    SelfDelegation,
    #[error("the substitute must be an active user with the committee_member role")]
    SubstituteIneligible,
    #[error("the member already has a substitute for part of this period ({0})")]
    Overlap(OverlapWith),
}

/// The existing delegation a new one collides with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverlapWith {
    pub id: i64,
    pub period: Period,
}

impl fmt::Display for OverlapWith {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "delegation {} from {} to {}",
            self.id,
            self.period.starts_at.to_rfc3339(),
            self.period.ends_at.to_rfc3339()
        )
    }
}

impl DelegationError {
    /// The input field at fault; `None` for a conflict with existing data.
    pub fn field(self) -> Option<&'static str> {
        match self {
            DelegationError::EndBeforeStart
            | DelegationError::EndInPast
            | DelegationError::TooLong => Some("ends_at"),
            DelegationError::StartTooFar => Some("starts_at"),
            DelegationError::SelfDelegation | DelegationError::SubstituteIneligible => {
                Some("substitute_id")
            }
            DelegationError::Overlap(_) => None,
        }
    }

    /// Stable code for clients.
    pub fn code(self) -> &'static str {
        match self {
            DelegationError::EndBeforeStart
            | DelegationError::TooLong
            | DelegationError::StartTooFar => "range",
            DelegationError::EndInPast => "past",
            DelegationError::SelfDelegation => "self",
            DelegationError::SubstituteIneligible => "ineligible",
            DelegationError::Overlap(_) => "delegation_overlap",
        }
    }
}

/// A period a delegation may cover at `now`: it ends after it starts and in the future,
/// lasts at most [`MAX_DELEGATION_DAYS`] and starts at most [`MAX_START_AHEAD_DAYS`] ahead.
/// It may have started already (a delegation made on the first day of an absence).
pub fn check_period(period: Period, now: DateTime<Utc>) -> Result<(), DelegationError> {
    if period.ends_at <= period.starts_at {
        return Err(DelegationError::EndBeforeStart);
    }
    if period.ends_at <= now {
        return Err(DelegationError::EndInPast);
    }
    if period.starts_at > now + Duration::days(MAX_START_AHEAD_DAYS) {
        return Err(DelegationError::StartTooFar);
    }
    if period.ends_at - period.starts_at > Duration::days(MAX_DELEGATION_DAYS) {
        return Err(DelegationError::TooLong);
    }
    Ok(())
}

/// Whether a delegation stored with this period and revocation still counts at `at`.
pub fn active_at(period: Period, revoked_at: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    period.contains(at) && revoked_at.is_none_or(|r| r > at)
}

/// Where a delegation stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Starts later.
    Scheduled,
    Active,
    Ended,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Active => "active",
            Status::Ended => "ended",
            Status::Revoked => "revoked",
        }
    }
}

pub fn status(period: Period, revoked_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Status {
    if revoked_at.is_some_and(|r| r <= now) {
        Status::Revoked
    } else if now < period.starts_at {
        Status::Scheduled
    } else if period.ends_at <= now {
        Status::Ended
    } else {
        Status::Active
    }
}

/// The substitute is someone else, active, holding the `committee_member` role.
pub fn check_substitute(
    member_id: i64,
    substitute_id: i64,
    substitute: SubstituteFacts,
) -> Result<(), DelegationError> {
    if member_id == substitute_id {
        return Err(DelegationError::SelfDelegation);
    }
    if !substitute.active || !substitute.committee_member {
        return Err(DelegationError::SubstituteIneligible);
    }
    Ok(())
}

/// All the checks of a new delegation of `member_id` to `substitute_id` for `period`, at
/// `now`. `existing` are the member's other delegations that still count (not revoked, not
/// ended), with their ids.
pub fn check_delegation(
    member_id: i64,
    substitute_id: i64,
    substitute: SubstituteFacts,
    period: Period,
    existing: &[(i64, Period)],
    now: DateTime<Utc>,
) -> Result<(), DelegationError> {
    check_substitute(member_id, substitute_id, substitute)?;
    check_period(period, now)?;
    if let Some((id, p)) = existing
        .iter()
        .filter(|(_, p)| p.ends_at > now)
        .find(|(_, p)| p.overlaps(&period))
    {
        return Err(DelegationError::Overlap(OverlapWith {
            id: *id,
            period: *p,
        }));
    }
    Ok(())
}

/// Why a delegation cannot be revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevokeError {
    #[error("the delegation was already revoked")]
    AlreadyRevoked,
    #[error("the delegation has already ended")]
    Ended,
}

impl RevokeError {
    pub fn code(self) -> &'static str {
        match self {
            RevokeError::AlreadyRevoked => "delegation_revoked",
            RevokeError::Ended => "delegation_ended",
        }
    }
}

/// A delegation can be revoked until it ends (a scheduled one is simply called off).
pub fn check_revoke(
    period: Period,
    revoked_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), RevokeError> {
    match status(period, revoked_at, now) {
        Status::Revoked => Err(RevokeError::AlreadyRevoked),
        Status::Ended => Err(RevokeError::Ended),
        Status::Scheduled | Status::Active => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
    }

    const OK: SubstituteFacts = SubstituteFacts {
        active: true,
        committee_member: true,
    };

    #[test]
    fn periods_are_half_open() {
        let p = Period::new(t(10, 0), t(12, 0));
        assert!(p.contains(t(10, 0)));
        assert!(p.contains(t(11, 23)));
        assert!(!p.contains(t(12, 0)));
        assert!(!p.contains(t(9, 23)));
        assert!(p.overlaps(&Period::new(t(11, 0), t(13, 0))));
        assert!(p.overlaps(&Period::new(t(9, 0), t(10, 1))));
        assert!(p.overlaps(&Period::new(t(10, 1), t(10, 2))), "inside");
        assert!(p.overlaps(&Period::new(t(1, 0), t(20, 0))), "around");
        assert!(!p.overlaps(&Period::new(t(12, 0), t(13, 0))), "touching");
        assert!(!p.overlaps(&Period::new(t(8, 0), t(10, 0))), "touching");
    }

    #[test]
    fn a_period_ends_after_it_starts_in_the_future_and_is_bounded() {
        let now = t(10, 12);
        assert_eq!(check_period(Period::new(t(10, 0), t(12, 0)), now), Ok(()));
        assert_eq!(
            check_period(Period::new(t(12, 0), t(12, 0)), now),
            Err(DelegationError::EndBeforeStart)
        );
        assert_eq!(
            check_period(Period::new(t(12, 0), t(11, 0)), now),
            Err(DelegationError::EndBeforeStart)
        );
        assert_eq!(
            check_period(Period::new(t(9, 0), t(10, 12)), now),
            Err(DelegationError::EndInPast)
        );
        let start = t(11, 0);
        let max = Duration::days(MAX_DELEGATION_DAYS);
        assert_eq!(check_period(Period::new(start, start + max), now), Ok(()));
        assert_eq!(
            check_period(Period::new(start, start + max + Duration::seconds(1)), now),
            Err(DelegationError::TooLong)
        );
        let far = now + Duration::days(MAX_START_AHEAD_DAYS + 1);
        assert_eq!(
            check_period(Period::new(far, far + Duration::days(1)), now),
            Err(DelegationError::StartTooFar)
        );
        assert_eq!(DelegationError::TooLong.field(), Some("ends_at"));
        assert_eq!(DelegationError::StartTooFar.field(), Some("starts_at"));
    }

    #[test]
    fn not_self_and_the_substitute_must_be_an_active_committee_member() {
        let now = t(10, 0);
        let p = Period::new(t(10, 0), t(12, 0));
        assert_eq!(
            check_delegation(1, 1, OK, p, &[], now),
            Err(DelegationError::SelfDelegation)
        );
        let inactive = SubstituteFacts {
            active: false,
            committee_member: true,
        };
        let not_member = SubstituteFacts {
            active: true,
            committee_member: false,
        };
        for f in [inactive, not_member] {
            let e = check_delegation(1, 2, f, p, &[], now).unwrap_err();
            assert_eq!(e, DelegationError::SubstituteIneligible);
            assert_eq!(e.field(), Some("substitute_id"));
        }
        assert_eq!(check_delegation(1, 2, OK, p, &[], now), Ok(()));
    }

    #[test]
    fn one_substitute_at_a_time() {
        let now = t(10, 0);
        let existing = [(7, Period::new(t(11, 0), t(13, 0)))];
        let e = check_delegation(1, 2, OK, Period::new(t(12, 0), t(14, 0)), &existing, now)
            .unwrap_err();
        assert_eq!(
            e,
            DelegationError::Overlap(OverlapWith {
                id: 7,
                period: existing[0].1
            })
        );
        assert_eq!((e.field(), e.code()), (None, "delegation_overlap"));
        // Back to back is fine, and so is another substitute: only the period counts.
        assert_eq!(
            check_delegation(1, 3, OK, Period::new(t(13, 0), t(14, 0)), &existing, now),
            Ok(())
        );
        // A delegation that has ended no longer blocks.
        let ended = [(8, Period::new(t(1, 0), t(10, 0)))];
        assert_eq!(
            check_delegation(1, 2, OK, Period::new(t(9, 0), t(11, 0)), &ended, now),
            Ok(())
        );
    }

    #[test]
    fn status_and_activity_follow_the_clock_and_revocation() {
        let p = Period::new(t(10, 0), t(12, 0));
        assert_eq!(status(p, None, t(9, 0)), Status::Scheduled);
        assert_eq!(status(p, None, t(10, 0)), Status::Active);
        assert_eq!(status(p, None, t(12, 0)), Status::Ended);
        assert_eq!(status(p, Some(t(11, 0)), t(11, 0)), Status::Revoked);
        assert!(active_at(p, None, t(11, 0)));
        assert!(!active_at(p, None, t(12, 0)));
        assert!(!active_at(p, Some(t(11, 0)), t(11, 0)));
        assert!(!active_at(p, Some(t(11, 0)), t(11, 5)));
        assert!(
            active_at(p, Some(t(11, 0)), t(10, 5)),
            "before it was revoked"
        );
        assert_eq!(Status::Active.as_str(), "active");
    }

    #[test]
    fn revoke_until_it_ends() {
        let p = Period::new(t(10, 0), t(12, 0));
        assert_eq!(check_revoke(p, None, t(9, 0)), Ok(()));
        assert_eq!(check_revoke(p, None, t(11, 0)), Ok(()));
        assert_eq!(check_revoke(p, None, t(12, 0)), Err(RevokeError::Ended));
        assert_eq!(
            check_revoke(p, Some(t(11, 0)), t(11, 5)),
            Err(RevokeError::AlreadyRevoked)
        );
        assert_eq!(RevokeError::Ended.code(), "delegation_ended");
    }
}
