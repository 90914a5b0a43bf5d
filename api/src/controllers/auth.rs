use crate::auth::{dummy_hash, verify_password, AuthUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::models::User;
use crate::schema::users;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::roles::{Role, RoleSet};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub username: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, format = Password)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_at: DateTime<Utc>,
    pub expires_in: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub roles: Vec<Role>,
    pub organization_id: Option<i64>,
}

/// Exchange a username and password for a short-lived access token (JWT, HS256).
#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses((status = 200, description = "Token issued", body = TokenResponse))
)]
#[post("/auth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    body: ValidJson<TokenRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let user: Option<User> = users::table
        .filter(users::username.eq(&body.0.username))
        .select(User::as_select())
        .first(&mut conn)
        .await
        .optional()?;
    drop(conn);
    let password = body.0.password.clone();
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    // argon2 is deliberately slow: keep it off the async workers.
    let ok = web::block(move || verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => {
            return Err(ApiError::Unauthorized {
                code: "invalid_credentials",
                detail: "unknown user or wrong password".into(),
            })
        }
    };
    let auth = AuthUser {
        id: user.id,
        username: user.username.clone(),
        roles: RoleSet::new(user.roles.iter().filter_map(|r| r.parse().ok())),
        organization_id: user.organization_id,
    };
    let now = state.clock.now();
    let (token, exp) = state.jwt.issue(&auth, now)?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_at: exp,
        expires_in: (exp - now).num_seconds(),
    }))
}

/// Who the token belongs to.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "The caller", body = Me)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any"])))
)]
#[get("/me")]
pub async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        id: user.id,
        username: user.username,
        roles: user.roles.iter().collect(),
        organization_id: user.organization_id,
    })
}
