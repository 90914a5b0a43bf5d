//! Retry rules of the job queue: exponential backoff, then `dead` after the last attempt.
use chrono::Duration;

/// First retry after this; each later one waits twice as long, up to [`MAX_DELAY_SECONDS`].
pub const BASE_DELAY_SECONDS: i64 = 30;
pub const MAX_DELAY_SECONDS: i64 = 3600;
/// Attempts before a timer job is `dead`: about an hour of retries (30 s + 1 min + … + 32 min).
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;
/// Attempts before a message is `dead`: an SMTP outage of up to a day (hourly retries once
/// the backoff is capped) delays mail without losing it.
pub const MAIL_MAX_ATTEMPTS: i32 = 30;

/// What happens after attempt number `attempts` (1-based) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryIn(Duration),
    Dead,
}

pub fn after_failure(attempts: i32, max_attempts: i32) -> AfterFailure {
    if attempts >= max_attempts {
        return AfterFailure::Dead;
    }
    let exp = (attempts.max(1) - 1).min(20) as u32;
    let secs = BASE_DELAY_SECONDS
        .saturating_mul(1i64 << exp)
        .min(MAX_DELAY_SECONDS);
    AfterFailure::RetryIn(Duration::seconds(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps_then_gives_up() {
        let d = |n| match after_failure(n, 10) {
            AfterFailure::RetryIn(d) => d.num_seconds(),
            AfterFailure::Dead => -1,
        };
        assert_eq!(d(1), 30);
        assert_eq!(d(2), 60);
        assert_eq!(d(3), 120);
        assert_eq!(d(8), 3600);
        assert_eq!(d(9), 3600);
        assert_eq!(d(10), -1);
        assert_eq!(after_failure(1, 1), AfterFailure::Dead);
        // A message is retried for about a day before it is dead.
        let total: i64 = (1..MAIL_MAX_ATTEMPTS)
            .map(|n| match after_failure(n, MAIL_MAX_ATTEMPTS) {
                AfterFailure::RetryIn(d) => d.num_seconds(),
                AfterFailure::Dead => 0,
            })
            .sum();
        assert!((22 * 3600..26 * 3600).contains(&total), "{total}");
    }
}
