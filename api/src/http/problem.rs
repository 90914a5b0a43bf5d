//! The one mapping of [`ApiError`] to HTTP: an `application/problem+json` response (RFC 9457),
//! and actix's own extractor errors in the same shape.
use crate::platform::error::ApiError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(_) = self {
            // The whole chain of causes goes to the log; the client sees `internal_error`.
            tracing::error!(error = %self.chain(), "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            ApiError::Unauthorized { .. } => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed(allowed) => {
                res.insert_header((header::ALLOW, allowed.as_str()));
            }
            _ => {}
        }
        if let Some(secs) = self.retry_after() {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// Actix's own extractor errors, in the same shape.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let e = match &err {
        J::ContentType => ApiError::BadRequest {
            code: "unsupported_media_type",
            detail: "send the body as application/json".into(),
        },
        J::Deserialize(de) if de.is_data() => {
            // serde names the field in its message; keep it for the client.
            let msg = de.to_string();
            let field = msg
                .split('`')
                .nth(1)
                .filter(|_| msg.starts_with("missing field") || msg.starts_with("unknown field"))
                .unwrap_or("body")
                .to_string();
            ApiError::validation(&field, "invalid", msg)
        }
        J::Overflow { limit } | J::OverflowKnownLength { limit, .. } => ApiError::PayloadTooLarge {
            limit_bytes: *limit,
        },
        _ => ApiError::BadRequest {
            code: "malformed_json",
            detail: format!("the body is not valid JSON: {err}"),
        },
    };
    e.into()
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::validation("query", "invalid", err.to_string()).into()
}

pub fn path_error(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    let _ = err;
    ApiError::NotFound("resource".into()).into()
}
