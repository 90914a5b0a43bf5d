//! Request extractors: JSON bodies that name the bad field, validated on the way in.
use crate::platform::error::{ApiError, FieldError};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

const MAX_BODY: usize = 256 * 1024;

/// A JSON body, deserialised with the path of any bad field and then validated. What was
/// wrong with it is kept, not answered at once: the handler checks the caller's roles first
/// and then takes the body with [`ValidJson::into_inner`], so a caller without the role gets
/// 403 whatever it sent (actix extracts arguments concurrently, so an extractor's error
/// could otherwise overtake the role check).
pub struct ValidJson<T>(Result<T, ApiError>);

impl<T> ValidJson<T> {
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, false);
        Box::pin(async move { Ok(ValidJson(body.await.and_then(|b| parse_valid_json(&b)))) })
    }
}

/// Reads a JSON body: refused (413) when larger than the limit, before reading a byte of it if
/// its length is declared, and (400) when it is not sent as `application/json` (unless
/// `may_be_empty` and it is empty: `OptionalJson` takes that as no body).
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    may_be_empty: bool,
) -> LocalBoxFuture<'static, Result<web::BytesMut, ApiError>> {
    let content_type_ok = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    let declared_too_large = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_BODY);
    let mut payload = payload.take();
    Box::pin(async move {
        // Refused before reading a byte of it.
        if declared_too_large {
            return Err(ApiError::PayloadTooLarge {
                limit_bytes: MAX_BODY,
            });
        }
        if !content_type_ok && !may_be_empty {
            return Err(unsupported_media_type());
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest {
                code: "bad_body",
                detail: format!("could not read the body: {e}"),
            })?;
            if body.len() + chunk.len() > MAX_BODY {
                return Err(ApiError::PayloadTooLarge {
                    limit_bytes: MAX_BODY,
                });
            }
            body.extend_from_slice(&chunk);
        }
        if !content_type_ok && !body.trim_ascii().is_empty() {
            return Err(unsupported_media_type());
        }
        Ok(body)
    })
}

fn unsupported_media_type() -> ApiError {
    ApiError::BadRequest {
        code: "unsupported_media_type",
        detail: "send the body as application/json".into(),
    }
}

/// The body is a JSON object (checked before serde, which would otherwise map the items of a
/// top-level array onto a struct's fields by position). Anything else that is valid JSON is
/// refused as `body` having the wrong type; what is not JSON at all is `malformed_json`.
fn require_object(body: &[u8]) -> Result<(), ApiError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        _ => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) => Err(ApiError::validation(
                "body",
                "invalid",
                format!("the body must be a JSON object, not {}", json_type(&v)),
            )),
            Err(e) => Err(ApiError::BadRequest {
                code: "malformed_json",
                detail: format!("the body is not valid JSON: {e}"),
            }),
        },
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses and validates a body, naming every bad field in one answer: serde stops at the
/// first field it cannot read, so that field is noted and taken out and the rest is read
/// again, until the body parses (then the validator's errors join in) or a required field
/// is what is wrong. The usual, valid body is parsed once.
pub fn parse_valid_json<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    let first = match parse_json::<T>(body) {
        Ok(v) => return v.validate().map(|_| v).map_err(ApiError::from),
        Err(ApiError::Validation(e)) => e,
        Err(other) => return Err(other),
    };
    let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Err(ApiError::Validation(first));
    };
    let mut errors: Vec<FieldError> = Vec::new();
    let mut next = first;
    // Bounded: each round removes one field from the document.
    for _ in 0..64 {
        let mut removed = false;
        for e in next.drain(..) {
            if !errors.iter().any(|x| x.field == e.field) {
                removed |= if e.code == "required" {
                    stand_in(&mut doc, &e.field)
                } else {
                    remove_path(&mut doc, &e.field)
                };
                errors.push(e);
            }
        }
        if !removed {
            break;
        }
        match serde_path_to_error::deserialize::<_, T>(&doc).map_err(|e| e.to_string()) {
            Ok(v) => {
                if let Err(ApiError::Validation(more)) = v.validate().map_err(ApiError::from) {
                    errors.extend(
                        more.into_iter()
                            .filter(|m| !errors.iter().any(|x| x.field == m.field))
                            .collect::<Vec<_>>(),
                    );
                }
                break;
            }
            Err(_) => match parse_json::<T>(doc.to_string().as_bytes()) {
                Err(ApiError::Validation(e)) => next = e,
                _ => break,
            },
        }
    }
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    Err(ApiError::Validation(errors))
}

/// Puts a stand-in value where a required field is missing, so the fields after it can be
/// read: the first of a few plain values the type takes. False if none does.
fn stand_in(doc: &mut serde_json::Value, path: &str) -> bool {
    if path.contains(['[', '.']) {
        return false;
    }
    let Some(o) = doc.as_object_mut() else {
        return false;
    };
    if o.contains_key(path) {
        return false;
    }
    o.insert(path.to_string(), serde_json::json!("x"));
    true
}

/// Removes the member at a dotted path of object keys (`a.b`); false if there is none.
fn remove_path(doc: &mut serde_json::Value, path: &str) -> bool {
    if path.contains('[') {
        return false;
    }
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else {
        return false;
    };
    let mut at = doc;
    for p in parts {
        match at.get_mut(p) {
            Some(v) => at = v,
            None => return false,
        }
    }
    at.as_object_mut().is_some_and(|o| o.remove(last).is_some())
}

/// A JSON object body, deserialised with the path of any bad field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    require_object(body)?;
    // PostgreSQL text cannot hold U+0000: refuse it here, naming the field, rather than
    // failing with a 500 at the INSERT. Only bodies that spell `\u0000` are walked.
    if body.windows(6).any(|w| w == b"\\u0000") {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some(field) = nul_field(&v, "") {
                return Err(nul_error(&field));
            }
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // serde_json reports some type errors (a number where an enum's name belongs) as
        // syntax errors: only a body that is not JSON at all is malformed.
        let wrong_type = (inner.is_syntax() || inner.is_eof())
            && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        if (inner.is_syntax() || inner.is_eof()) && !wrong_type {
            return ApiError::BadRequest {
                code: "malformed_json",
                detail: format!("the body is not valid JSON: {inner}"),
            };
        }
        let msg = if wrong_type {
            "has the wrong type".to_string()
        } else {
            inner.to_string()
        };
        // Missing/unknown fields are reported at their parent; name the field itself.
        let field = backticked(&msg)
            .filter(|_| msg.starts_with("missing field") || msg.starts_with("unknown field"))
            .map(|f| {
                // serde_path_to_error already ends the path with an unknown field's name.
                if path == "." {
                    f.to_string()
                } else if path == f || path.ends_with(&format!(".{f}")) {
                    path.clone()
                } else {
                    format!("{path}.{f}")
                }
            })
            .unwrap_or_else(|| {
                if path == "." {
                    "body".to_string()
                } else {
                    path.clone()
                }
            });
        let code = if msg.starts_with("missing field") {
            "required"
        } else if msg.starts_with("unknown field") {
            "unknown_field"
        } else {
            "invalid"
        };
        let message = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    })
}

/// The path of the first string in `v` that contains U+0000.
fn nul_field(v: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() {
            "body".into()
        } else {
            at.into()
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_field(x, &format!("{at}[{i}]"))),
        Value::Object(o) => o.iter().find_map(|(k, x)| {
            nul_field(
                x,
                &if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                },
            )
        }),
        _ => None,
    }
}

fn nul_error(field: &str) -> ApiError {
    ApiError::validation(
        field,
        "invalid",
        "must not contain the NUL character (U+0000)",
    )
}

fn backticked(msg: &str) -> Option<&str> {
    msg.split('`').nth(1)
}

/// A JSON body that may be left out: an empty body or a JSON `null` is `T::default()`; any
/// other body must be a valid object. Taken, like [`ValidJson`], after the role check.
pub struct OptionalJson<T>(Result<T, ApiError>);

impl<T> OptionalJson<T> {
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + Validate + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, true);
        Box::pin(async move {
            Ok(OptionalJson(body.await.and_then(|b| {
                let text = b.trim_ascii();
                if text.is_empty() || text == b"null" {
                    Ok(T::default())
                } else {
                    parse_valid_json(text)
                }
            })))
        })
    }
}

/// The value of a request header, if present and readable.
pub fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The value of a request header, if present; one that is not visible ASCII is refused rather
/// than taken as absent (an `Idempotency-Key` silently ignored would make a retry a duplicate).
pub fn text_header<'a>(req: &'a HttpRequest, name: &str) -> Result<Option<&'a str>, ApiError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            ApiError::validation(name, "invalid", "must be visible ASCII characters only")
        }),
    }
}

/// Query parameters, deserialised with the name of the bad parameter (actix's own `Query`
/// can only say that the query string is wrong).
pub struct ValidQuery<T>(pub T);

impl<T> ValidQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ValidQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ValidQuery))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    if let Some((name, _)) =
        url::form_urlencoded::parse(query.as_bytes()).find(|(_, v)| v.contains('\0'))
    {
        return Err(nul_error(&name));
    }
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let msg = err.into_inner().to_string();
        let field = backticked(&msg)
            .filter(|_| msg.starts_with("missing field") || msg.starts_with("unknown field"))
            .map(str::to_string)
            .unwrap_or_else(|| {
                if path == "." {
                    "query".to_string()
                } else {
                    path
                }
            });
        let code = if msg.starts_with("missing field") {
            "required"
        } else if msg.starts_with("unknown field") {
            "unknown_field"
        } else {
            "invalid"
        };
        ApiError::Validation(vec![FieldError::new(field, code, msg)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        minutes: u32,
        inner: Option<Inner>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        n: i64,
    }

    fn field_of(body: &str) -> (String, String) {
        match parse_json::<Body>(body.as_bytes()) {
            Err(ApiError::Validation(e)) => (e[0].field.clone(), e[0].code.clone()),
            other => panic!("{other:?}"),
        }
    }

    #[derive(Debug, Deserialize, validator::Validate)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Form {
        #[validate(length(min = 3))]
        title: String,
        risk: Option<domain::rdm::Level>,
        urgency: Option<domain::rdm::Level>,
        #[validate(range(min = 0))]
        minutes: Option<i32>,
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let fields = |body: &str| match parse_valid_json::<Form>(body.as_bytes()) {
            Err(ApiError::Validation(e)) => e.iter().map(|e| e.field.clone()).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields(r#"{"colour":"red","minutes":-1,"risk":"x","urgency":3}"#),
            vec!["colour", "minutes", "risk", "title", "urgency"]
        );
        assert_eq!(
            fields(r#"{"title":"ab","risk":"huge","minutes":-1}"#),
            vec!["minutes", "risk", "title"]
        );
    }

    #[test]
    fn names_the_bad_field() {
        assert_eq!(
            field_of(r#"{"minutes": 1}"#),
            ("title".into(), "required".into())
        );
        assert_eq!(
            field_of(r#"{"title": "x", "minutes": -1}"#),
            ("minutes".into(), "invalid".into())
        );
        assert_eq!(
            field_of(r#"{"title": "x", "minutes": 1, "inner": {"n": "a"}}"#),
            ("inner.n".into(), "invalid".into())
        );
        assert_eq!(
            field_of(r#"{"title": "x", "minutes": 1, "colour": 1}"#),
            ("colour".into(), "unknown_field".into())
        );
        assert!(matches!(
            parse_json::<Body>(b"{"),
            Err(ApiError::BadRequest {
                code: "malformed_json",
                ..
            })
        ));
    }

    #[test]
    fn only_an_object_is_a_body() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Login {
            username: String,
            password: String,
        }
        // serde alone takes an array's items as the fields, in order.
        assert!(serde_json::from_str::<Login>(r#"["admin", "x"]"#).is_ok());
        for body in [
            r#"["admin", "x"]"#,
            " [] ",
            "null",
            "\"admin\"",
            "1",
            "true",
        ] {
            match parse_json::<Login>(body.as_bytes()) {
                Err(ApiError::Validation(e)) => {
                    assert_eq!(
                        (e[0].field.as_str(), e[0].code.as_str()),
                        ("body", "invalid")
                    )
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        for body in ["", "  ", "[\"admin\"", "nul"] {
            assert!(
                matches!(
                    parse_json::<Login>(body.as_bytes()),
                    Err(ApiError::BadRequest {
                        code: "malformed_json",
                        ..
                    })
                ),
                "{body:?}"
            );
        }
        assert!(parse_json::<Login>(b" \n{\"username\": \"a\", \"password\": \"b\"}").is_ok());
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Filter {
        limit: Option<i64>,
        state: Option<domain::rdm::RdmState>,
    }

    fn query_field(q: &str) -> String {
        match parse_query::<Filter>(q) {
            Err(ApiError::Validation(e)) => e[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_the_bad_query_parameter() {
        assert_eq!(query_field("limit=abc"), "limit");
        assert_eq!(query_field("state=nope"), "state");
        assert_eq!(query_field("colour=red"), "colour");
        assert!(parse_query::<Filter>("limit=5&state=draft").is_ok());
    }
}
