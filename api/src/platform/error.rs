//! One error type for every operation, with a stable snake_case `code` clients can branch on.
//! `http::problem` maps it, once, to `application/problem+json` (RFC 9457); jobs record it.
//! Nothing here knows HTTP beyond the status number a problem document carries.
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::rdm::{Refusal, RefusalKind};
use domain::ticket::{Refusal as TicketRefusal, RefusalKind as TicketRefusalKind};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// One bad input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as named in the request (`configuration_item_ids`, `If-Match`, `reason`...).
    pub field: String,
    /// Machine-readable reason (`required`, `length`, `range`, `invalid`, `unknown`...).
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// A problem document: what every error response carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// URI reference naming the problem type (`/problems/{code}`).
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    /// Bad fields, for 400/422.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Current state of the resource, for illegal transitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// Actions the caller may take now, for illegal transitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
    /// What must be filled in first, for blocked transitions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Records that block the action, e.g. a parent ticket's open children.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocking: Vec<i64>,
    /// Current version, for version mismatches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i32>,
    /// For 429 and 503: seconds to wait before trying again (also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// The request's id, as in its `X-Request-Id` response header: quote it when reporting
    /// a problem (the server's access log has it). Set by the HTTP server on every response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// Query parameters that cannot be read as what they name (a date that is no date, a
    /// period that ends before it starts): 400, each bad field named.
    #[error("invalid query")]
    BadQuery(Vec<FieldError>),
    #[error("{0}")]
    Transition(Box<Refusal>),
    /// A ticket action refused by its lifecycle (SPEC §4).
    #[error("{0}")]
    TicketTransition(Box<TicketRefusal>),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// An action its lifecycle refuses, for lifecycles that map their own refusals
    /// (problems, knowledge-base articles): 409 with the current state and allowed actions.
    #[error("{detail}")]
    StateConflict {
        code: &'static str,
        detail: String,
        current_state: String,
        allowed_actions: Vec<String>,
        missing: Vec<String>,
    },
    #[error("the resource changed: you sent version {sent}, it is at version {current}")]
    VersionMismatch { sent: String, current: i32 },
    #[error("send If-Match with the ETag of the version you edited")]
    IfMatchRequired,
    #[error("this route answers only {0}")]
    MethodNotAllowed(String),
    #[error("the database is unavailable")]
    Unavailable,
    /// Throttled: the caller may retry after the wait.
    #[error("{detail}")]
    TooManyRequests {
        retry_after_secs: u64,
        detail: String,
    },
    /// Too busy to take this now: retry after the wait.
    #[error("{detail}")]
    Overloaded {
        retry_after_secs: u64,
        detail: String,
    },
    #[error("the body is larger than the {limit_bytes} bytes accepted")]
    PayloadTooLarge { limit_bytes: usize },
    /// Logged whole, with its chain of causes; returned opaque.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What was being done when an unexpected error happened, with the error kept as its source.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
struct Context {
    what: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl ApiError {
    pub fn validation(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    }
    /// An unexpected failure whose cause is only a message.
    pub fn internal(e: impl fmt::Display) -> Self {
        ApiError::Internal(e.to_string().into())
    }
    /// An unexpected failure, keeping the error itself (and its sources) for the log.
    pub fn from_cause(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(e))
    }

    /// An unexpected failure, saying what was being done, with the error as its cause.
    pub fn context(
        what: impl Into<String>,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ApiError::Internal(Box::new(Context {
            what: what.into(),
            source: Box::new(e),
        }))
    }

    /// The error and every cause under it, `outer: inner: innermost`: what the log shows.
    pub fn chain(&self) -> String {
        let mut out = match self {
            ApiError::Internal(e) => e.to_string(),
            other => return format!("{other} ({})", other.code()),
        };
        let mut source = match self {
            ApiError::Internal(e) => e.source(),
            _ => None,
        };
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }

    /// The HTTP status a problem document for this error carries.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthorized { .. } => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::BadRequest { .. } => 400,
            ApiError::Validation(_) => 422,
            ApiError::BadQuery(_) => 400,
            ApiError::Transition(r) => match r.kind {
                RefusalKind::RoleNotPermitted => 403,
                _ => 409,
            },
            ApiError::TicketTransition(r) => match r.kind {
                TicketRefusalKind::RoleNotPermitted => 403,
                _ => 409,
            },
            ApiError::Conflict { .. }
            | ApiError::StateConflict { .. }
            | ApiError::VersionMismatch { .. } => 409,
            ApiError::IfMatchRequired => 428,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::Unavailable => 503,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::Overloaded { .. } => 503,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::Internal(_) => 500,
        }
    }
    /// Seconds the client should wait before trying again (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            }
            | ApiError::Overloaded {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound(what.into())
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized { code, .. } => code,
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest { code, .. } => code,
            ApiError::Validation(_) => "validation_failed",
            ApiError::BadQuery(_) => "invalid_query",
            ApiError::Transition(r) => match r.kind {
                RefusalKind::IllegalTransition => "illegal_transition",
                RefusalKind::RoleNotPermitted => "forbidden",
                RefusalKind::PreconditionFailed => "transition_blocked",
            },
            ApiError::TicketTransition(r) => match r.kind {
                TicketRefusalKind::IllegalTransition => "illegal_transition",
                TicketRefusalKind::RoleNotPermitted => "forbidden",
                TicketRefusalKind::PreconditionFailed if !r.blocking.is_empty() => "open_children",
                TicketRefusalKind::PreconditionFailed => "transition_blocked",
            },
            ApiError::Conflict { code, .. } | ApiError::StateConflict { code, .. } => code,
            ApiError::VersionMismatch { .. } => "version_mismatch",
            ApiError::IfMatchRequired => "if_match_required",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Unavailable => "service_unavailable",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let mut p = Problem {
            type_: format!("/problems/{}", self.code()),
            title: reason_phrase(status).to_string(),
            status,
            detail: self.to_string(),
            code: self.code().to_string(),
            errors: vec![],
            current_state: None,
            allowed_actions: None,
            missing: vec![],
            blocking: vec![],
            current_version: None,
            retry_after_seconds: self.retry_after(),
            request_id: None,
        };
        match self {
            ApiError::Validation(errors) | ApiError::BadQuery(errors) => {
                p.detail = format!(
                    "invalid input: {}",
                    errors
                        .iter()
                        .map(|e| format!("{} ({})", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                p.errors = errors.clone();
            }
            // A caller without the role learns nothing about the record.
            ApiError::Transition(r) if r.kind == RefusalKind::RoleNotPermitted => {}
            ApiError::Transition(r) => {
                p.current_state = Some(r.state.to_string());
                p.allowed_actions = Some(r.allowed_actions.iter().map(|a| a.to_string()).collect());
                p.missing = r.missing.iter().map(|m| m.to_string()).collect();
            }
            ApiError::TicketTransition(r) if r.kind == TicketRefusalKind::RoleNotPermitted => {}
            ApiError::TicketTransition(r) => {
                p.current_state = Some(r.state.to_string());
                p.allowed_actions = Some(r.allowed_actions.iter().map(|a| a.to_string()).collect());
                p.missing = r.missing.iter().map(|m| m.to_string()).collect();
                p.blocking = r.blocking.clone();
            }
            ApiError::StateConflict {
                current_state,
                allowed_actions,
                missing,
                ..
            } => {
                p.current_state = Some(current_state.clone());
                p.allowed_actions = Some(allowed_actions.clone());
                p.missing = missing.clone();
            }
            ApiError::VersionMismatch { current, .. } => p.current_version = Some(*current),
            _ => {}
        }
        p
    }
}

/// The standard reason phrase of the statuses this API answers with.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

impl From<TicketRefusal> for ApiError {
    fn from(r: TicketRefusal) -> Self {
        ApiError::TicketTransition(Box::new(r))
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::Transition(Box::new(r))
    }
}

/// Constraint names from migrations/ mapped to what the client did wrong.
fn constraint_error(constraint: &str) -> Option<ApiError> {
    let (field, msg) = match constraint {
        "organizations_code_key" => ("code", "an organisation with this code already exists"),
        "users_username_key" => ("username", "this username is taken"),
        "topologies_organization_name_key" => (
            "name",
            "this organisation already has a topology with this name",
        ),
        "services_code_key" => ("code", "a service with this code already exists"),
        "configuration_items_name_key" => (
            "name",
            "this organisation already has an item with this name",
        ),
        "calendars_code_key" => ("code", "a calendar with this code already exists"),
        "holidays_calendar_date_key" => {
            ("date", "this calendar already has a holiday on this date")
        }
        "committees_code_key" => ("code", "a committee with this code already exists"),
        "committee_members_pkey" => ("user_id", "already a member of this committee"),
        "standard_templates_code_key" => ("code", "a template with this code already exists"),
        "idempotency_keys_pkey" => {
            return Some(ApiError::conflict(
                "idempotency_race",
                "a request with this Idempotency-Key is being processed",
            ))
        }
        "calendar_policies_pkey" => {
            return Some(ApiError::conflict(
                "concurrent_update",
                "another policy version was saved at the same time; read it and retry",
            ))
        }
        "rdm_votes_one_per_voter" => {
            return Some(ApiError::conflict(
                "already_voted",
                "you have already voted on this RDM",
            ))
        }
        _ => return None,
    };
    Some(ApiError::Conflict {
        code: "already_exists",
        detail: format!("{field}: {msg}"),
    })
}

impl From<DieselError> for ApiError {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::NotFound => ApiError::NotFound("resource".into()),
            DieselError::DatabaseError(kind, info) => {
                if let Some(mapped) = info.constraint_name().and_then(constraint_error) {
                    return mapped;
                }
                match kind {
                    DatabaseErrorKind::SerializationFailure => ApiError::conflict(
                        "concurrent_update",
                        "another request changed this resource at the same time; retry",
                    ),
                    DatabaseErrorKind::ForeignKeyViolation => ApiError::validation(
                        info.constraint_name().unwrap_or("reference"),
                        "unknown",
                        "refers to something that does not exist",
                    ),
                    DatabaseErrorKind::ClosedConnection => ApiError::Unavailable,
                    // A backstop: input checks refuse NUL before it gets here.
                    DatabaseErrorKind::Unknown
                        if info.message().contains("invalid byte sequence") =>
                    {
                        ApiError::validation(
                            "body",
                            "invalid",
                            "text must be valid UTF-8 without NUL characters",
                        )
                    }
                    // Deadlocks surface as `Unknown`; the client can retry like any race.
                    DatabaseErrorKind::Unknown if info.message().contains("deadlock detected") => {
                        ApiError::conflict(
                            "concurrent_update",
                            "another request changed this resource at the same time; retry",
                        )
                    }
                    _ => ApiError::from_cause(e),
                }
            }
            _ => ApiError::from_cause(e),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for ApiError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool");
        ApiError::Unavailable
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::from_cause(e)
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errs: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        flatten_validation("", &errs, &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::Validation(out)
    }
}

fn flatten_validation(prefix: &str, errs: &validator::ValidationErrors, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind as K;
    for (field, kind) in errs.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            K::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| describe(e));
                    out.push(FieldError::new(name.clone(), e.code.to_string(), message));
                }
            }
            K::Struct(inner) => flatten_validation(&name, inner, out),
            K::List(items) => {
                for (i, inner) in items {
                    flatten_validation(&format!("{name}[{i}]"), inner, out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> String {
    let p = |k: &str| e.params.get(k).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            _ => "bad length".into(),
        },
        "range" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "out of range".into(),
        },
        "email" => "must be an e-mail address".into(),
        other => other.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connection reset by peer")]
    struct Io;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the calendar")]
    struct Outer(#[source] Io);

    #[test]
    fn an_internal_error_keeps_its_chain_for_the_log_and_tells_the_client_nothing() {
        let e = ApiError::context("loading calendar 7", Outer(Io));
        assert_eq!(
            e.chain(),
            "loading calendar 7: cannot read the calendar: connection reset by peer"
        );
        let p = e.problem();
        assert_eq!(
            (p.status, p.code.as_str(), p.detail.as_str()),
            (500, "internal_error", "internal error")
        );
        assert!(!serde_json::to_string(&p).unwrap().contains("calendar"));
        // Errors a client may see describe themselves instead.
        let c = ApiError::conflict("already_voted", "you have already voted");
        assert_eq!(c.chain(), "you have already voted (already_voted)");
    }
}
