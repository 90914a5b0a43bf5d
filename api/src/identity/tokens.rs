//! Short-lived HS256 access tokens (JWT): issued at login, verified on every request against
//! the injected clock.
use super::principal::AuthUser;
use crate::platform::error::ApiError;
use chrono::{DateTime, Duration, Utc};
use domain::roles::Role;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<i64>,
    /// The account's token version at issue: a token of another version is revoked.
    #[serde(default)]
    pub ver: i32,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        }
    }

    pub fn issue(
        &self,
        user: &AuthUser,
        token_version: i32,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), ApiError> {
        let exp = now + self.ttl;
        let claims = Claims {
            sub: user.id.to_string(),
            name: user.username.clone(),
            roles: user.roles.iter().collect(),
            org: user.organization_id,
            ver: token_version,
            iat: now.timestamp(),
            exp: exp.timestamp(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::context("signing an access token", e))?;
        Ok((token, exp))
    }

    /// Verifies signature and algorithm (HS256 only: `none` and others are refused), then
    /// expiry against the injected clock rather than the system's.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        v.required_spec_claims = ["exp", "sub"].into_iter().map(String::from).collect();
        let claims = decode::<Claims>(token, &self.decoding, &v)
            .map_err(|e| {
                tracing::debug!(error = %e, "token refused");
                ApiError::Unauthorized {
                    code: "invalid_token",
                    detail: "the access token is invalid".into(),
                }
            })?
            .claims;
        if claims.exp <= now.timestamp() {
            return Err(ApiError::Unauthorized {
                code: "token_expired",
                detail: "the access token has expired; request a new one".into(),
            });
        }
        Ok(claims)
    }
}
