//! Request extractors: JSON bodies that name the bad field, validated on the way in.
use crate::platform::error::{ApiError, FieldError};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

const MAX_BODY: usize = 256 * 1024;

/// A JSON body, deserialised with the path of any bad field and then validated.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
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
            if !content_type_ok {
                return Err(ApiError::BadRequest {
                    code: "unsupported_media_type",
                    detail: "send the body as application/json".into(),
                });
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
            let value: T = parse_json(&body)?;
            value.validate()?;
            Ok(ValidJson(value))
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
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
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest {
                code: "malformed_json",
                detail: format!("the body is not valid JSON: {inner}"),
            };
        }
        let msg = inner.to_string();
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

/// A JSON body that may be left out entirely (then `T::default()`); if sent, it must be valid.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Validate + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let empty = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
            || (req
                .headers()
                .get(actix_web::http::header::CONTENT_LENGTH)
                .is_none()
                && req
                    .headers()
                    .get(actix_web::http::header::TRANSFER_ENCODING)
                    .is_none());
        if empty {
            return Box::pin(async { Ok(OptionalJson(T::default())) });
        }
        let fut = ValidJson::<T>::from_request(req, payload);
        Box::pin(async move { fut.await.map(|ValidJson(v)| OptionalJson(v)) })
    }
}

/// The value of a request header, if present and readable.
pub fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
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
