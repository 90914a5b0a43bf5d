//! Who stands in for a committee member right now (their delegations in force).
use crate::db::schema::delegations;
use crate::platform::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Members who stand in for `member_id` at `now`.
pub async fn active_substitutes(
    conn: &mut AsyncPgConnection,
    member_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<Vec<i64>> {
    Ok(delegations::table
        .filter(delegations::member_id.eq(member_id))
        .filter(delegations::starts_at.le(now))
        .filter(delegations::ends_at.gt(now))
        .filter(delegations::revoked_at.is_null())
        .select(delegations::substitute_id)
        .order(delegations::substitute_id)
        .distinct()
        .load(conn)
        .await?)
}

/// Whether `substitute_id` stands in for `member_id` at `now`.
pub async fn is_substitute(
    conn: &mut AsyncPgConnection,
    member_id: i64,
    substitute_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    Ok(active_substitutes(conn, member_id, now)
        .await?
        .contains(&substitute_id))
}
