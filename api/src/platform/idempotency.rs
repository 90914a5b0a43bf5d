//! `Idempotency-Key` on creates (SPEC §9): a create repeated with the same key returns the
//! first result, even when both arrive at once. One implementation for every create; the
//! stored answer is kept in the create's own transaction.
use super::error::{ApiError, ApiResult};
use crate::db::schema::idempotency_keys;
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

/// The answer given to the first request with a key.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Idempotency {
    /// The key the request sent, if any (1 to 200 characters).
    pub fn new(
        key: Option<&str>,
        route: &str,
        body: &impl Serialize,
    ) -> ApiResult<Option<Idempotency>> {
        let Some(key) = key else {
            return Ok(None);
        };
        if key.is_empty() || key.chars().count() > 200 {
            return Err(ApiError::validation(
                "Idempotency-Key",
                "length",
                "must be 1 to 200 characters",
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(route.as_bytes());
        hasher.update(b"\n");
        hasher.update(serde_json::to_vec(body)?);
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
    ) -> ApiResult<Option<StoredAnswer>> {
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
        let Some((fingerprint, status, body)) = stored else {
            return Ok(None);
        };
        if fingerprint != self.fingerprint {
            return Err(ApiError::conflict(
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            ));
        }
        Ok(Some(StoredAnswer {
            status: status as u16,
            body,
        }))
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
                idempotency_keys::response.eq(serde_json::to_value(response)?),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// What to answer when the create's transaction failed with `error`: a lost race on the
    /// key returns the winner's stored answer; any other error stands.
    pub async fn settle_race(
        idem: Option<&Idempotency>,
        conn: &mut AsyncPgConnection,
        user_id: i64,
        error: ApiError,
    ) -> ApiResult<StoredAnswer> {
        match (idem, error) {
            (
                Some(i),
                ApiError::Conflict {
                    code: "idempotency_race",
                    ..
                },
            ) => i
                .replay(conn, user_id)
                .await?
                .ok_or_else(|| ApiError::internal("idempotency row vanished")),
            (_, e) => Err(e),
        }
    }
}

/// Either the new result of a create, or the stored answer of the first request with its key.
pub enum Created<T> {
    New(T),
    Replayed(StoredAnswer),
}

/// Runs `create` once per key: a stored answer is returned as is; otherwise `create` runs in a
/// transaction that also stores its result under the key; a concurrent twin that lost the race
/// gets the winner's answer.
pub async fn create_once<T, F>(
    conn: &mut AsyncPgConnection,
    idem: Option<&Idempotency>,
    user_id: i64,
    now: DateTime<Utc>,
    create: F,
) -> ApiResult<Created<T>>
where
    T: Serialize + Send + Sync,
    F: for<'c> AsyncFnOnce(&'c mut AsyncPgConnection) -> ApiResult<T>
        + for<'c> SendAsyncFn<&'c mut AsyncPgConnection, ApiResult<T>, Fut: Send>
        + Send,
{
    use diesel_async::AsyncConnection;
    if let Some(i) = idem {
        if let Some(stored) = i.replay(conn, user_id).await? {
            return Ok(Created::Replayed(stored));
        }
    }
    let result = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let value = create(conn).await?;
            if let Some(i) = idem {
                i.remember(conn, user_id, &value, now).await?;
            }
            Ok(value)
        })
        .await;
    match result {
        Ok(v) => Ok(Created::New(v)),
        Err(e) => Idempotency::settle_race(idem, conn, user_id, e)
            .await
            .map(Created::Replayed),
    }
}

/// An async closure whose future is `Send` (what a transaction's body must be; the same
/// bound diesel-async puts on `transaction`).
pub trait SendAsyncFn<A, R>:
    AsyncFnOnce(A) -> R + FnOnce(A) -> <Self as SendAsyncFn<A, R>>::Fut
{
    type Fut: std::future::Future<Output = R>;
}

impl<F, A, Fut, R> SendAsyncFn<A, R> for F
where
    F: AsyncFnOnce(A) -> R + FnOnce(A) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    type Fut = Fut;
}
