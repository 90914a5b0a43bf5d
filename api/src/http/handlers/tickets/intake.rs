//! Opening tickets: an incident (routed), a child for a team, a follow-up of a closed one.
use super::super::common::{etag, replayed, with_etag};
use crate::app::AppState;
use crate::http::extract::{text_header, ValidJson};
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use crate::platform::idempotency::Created;
use crate::tickets::create::{self, openers, NewChild, NewFollowUp, NewTicket};
use crate::tickets::store::TicketView;
use actix_web::{http::header::ETAG, post, web, HttpRequest, HttpResponse};
use domain::ticket::SUPPORT_ROLES;

fn created(view: TicketView) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((ETAG, etag(view.version)))
        .insert_header(("Location", format!("/api/v1/tickets/{}", view.id)))
        .json(view)
}

/// Open an incident: routed by the rules (item, contract, organisation) to a queue, its SLA
/// clocks started from the item's targets for the priority, in the calendar of the
/// organisation's contract.
#[utoipa::path(
    post, path = "/api/v1/tickets", tag = "tickets",
    request_body = NewTicket,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry (1–200 characters)", min_length = 1, max_length = 200)),
    responses((status = 201, description = "Opened", body = TicketView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["customer (own organisation)", "support_analyst", "support_coordinator", "test_analyst"])))
)]
#[post("/tickets")]
pub async fn open_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: ValidJson<NewTicket>,
) -> ApiResult<HttpResponse> {
    user.require(&openers())?;
    let body = body.into_inner()?;
    let key = text_header(&req, "Idempotency-Key")?;
    let mut conn = state.pool.get().await?;
    match create::open(&mut conn, &user, &body, key, state.clock.now()).await? {
        Created::New(view) => Ok(created(view)),
        Created::Replayed(stored) => Ok(replayed(stored, with_etag)),
    }
}

/// Open a child under an open incident: internal work, an escalation to `taf_tss`/`cloud`, or
/// a `non_conformity` for `dev`; the team's own OLA counts from now.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/children", tag = "tickets",
    request_body = NewChild,
    params(("id" = i64, Path, description = "Parent ticket id")),
    responses((status = 201, description = "Opened", body = TicketView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst"])))
)]
#[post("/tickets/{id}/children")]
pub async fn open_child(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewChild>,
) -> ApiResult<HttpResponse> {
    user.require(SUPPORT_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let view = create::open_child(&mut conn, &user, *id, &body, state.clock.now()).await?;
    Ok(created(view))
}

/// Open a follow-up of a closed ticket (a closed ticket never reopens).
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/follow-ups", tag = "tickets",
    request_body = NewFollowUp,
    params(("id" = i64, Path, description = "The closed ticket's id")),
    responses((status = 201, description = "Opened", body = TicketView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["customer (own organisation)", "support_analyst", "support_coordinator", "test_analyst"])))
)]
#[post("/tickets/{id}/follow-ups")]
pub async fn open_follow_up(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewFollowUp>,
) -> ApiResult<HttpResponse> {
    user.require(&openers())?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let view = create::open_follow_up(&mut conn, &user, *id, &body, state.clock.now()).await?;
    Ok(created(view))
}
