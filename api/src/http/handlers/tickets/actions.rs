//! One endpoint per ticket lifecycle action (`crate::tickets::lifecycle::perform`).
use super::super::common::etag;
use crate::app::AppState;
use crate::http::extract::{header, OptionalJson};
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use crate::tickets::lifecycle::{action_roles, perform, TicketActionBody};
use crate::tickets::store::TicketView;
use actix_web::{http::header::ETAG, post, web, HttpRequest, HttpResponse};
use domain::ticket::TicketAction;

macro_rules! ticket_action {
    ($fn_name:ident, $action:expr, $path:literal, $route:literal, $roles:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $path, tag = "ticket lifecycle",
            request_body(content = Option<TicketActionBody>, description = "Optional; see each field"),
            params(
                ("id" = i64, Path, description = "Ticket id"),
                ("If-Match" = Option<String>, Header, description = "Optional: refuse if the ticket changed since this ETag")
            ),
            responses((status = 200, description = "The ticket after the action", body = TicketView, headers(("ETag" = String)))),
            security(("bearer" = [])),
            extensions(("x-roles" = json!($roles)))
        )]
        #[post($route)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            user: AuthUser,
            req: HttpRequest,
            id: web::Path<i64>,
            body: OptionalJson<TicketActionBody>,
        ) -> ApiResult<HttpResponse> {
            user.require(&action_roles($action))?;
            let body = body.into_inner()?;
            let mut conn = state.pool.get().await?;
            let view = perform(&mut conn, &state.notifier, &user, *id, $action, body, header(&req, "If-Match"), state.clock.now()).await?;
            Ok(HttpResponse::Ok().insert_header((ETAG, etag(view.version))).json(view))
        }
    };
}

const SUPPORT: [&str; 3] = ["support_analyst", "support_coordinator", "test_analyst"];

ticket_action!(start, TicketAction::Start, "/api/v1/tickets/{id}/start", "/tickets/{id}/start", SUPPORT,
    "Take the ticket up (`new` → `in_progress`): the first response; the caller becomes the assignee if there is none.");
ticket_action!(pend, TicketAction::Pend, "/api/v1/tickets/{id}/pend", "/tickets/{id}/pend", SUPPORT,
    "Wait on the customer or a third party (`in_progress` → `pending`; `pending_on` and `reason` required): the resolution clock pauses.");
ticket_action!(
    resume,
    TicketAction::Resume,
    "/api/v1/tickets/{id}/resume",
    "/tickets/{id}/resume",
    SUPPORT,
    "Work again (`pending` → `in_progress`): the resolution clock runs again."
);
ticket_action!(resolve, TicketAction::Resolve, "/api/v1/tickets/{id}/resolve", "/tickets/{id}/resolve", SUPPORT,
    "Resolved (`solution` required). A parent with an open child is refused (409 `open_children`, naming them). An incident goes to the customer for validation and closes by itself 60 business hours later.");
ticket_action!(reopen, TicketAction::Reopen, "/api/v1/tickets/{id}/reopen", "/tickets/{id}/reopen", ["customer (own organisation)", "support_analyst", "support_coordinator", "test_analyst"],
    "Reopen a `resolved` ticket (`reason` required). A closed ticket is refused with 409: open a follow-up instead.");
ticket_action!(
    confirm,
    TicketAction::Confirm,
    "/api/v1/tickets/{id}/confirm",
    "/tickets/{id}/confirm",
    ["customer (own organisation)"],
    "The customer accepts the solution (`resolved` → `closed`)."
);
ticket_action!(close, TicketAction::Close, "/api/v1/tickets/{id}/close", "/tickets/{id}/close", SUPPORT,
    "Support closes a resolved critical incident after the configured number (3) of unanswered contact attempts, citing them.");
ticket_action!(
    cancel,
    TicketAction::Cancel,
    "/api/v1/tickets/{id}/cancel",
    "/tickets/{id}/cancel",
    [
        "customer (own organisation)",
        "support_analyst",
        "support_coordinator",
        "test_analyst"
    ],
    "Cancel an open ticket (`reason` required); a parent's open children are cancelled with it."
);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(start)
        .service(pend)
        .service(resume)
        .service(resolve)
        .service(reopen)
        .service(confirm)
        .service(close)
        .service(cancel);
}
