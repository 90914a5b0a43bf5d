//! The OpenAPI document, generated from the handlers. `openapi/openapi.json` is its committed
//! copy; a test fails when they drift.
use super::handlers as c;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gmud",
        description = "Change (GMUD/RDM), incident and problem management for Brazilian support organisations.\n\nErrors are `application/problem+json` with a stable `code`.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        c::health::health,
        c::health::ready,
        c::health::metrics,
        c::auth::issue_token,
        c::auth::me,
        c::rdms::create::create_rdm,
        c::rdms::list::list_rdms,
        c::rdms::get::get_rdm,
        c::rdms::update::update_rdm,
        c::rdms::history::rdm_history,
        c::rdms::votes::cast_vote,
        c::rdms::votes::list_votes,
        c::rdms::notify::notify_customers,
        c::rdms::actions::submit,
        c::rdms::actions::start_assessment,
        c::rdms::actions::veto,
        c::rdms::actions::po_approve,
        c::rdms::actions::po_reject,
        c::rdms::actions::send_to_committee,
        c::rdms::actions::approve,
        c::rdms::actions::schedule,
        c::rdms::actions::unschedule,
        c::rdms::actions::start_execution,
        c::rdms::actions::complete,
        c::rdms::actions::fail,
        c::rdms::actions::roll_back,
        c::rdms::actions::close,
        c::rdms::actions::cancel,
    ),
    components(schemas(crate::platform::error::Problem, crate::platform::error::FieldError))
)]
pub struct ApiDoc;

/// The whole document: the RDM core plus each resource's own `Doc`, with problem responses.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in [
        c::committees::Doc::openapi(),
        c::delegations::Doc::openapi(),
        c::meetings::Doc::openapi(),
        c::windows::Doc::openapi(),
        c::calendar_policy::Doc::openapi(),
        c::catalog::Doc::openapi(),
        c::calendars::Doc::openapi(),
        c::calendar_rules::Doc::openapi(),
        c::users::Doc::openapi(),
        c::templates::Doc::openapi(),
        super::vote_pages::Doc::openapi(),
        c::jobs::Doc::openapi(),
        c::tickets::Doc::openapi(),
        c::problems::Doc::openapi(),
        c::knowledge::Doc::openapi(),
        super::ticket_pages::Doc::openapi(),
        c::reports::Doc::openapi(),
        super::report_pages::Doc::openapi(),
    ] {
        doc.merge(part);
    }
    Security.modify(&mut doc);
    ProblemResponses.modify(&mut doc);
    doc
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut s = document().to_pretty_json().expect("OpenAPI serialises");
    s.push('\n');
    s
}

struct Security;
impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Adds the problem responses every operation can give, so the document lists every
/// status the server may answer with.
struct ProblemResponses;
impl Modify for ProblemResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let problem = |desc: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(desc)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ];
            for op in ops.into_iter().flatten() {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let has_path_params = path.contains('{');
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let r = &mut op.responses.responses;
                let mut add = |code: &str, desc: &str| {
                    r.entry(code.to_string()).or_insert_with(|| problem(desc));
                };
                if path == "/api/v1/auth/token" {
                    add("503", "Database unavailable, or too many logins at once (`overloaded`, with `Retry-After`)");
                }
                if path.starts_with("/api/") {
                    add("404", "Not found");
                    add("500", "Internal error (opaque; logged whole)");
                    add("503", "Database unavailable");
                }
                if has_body || has_params {
                    add("400", "Malformed request");
                    add("422", "Invalid input: `errors` names each bad field");
                }
                if has_body {
                    add("413", "The body is larger than the limit (256 KiB)");
                }
                if secured {
                    add("401", "Missing, invalid, expired or revoked token (`token_revoked`: the account was deactivated or its password changed)");
                    add("403", "Your roles do not allow this");
                }
                if secured
                    && (has_body || has_path_params)
                    && op.operation_id.as_deref() != Some("me")
                {
                    add("409", "Conflict: illegal transition (with `current_state` and `allowed_actions`), stale version, or duplicate");
                }
                if path == "/api/v1/auth/token" {
                    add("401", "Unknown user, wrong password or inactive account");
                    add("429", "Too many attempts from this address or on this account: wait `Retry-After` seconds");
                }
                if path == "/api/v1/rdms/{id}" && op.request_body.is_some() {
                    add("428", "If-Match is required");
                }
            }
        }
    }
}
