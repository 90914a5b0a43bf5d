//! One endpoint per lifecycle action (`crate::changes::rdms::actions::perform`).
use super::super::common::etag;
use crate::app::AppState;
use crate::changes::rdms::actions::{action_roles, perform, ActionBody};
use crate::changes::rdms::store::RdmView;
use crate::http::extract::{header, OptionalJson};
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use actix_web::{http::header::ETAG, post, web, HttpRequest, HttpResponse};
use domain::rdm::Action;

macro_rules! action_endpoint {
    ($fn_name:ident, $action:expr, $path:literal, $route:literal, $roles:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $path, tag = "rdm lifecycle",
            request_body(content = Option<ActionBody>, description = "Optional; see each field"),
            params(
                ("id" = i64, Path, description = "RDM id"),
                ("If-Match" = Option<String>, Header, description = "Optional: refuse if the RDM changed since this ETag")
            ),
            responses((status = 200, description = "The RDM after the action", body = RdmView, headers(("ETag" = String)))),
            security(("bearer" = [])),
            extensions(("x-roles" = json!($roles)))
        )]
        #[post($route)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            user: AuthUser,
            req: HttpRequest,
            id: web::Path<i64>,
            body: OptionalJson<ActionBody>,
        ) -> ApiResult<HttpResponse> {
            // The role first: a caller who may never take this action learns nothing,
            // not even whether its body was valid.
            user.require(&action_roles($action))?;
            let body = body.into_inner()?;
            let mut conn = state.pool.get().await?;
            let view = perform(&mut conn, &state.notifier, &user, *id, $action, body, header(&req, "If-Match"), state.clock.now()).await?;
            Ok(HttpResponse::Ok().insert_header((ETAG, etag(view.version))).json(view))
        }
    };
}

action_endpoint!(
    submit,
    Action::Submit,
    "/api/v1/rdms/{id}/submit",
    "/rdms/{id}/submit",
    ["the requester", "change_manager"],
    "Submit the filled form (`draft` → `submitted`; a standard change is approved on submission)."
);
action_endpoint!(
    start_assessment,
    Action::StartAssessment,
    "/api/v1/rdms/{id}/start-assessment",
    "/rdms/{id}/start-assessment",
    ["change_manager"],
    "The change manager starts evaluating it (`submitted` → `assessment`)."
);
action_endpoint!(
    veto,
    Action::Veto,
    "/api/v1/rdms/{id}/veto",
    "/rdms/{id}/veto",
    ["change_manager"],
    "The change manager vetoes it during assessment (→ `rejected`; `reason` required)."
);
action_endpoint!(
    po_approve,
    Action::PoApprove,
    "/api/v1/rdms/{id}/po-approve",
    "/rdms/{id}/po-approve",
    ["product_owner"],
    "The product owner approves it after the technical opinion (`assessment` → `po_approved`)."
);
action_endpoint!(
    po_reject,
    Action::PoReject,
    "/api/v1/rdms/{id}/po-reject",
    "/rdms/{id}/po-reject",
    ["product_owner"],
    "The product owner rejects it (→ `rejected`; `reason` required)."
);
action_endpoint!(send_to_committee, Action::SendToCommittee, "/api/v1/rdms/{id}/send-to-committee", "/rdms/{id}/send-to-committee", ["change_manager"],
    "Put it before the committee: a normal RDM goes on the agenda of the next CM meeting whose 10:00 cut-off it meets; an emergency goes to the CME at once.");
action_endpoint!(approve, Action::Approve, "/api/v1/rdms/{id}/approve", "/rdms/{id}/approve", ["change_manager"],
    "Low-risk change: the change manager's approval is final, no committee (`po_approved` → `approved`).");
action_endpoint!(schedule, Action::Schedule, "/api/v1/rdms/{id}/schedule", "/rdms/{id}/schedule", ["change_manager"],
    "Book it into a maintenance window (`window_id`, optional `planned_start`): duration plus rollback must fit in what is left.");
action_endpoint!(
    unschedule,
    Action::Unschedule,
    "/api/v1/rdms/{id}/unschedule",
    "/rdms/{id}/unschedule",
    ["change_manager"],
    "Take it out of its window (`scheduled` → `approved`; `reason` required)."
);
action_endpoint!(
    start_execution,
    Action::StartExecution,
    "/api/v1/rdms/{id}/start-execution",
    "/rdms/{id}/start-execution",
    ["change_agent"],
    "Start executing: inside its window; an emergency at any time once customers were notified."
);
action_endpoint!(
    complete,
    Action::Complete,
    "/api/v1/rdms/{id}/complete",
    "/rdms/{id}/complete",
    ["change_agent"],
    "The change is implemented (`in_execution` → `implemented`)."
);
action_endpoint!(
    fail,
    Action::Fail,
    "/api/v1/rdms/{id}/fail",
    "/rdms/{id}/fail",
    ["change_agent"],
    "The change failed (`in_execution` → `failed`; `reason` required)."
);
action_endpoint!(
    roll_back,
    Action::RollBack,
    "/api/v1/rdms/{id}/roll-back",
    "/rdms/{id}/roll-back",
    ["change_agent"],
    "The rollback plan was applied (`failed` → `rolled_back`)."
);
action_endpoint!(
    close,
    Action::Close,
    "/api/v1/rdms/{id}/close",
    "/rdms/{id}/close",
    ["change_manager", "committee_member"],
    "Post-implementation review done (→ `closed`; `review` required)."
);
action_endpoint!(
    cancel,
    Action::Cancel,
    "/api/v1/rdms/{id}/cancel",
    "/rdms/{id}/cancel",
    ["the requester", "change_manager"],
    "Cancel before execution starts (`reason` required)."
);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(submit)
        .service(start_assessment)
        .service(veto)
        .service(po_approve)
        .service(po_reject)
        .service(send_to_committee)
        .service(approve)
        .service(schedule)
        .service(unschedule)
        .service(start_execution)
        .service(complete)
        .service(fail)
        .service(roll_back)
        .service(close)
        .service(cancel);
}
