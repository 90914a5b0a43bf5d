//! Who decides an RDM: the committee's approval policy, and its required voters (the fixed
//! members plus the members the RDM names as involved).
use crate::db::models::Committee;
use crate::db::schema::{committee_members, committees, rdm_involved_members};
use crate::platform::error::{ApiError, ApiResult};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::approval::ApprovalPolicy;

/// The approval policy a committee decides by.
pub async fn committee_policy(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
) -> ApiResult<ApprovalPolicy> {
    let committee: Committee = committees::table
        .find(committee_id)
        .select(Committee::as_select())
        .first(conn)
        .await?;
    ApprovalPolicy::from_kind(committee.approval_policy, committee.approval_n)
        .map_err(|e| ApiError::internal(format!("committee {committee_id}: {e}")))
}

/// Required voters: the committee's fixed members plus the members the RDM involves.
pub async fn required_voters(
    conn: &mut AsyncPgConnection,
    committee_id: i64,
    rdm_id: i64,
) -> ApiResult<Vec<i64>> {
    let mut ids: Vec<i64> = committee_members::table
        .filter(committee_members::committee_id.eq(committee_id))
        .select(committee_members::user_id)
        .load(conn)
        .await?;
    let involved: Vec<i64> = rdm_involved_members::table
        .filter(rdm_involved_members::rdm_id.eq(rdm_id))
        .select(rdm_involved_members::user_id)
        .load(conn)
        .await?;
    ids.extend(involved);
    ids.sort();
    ids.dedup();
    Ok(ids)
}
