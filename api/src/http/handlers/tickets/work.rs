//! Working a ticket: priority, assignment, comments, contact attempts, links to RDMs, and the
//! team's solution proposals.
use super::super::common::etag;
use crate::app::AppState;
use crate::http::extract::{header, ValidJson, ValidQuery};
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use crate::tickets::contacts::{self, ContactAttempts, NewContactAttempt};
use crate::tickets::create::openers;
use crate::tickets::discussion::{self, Comment, NewComment, ProposalPage};
use crate::tickets::rdm_links::{self, LinkedTicket, NewRdmLink, LINKERS};
use crate::tickets::replan::{self, Assignment, PriorityChange};
use crate::tickets::store::TicketView;
use actix_web::{get, http::header::ETAG, patch, post, web, HttpRequest, HttpResponse};
use domain::roles::Team;
use domain::ticket::SUPPORT_ROLES;
use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

/// Change the priority: the time already counted is kept, the new targets apply (history
/// event `priority_changed` with the deadlines before and after).
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/priority", tag = "tickets",
    request_body = PriorityChange,
    params(("id" = i64, Path, description = "Ticket id"),
           ("If-Match" = Option<String>, Header, description = "Optional: refuse if the ticket changed since this ETag")),
    responses((status = 200, description = "The ticket", body = TicketView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst"])))
)]
#[post("/tickets/{id}/priority")]
pub async fn change_priority(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidJson<PriorityChange>,
) -> ApiResult<HttpResponse> {
    user.require(SUPPORT_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let view = replan::change_priority(
        &mut conn,
        &user,
        *id,
        &body,
        header(&req, "If-Match"),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}

/// Move the ticket to a queue and/or an analyst. A child moved to another team gets that
/// team's OLA, counted from now.
#[utoipa::path(
    patch, path = "/api/v1/tickets/{id}/assignment", tag = "tickets",
    request_body = Assignment,
    params(("id" = i64, Path, description = "Ticket id"),
           ("If-Match" = Option<String>, Header, description = "Optional: refuse if the ticket changed since this ETag")),
    responses((status = 200, description = "The ticket", body = TicketView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst"])))
)]
#[patch("/tickets/{id}/assignment")]
pub async fn assign(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidJson<Assignment>,
) -> ApiResult<HttpResponse> {
    user.require(SUPPORT_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let view = replan::assign(
        &mut conn,
        &user,
        *id,
        &body,
        header(&req, "If-Match"),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}

/// Comment: public (the customer reads it; support's first one is the first response), an
/// internal note, or a solution proposal for the team.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/comments", tag = "tickets",
    request_body = NewComment,
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 201, description = "Added", body = Comment)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["customer (own organisation, public only)", "support_analyst", "support_coordinator", "test_analyst"])))
)]
#[post("/tickets/{id}/comments")]
pub async fn add_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewComment>,
) -> ApiResult<HttpResponse> {
    user.require(&openers())?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let c = discussion::add(&mut conn, &user, *id, &body, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(c))
}

/// The ticket's comments, oldest first (a customer reads the public ones).
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/comments", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "Comments", body = Vec<Comment>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["customer (own organisation)", "support_analyst", "support_coordinator", "test_analyst"])))
)]
#[get("/tickets/{id}/comments")]
pub async fn list_comments(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(&openers())?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(discussion::list(&mut conn, &user, *id).await?))
}

/// Record an attempt to reach the customer of a resolved critical incident (at most 3 within
/// 72 hours of the first: both data).
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/contact-attempts", tag = "tickets",
    request_body = NewContactAttempt,
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 201, description = "Recorded; every attempt so far", body = ContactAttempts)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst"])))
)]
#[post("/tickets/{id}/contact-attempts")]
pub async fn record_contact_attempt(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewContactAttempt>,
) -> ApiResult<HttpResponse> {
    user.require(SUPPORT_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Created()
        .json(contacts::record(&mut conn, &user, *id, &body, state.clock.now()).await?))
}

/// The contact attempts recorded on a ticket.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/contact-attempts", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "Attempts, oldest first", body = ContactAttempts)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst"])))
)]
#[get("/tickets/{id}/contact-attempts")]
pub async fn list_contact_attempts(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(SUPPORT_ROLES)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(contacts::list(&mut conn, &user, *id).await?))
}

/// Link an RDM to an incident (the change that fixes it) or to a non-conformity (the change
/// that ships its fix). Returns the ticket's RDM ids.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/rdms", tag = "tickets",
    request_body = NewRdmLink,
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The ticket's linked RDM ids", body = Vec<i64>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["test_analyst", "change_manager"])))
)]
#[post("/tickets/{id}/rdms")]
pub async fn link_rdm(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewRdmLink>,
) -> ApiResult<HttpResponse> {
    user.require(LINKERS)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok()
        .json(rdm_links::link(&mut conn, &user, *id, &body, state.clock.now()).await?))
}

/// The tickets an RDM addresses (incidents) or ships the fix of (non-conformities).
#[utoipa::path(
    get, path = "/api/v1/rdms/{id}/tickets", tag = "rdms",
    params(("id" = i64, Path, description = "RDM id")),
    responses((status = 200, description = "Linked tickets", body = Vec<LinkedTicket>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/rdms/{id}/tickets")]
pub async fn rdm_tickets(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(rdm_links::tickets_of_rdm(&mut conn, *id).await?))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProposalQuery {
    pub team: Team,
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<i64>,
}

/// A team's solution proposals, newest first (SPEC §4.2: visible to every analyst of it).
#[utoipa::path(
    get, path = "/api/v1/solution-proposals", tag = "tickets",
    params(ProposalQuery),
    responses((status = 200, description = "A page of proposals", body = ProposalPage)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst"])))
)]
#[get("/solution-proposals")]
pub async fn solution_proposals(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ValidQuery<ProposalQuery>,
) -> ApiResult<HttpResponse> {
    user.require(SUPPORT_ROLES)?;
    q.validate()?;
    let q = q.into_inner();
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok()
        .json(discussion::proposals(&mut conn, q.team, q.limit.unwrap_or(50), q.cursor).await?))
}
