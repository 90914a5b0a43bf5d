//! Delegation: a committee member names a substitute for a period; while it runs the
//! substitute may vote for the member (`on_behalf_of` on a vote, or the member's e-mail links
//! sent to the substitute), and the history records who cast the vote.
use super::log;
use crate::db::schema::{committee_members, delegations as d, users};
use crate::events::{Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::idempotency::{create_once, Created, Idempotency};
use crate::platform::input::Problems;
use crate::platform::pagination::paginate;
use crate::queue::{enqueue, Lane, Queued, Timer};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::delegation::{self as rules, DelegationError, Period, SubstituteFacts};
use domain::roles::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Who may name a substitute for any member, and revoke any delegation.
pub const MANAGERS: &[Role] = &[Role::ChangeManager, Role::Admin];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = d)]
struct Delegation {
    id: i64,
    member_id: i64,
    substitute_id: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: String,
    created_by: i64,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    revoked_by: Option<i64>,
}

impl Delegation {
    fn period(&self) -> Period {
        Period::new(self.starts_at, self.ends_at)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationView {
    pub id: i64,
    /// The committee member who is absent.
    pub member_id: i64,
    pub member_name: String,
    /// Who votes for the member during the period.
    pub substitute_id: i64,
    pub substitute_name: String,
    pub starts_at: DateTime<Utc>,
    /// Exclusive: the substitute may vote until just before this instant.
    pub ends_at: DateTime<Utc>,
    pub reason: String,
    /// `scheduled`, `active`, `ended` or `revoked`, at the time of the request.
    pub status: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationPage {
    pub items: Vec<DelegationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDelegation {
    /// The member who names a substitute. Default: you. Only a change manager or an admin
    /// may name one for someone else. Must sit on a committee (CM or CME).
    #[validate(range(min = 1))]
    #[schema(minimum = 1)]
    pub member_id: Option<i64>,
    /// An active user with the `committee_member` role, not the member.
    #[validate(range(min = 1))]
    #[schema(minimum = 1)]
    pub substitute_id: i64,
    /// Default: now. May lie in the past (a delegation made on the first day of an absence),
    /// at most 366 days ahead.
    pub starts_at: Option<DateTime<Utc>>,
    /// After `starts_at` and in the future; the period lasts at most 180 days. Periods of
    /// one member's delegations may not overlap.
    pub ends_at: DateTime<Utc>,
    /// Why (e.g. holidays); shown to whoever reads the delegation.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

async fn views(
    conn: &mut AsyncPgConnection,
    rows: Vec<Delegation>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<DelegationView>> {
    let mut ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| [r.member_id, r.substitute_id])
        .collect();
    ids.sort();
    ids.dedup();
    let names: Vec<(i64, String)> = users::table
        .filter(users::id.eq_any(&ids))
        .select((users::id, users::display_name))
        .load(conn)
        .await?;
    let name = |id: i64| {
        names
            .iter()
            .find(|(u, _)| *u == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    Ok(rows
        .into_iter()
        .map(|r| DelegationView {
            status: rules::status(r.period(), r.revoked_at, now)
                .as_str()
                .to_string(),
            member_name: name(r.member_id),
            substitute_name: name(r.substitute_id),
            id: r.id,
            member_id: r.member_id,
            substitute_id: r.substitute_id,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            reason: r.reason,
            created_by: r.created_by,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            revoked_by: r.revoked_by,
        })
        .collect())
}

async fn view(
    conn: &mut AsyncPgConnection,
    row: Delegation,
    now: DateTime<Utc>,
) -> ApiResult<DelegationView> {
    Ok(views(conn, vec![row], now).await?.remove(0))
}

async fn find(conn: &mut AsyncPgConnection, id: i64, lock: bool) -> ApiResult<Delegation> {
    let q = d::table.find(id).select(Delegation::as_select());
    let found = if lock {
        q.for_update().first(conn).await
    } else {
        q.first(conn).await
    };
    found
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("delegation {id}")))
}

/// Names a substitute for a period (`member_id` defaults to the caller; only a change
/// manager or an admin names one for someone else). Repeating the request with the same
/// idempotency key returns the first result.
pub async fn create(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    body: &NewDelegation,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<Created<DelegationView>> {
    let member_id = body.member_id.unwrap_or(user.id);
    if !user.roles.any(MANAGERS) {
        user.require(&[Role::CommitteeMember])?;
        if member_id != user.id {
            return Err(ApiError::Forbidden(
                "only a change manager or an admin may name a substitute for another member".into(),
            ));
        }
    }
    let idem = Idempotency::new(idempotency_key, "POST /api/v1/delegations", body)?;
    let starts_at = body.starts_at.unwrap_or(now);
    let period = Period::new(starts_at, body.ends_at);
    let reason = body.reason.as_deref().unwrap_or("").trim().to_string();
    create_once(conn, idem.as_ref(), user.id, now, async |conn| {
        // The member's row is the lock that serialises their delegations: two concurrent
        // creates cannot both pass the overlap check. NO KEY UPDATE leaves rows that
        // merely refer to the member (votes, links) free to be written meanwhile.
        let member: Option<bool> = users::table
            .find(member_id)
            .select(users::active)
            .for_no_key_update()
            .first(conn)
            .await
            .optional()?;
        let on_committee: i64 = committee_members::table
            .filter(committee_members::user_id.eq(member_id))
            .count()
            .get_result(conn)
            .await?;
        let substitute: Option<(bool, Vec<Role>)> = users::table
            .find(body.substitute_id)
            .select((users::active, users::roles))
            .first(conn)
            .await
            .optional()?;
        let mut p = Problems::default();
        match member {
            Some(true) if on_committee > 0 => {}
            Some(true) => {
                p.take::<()>(Err(ApiError::validation(
                    "member_id",
                    "not_a_member",
                    format!("user {member_id} sits on no committee"),
                )));
            }
            _ => {
                p.take::<()>(Err(ApiError::validation(
                    "member_id",
                    "unknown",
                    format!("no active user {member_id}"),
                )));
            }
        }
        match &substitute {
            None => {
                p.take::<()>(Err(ApiError::validation(
                    "substitute_id",
                    "unknown",
                    format!("no user {}", body.substitute_id),
                )));
            }
            Some((active, roles)) => {
                let facts = SubstituteFacts {
                    active: *active,
                    committee_member: roles.contains(&Role::CommitteeMember),
                };
                p.take(
                    rules::check_substitute(member_id, body.substitute_id, facts)
                        .map_err(rule_error),
                );
            }
        }
        p.take(rules::check_period(period, now).map_err(rule_error));
        p.finish()?;
        let existing: Vec<(i64, Period)> = d::table
            .filter(d::member_id.eq(member_id))
            .filter(d::revoked_at.is_null())
            .filter(d::ends_at.gt(now))
            .order(d::starts_at)
            .select((d::id, d::starts_at, d::ends_at))
            .load::<(i64, DateTime<Utc>, DateTime<Utc>)>(conn)
            .await?
            .into_iter()
            .map(|(id, s, e)| (id, Period::new(s, e)))
            .collect();
        let facts = SubstituteFacts {
            active: true,
            committee_member: true,
        };
        rules::check_delegation(member_id, body.substitute_id, facts, period, &existing, now)
            .map_err(rule_error)?;
        let row: Delegation = diesel::insert_into(d::table)
            .values((
                d::member_id.eq(member_id),
                d::substitute_id.eq(body.substitute_id),
                d::starts_at.eq(period.starts_at),
                d::ends_at.eq(period.ends_at),
                d::reason.eq(&reason),
                d::created_by.eq(user.id),
                d::created_at.eq(now),
            ))
            .returning(Delegation::as_returning())
            .get_result(conn)
            .await?;
        // In force now: the substitute gets the member's pending links, from this event.
        let active = rules::active_at(period, None, now);
        let e = NewEvent::on(Entity::Delegation, row.id, "create")
            .by(Some(user.id))
            .because(Some(reason.clone()).filter(|r| !r.is_empty()))
            .detail(serde_json::json!({
                "member_id": member_id,
                "substitute_id": body.substitute_id,
                "starts_at": period.starts_at,
                "ends_at": period.ends_at,
                "active": active,
            }));
        log::record(conn, n, e, now).await?;
        if !active {
            // Starts later: a timer hands the substitute the member's links then.
            enqueue(
                conn,
                &DelegationStarts {
                    delegation_id: row.id,
                },
                row.starts_at,
                Some(format!("delegation_starts:{}", row.id)),
                now,
            )
            .await?;
        }
        view(conn, row, now).await
    })
    .await
}

fn rule_error(e: DelegationError) -> ApiError {
    match e.field() {
        Some(field) => ApiError::validation(field, e.code(), e.to_string()),
        None => ApiError::conflict(e.code(), e.to_string()),
    }
}

/// Which delegations to list.
#[derive(Debug, Default, Clone, Copy)]
pub struct DelegationQuery {
    pub member_id: Option<i64>,
    pub substitute_id: Option<i64>,
    pub active_at: Option<DateTime<Utc>>,
    pub limit: i64,
    pub cursor: Option<i64>,
}

/// Delegations by id, filtered and paginated (keyset on id).
pub async fn list(
    conn: &mut AsyncPgConnection,
    f: DelegationQuery,
    now: DateTime<Utc>,
) -> ApiResult<DelegationPage> {
    let mut q = d::table.into_boxed();
    if let Some(m) = f.member_id {
        q = q.filter(d::member_id.eq(m));
    }
    if let Some(s) = f.substitute_id {
        q = q.filter(d::substitute_id.eq(s));
    }
    if let Some(at) = f.active_at {
        q = q
            .filter(d::starts_at.le(at))
            .filter(d::ends_at.gt(at))
            .filter(d::revoked_at.is_null().or(d::revoked_at.gt(at)));
    }
    if let Some(c) = f.cursor {
        q = q.filter(d::id.gt(c));
    }
    let rows: Vec<Delegation> = q
        .order(d::id)
        .limit(f.limit + 1)
        .select(Delegation::as_select())
        .load(conn)
        .await?;
    let (rows, next_cursor) = paginate(rows, f.limit, |r| r.id);
    let items = views(conn, rows, now).await?;
    Ok(DelegationPage { items, next_cursor })
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<DelegationView> {
    let row = find(conn, id, false).await?;
    view(conn, row, now).await
}

/// Revokes a delegation that has not ended: from now on the substitute can no longer vote
/// for the member (votes already cast stay).
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<DelegationView> {
    let manager = user.roles.any(MANAGERS);
    if !manager {
        user.require(&[Role::CommitteeMember])?;
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let row = find(conn, id, true).await?;
        if !manager && row.member_id != user.id {
            return Err(ApiError::Forbidden(
                "only the member, a change manager or an admin may revoke a delegation".into(),
            ));
        }
        rules::check_revoke(row.period(), row.revoked_at, now)
            .map_err(|e| ApiError::conflict(e.code(), format!("delegation {id}: {e}")))?;
        let row: Delegation = diesel::update(d::table.find(id))
            .set((d::revoked_at.eq(now), d::revoked_by.eq(user.id)))
            .returning(Delegation::as_returning())
            .get_result(conn)
            .await?;
        let e = NewEvent::on(Entity::Delegation, id, "revoke")
            .by(Some(user.id))
            .detail(serde_json::json!({ "member_id": row.member_id, "substitute_id": row.substitute_id }));
        log::record(conn, n, e, now).await?;
        view(conn, row, now).await
    })
    .await
}

/// A delegation comes into force: unless revoked meanwhile, its substitute gets the member's
/// links for the RDMs awaiting the member's vote.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DelegationStarts {
    pub delegation_id: i64,
}

impl Queued for DelegationStarts {
    const KIND: &'static str = "delegation_starts";
    const LANE: Lane = Lane::Timers;
}

impl Timer for DelegationStarts {
    type Context = Notifier;
    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        type Row = (i64, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);
        let row: Option<Row> = d::table
            .find(self.delegation_id)
            .select((d::member_id, d::starts_at, d::ends_at, d::revoked_at))
            .first(conn)
            .await
            .optional()?;
        match row {
            // The substitute gets the member's pending links, from this event.
            Some((member, starts, ends, None)) if starts <= now && now < ends => {
                let e = NewEvent::on(Entity::Delegation, self.delegation_id, "start")
                    .detail(serde_json::json!({ "member_id": member, "active": true }));
                log::record(conn, n, e, now).await.map(|_| ())
            }
            _ => Ok(()),
        }
    }
}
