//! `/api/v1/committees`: the CM and CME, their fixed members and approval policies
//! (SPEC §3.2 step 6, §3.3).
use crate::auth::AuthUser;
use crate::controllers::rdms::votes::resettle_committee;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::models::Committee;
use crate::rdms::STAFF;
use crate::schema::{committee_members, committees, users};
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::approval::ApprovalPolicy;
use domain::roles::Role;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use validator::Validate;

/// Who may create and change committees.
const MANAGERS: &[Role] = &[Role::Admin, Role::ChangeManager];

/// `cm` meets weekly with a cut-off; `cme` decides emergencies at any time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommitteeKind {
    Cm,
    Cme,
}

impl CommitteeKind {
    fn as_str(self) -> &'static str {
        match self {
            CommitteeKind::Cm => "cm",
            CommitteeKind::Cme => "cme",
        }
    }
}

/// How the committee's votes become a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// Every required voter approves; one rejection vetoes.
    Consensual,
    /// One approval suffices.
    Any,
    /// More than half of the required voters approve.
    Majority,
    /// At least `approval_n` approvals.
    NOfM,
}

impl PolicyKind {
    fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Consensual => "consensual",
            PolicyKind::Any => "any",
            PolicyKind::Majority => "majority",
            PolicyKind::NOfM => "n_of_m",
        }
    }
}

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
    ApprovalPolicy::from_parts(kind.as_str(), n)
        .map_err(|e| ApiError::validation("approval_n", "invalid", e))?;
    Ok(n)
}

async fn find(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Committee> {
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
            kind: c.kind,
            approval_policy: c.approval_policy,
            approval_n: c.approval_n,
        })
        .collect())
}

async fn view(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<CommitteeView> {
    let c = find(conn, id).await?;
    Ok(views(conn, vec![c]).await?.remove(0))
}

/// List the committees, by code, with their members and approval policies.
#[utoipa::path(
    get, path = "/api/v1/committees", tag = "committees",
    responses((status = 200, description = "Every committee", body = Vec<CommitteeView>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/committees")]
pub async fn list_committees(
    state: web::Data<AppState>,
    user: AuthUser,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    let list: Vec<Committee> = committees::table
        .order(committees::code)
        .select(Committee::as_select())
        .load(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(views(&mut conn, list).await?))
}

/// Get a committee with its members and approval policy.
#[utoipa::path(
    get, path = "/api/v1/committees/{id}", tag = "committees",
    params(("id" = i64, Path, description = "Committee id")),
    responses((status = 200, description = "The committee", body = CommitteeView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/committees/{id}")]
pub async fn get_committee(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(view(&mut conn, *id).await?))
}

/// Create a committee. Its code is unique.
#[utoipa::path(
    post, path = "/api/v1/committees", tag = "committees",
    request_body = NewCommittee,
    responses((status = 201, description = "Created", body = CommitteeView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/committees")]
pub async fn create_committee(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ValidJson<NewCommittee>,
) -> ApiResult<HttpResponse> {
    user.require(MANAGERS)?;
    let body = body.0;
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
    let mut conn = state.pool.get().await?;
    let id: i64 = diesel::insert_into(committees::table)
        .values((
            committees::code.eq(&code),
            committees::name.eq(&name),
            committees::kind.eq(body.kind.as_str()),
            committees::approval_policy.eq(kind.as_str()),
            committees::approval_n.eq(n),
        ))
        .returning(committees::id)
        .get_result(&mut conn)
        .await?;
    let v = view(&mut conn, id).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/committees/{id}")))
        .json(v))
}

/// Rename a committee or change its approval policy.
///
/// Switching away from `n_of_m` drops `approval_n`.
#[utoipa::path(
    patch, path = "/api/v1/committees/{id}", tag = "committees",
    request_body = CommitteePatch,
    params(("id" = i64, Path, description = "Committee id")),
    responses((status = 200, description = "Updated", body = CommitteeView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[patch("/committees/{id}")]
pub async fn update_committee(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<CommitteePatch>,
) -> ApiResult<HttpResponse> {
    user.require(MANAGERS)?;
    let body = body.0;
    let id = *id;
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
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let c: Committee = committees::table
            .find(id)
            .for_no_key_update()
            .select(Committee::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| ApiError::not_found(format!("committee {id}")))?;
        let current: PolicyKind =
            serde_json::from_value(serde_json::Value::String(c.approval_policy.clone()))
                .map_err(ApiError::internal)?;
        let kind = body.approval_policy.unwrap_or(current);
        // Keep the stored n only while the policy stays n_of_m.
        let n = match body.approval_n {
            Some(n) => checked_policy(kind, Some(n), true)?,
            None => checked_policy(kind, c.approval_n.filter(|_| kind == current), false)?,
        };
        diesel::update(committees::table.find(id))
            .set((
                committees::name.eq(name.unwrap_or(&c.name)),
                committees::approval_policy.eq(kind.as_str()),
                committees::approval_n.eq(n),
            ))
            .execute(conn)
            .await?;
        // A new policy may decide RDMs already voted on, or make one undecidable (refused).
        resettle_committee(conn, &state.notifier, id, now).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view(&mut conn, id).await?))
}

/// Add a fixed member. The user must hold the `committee_member` role.
#[utoipa::path(
    post, path = "/api/v1/committees/{id}/members", tag = "committees",
    request_body = NewMember,
    params(("id" = i64, Path, description = "Committee id")),
    responses((status = 201, description = "Added; the committee with its members", body = CommitteeView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[post("/committees/{id}/members")]
pub async fn add_member(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewMember>,
) -> ApiResult<HttpResponse> {
    user.require(MANAGERS)?;
    let id = *id;
    let user_id = body.0.user_id;
    let mut conn = state.pool.get().await?;
    find(&mut conn, id).await?;
    let eligible: i64 = users::table
        .filter(users::id.eq(user_id))
        .filter(users::active.eq(true))
        .filter(users::roles.contains(vec![Role::CommitteeMember.as_str().to_string()]))
        .count()
        .get_result(&mut conn)
        .await?;
    if eligible == 0 {
        return Err(ApiError::validation(
            "user_id",
            "unknown",
            format!("no active user {user_id} with the committee_member role"),
        ));
    }
    let now = state.clock.now();
    conn.transaction::<_, ApiError, _>(async |conn| {
        diesel::insert_into(committee_members::table)
            .values((
                committee_members::committee_id.eq(id),
                committee_members::user_id.eq(user_id),
            ))
            .execute(conn)
            .await?;
        // A new required voter can turn a pending majority into a decision either way.
        resettle_committee(conn, &state.notifier, id, now).await?;
        // A new required voter of RDMs already awaiting this committee gets their links.
        let awaiting: Vec<crate::models::Rdm> = crate::schema::rdms::table
            .filter(crate::schema::rdms::committee_id.eq(id))
            .filter(crate::schema::rdms::state.eq("awaiting_committee"))
            .order(crate::schema::rdms::id)
            .select(crate::models::Rdm::as_select())
            .load(conn)
            .await?;
        for rdm in awaiting {
            crate::notify::vote_requests(
                conn,
                &state.notifier,
                &rdm,
                crate::notify::VoteMail::Request,
                now,
            )
            .await?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Created().json(view(&mut conn, id).await?))
}

/// Remove a fixed member.
#[utoipa::path(
    delete, path = "/api/v1/committees/{id}/members/{user_id}", tag = "committees",
    params(
        ("id" = i64, Path, description = "Committee id"),
        ("user_id" = i64, Path, description = "The member's user id")
    ),
    responses((status = 204, description = "Removed")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "change_manager"])))
)]
#[delete("/committees/{id}/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    user.require(MANAGERS)?;
    let (id, user_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let now = state.clock.now();
    conn.transaction::<_, ApiError, _>(async |conn| {
        let n = diesel::delete(committee_members::table.find((id, user_id)))
            .execute(conn)
            .await?;
        if n == 0 {
            return Err(ApiError::not_found(format!(
                "member {user_id} of committee {id}"
            )));
        }
        // The votes still missing may have been this member's only: decide what can be.
        resettle_committee(conn, &state.notifier, id, now).await?;
        // A pending window flex may have waited on this member alone.
        crate::controllers::windows::resettle_flexes(conn, now).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_committees,
        get_committee,
        create_committee,
        update_committee,
        add_member,
        remove_member
    ),
    components(schemas(
        CommitteeView,
        MemberView,
        NewCommittee,
        CommitteePatch,
        NewMember,
        CommitteeKind,
        PolicyKind
    ))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_committees)
        .service(get_committee)
        .service(create_committee)
        .service(update_committee)
        .service(add_member)
        .service(remove_member);
}
