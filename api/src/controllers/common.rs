//! Helpers shared by the controllers: query parameters that name themselves, pagination,
//! collecting several field errors, customer scoping.
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::rdms::STAFF;
use actix_web::HttpResponse;
use domain::roles::Role;
use serde::Serialize;
use std::str::FromStr;
use validator::ValidationError;

/// Who may edit the catalogue (and calendars).
pub const CATALOG_EDITORS: &[Role] = &[Role::Admin, Role::ChangeManager];

/// Default page size of paginated lists.
pub const DEFAULT_LIMIT: i64 = 50;

/// Rejects values that are only whitespace (they pass a length check but name nothing).
pub(crate) fn not_blank(s: &str) -> Result<(), ValidationError> {
    if s.trim().is_empty() {
        let mut e = ValidationError::new("blank");
        e.message = Some("must not be blank".into());
        Err(e)
    } else {
        Ok(())
    }
}

/// A query parameter parsed by hand so that a bad value names its parameter (actix's own
/// query errors can only say `query`). Empty means absent, as HTML forms send it.
pub(crate) fn query_param<T: FromStr>(
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
pub(crate) fn page_limit(raw: Option<&str>) -> ApiResult<i64> {
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
pub(crate) fn page_cursor(raw: Option<&str>) -> ApiResult<Option<i64>> {
    query_param::<i64>(
        "cursor",
        raw,
        "a cursor (the `next_cursor` of the previous page)",
    )
}

/// Cuts a page fetched with `limit + 1` rows: the extra row only says there is more.
pub(crate) fn paginate<T>(
    mut rows: Vec<T>,
    limit: i64,
    id: impl Fn(&T) -> i64,
) -> (Vec<T>, Option<i64>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(id) } else { None };
    (rows, next)
}

/// The organisation a caller is confined to: a customer sees only its own; staff see all.
pub(crate) fn customer_scope(user: &AuthUser) -> Option<i64> {
    if user.roles.any(STAFF) {
        None
    } else {
        // A customer without an organisation (the database forbids it) sees nothing.
        Some(user.organization_id.unwrap_or(-1))
    }
}

/// Collects the field errors of several checks, to report them all at once.
#[derive(Default)]
pub(crate) struct Problems {
    errors: Vec<FieldError>,
    other: Option<ApiError>,
}

impl Problems {
    /// The value if the check passed, else a placeholder while the error is kept.
    pub(crate) fn take<T: Default>(&mut self, r: ApiResult<T>) -> T {
        match r {
            Ok(v) => v,
            Err(ApiError::Validation(e)) => {
                self.errors.extend(e);
                T::default()
            }
            Err(e) => {
                self.other.get_or_insert(e);
                T::default()
            }
        }
    }

    pub(crate) fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    pub(crate) fn finish(self) -> ApiResult<()> {
        match (self.other, self.errors.is_empty()) {
            (Some(e), _) => Err(e),
            (None, false) => Err(ApiError::Validation(self.errors)),
            (None, true) => Ok(()),
        }
    }
}

pub(crate) fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header(("Location", location))
        .json(body)
}
