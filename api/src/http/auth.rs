//! The bearer token of a request, as the [`AuthUser`] every protected handler takes.
use crate::app::AppState;
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = verify(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (id, version) = token?;
            let state = state.ok_or_else(|| ApiError::internal("AppState missing"))?;
            // The roles and whether the account may act come from the account as it is now,
            // not as it was when the token was issued.
            state.access.principal(&state.pool, id, version).await
        })
    }
}

/// The user id and token version of a valid bearer token.
fn verify(req: &HttpRequest) -> Result<(i64, i32), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("AppState missing"))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized {
            code: "missing_token",
            detail: "send Authorization: Bearer <token> (POST /api/v1/auth/token issues one)"
                .into(),
        })?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or(ApiError::Unauthorized {
            code: "invalid_token",
            detail: "the Authorization header must be `Bearer <token>`".into(),
        })?;
    let claims = state.jwt.verify(token.trim(), state.clock.now())?;
    let id = claims.sub.parse().map_err(|_| ApiError::Unauthorized {
        code: "invalid_token",
        detail: "the access token is invalid".into(),
    })?;
    Ok((id, claims.ver))
}
