//! Opening a problem, editing it, and every lifecycle action (`domain::problem`).
use super::links::link_in_tx;
use super::store::{self, Problem, ProblemView};
use crate::db::enums::Stored;
use crate::db::schema::{problems, rdms, support_items, users};
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::knowledge::articles::publish_known_error;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::idempotency::{create_once, Created, Idempotency};
use crate::platform::input::{check_if_match, not_blank, Problems as FieldProblems};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::problem::{transition, ProblemAction, ProblemState, Refusal, RefusalKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::StateConflict {
            code: match r.kind {
                RefusalKind::IllegalTransition => "illegal_transition",
                RefusalKind::PreconditionFailed => "transition_blocked",
            },
            detail: r.reason,
            current_state: r.state.to_string(),
            allowed_actions: r.allowed_actions.iter().map(|a| a.to_string()).collect(),
            missing: r.missing.iter().map(|m| m.to_string()).collect(),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProblem {
    #[validate(length(min = 3, max = 200), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: String,
    /// The support-catalog item (service) affected, when known.
    pub item_id: Option<i64>,
    /// Who owns the analysis (default: the caller); support staff or the change manager.
    pub owner_id: Option<i64>,
    /// Incidents to link at once (each may belong to one problem only).
    #[serde(default)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub incident_ids: Vec<i64>,
}

/// An edit: only the fields given change. The root cause and workaround of a known error
/// also update its knowledge-base article (a new version).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemEdit {
    #[validate(length(min = 3, max = 200), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub item_id: Option<i64>,
    pub owner_id: Option<i64>,
    #[validate(length(min = 1, max = 20000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 20000)]
    pub root_cause: Option<String>,
    #[validate(length(min = 1, max = 20000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 20000)]
    pub workaround: Option<String>,
}

/// What an action may carry; each action names what it needs (`missing` in the 409).
#[derive(Debug, Default, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemActionBody {
    /// `record_known_error`: the root cause (kept if already recorded).
    #[validate(length(min = 1, max = 20000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 20000)]
    pub root_cause: Option<String>,
    /// `record_known_error`: the workaround (kept if already recorded).
    #[validate(length(min = 1, max = 20000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 20000)]
    pub workaround: Option<String>,
    /// `start_fix`: the RDM carrying the permanent fix.
    pub rdm_id: Option<i64>,
    /// `close_duplicate`: the problem this one duplicates (its incidents move there).
    pub duplicate_of: Option<i64>,
    /// `close_duplicate`, `accept_risk`, `cancel`: why.
    #[validate(length(min = 1, max = 2000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
}

/// The owner must be an active staff member who works problems.
async fn check_owner(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<()> {
    let roles: Option<(Vec<domain::roles::Role>, bool)> = users::table
        .find(id)
        .select((users::roles, users::active))
        .first(conn)
        .await
        .optional()?;
    match roles {
        Some((roles, true)) if roles.iter().any(|r| domain::problem::PROBLEM_ROLES.contains(r)) => {
            Ok(())
        }
        Some(_) => Err(ApiError::validation(
            "owner_id",
            "invalid",
            "the owner must be an active support analyst, coordinator, test analyst or change manager",
        )),
        None => Err(ApiError::validation("owner_id", "unknown", format!("no user {id}"))),
    }
}

async fn check_item(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<()> {
    let found: Option<i64> = support_items::table
        .find(id)
        .select(support_items::id)
        .first(conn)
        .await
        .optional()?;
    found
        .map(|_| ())
        .ok_or_else(|| ApiError::validation("item_id", "unknown", format!("no support item {id}")))
}

/// Opens a problem (once per `Idempotency-Key`), linking the incidents given.
pub async fn open(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    body: &NewProblem,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<Created<ProblemView>> {
    let idem = Idempotency::new(idempotency_key, "POST /api/v1/problems", body)?;
    create_once(conn, idem.as_ref(), user.id, now, async |conn| {
        open_in_tx(conn, user, body, now).await
    })
    .await
}

async fn open_in_tx(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    body: &NewProblem,
    now: DateTime<Utc>,
) -> ApiResult<ProblemView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut checks = FieldProblems::default();
        if let Some(item) = body.item_id {
            checks.take(check_item(conn, item).await);
        }
        let owner = body.owner_id.unwrap_or(user.id);
        checks.take(check_owner(conn, owner).await);
        let mut seen = std::collections::HashSet::new();
        for (i, id) in body.incident_ids.iter().enumerate() {
            if !seen.insert(*id) {
                checks.push(FieldError::new(
                    format!("incident_ids[{i}]"),
                    "duplicate",
                    format!("incident {id} is listed twice"),
                ));
            }
        }
        checks.finish()?;
        let id: i64 = diesel::insert_into(problems::table)
            .values((
                problems::title.eq(body.title.trim()),
                problems::description.eq(&body.description),
                problems::state.eq(ProblemState::New.db()),
                problems::item_id.eq(body.item_id),
                problems::owner_id.eq(owner),
                problems::opened_at.eq(now),
                problems::updated_at.eq(now),
            ))
            .returning(problems::id)
            .get_result(conn)
            .await?;
        append(
            conn,
            NewEvent::on(Entity::Problem, id, "open")
                .states(None, Some(ProblemState::New.as_str()))
                .by(Some(user.id))
                .detail(serde_json::json!({ "owner_id": owner, "item_id": body.item_id })),
            now,
        )
        .await?;
        // Every bad incident is named, by its place in the list, before anything is kept.
        let mut checks = FieldProblems::default();
        for (i, ticket_id) in body.incident_ids.iter().enumerate() {
            let r = link_in_tx(conn, user, id, *ticket_id, now).await;
            match r {
                Err(ApiError::Validation(mut errs)) => {
                    for e in errs.iter_mut() {
                        e.field = format!("incident_ids[{i}]");
                    }
                    checks.take::<()>(Err(ApiError::Validation(errs)));
                }
                Err(ApiError::Conflict { detail, .. }) => checks.push(FieldError::new(
                    format!("incident_ids[{i}]"),
                    "invalid",
                    detail,
                )),
                other => {
                    checks.take(other.map(|_| ()));
                }
            }
        }
        checks.finish()?;
        let p = store::find(conn, id, false).await?;
        store::view(conn, p).await
    })
    .await
}

pub async fn edit(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    body: &ProblemEdit,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<ProblemView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut p = store::find(conn, id, true).await?;
        check_if_match(if_match, p.version, false)?;
        if p.state == ProblemState::Closed {
            return Err(ApiError::StateConflict {
                code: "problem_closed",
                detail: format!("{} is closed: it is no longer edited", p.number()),
                current_state: p.state.to_string(),
                allowed_actions: vec![],
                missing: vec![],
            });
        }
        let mut checks = FieldProblems::default();
        if let Some(item) = body.item_id {
            checks.take(check_item(conn, item).await);
        }
        if let Some(owner) = body.owner_id {
            checks.take(check_owner(conn, owner).await);
        }
        checks.finish()?;
        let mut changed = Vec::new();
        if let Some(t) = &body.title {
            p.title = t.trim().to_string();
            changed.push("title");
        }
        if let Some(d) = &body.description {
            p.description = d.clone();
            changed.push("description");
        }
        if body.item_id.is_some() {
            p.item_id = body.item_id;
            changed.push("item_id");
        }
        if let Some(o) = body.owner_id {
            p.owner_id = o;
            changed.push("owner_id");
        }
        if let Some(r) = &body.root_cause {
            p.root_cause = Some(r.trim().to_string());
            changed.push("root_cause");
        }
        if let Some(w) = &body.workaround {
            p.workaround = Some(w.trim().to_string());
            changed.push("workaround");
        }
        if changed.is_empty() {
            return Err(ApiError::validation("body", "empty", "nothing to change"));
        }
        store::save(conn, &mut p, now).await?;
        append(
            conn,
            NewEvent::on(Entity::Problem, id, "edit")
                .by(Some(user.id))
                .detail(serde_json::json!({ "fields": changed })),
            now,
        )
        .await?;
        if p.known_error_at.is_some() {
            publish_known_error(conn, &known_error_source(&p), user.id, now).await?;
        }
        store::view(conn, p).await
    })
    .await
}

/// What a known-error article is written from.
fn known_error_source(p: &Problem) -> crate::knowledge::articles::KnownErrorSource {
    crate::knowledge::articles::KnownErrorSource {
        problem_id: p.id,
        number: p.number(),
        title: p.title.clone(),
        root_cause: p.root_cause.clone().unwrap_or_default(),
        workaround: p.workaround.clone().unwrap_or_default(),
        item_id: p.item_id,
    }
}

/// Performs `action` on problem `id`.
pub async fn perform(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    action: ProblemAction,
    body: ProblemActionBody,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<ProblemView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut p = store::find(conn, id, true).await?;
        check_if_match(if_match, p.version, false)?;
        let trim = |s: &Option<String>| s.as_deref().map(str::trim).map(str::to_string);
        let reason = trim(&body.reason);
        // The request's references are checked first: an unknown RDM or problem is a bad
        // field, whatever the state.
        let mut checks = FieldProblems::default();
        if action == ProblemAction::StartFix {
            if let Some(rdm_id) = body.rdm_id {
                let found: Option<i64> = rdms::table
                    .find(rdm_id)
                    .select(rdms::id)
                    .first(conn)
                    .await
                    .optional()?;
                if found.is_none() {
                    checks.push(FieldError::new(
                        "rdm_id",
                        "unknown",
                        format!("no RDM {rdm_id}"),
                    ));
                }
            }
        }
        if action == ProblemAction::CloseDuplicate {
            if let Some(dup) = body.duplicate_of {
                if dup == id {
                    checks.push(FieldError::new(
                        "duplicate_of",
                        "invalid",
                        "a problem cannot duplicate itself",
                    ));
                } else {
                    match store::find(conn, dup, false).await {
                        Ok(other) if other.duplicate_of == Some(id) => {
                            checks.push(FieldError::new(
                                "duplicate_of",
                                "invalid",
                                format!(
                                    "{} is itself closed as a duplicate of this one",
                                    other.number()
                                ),
                            ))
                        }
                        Ok(other) if other.state == ProblemState::Closed => {
                            checks.push(FieldError::new(
                                "duplicate_of",
                                "invalid",
                                format!(
                                    "{} is closed: name the problem that stays open",
                                    other.number()
                                ),
                            ))
                        }
                        Ok(_) => {}
                        Err(_) => checks.push(FieldError::new(
                            "duplicate_of",
                            "unknown",
                            format!("no problem {dup}"),
                        )),
                    }
                }
            }
        }
        checks.finish()?;
        let mut facts = store::facts(conn, &p).await?;
        facts.has_root_cause |= body.root_cause.is_some();
        facts.has_workaround |= body.workaround.is_some();
        facts.has_rdm = body.rdm_id.is_some();
        facts.has_reason = reason.is_some();
        facts.has_duplicate_of = body.duplicate_of.is_some();
        if action == ProblemAction::StartFix {
            if let Some(rdm_id) = body.rdm_id {
                facts.fix_implemented = store::rdm_implemented(conn, rdm_id).await?;
            }
        }
        let from = p.state;
        let to = transition(from, action, &facts)?;
        let mut detail = serde_json::json!({});
        match action {
            ProblemAction::RecordKnownError => {
                if body.root_cause.is_some() {
                    p.root_cause = trim(&body.root_cause);
                }
                if body.workaround.is_some() {
                    p.workaround = trim(&body.workaround);
                }
                p.known_error_at = Some(now);
            }
            ProblemAction::StartFix => {
                detail =
                    serde_json::json!({ "rdm_id": body.rdm_id, "previous_rdm_id": p.fix_rdm_id });
                p.fix_rdm_id = body.rdm_id;
            }
            ProblemAction::Resolve => {
                p.resolved_at = Some(now);
                detail = serde_json::json!({ "rdm_id": p.fix_rdm_id });
            }
            ProblemAction::CloseDuplicate => {
                let dup = body.duplicate_of.expect("checked by the lifecycle");
                p.duplicate_of = Some(dup);
                // The incidents follow the problem that stays.
                let moved = super::links::move_all(conn, user, id, dup, now).await?;
                detail = serde_json::json!({ "duplicate_of": dup, "incidents_moved": moved });
            }
            _ => {}
        }
        if let Some(kind) = action.close_kind() {
            p.close_kind = Some(kind.to_string());
            p.close_reason = reason.clone();
            p.closed_at = Some(now);
        }
        p.state = to;
        store::save(conn, &mut p, now).await?;
        append(
            conn,
            NewEvent::on(Entity::Problem, id, action.as_str())
                .states(Some(from.as_str()), Some(to.as_str()))
                .by(Some(user.id))
                .because(reason)
                .detail(detail),
            now,
        )
        .await?;
        if action == ProblemAction::RecordKnownError {
            publish_known_error(conn, &known_error_source(&p), user.id, now).await?;
        }
        store::view(conn, p).await
    })
    .await
}

/// Resolves, as the system, the problems whose fix `rdm_id` carries, and tells each owner
/// (the `RdmImplemented` job). Problems not in `fix_in_progress` are left as they are.
pub async fn fix_shipped(
    conn: &mut AsyncPgConnection,
    n: &crate::notify::Notifier,
    rdm_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<Vec<i64>> {
    let ids: Vec<i64> = problems::table
        .filter(problems::fix_rdm_id.eq(rdm_id))
        .filter(problems::state.eq(ProblemState::FixInProgress.db()))
        .order(problems::id)
        .select(problems::id)
        .load(conn)
        .await?;
    let mut resolved = Vec::new();
    for id in ids {
        let mut p = store::find(conn, id, true).await?;
        if p.state != ProblemState::FixInProgress || p.fix_rdm_id != Some(rdm_id) {
            continue;
        }
        p.state = ProblemState::Resolved;
        p.resolved_at = Some(now);
        store::save(conn, &mut p, now).await?;
        let e = append(
            conn,
            NewEvent::on(Entity::Problem, id, ProblemAction::Resolve.as_str())
                .states(
                    Some(ProblemState::FixInProgress.as_str()),
                    Some(ProblemState::Resolved.as_str()),
                )
                .detail(serde_json::json!({ "rdm_id": rdm_id, "by": "fix_implemented" })),
            now,
        )
        .await?;
        super::workaround::tell_owner_fix_shipped(conn, n, &p, rdm_id, e.id, now).await?;
        resolved.push(id);
    }
    Ok(resolved)
}
