//! Keeping the committees: the CM and CME, their fixed members and approval policies
//! (SPEC §3.2 step 6, §3.3). A change of members or policy settles the RDMs it decides.
use super::log;
use super::votes::resettle_committee;
use super::windows;
use crate::db::enums::{Stored, StoredList};
use crate::db::models::Committee;
use crate::db::schema::{committee_members, committees, users};
use crate::events::{Entity, NewEvent};
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::approval::ApprovalPolicy;
pub use domain::approval::PolicyKind;
pub use domain::rdm::CommitteeKind;
use domain::roles::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Who may create and change committees.
pub const MANAGERS: &[Role] = &[Role::Admin, Role::ChangeManager];

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitteeView {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `cm` or `cme`.
    pub kind: String,
    /// consensual, any, majority or n_of_m.
    pub approval_policy: String,
    /// The `n` of `n_of_m`; null otherwise.
    pub approval_n: Option<i32>,
    /// Fixed members, by username.
    pub members: Vec<MemberView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommittee {
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub code: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: CommitteeKind,
    /// Default `consensual` (SPEC §3.2 step 6).
    pub approval_policy: Option<PolicyKind>,
    /// Required with `n_of_m`, refused otherwise.
    #[validate(range(min = 1, max = 1000))]
    #[schema(minimum = 1, maximum = 1000)]
    pub approval_n: Option<i32>,
}

/// Fields to change; those left out stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitteePatch {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub approval_policy: Option<PolicyKind>,
    /// Required when switching to `n_of_m`; refused with any other policy.
    #[validate(range(min = 1, max = 1000))]
    #[schema(minimum = 1, maximum = 1000)]
    pub approval_n: Option<i32>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// A user holding the `committee_member` role.
    pub user_id: i64,
}

/// The stored (policy, n) pair, checked by the domain. `n_given` says whether `n` came from
/// the request (then it is an error to send it with a policy that takes none).
fn checked_policy(kind: PolicyKind, n: Option<i32>, n_given: bool) -> ApiResult<Option<i32>> {
    let n = match (kind, n) {
        (PolicyKind::NOfM, None) => {
            return Err(ApiError::validation(
                "approval_n",
                "required",
                "n_of_m needs approval_n",
            ))
        }
        (_, Some(_)) if kind != PolicyKind::NOfM && n_given => {
            return Err(ApiError::validation(
                "approval_n",
                "invalid",
                "approval_n only goes with approval_policy n_of_m",
            ))
        }
        (PolicyKind::NOfM, n) => n,
        _ => None,
    };
    ApprovalPolicy::from_kind(kind, n)
        .map_err(|e| ApiError::validation("approval_n", "invalid", e))?;
    Ok(n)
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Committee> {
    committees::table
        .find(id)
        .select(Committee::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("committee {id}")))
}

/// Views of `list`, with their members loaded in one query.
async fn views(
    conn: &mut AsyncPgConnection,
    list: Vec<Committee>,
) -> ApiResult<Vec<CommitteeView>> {
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let members: Vec<(i64, i64, String, String)> = committee_members::table
        .inner_join(users::table)
        .filter(committee_members::committee_id.eq_any(&ids))
        .order((committee_members::committee_id, users::username))
        .select((
            committee_members::committee_id,
            users::id,
            users::username,
            users::display_name,
        ))
        .load(conn)
        .await?;
    Ok(list
        .into_iter()
        .map(|c| CommitteeView {
            members: members
                .iter()
                .filter(|m| m.0 == c.id)
                .map(|m| MemberView {
                    id: m.1,
                    username: m.2.clone(),
                    display_name: m.3.clone(),
                })
                .collect(),
            id: c.id,
            code: c.code,
            name: c.name,
            kind: c.kind.as_str().to_string(),
            approval_policy: c.approval_policy.as_str().to_string(),
            approval_n: c.approval_n,
        })
        .collect())
}

pub async fn view(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<CommitteeView> {
    let c = find(conn, id).await?;
    Ok(views(conn, vec![c]).await?.remove(0))
}

/// Every committee, by code, with its members.
pub async fn list(conn: &mut AsyncPgConnection) -> ApiResult<Vec<CommitteeView>> {
    let list: Vec<Committee> = committees::table
        .order(committees::code)
        .select(Committee::as_select())
        .load(conn)
        .await?;
    views(conn, list).await
}

pub async fn create(conn: &mut AsyncPgConnection, body: &NewCommittee) -> ApiResult<CommitteeView> {
    let code = body.code.trim().to_string();
    let name = body.name.trim().to_string();
    if code.is_empty() {
        return Err(ApiError::validation(
            "code",
            "required",
            "must not be blank",
        ));
    }
    if name.is_empty() {
        return Err(ApiError::validation(
            "name",
            "required",
            "must not be blank",
        ));
    }
    let kind = body.approval_policy.unwrap_or(PolicyKind::Consensual);
    let n = checked_policy(kind, body.approval_n, true)?;
    let id: i64 = diesel::insert_into(committees::table)
        .values((
            committees::code.eq(&code),
            committees::name.eq(&name),
            committees::kind.eq(body.kind.db()),
            committees::approval_policy.eq(kind.db()),
            committees::approval_n.eq(n),
        ))
        .returning(committees::id)
        .get_result(conn)
        .await?;
    view(conn, id).await
}

/// Renames a committee or changes its approval policy; the RDMs awaiting it are settled under
/// the new policy (and the change refused if one could then never be decided).
pub async fn update(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user_id: i64,
    id: i64,
    body: &CommitteePatch,
    now: DateTime<Utc>,
) -> ApiResult<CommitteeView> {
    if body.name.is_none() && body.approval_policy.is_none() && body.approval_n.is_none() {
        return Err(ApiError::validation(
            "body",
            "required",
            "send at least one field to change",
        ));
    }
    let name = body.name.as_deref().map(str::trim);
    if name == Some("") {
        return Err(ApiError::validation(
            "name",
            "required",
            "must not be blank",
        ));
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let c: Committee = committees::table
            .find(id)
            .for_no_key_update()
            .select(Committee::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| ApiError::not_found(format!("committee {id}")))?;
        let current = c.approval_policy;
        let kind = body.approval_policy.unwrap_or(current);
        // Keep the stored n only while the policy stays n_of_m.
        let approval_n = match body.approval_n {
            Some(v) => checked_policy(kind, Some(v), true)?,
            None => checked_policy(kind, c.approval_n.filter(|_| kind == current), false)?,
        };
        diesel::update(committees::table.find(id))
            .set((
                committees::name.eq(name.unwrap_or(&c.name)),
                committees::approval_policy.eq(kind.db()),
                committees::approval_n.eq(approval_n),
            ))
            .execute(conn)
            .await?;
        let e = NewEvent::on(Entity::Committee, id, "update")
            .by(Some(user_id))
            .detail(serde_json::json!({
                "name": name.unwrap_or(&c.name),
                "approval_policy": kind,
                "approval_n": approval_n,
            }));
        log::record(conn, n, e, now).await?;
        // A new policy may decide RDMs already voted on, or make one undecidable (refused).
        resettle_committee(conn, n, id, now).await?;
        Ok(())
    })
    .await?;
    view(conn, id).await
}

/// Adds a fixed member (a user holding the `committee_member` role).
pub async fn add_member(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    by: i64,
    id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<CommitteeView> {
    find(conn, id).await?;
    let eligible: i64 = users::table
        .filter(users::id.eq(user_id))
        .filter(users::active.eq(true))
        .filter(users::roles.contains(vec![Role::CommitteeMember].db()))
        .count()
        .get_result(conn)
        .await?;
    if eligible == 0 {
        return Err(ApiError::validation(
            "user_id",
            "unknown",
            format!("no active user {user_id} with the committee_member role"),
        ));
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        diesel::insert_into(committee_members::table)
            .values((
                committee_members::committee_id.eq(id),
                committee_members::user_id.eq(user_id),
            ))
            .execute(conn)
            .await?;
        // A new required voter can turn a pending majority into a decision either way.
        resettle_committee(conn, n, id, now).await?;
        // Of the RDMs still awaiting this committee, the new member gets the links, from this
        // event.
        let e = NewEvent::on(Entity::Committee, id, "member_added")
            .by(Some(by))
            .detail(serde_json::json!({ "user_id": user_id }));
        log::record(conn, n, e, now).await?;
        Ok(())
    })
    .await?;
    view(conn, id).await
}

/// Removes a fixed member; what the remaining votes now decide is settled.
pub async fn remove_member(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    by: i64,
    id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let removed = diesel::delete(committee_members::table.find((id, user_id)))
            .execute(conn)
            .await?;
        if removed == 0 {
            return Err(ApiError::not_found(format!(
                "member {user_id} of committee {id}"
            )));
        }
        let e = NewEvent::on(Entity::Committee, id, "member_removed")
            .by(Some(by))
            .detail(serde_json::json!({ "user_id": user_id }));
        log::record(conn, n, e, now).await?;
        // The votes still missing may have been this member's only: decide what can be.
        resettle_committee(conn, n, id, now).await?;
        // A pending window flex may have waited on this member alone.
        windows::resettle_flexes(conn, n, now).await?;
        Ok(())
    })
    .await
}
