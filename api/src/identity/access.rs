//! Whether a token's user may still act, and with which roles: each user's access (active,
//! roles, organisation, token version) kept in memory, so that checking costs no query per
//! request, and dropped the moment PostgreSQL says the row changed (`NOTIFY
//! gmud_user_access`, sent by a trigger on `users`, reaches every instance at commit).
//!
//! If the listening connection drops, notifications may be missed: the cache is emptied and
//! bypassed (one query per request) until it listens again.
use super::principal::AuthUser;
use crate::db::schema::users;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::pool::{Conn, Pool};
use diesel::prelude::*;
use domain::roles::{Role, RoleSet};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// The channel the `users` trigger notifies, with the user's id as payload.
pub const CHANNEL: &str = "gmud_user_access";

#[derive(Debug, Clone)]
struct Access {
    username: String,
    roles: Vec<Role>,
    organization_id: Option<i64>,
    active: bool,
    token_version: i32,
}

struct Inner {
    entries: RwLock<HashMap<i64, Access>>,
    /// Moves on every invalidation: a row read before it may not be cached after it.
    epoch: AtomicU64,
    /// The epoch, for whoever waits for a change to arrive (tests, `/ready`).
    changes: watch::Sender<u64>,
    /// Whether notifications are being received (else nothing is cached).
    live: AtomicBool,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            entries: RwLock::default(),
            epoch: AtomicU64::new(0),
            changes: watch::channel(0).0,
            live: AtomicBool::new(false),
        }
    }
}

#[derive(Clone, Default)]
pub struct AccessCache(Arc<Inner>);

impl AccessCache {
    /// The number of invalidations so far, updated as they happen.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.0.changes.subscribe()
    }

    /// Drops `which` entries (all for `None`); under the lock, so that a row read before
    /// cannot be cached after.
    fn invalidate(&self, which: Option<i64>) {
        let e = {
            let mut entries = self.0.entries.write().expect("access cache");
            let e = self.0.epoch.fetch_add(1, Ordering::SeqCst) + 1;
            match which {
                Some(id) => {
                    entries.remove(&id);
                }
                None => entries.clear(),
            }
            e
        };
        self.0.changes.send_replace(e);
    }

    /// The caller behind a valid token of user `id` issued under `token_version`; refused if
    /// the account is gone, inactive, or its tokens were revoked since.
    pub async fn principal(&self, pool: &Pool, id: i64, token_version: i32) -> ApiResult<AuthUser> {
        let cached = self
            .0
            .entries
            .read()
            .expect("access cache")
            .get(&id)
            .cloned();
        let access = match cached {
            Some(a) => Some(a),
            None => self.load(pool, id).await?,
        };
        let access = access.ok_or_else(|| revoked("the account no longer exists"))?;
        if !access.active {
            return Err(revoked("the account is deactivated"));
        }
        if access.token_version != token_version {
            return Err(revoked(
                "the token was revoked (the account was deactivated or its password changed): log in again",
            ));
        }
        Ok(AuthUser {
            id,
            username: access.username,
            roles: RoleSet::new(access.roles),
            organization_id: access.organization_id,
        })
    }

    async fn load(&self, pool: &Pool, id: i64) -> ApiResult<Option<Access>> {
        let epoch = self.0.epoch.load(Ordering::SeqCst);
        let row = read_access(pool, id).await?;
        let access = row.map(
            |(username, roles, organization_id, active, token_version)| Access {
                username,
                roles,
                organization_id,
                active,
                token_version,
            },
        );
        if let Some(a) = &access {
            let mut entries = self.0.entries.write().expect("access cache");
            if self.0.live.load(Ordering::SeqCst) && self.0.epoch.load(Ordering::SeqCst) == epoch {
                entries.insert(id, a.clone());
            }
        }
        Ok(access)
    }

    /// Forgets user `id` (its row changed): the next request reads it again.
    pub fn forget(&self, id: i64) {
        self.invalidate(Some(id));
    }

    fn forget_all(&self) {
        self.invalidate(None);
    }

    /// Whether the cache is being kept (notifications are arriving).
    pub fn is_live(&self) -> bool {
        self.0.live.load(Ordering::SeqCst)
    }

    /// Listens for changes to `users` on a connection of its own, for as long as the process
    /// runs; reconnects after a failure (logging once per outage).
    pub fn spawn_listener(&self, pool: Pool) {
        const FIRST_WAIT: Duration = Duration::from_millis(200);
        let cache = self.clone();
        tokio::spawn(async move {
            let mut failing = false;
            let mut wait = FIRST_WAIT;
            loop {
                let ended = cache.listen(&pool, &mut failing, &mut wait).await;
                cache.0.live.store(false, Ordering::SeqCst);
                cache.forget_all();
                if !failing {
                    let why = ended
                        .err()
                        .map_or("the connection closed".into(), |e| e.chain());
                    tracing::warn!(error = %why, "not receiving user access changes: every token is checked against the database until this recovers");
                    failing = true;
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        });
    }

    /// One listening session: returns when the connection ends.
    async fn listen(&self, pool: &Pool, failing: &mut bool, wait: &mut Duration) -> ApiResult<()> {
        let mut conn = Conn::take(pool.get().await?);
        start_listening(&mut conn).await?;
        // Anything cached before LISTEN took effect may have missed its notification.
        self.0.live.store(true, Ordering::SeqCst);
        self.forget_all();
        if *failing {
            tracing::info!("receiving user access changes again");
            *failing = false;
        }
        *wait = Duration::from_millis(200);
        let mut stream = std::pin::pin!(conn.notifications_stream());
        while let Some(n) = stream.next().await {
            let n = n?;
            match n.payload.parse::<i64>() {
                Ok(id) => self.forget(id),
                Err(_) => self.forget_all(),
            }
        }
        Ok(())
    }
}

// Apart from the cache's methods: diesel's `load` would shadow the atomics' own.
type AccessRow = (String, Vec<Role>, Option<i64>, bool, i32);

async fn read_access(pool: &Pool, id: i64) -> ApiResult<Option<AccessRow>> {
    let mut conn = pool.get().await?;
    let q = users::table.find(id).select((
        users::username,
        users::roles,
        users::organization_id,
        users::active,
        users::token_version,
    ));
    Ok(diesel_async::RunQueryDsl::first(q, &mut conn)
        .await
        .optional()?)
}

async fn start_listening(conn: &mut diesel_async::AsyncPgConnection) -> ApiResult<()> {
    diesel_async::RunQueryDsl::execute(diesel::sql_query(format!("LISTEN {CHANNEL}")), conn)
        .await?;
    Ok(())
}

fn revoked(detail: &str) -> ApiError {
    ApiError::Unauthorized {
        code: "token_revoked",
        detail: detail.into(),
    }
}
