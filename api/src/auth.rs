//! Authentication: argon2 password hashes, short-lived HS256 JWTs, and the `AuthUser`
//! extractor every protected handler takes. Roles are checked in each handler.
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use domain::roles::{Role, RoleSet};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::future::{ready, Ready};

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that timing does not tell.
pub fn dummy_hash() -> &'static str {
    use std::sync::OnceLock;
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password").expect("hash"))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<i64>,
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
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), ApiError> {
        let exp = now + self.ttl;
        let claims = Claims {
            sub: user.id.to_string(),
            name: user.username.clone(),
            roles: user.roles.iter().collect(),
            org: user.organization_id,
            iat: now.timestamp(),
            exp: exp.timestamp(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)?;
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

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub roles: RoleSet,
    pub organization_id: Option<i64>,
}

impl AuthUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(role)
    }

    /// Refuses unless the caller holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.roles.any(roles) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::Forbidden(format!(
                "this needs one of the roles: {}",
                names.join(", ")
            )))
        }
    }
}

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
