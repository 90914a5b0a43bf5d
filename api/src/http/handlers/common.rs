//! What every handler shares: the `201 Created` answer, an `ETag`, and replaying the stored
//! answer of an idempotent create.
use crate::platform::idempotency::StoredAnswer;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::Serialize;

pub fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header(("Location", location))
        .json(body)
}

pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// Adds the headers a replayed response carries (ETag, Location...) from the stored body.
pub type Decorate = fn(&serde_json::Value, &mut HttpResponseBuilder);

/// The answer stored for an earlier request with the same `Idempotency-Key`.
pub fn replayed(stored: StoredAnswer, decorate: Decorate) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(stored.status)
        .unwrap_or(actix_web::http::StatusCode::CREATED);
    let mut res = HttpResponse::build(status);
    decorate(&stored.body, &mut res);
    res.insert_header(("Idempotent-Replayed", "true"))
        .json(stored.body)
}

/// A replayed create carries the ETag of the version it answered with, as the first answer did.
pub fn with_etag(response: &serde_json::Value, res: &mut HttpResponseBuilder) {
    if let Some(v) = response.get("version").and_then(|v| v.as_i64()) {
        res.insert_header((actix_web::http::header::ETAG, etag(v as i32)));
    }
}
