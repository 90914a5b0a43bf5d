//! What the server says about each request: its id (`X-Request-Id` on every response, and
//! `request_id` in every problem document), its access log line, and its metrics.
//!
//! One middleware around the whole application, so every path is covered: handlers' errors,
//! extractor errors (JSON body, path, query, token), and the default service's 404 and 405.
use crate::platform::metrics::{metrics, UNMATCHED};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use std::time::Instant;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest incoming request id kept (a UUID is 36 characters).
const MAX_ID_LEN: usize = 128;

/// The id of the request being answered, in its extensions (for handlers that log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Paths left out of the access log: probes and scrapes, which would drown it.
fn quiet(path: &str) -> bool {
    matches!(path, "/health" | "/metrics")
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| well_formed(v))
        .map(str::to_string)
        .unwrap_or_else(generate);
    req.extensions_mut().insert(RequestId(id.clone()));
    let line = access_log_request(&req);
    // Every error inside (a handler's, an extractor's, the default service's) is already a
    // response here: actix turns a handler's `Err` into one. (The request cannot be kept
    // aside to answer an `Err` here: routing needs it unshared.)
    let res = next.call(req).await?.map_into_boxed_body();
    let mut res = with_request_id(res, &id).await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED.to_string());
    let method = res.request().method().as_str().to_string();
    metrics().observe_request(&method, &route, status, elapsed);
    if !quiet(res.request().path()) {
        tracing::info!(
            target: "gmud::access",
            request_id = %id,
            method = %method,
            route = %route,
            request = %line,
            status,
            duration_ms = elapsed.as_micros() as f64 / 1000.0,
            "request"
        );
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

/// A problem document gets `request_id`; anything else passes as it is.
async fn with_request_id(res: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let problem = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !problem {
        return res;
    }
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    // Problem documents are small and already whole in memory.
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(b) => b,
        Err(_) => return ServiceResponse::new(req, head.set_body(BoxBody::new(()))),
    };
    let body = match add_field(&bytes, id) {
        Some(patched) => BoxBody::new(patched),
        None => BoxBody::new(bytes),
    };
    ServiceResponse::new(req, head.set_body(body))
}

/// `{"type":…,"status":…}` with `"request_id":"…"` appended, keeping the fields' order;
/// None if the body is not a JSON object.
fn add_field(body: &[u8], id: &str) -> Option<Vec<u8>> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
    if object.contains_key("request_id") {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?.trim_end();
    let open = text.strip_suffix('}')?;
    let sep = if object.is_empty() { "" } else { "," };
    let value = serde_json::to_string(id).ok()?;
    Some(format!("{open}{sep}\"request_id\":{value}}}").into_bytes())
}

/// An incoming id is kept if it is short and plain: letters, digits and `-_.:` (what UUIDs,
/// ULIDs and the usual proxies' ids are made of). Anything else could forge log lines or
/// smuggle markup into a log viewer, so it is replaced.
fn well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A random (version 4) UUID.
fn generate() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The request line as the access log shows it: method and path, a vote link's token masked.
/// Vote links are credentials until used: the log still shows that a link was opened and
/// how it went.
fn access_log_request(req: &ServiceRequest) -> String {
    let path = req.path();
    if path.starts_with("/vote/") {
        return format!("{} /vote/…", req.method());
    }
    match req.query_string() {
        "" => format!("{} {path}", req.method()),
        q => format!("{} {path}?{q}", req.method()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_only_when_plain_and_short() {
        assert!(well_formed("3f2c1a9e-0b7d-4c2e-9a51-7d0e8f6b2c11"));
        assert!(well_formed("01HZX3Q8J5K0:req.7_a"));
        assert!(!well_formed(""));
        assert!(!well_formed(&"a".repeat(MAX_ID_LEN + 1)));
        assert!(!well_formed("a b"));
        assert!(!well_formed("a\"b"));
        assert!(!well_formed("ação"));
        let g = generate();
        assert!(well_formed(&g), "{g}");
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
    }

    #[test]
    fn the_id_is_appended_to_a_problem_keeping_its_fields_order() {
        let body = br#"{"type":"/problems/not_found","status":404}"#;
        let out = String::from_utf8(add_field(body, "abc").unwrap()).unwrap();
        assert_eq!(
            out,
            r#"{"type":"/problems/not_found","status":404,"request_id":"abc"}"#
        );
        assert_eq!(add_field(b"[1]", "abc"), None);
        assert_eq!(add_field(b"not json", "abc"), None);
    }
}
