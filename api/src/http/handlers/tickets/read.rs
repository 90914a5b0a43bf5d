//! Reading tickets: lists, one ticket with every deadline, its history, the what-if, and
//! the support catalog the portal offers.
use super::super::common::etag;
use crate::app::AppState;
use crate::http::extract::ValidQuery;
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use crate::tickets::create::openers;
use crate::tickets::list::{self, Filter, TicketEvent, TicketPage};
use crate::tickets::replan::{self, WhatIf};
use crate::tickets::settings::{self, Queue, SupportItem};
use crate::tickets::store::{self, TicketView};
use actix_web::{get, http::header::ETAG, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::rdm::Priority;
use domain::ticket::{TicketKind, TicketState};
use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketFilter {
    pub state: Option<TicketState>,
    pub queue_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub priority: Option<Priority>,
    pub kind: Option<TicketKind>,
    pub parent_id: Option<i64>,
    /// Tickets whose first-response or resolution clock is breached (or not).
    pub breached: Option<bool>,
    /// Full-text search (Portuguese, web-search syntax) over title and description.
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Page size (default 50).
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

/// List tickets, newest first (keyset on id). A customer sees its organisation's incidents.
#[utoipa::path(
    get, path = "/api/v1/tickets", tag = "tickets",
    params(TicketFilter),
    responses((status = 200, description = "A page of tickets", body = TicketPage)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["customer (own organisation)", "support_analyst", "support_coordinator", "test_analyst"])))
)]
#[get("/tickets")]
pub async fn list_tickets(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<TicketFilter>,
) -> ApiResult<HttpResponse> {
    user.require(&openers())?;
    filter.validate()?;
    let f = filter.into_inner();
    let query = Filter {
        state: f.state,
        queue_id: f.queue_id,
        assignee_id: f.assignee_id,
        organization_id: f.organization_id,
        priority: f.priority,
        kind: f.kind,
        parent_id: f.parent_id,
        breached: f.breached,
        q: f.q,
    };
    let mut conn = state.pool.get().await?;
    let page = list::list(&mut conn, &user, &query, f.limit.unwrap_or(50), f.cursor).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Get a ticket: every deadline (both clocks, auto-close), children, links, and the actions
/// the caller may take now.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The ticket", body = TicketView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["customer (own organisation's incidents)", "support_analyst", "support_coordinator", "test_analyst"])))
)]
#[get("/tickets/{id}")]
pub async fn get_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(&openers())?;
    let mut conn = state.pool.get().await?;
    let now = state.clock.now();
    let view = store::read(&mut conn, &user, *id, now).await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}

/// The ticket's history from the event log, oldest first.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/history", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "History, oldest first", body = Vec<TicketEvent>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["customer (own organisation's incidents)", "support_analyst", "support_coordinator", "test_analyst"])))
)]
#[get("/tickets/{id}/history")]
pub async fn ticket_history(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(&openers())?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(list::history(&mut conn, &user, *id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WhatIfQuery {
    /// The priority to assume (default: the ticket's).
    pub priority: Option<Priority>,
    /// Assume the ticket goes pending now.
    pub pending: Option<bool>,
    /// With `pending`: assume it resumes then.
    pub resume_at: Option<DateTime<Utc>>,
}

/// If this ticket became priority X / went pending now (and resumed at Y), when would each
/// clock end? Nothing changes.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/what-if", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id"), WhatIfQuery),
    responses((status = 200, description = "The clocks as they would be", body = WhatIf)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst"])))
)]
#[get("/tickets/{id}/what-if")]
pub async fn what_if(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: ValidQuery<WhatIfQuery>,
) -> ApiResult<HttpResponse> {
    user.require(domain::ticket::SUPPORT_ROLES)?;
    let q = q.into_inner();
    let mut conn = state.pool.get().await?;
    let answer = replan::what_if(
        &mut conn,
        &user,
        *id,
        q.priority,
        q.pending.unwrap_or(false),
        q.resume_at,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The support catalog: what a ticket can be about.
#[utoipa::path(
    get, path = "/api/v1/support-items", tag = "tickets",
    responses((status = 200, description = "Items by code", body = Vec<SupportItem>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role"])))
)]
#[get("/support-items")]
pub async fn list_support_items(
    state: web::Data<AppState>,
    _user: AuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(settings::items(&mut conn).await?))
}

/// The support queues.
#[utoipa::path(
    get, path = "/api/v1/queues", tag = "tickets",
    responses((status = 200, description = "Queues by code", body = Vec<Queue>)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst"])))
)]
#[get("/queues")]
pub async fn list_queues(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.require(domain::ticket::SUPPORT_ROLES)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(settings::queues(&mut conn).await?))
}
