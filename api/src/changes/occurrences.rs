//! What meeting and window occurrences share: how far ahead they are materialised, the
//! range a listing covers, and how a refused move is reported.
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Duration, Utc};

/// How far ahead occurrences are materialised.
pub const HORIZON_WEEKS: i64 = 12;

/// The default range of a listing: from now, `weeks` ahead.
pub fn range_or_default(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    weeks: i64,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let from = from.unwrap_or(now);
    let to = to.unwrap_or(from + Duration::weeks(weeks));
    // Listing materialises occurrences: keep it to the years around now.
    let (earliest, latest) = (now - Duration::days(366), now + Duration::days(2 * 366));
    if from < earliest || from > latest {
        return Err(ApiError::validation(
            "from",
            "range",
            "must be within a year before and two years after now",
        ));
    }
    if to > latest + Duration::days(366) {
        return Err(ApiError::validation(
            "to",
            "range",
            "must be within three years from now",
        ));
    }
    if to <= from {
        return Err(ApiError::validation(
            "to",
            "range",
            "`to` must be after `from`",
        ));
    }
    if to - from > Duration::days(366) {
        return Err(ApiError::validation(
            "to",
            "range",
            "the range may span at most 366 days",
        ));
    }
    Ok((from, to))
}

/// A refused move of a meeting or window: 409 for the occurrence's state, 422 naming the field.
pub fn move_error(e: domain::schedule::MoveError, what: &str) -> ApiError {
    match e.field() {
        Some(field) => ApiError::validation(field, e.code(), e.to_string()),
        None => ApiError::conflict(e.code(), format!("{what}: {e}")),
    }
}
