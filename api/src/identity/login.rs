//! Logging in: a username and password exchanged for an access token.
use super::passwords::{dummy_hash, verify_password};
use super::principal::AuthUser;
use super::tokens::JwtKeys;
use crate::db::models::User;
use crate::db::schema::users;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::pool::Pool;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::roles::RoleSet;

/// An issued token.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Checks `username` and `password`; an unknown user, a wrong password and an inactive
/// account are refused alike, after the same work.
pub async fn login(
    pool: &Pool,
    jwt: &JwtKeys,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> ApiResult<IssuedToken> {
    let mut conn = pool.get().await?;
    let user: Option<User> = users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(&mut conn)
        .await
        .optional()?;
    // No connection is held while the password is checked.
    drop(conn);
    let password = password.to_string();
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    // argon2 is deliberately slow: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(ApiError::from_cause)?;
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
        roles: RoleSet::new(user.roles.iter().copied()),
        organization_id: user.organization_id,
    };
    let (token, expires_at) = jwt.issue(&auth, now)?;
    Ok(IssuedToken { token, expires_at })
}
