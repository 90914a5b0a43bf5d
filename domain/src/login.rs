//! How long a login must wait after failed attempts on one account: a few free tries, then a
//! delay that doubles with every further failure, up to a cap. An attacker guessing one
//! account's password is slowed to a crawl; its owner, locked out for at most the cap, is
//! never locked out for good.
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy)]
pub struct LoginBackoff {
    /// Failures in a row allowed without delay.
    pub free_failures: u32,
    /// The wait after the first failure beyond the free ones.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
}

impl Default for LoginBackoff {
    fn default() -> Self {
        LoginBackoff {
            free_failures: 5,
            first_delay: Duration::seconds(1),
            max_delay: Duration::minutes(15),
        }
    }
}

impl LoginBackoff {
    /// The wait after `failures` failures in a row (none while they are free).
    pub fn delay(&self, failures: u32) -> Option<Duration> {
        let doublings = failures.checked_sub(self.free_failures.saturating_add(1))?;
        let factor = 1i64.checked_shl(doublings.min(40)).unwrap_or(i64::MAX);
        let delay = self
            .first_delay
            .num_milliseconds()
            .saturating_mul(factor)
            .min(self.max_delay.num_milliseconds());
        Some(Duration::milliseconds(delay))
    }

    /// When the next attempt is allowed after `failures` failures in a row, the last one at
    /// `last`; `None`: at once.
    pub fn next_attempt(&self, failures: u32, last: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.delay(failures).map(|d| last + d)
    }

    /// Whether a record of failures, the last at `last`, can be forgotten at `now`: its wait
    /// has long passed.
    pub fn forgotten(&self, last: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - last > self.max_delay * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn five_free_failures_then_one_second_doubling_up_to_fifteen_minutes() {
        let b = LoginBackoff::default();
        for n in 0..=5 {
            assert_eq!(b.delay(n), None, "{n} failures");
        }
        assert_eq!(b.delay(6), Some(Duration::seconds(1)));
        assert_eq!(b.delay(7), Some(Duration::seconds(2)));
        assert_eq!(b.delay(8), Some(Duration::seconds(4)));
        assert_eq!(b.delay(15), Some(Duration::seconds(512)));
        assert_eq!(b.delay(16), Some(Duration::minutes(15)));
        assert_eq!(b.delay(u32::MAX), Some(Duration::minutes(15)));
    }

    proptest! {
        #[test]
        fn the_wait_never_shrinks_as_failures_grow_and_never_passes_the_cap(n in 0u32..10_000) {
            let b = LoginBackoff::default();
            let (a, c) = (b.delay(n), b.delay(n + 1));
            prop_assert!(c >= a);
            prop_assert!(c.unwrap_or_default() <= b.max_delay);
        }
    }
}
