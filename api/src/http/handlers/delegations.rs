//! `/api/v1/delegations`: a member names a substitute for a period
//! (`crate::changes::delegations`).
use super::common::{replayed, Decorate};
use crate::app::AppState;
use crate::changes::delegations::{
    self, DelegationPage, DelegationQuery, DelegationView, NewDelegation,
};
use crate::http::extract::{text_header, ValidJson, ValidQuery};
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use crate::platform::idempotency::Created;
use crate::platform::input::Problems;
use crate::platform::pagination::{page_cursor, page_limit, query_param};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

/// Filters of the delegation list. Parsed by hand so that a bad value names its parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DelegationFilter {
    /// Delegations of this member.
    #[param(value_type = Option<i64>)]
    pub member_id: Option<String>,
    /// Delegations naming this substitute.
    #[param(value_type = Option<i64>)]
    pub substitute_id: Option<String>,
    /// Only those in force at this instant (started, not ended, not revoked by then).
    /// RFC 3339, e.g. `2026-11-23T12:00:00Z`.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub active_at: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<i64>)]
    pub cursor: Option<String>,
}

/// Name a substitute for a period.
///
/// While the delegation is in force the substitute may vote for the member
/// (`POST /rdms/{id}/votes` with `on_behalf_of`), and receives the member's vote e-mails.
/// The vote counts for the member; the history names the substitute who cast it. A member has
/// at most one substitute at a time. Repeat the request with the same `Idempotency-Key` to get
/// the first result back.
#[utoipa::path(
    post, path = "/api/v1/delegations", tag = "delegations",
    request_body = NewDelegation,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry (1–200 characters)", min_length = 1, max_length = 200)),
    responses((status = 201, description = "Created", body = DelegationView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["committee_member (for themselves)", "change_manager", "admin"])))
)]
#[post("/delegations")]
pub async fn create_delegation(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: ValidJson<NewDelegation>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::CommitteeMember, Role::ChangeManager, Role::Admin])?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let now = state.clock.now();
    let key = text_header(&req, "Idempotency-Key")?;
    match delegations::create(&mut conn, &state.notifier, &user, &body, key, now).await? {
        Created::New(v) => Ok(HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/delegations/{}", v.id)))
            .json(v)),
        Created::Replayed(stored) => Ok(replayed(stored, with_location)),
    }
}

/// A replayed delegation carries its Location, as the first answer did.
const _: Decorate = with_location;
fn with_location(response: &serde_json::Value, res: &mut actix_web::HttpResponseBuilder) {
    if let Some(id) = response.get("id").and_then(|v| v.as_i64()) {
        res.insert_header(("Location", format!("/api/v1/delegations/{id}")));
    }
}

/// List delegations by id, optionally of one member, naming one substitute, or in force at
/// an instant (paginated, keyset on id).
#[utoipa::path(
    get, path = "/api/v1/delegations", tag = "delegations",
    params(DelegationFilter),
    responses((status = 200, description = "A page of delegations", body = DelegationPage)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/delegations")]
pub async fn list_delegations(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<DelegationFilter>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut p = Problems::default();
    let member_id = p.take(query_param::<i64>(
        "member_id",
        filter.member_id.as_deref(),
        "a user id",
    ));
    let substitute_id = p.take(query_param::<i64>(
        "substitute_id",
        filter.substitute_id.as_deref(),
        "a user id",
    ));
    let active_at = p.take(query_param::<DateTime<Utc>>(
        "active_at",
        filter.active_at.as_deref(),
        "an RFC 3339 instant (e.g. 2026-11-23T12:00:00Z)",
    ));
    let limit = p.take(page_limit(filter.limit.as_deref()));
    let cursor = p.take(page_cursor(filter.cursor.as_deref()));
    p.finish()?;
    let mut conn = state.pool.get().await?;
    let page = delegations::list(
        &mut conn,
        DelegationQuery {
            member_id,
            substitute_id,
            active_at,
            limit,
            cursor,
        },
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Get a delegation.
#[utoipa::path(
    get, path = "/api/v1/delegations/{id}", tag = "delegations",
    params(("id" = i64, Path, description = "Delegation id")),
    responses((status = 200, description = "The delegation", body = DelegationView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/delegations/{id}")]
pub async fn get_delegation(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(delegations::get(&mut conn, *id, state.clock.now()).await?))
}

/// Revoke a delegation that has not ended: from now on the substitute can no longer vote for
/// the member (votes already cast stay).
#[utoipa::path(
    post, path = "/api/v1/delegations/{id}/revoke", tag = "delegations",
    params(("id" = i64, Path, description = "Delegation id")),
    responses((status = 200, description = "Revoked", body = DelegationView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["committee_member (the member)", "change_manager", "admin"])))
)]
#[post("/delegations/{id}/revoke")]
pub async fn revoke_delegation(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(
        delegations::revoke(&mut conn, &state.notifier, &user, *id, state.clock.now()).await?,
    ))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_delegation, list_delegations, get_delegation, revoke_delegation),
    components(schemas(DelegationView, DelegationPage, NewDelegation))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_delegation)
        .service(list_delegations)
        .service(get_delegation)
        .service(revoke_delegation);
}
