//! `/api/v1/auth/token` and `/api/v1/me`: logging in (`crate::identity::login`) and who
//! the token belongs to.
use crate::app::AppState;
use crate::http::extract::ValidJson;
use crate::identity::login::{login, Logins};
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use domain::roles::Role;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
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
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ValidJson<TokenRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner()?;
    let now = state.clock.now();
    let address = if state.trust_forwarded_for {
        // Behind a proxy the operator runs: the first address of X-Forwarded-For/Forwarded.
        req.connection_info().realip_remote_addr().and_then(|a| {
            a.parse::<IpAddr>()
                .ok()
                .or_else(|| a.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        })
    } else {
        req.peer_addr().map(|a| a.ip())
    };
    let t = login(
        Logins {
            pool: &state.pool,
            jwt: &state.jwt,
            throttle: &state.login_throttle,
            checks: &state.password_checks,
        },
        address,
        &body.username,
        &body.password,
        now,
    )
    .await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: t.token,
        token_type: "Bearer".into(),
        expires_at: t.expires_at,
        expires_in: (t.expires_at - now).num_seconds(),
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
