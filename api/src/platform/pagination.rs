//! Keyset pagination and query parameters that name themselves when bad.
use super::error::{ApiError, ApiResult};
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Bool};
use std::str::FromStr;

/// Default page size of paginated lists.
pub const DEFAULT_LIMIT: i64 = 50;

/// A query parameter parsed by hand so that a bad value names its parameter (actix's own
/// query errors can only say `query`). Empty means absent, as HTML forms send it.
pub fn query_param<T: FromStr>(
    name: &str,
    raw: Option<&str>,
    expected: &str,
) -> ApiResult<Option<T>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<T>()
            .map(Some)
            .map_err(|_| ApiError::validation(name, "invalid", format!("`{s}` is not {expected}"))),
    }
}

/// `limit` (1..=200, default 50).
pub fn page_limit(raw: Option<&str>) -> ApiResult<i64> {
    let limit = query_param::<i64>("limit", raw, "a whole number")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            "range",
            "must be between 1 and 200",
        ));
    }
    Ok(limit)
}

/// `cursor`: the `next_cursor` of the previous page.
pub fn page_cursor(raw: Option<&str>) -> ApiResult<Option<i64>> {
    query_param::<i64>(
        "cursor",
        raw,
        "a cursor (the `next_cursor` of the previous page)",
    )
}

/// Cuts a page fetched with `limit + 1` rows: the extra row only says there is more.
pub fn paginate<T>(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(id) } else { None };
    (rows, next)
}

/// `{id_compare} <the id {probe} rows below the cursor in {table}>` (or 0 past the oldest):
/// bounds a search to the newest `probe` rows of a table before the cursor, so that a word
/// found in few rows does not walk every id (the two-step searches of RDMs and tickets).
/// `table` and `id_compare` are fixed SQL written by the caller, never user input.
pub fn probe_bound<QS: 'static>(
    table: &'static str,
    id_compare: &'static str,
    cursor: Option<i64>,
    probe: i64,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    Box::new(
        sql::<Bool>(&format!(
            "{id_compare} COALESCE((SELECT r.id FROM {table} r WHERE r.id < "
        ))
        .bind::<BigInt, _>(cursor.unwrap_or(i64::MAX))
        .sql(" ORDER BY r.id DESC OFFSET ")
        .bind::<BigInt, _>(probe - 1)
        .sql(" LIMIT 1), 0)"),
    )
}
