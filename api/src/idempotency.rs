//! `Idempotency-Key` on creates (SPEC §9): a create repeated with the same key returns the
//! first result, even when both arrive at once. One implementation for every create.
use crate::error::{ApiError, ApiResult};
use crate::extract::header;
use crate::schema::idempotency_keys;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A create's key and the fingerprint of the request it came with (route and body), so a key
/// reused for a different request is refused rather than answered with the wrong result.
pub struct Idempotency {
    key: String,
    fingerprint: String,
}

/// Adds the headers a replayed response carries (ETag, Location...) from the stored body.
pub type Decorate = fn(&serde_json::Value, &mut HttpResponseBuilder);

impl Idempotency {
    /// The request's key, if it sent one (1 to 200 characters).
    pub fn from_request(
        req: &HttpRequest,
        route: &str,
        body: &impl Serialize,
    ) -> ApiResult<Option<Idempotency>> {
        let Some(key) = header(req, "Idempotency-Key") else {
            return Ok(None);
        };
        if key.is_empty() || key.len() > 200 {
            return Err(ApiError::validation(
                "Idempotency-Key",
                "length",
                "must be 1 to 200 characters",
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(route.as_bytes());
        hasher.update(b"\n");
        hasher.update(serde_json::to_vec(body).map_err(ApiError::internal)?);
        Ok(Some(Idempotency {
            key: key.to_string(),
            fingerprint: hex::encode(hasher.finalize()),
        }))
    }

    /// The stored answer to an earlier request with this key, if any.
    pub async fn replay(
        &self,
        conn: &mut AsyncPgConnection,
        user_id: i64,
        decorate: Decorate,
    ) -> ApiResult<Option<HttpResponse>> {
        let stored: Option<(String, i32, serde_json::Value)> = idempotency_keys::table
            .find((user_id, &self.key))
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::status_code,
                idempotency_keys::response,
            ))
            .first(conn)
            .await
            .optional()?;
        let Some((fingerprint, status, response)) = stored else {
            return Ok(None);
        };
        if fingerprint != self.fingerprint {
            return Err(ApiError::conflict(
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            ));
        }
        let status =
            actix_web::http::StatusCode::from_u16(status as u16).map_err(ApiError::internal)?;
        let mut res = HttpResponse::build(status);
        decorate(&response, &mut res);
        Ok(Some(
            res.insert_header(("Idempotent-Replayed", "true"))
                .json(response),
        ))
    }

    /// Stores the result of the create, in its transaction. A concurrent request that stored
    /// first makes this fail with `idempotency_race` (the key's primary key).
    pub async fn remember(
        &self,
        conn: &mut AsyncPgConnection,
        user_id: i64,
        response: &impl Serialize,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::user_id.eq(user_id),
                idempotency_keys::key.eq(&self.key),
                idempotency_keys::request_hash.eq(&self.fingerprint),
                idempotency_keys::status_code.eq(201),
                idempotency_keys::response
                    .eq(serde_json::to_value(response).map_err(ApiError::internal)?),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// What to answer when the create's transaction failed with `result`: a lost race on the
    /// key returns the winner's stored answer; any other error stands.
    pub async fn settle_race(
        idem: Option<&Idempotency>,
        conn: &mut AsyncPgConnection,
        user_id: i64,
        decorate: Decorate,
        error: ApiError,
    ) -> ApiResult<HttpResponse> {
        match (idem, error) {
            (
                Some(i),
                ApiError::Conflict {
                    code: "idempotency_race",
                    ..
                },
            ) => i
                .replay(conn, user_id, decorate)
                .await?
                .ok_or_else(|| ApiError::internal("idempotency row vanished")),
            (_, e) => Err(e),
        }
    }
}
