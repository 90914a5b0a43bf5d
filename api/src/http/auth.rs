//! The bearer token of a request, as the [`AuthUser`] every protected handler takes.
use crate::app::AppState;
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use domain::roles::RoleSet;
use std::future::{ready, Ready};

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<AuthUser, ApiError> {
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
    Ok(AuthUser {
        id,
        username: claims.name,
        roles: RoleSet::new(claims.roles),
        organization_id: claims.org,
    })
}
