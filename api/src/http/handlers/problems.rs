//! `/api/v1/problems`: problems, their incidents (from either side), the lifecycle actions,
//! the workaround sent once, and postmortems (`crate::problems`).
use super::common::{etag, replayed, with_etag};
use crate::app::AppState;
use crate::http::extract::{header, text_header, OptionalJson, ValidJson, ValidQuery};
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use crate::platform::idempotency::Created;
use crate::problems::lifecycle::{self, NewProblem, ProblemActionBody, ProblemEdit};
use crate::problems::links::{self, IncidentLink, ProblemLink};
use crate::problems::postmortems::{
    self, ActionEdit, NewAction, NewNote, NewPostmortem, PostmortemEdit, PostmortemView,
};
use crate::problems::store::{self, ProblemPage, ProblemView};
use crate::problems::workaround::{self, WorkaroundCommunication, WorkaroundNotice};
use actix_web::{delete, get, http::header::ETAG, patch, post, web, HttpRequest, HttpResponse};
use domain::problem::{ProblemAction, ProblemState, PROBLEM_ROLES};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use validator::Validate;

const ROLES: [&str; 4] = [
    "support_analyst",
    "support_coordinator",
    "test_analyst",
    "change_manager",
];

fn ok(view: ProblemView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view)
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProblemFilter {
    pub state: Option<ProblemState>,
    /// Page size (default 50).
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

/// List problems, newest first.
#[utoipa::path(
    get, path = "/api/v1/problems", tag = "problems",
    params(ProblemFilter),
    responses((status = 200, description = "A page of problems", body = ProblemPage)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[get("/problems")]
pub async fn list_problems(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<ProblemFilter>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    filter.validate()?;
    let mut conn = state.pool.get().await?;
    let page = store::list(
        &mut conn,
        filter.state,
        filter.limit.unwrap_or(50),
        filter.cursor,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Open a problem, optionally linking incidents at once (each names its own error).
#[utoipa::path(
    post, path = "/api/v1/problems", tag = "problems",
    request_body = NewProblem,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry (1–200 characters)", min_length = 1, max_length = 200)),
    responses((status = 201, description = "Opened", body = ProblemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[post("/problems")]
pub async fn open_problem(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: ValidJson<NewProblem>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let key = text_header(&req, "Idempotency-Key")?;
    let mut conn = state.pool.get().await?;
    match lifecycle::open(&mut conn, &user, &body, key, state.clock.now()).await? {
        Created::New(view) => Ok(HttpResponse::Created()
            .insert_header((ETAG, etag(view.version)))
            .insert_header(("Location", format!("/api/v1/problems/{}", view.id)))
            .json(view)),
        Created::Replayed(stored) => Ok(replayed(stored, with_etag)),
    }
}

/// Get a problem: its incidents, the fixing RDM, the known-error article, what may be done.
#[utoipa::path(
    get, path = "/api/v1/problems/{id}", tag = "problems",
    params(("id" = i64, Path, description = "Problem id")),
    responses((status = 200, description = "The problem", body = ProblemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[get("/problems/{id}")]
pub async fn get_problem(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let mut conn = state.pool.get().await?;
    let p = store::find(&mut conn, *id, false).await?;
    Ok(ok(store::view(&mut conn, p).await?))
}

/// Edit a problem (only the fields given). A known error's article follows its root cause
/// and workaround (a new version).
#[utoipa::path(
    patch, path = "/api/v1/problems/{id}", tag = "problems",
    request_body = ProblemEdit,
    params(("id" = i64, Path, description = "Problem id"),
           ("If-Match" = Option<String>, Header, description = "Optional: refuse if the problem changed since this ETag")),
    responses((status = 200, description = "The problem", body = ProblemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[patch("/problems/{id}")]
pub async fn edit_problem(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidJson<ProblemEdit>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let view = lifecycle::edit(
        &mut conn,
        &user,
        *id,
        &body,
        header(&req, "If-Match"),
        state.clock.now(),
    )
    .await?;
    Ok(ok(view))
}

macro_rules! problem_action {
    ($fn_name:ident, $action:expr, $path:literal, $route:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $path, tag = "problem lifecycle",
            request_body(content = Option<ProblemActionBody>, description = "Optional; see each field"),
            params(
                ("id" = i64, Path, description = "Problem id"),
                ("If-Match" = Option<String>, Header, description = "Optional: refuse if the problem changed since this ETag")
            ),
            responses((status = 200, description = "The problem after the action", body = ProblemView, headers(("ETag" = String)))),
            security(("bearer" = [])),
            extensions(("x-roles" = json!(ROLES)))
        )]
        #[post($route)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            user: AuthUser,
            req: HttpRequest,
            id: web::Path<i64>,
            body: OptionalJson<ProblemActionBody>,
        ) -> ApiResult<HttpResponse> {
            user.require(PROBLEM_ROLES)?;
            let body = body.into_inner()?;
            let mut conn = state.pool.get().await?;
            let view = lifecycle::perform(&mut conn, &user, *id, $action, body, header(&req, "If-Match"), state.clock.now()).await?;
            Ok(ok(view))
        }
    };
}

problem_action!(
    analyse,
    ProblemAction::Analyse,
    "/api/v1/problems/{id}/analyse",
    "/problems/{id}/analyse",
    "Start the root cause analysis (`new` → `root_cause_analysis`)."
);
problem_action!(record_known_error, ProblemAction::RecordKnownError, "/api/v1/problems/{id}/record-known-error", "/problems/{id}/record-known-error",
    "Record the root cause and the workaround (`root_cause`, `workaround`): the problem becomes a known error, published in the knowledge base.");
problem_action!(start_fix, ProblemAction::StartFix, "/api/v1/problems/{id}/start-fix", "/problems/{id}/start-fix",
    "Name the RDM carrying the permanent fix (`rdm_id`; `known_error` or `fix_in_progress` → `fix_in_progress`). When it is implemented the problem resolves and its owner is told.");
problem_action!(resolve_problem, ProblemAction::Resolve, "/api/v1/problems/{id}/resolve", "/problems/{id}/resolve",
    "Resolved by hand, once the fixing RDM has been implemented (it resolves by itself when the RDM is implemented while the fix is in progress).");
problem_action!(
    close_problem,
    ProblemAction::Close,
    "/api/v1/problems/{id}/close",
    "/problems/{id}/close",
    "Close a resolved problem (fixed)."
);
problem_action!(close_duplicate, ProblemAction::CloseDuplicate, "/api/v1/problems/{id}/close-duplicate", "/problems/{id}/close-duplicate",
    "Close as a duplicate of another open problem (`duplicate_of`, `reason`): its incidents move there.");
problem_action!(
    accept_risk,
    ProblemAction::AcceptRisk,
    "/api/v1/problems/{id}/accept-risk",
    "/problems/{id}/accept-risk",
    "Close with the risk accepted, not fixed (`reason`)."
);
problem_action!(
    cancel_problem,
    ProblemAction::Cancel,
    "/api/v1/problems/{id}/cancel",
    "/problems/{id}/cancel",
    "Cancel a problem that is not one (`reason`)."
);

/// Link an incident to the problem (an incident belongs to one problem; linking again
/// changes nothing).
#[utoipa::path(
    post, path = "/api/v1/problems/{id}/incidents", tag = "problems",
    request_body = IncidentLink,
    params(("id" = i64, Path, description = "Problem id")),
    responses((status = 200, description = "The problem", body = ProblemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[post("/problems/{id}/incidents")]
pub async fn link_incident(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<IncidentLink>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(ok(links::link(
        &mut conn,
        &user,
        *id,
        body.ticket_id,
        state.clock.now(),
    )
    .await?))
}

/// Unlink an incident from the problem.
#[utoipa::path(
    delete, path = "/api/v1/problems/{id}/incidents/{ticket_id}", tag = "problems",
    params(("id" = i64, Path, description = "Problem id"), ("ticket_id" = i64, Path, description = "Incident id")),
    responses((status = 204, description = "Unlinked")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[delete("/problems/{id}/incidents/{ticket_id}")]
pub async fn unlink_incident(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let (id, ticket_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    links::unlink(&mut conn, &user, id, ticket_id, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The problem an incident belongs to, from the incident's side.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentProblem {
    /// None: the incident belongs to no problem.
    pub problem: Option<ProblemView>,
}

/// The incident's problem, if any.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/problem", tag = "problems",
    params(("id" = i64, Path, description = "Incident id")),
    responses((status = 200, description = "The incident's problem", body = IncidentProblem)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[get("/tickets/{id}/problem")]
pub async fn incident_problem(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let mut conn = state.pool.get().await?;
    let problem = links::problem_of_incident(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(IncidentProblem { problem }))
}

/// Link the incident to a problem, from the incident's side.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/problem", tag = "problems",
    request_body = ProblemLink,
    params(("id" = i64, Path, description = "Incident id")),
    responses((status = 200, description = "The problem", body = ProblemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[post("/tickets/{id}/problem")]
pub async fn link_to_problem(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<ProblemLink>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let view = links::link_from_incident(&mut conn, &user, *id, body.problem_id, state.clock.now())
        .await?;
    Ok(ok(view))
}

/// Send the workaround to every linked open incident's assignee (and, by choice, its
/// customer): once per problem.
#[utoipa::path(
    post, path = "/api/v1/problems/{id}/communicate-workaround", tag = "problems",
    request_body(content = Option<WorkaroundNotice>, description = "Optional"),
    params(("id" = i64, Path, description = "Problem id"),
           ("If-Match" = Option<String>, Header, description = "Optional: refuse if the problem changed since this ETag")),
    responses((status = 200, description = "Who was told", body = WorkaroundCommunication)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[post("/problems/{id}/communicate-workaround")]
pub async fn communicate_workaround(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: OptionalJson<WorkaroundNotice>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let sent = workaround::communicate(
        &mut conn,
        &state.notifier,
        &user,
        *id,
        &body,
        header(&req, "If-Match"),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(sent))
}

fn pm_ok(view: PostmortemView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view)
}

/// Start the postmortem of a problem or of a major incident (one each).
#[utoipa::path(
    post, path = "/api/v1/postmortems", tag = "postmortems",
    request_body = NewPostmortem,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry (1–200 characters)", min_length = 1, max_length = 200)),
    responses((status = 201, description = "Started", body = PostmortemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[post("/postmortems")]
pub async fn create_postmortem(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: ValidJson<NewPostmortem>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let key = text_header(&req, "Idempotency-Key")?;
    let mut conn = state.pool.get().await?;
    match postmortems::create(&mut conn, &user, &body, key, state.clock.now()).await? {
        Created::New(view) => Ok(HttpResponse::Created()
            .insert_header((ETAG, etag(view.version)))
            .insert_header(("Location", format!("/api/v1/postmortems/{}", view.id)))
            .json(view)),
        Created::Replayed(stored) => Ok(replayed(stored, with_etag)),
    }
}

/// Get a postmortem: measured impact, the timeline from the event log with the notes
/// beside it, causes and actions.
#[utoipa::path(
    get, path = "/api/v1/postmortems/{id}", tag = "postmortems",
    params(("id" = i64, Path, description = "Postmortem id")),
    responses((status = 200, description = "The postmortem", body = PostmortemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[get("/postmortems/{id}")]
pub async fn get_postmortem(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let mut conn = state.pool.get().await?;
    Ok(pm_ok(
        postmortems::view(&mut conn, *id, state.clock.now()).await?,
    ))
}

/// The postmortem as Markdown (pt-BR), to paste anywhere.
#[utoipa::path(
    get, path = "/api/v1/postmortems/{id}/markdown", tag = "postmortems",
    params(("id" = i64, Path, description = "Postmortem id")),
    responses((status = 200, description = "Markdown", content_type = "text/markdown", body = String)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[get("/postmortems/{id}/markdown")]
pub async fn postmortem_markdown(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let mut conn = state.pool.get().await?;
    let v = postmortems::view(&mut conn, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/markdown; charset=utf-8")
        .body(postmortems::markdown(&v)))
}

/// Edit the summary, impact as told, causes or title (only the fields given).
#[utoipa::path(
    patch, path = "/api/v1/postmortems/{id}", tag = "postmortems",
    request_body = PostmortemEdit,
    params(("id" = i64, Path, description = "Postmortem id"),
           ("If-Match" = Option<String>, Header, description = "Optional: refuse if it changed since this ETag")),
    responses((status = 200, description = "The postmortem", body = PostmortemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[patch("/postmortems/{id}")]
pub async fn edit_postmortem(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidJson<PostmortemEdit>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(pm_ok(
        postmortems::edit(
            &mut conn,
            &user,
            *id,
            &body,
            header(&req, "If-Match"),
            state.clock.now(),
        )
        .await?,
    ))
}

/// Add a note to the timeline, beside the events.
#[utoipa::path(
    post, path = "/api/v1/postmortems/{id}/notes", tag = "postmortems",
    request_body = NewNote,
    params(("id" = i64, Path, description = "Postmortem id")),
    responses((status = 200, description = "The postmortem", body = PostmortemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[post("/postmortems/{id}/notes")]
pub async fn add_postmortem_note(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewNote>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(pm_ok(
        postmortems::add_note(&mut conn, &user, *id, &body, state.clock.now()).await?,
    ))
}

/// Add an action (owner, due date; the RDM or ticket that carries it).
#[utoipa::path(
    post, path = "/api/v1/postmortems/{id}/actions", tag = "postmortems",
    request_body = NewAction,
    params(("id" = i64, Path, description = "Postmortem id")),
    responses((status = 200, description = "The postmortem", body = PostmortemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[post("/postmortems/{id}/actions")]
pub async fn add_postmortem_action(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewAction>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(pm_ok(
        postmortems::add_action(&mut conn, &user, *id, &body, state.clock.now()).await?,
    ))
}

/// Update an action: its state (`open`, `in_progress`, `done`, `cancelled`), owner, due date,
/// or what carries it.
#[utoipa::path(
    patch, path = "/api/v1/postmortems/{id}/actions/{action_id}", tag = "postmortems",
    request_body = ActionEdit,
    params(("id" = i64, Path, description = "Postmortem id"), ("action_id" = i64, Path, description = "Action id")),
    responses((status = 200, description = "The postmortem", body = PostmortemView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ROLES)))
)]
#[patch("/postmortems/{id}/actions/{action_id}")]
pub async fn edit_postmortem_action(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
    body: ValidJson<ActionEdit>,
) -> ApiResult<HttpResponse> {
    user.require(PROBLEM_ROLES)?;
    let body = body.into_inner()?;
    let (id, action_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    Ok(pm_ok(
        postmortems::edit_action(&mut conn, &user, id, action_id, &body, state.clock.now()).await?,
    ))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_problems, open_problem, get_problem, edit_problem,
        analyse, record_known_error, start_fix, resolve_problem, close_problem, close_duplicate,
        accept_risk, cancel_problem,
        link_incident, unlink_incident, incident_problem, link_to_problem, communicate_workaround,
        create_postmortem, get_postmortem, postmortem_markdown, edit_postmortem,
        add_postmortem_note, add_postmortem_action, edit_postmortem_action,
    ),
    tags(
        (name = "problems", description = "Problems (SPEC §5): incidents grouped by a common cause, known errors, the fixing RDM."),
        (name = "problem lifecycle", description = "One endpoint per action; illegal moves get 409 with the current state and allowed actions."),
        (name = "postmortems", description = "Blameless postmortems: measured impact, timeline from the event log, causes, actions; Markdown export.")
    )
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_problems)
        .service(open_problem)
        .service(get_problem)
        .service(edit_problem)
        .service(analyse)
        .service(record_known_error)
        .service(start_fix)
        .service(resolve_problem)
        .service(close_problem)
        .service(close_duplicate)
        .service(accept_risk)
        .service(cancel_problem)
        .service(link_incident)
        .service(unlink_incident)
        .service(incident_problem)
        .service(link_to_problem)
        .service(communicate_workaround)
        .service(create_postmortem)
        .service(get_postmortem)
        .service(postmortem_markdown)
        .service(edit_postmortem)
        .service(add_postmortem_note)
        .service(add_postmortem_action)
        .service(edit_postmortem_action);
}
