//! Logging in: a username and password exchanged for an access token, throttled per client
//! address and per account before any password is checked, with the checking bounded.
use super::passwords::{dummy_hash, PasswordChecks};
use super::principal::AuthUser;
use super::throttle::LoginThrottle;
use super::tokens::JwtKeys;
use crate::db::models::User;
use crate::db::schema::users;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::pool::Pool;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::roles::RoleSet;
use std::net::IpAddr;

/// An issued token.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// What a login needs besides the credentials.
pub struct Logins<'a> {
    pub pool: &'a Pool,
    pub jwt: &'a JwtKeys,
    pub throttle: &'a LoginThrottle,
    pub checks: &'a PasswordChecks,
}

/// Checks `username` and `password` from `address`; an unknown user, a wrong password and
/// an inactive account are refused alike, after the same work.
pub async fn login(
    l: Logins<'_>,
    address: Option<IpAddr>,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> ApiResult<IssuedToken> {
    l.throttle.admit(address, username)?;
    let mut conn = l.pool.get().await?;
    let user: Option<User> = users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(&mut conn)
        .await
        .optional()?;
    // No connection is held while the password is checked.
    drop(conn);
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let ok = l.checks.verify(password.to_string(), hash).await?;
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => {
            l.throttle.failed(username);
            return Err(ApiError::Unauthorized {
                code: "invalid_credentials",
                detail: "unknown user or wrong password".into(),
            });
        }
    };
    l.throttle.succeeded(username);
    let auth = AuthUser {
        id: user.id,
        username: user.username.clone(),
        roles: RoleSet::new(user.roles.iter().copied()),
        organization_id: user.organization_id,
    };
    let (token, expires_at) = l.jwt.issue(&auth, user.token_version, now)?;
    Ok(IssuedToken { token, expires_at })
}
