//! Throttling logins before any password is checked: per client address, a rate of attempts
//! (governor's GCRA); per account, a wait that grows with failures in a row
//! (`domain::login::LoginBackoff`). Both read the injected clock. A refused attempt costs no
//! password hashing.
use crate::platform::clock::Clock;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use domain::login::LoginBackoff;
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

/// The injected clock, as governor reads time.
#[derive(Clone)]
struct Injected(Arc<dyn Clock>);

impl GovernorClock for Injected {
    type Instant = Nanos;
    fn now(&self) -> Nanos {
        let ns = self.0.now().timestamp_nanos_opt().unwrap_or(0).max(0);
        Nanos::from(ns as u64)
    }
}

type AddressLimiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, Injected, NoOpMiddleware<Nanos>>;

/// Accounts whose failures are remembered before old records are swept.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
}

pub struct LoginThrottle {
    clock: Arc<dyn Clock>,
    per_address: AddressLimiter,
    backoff: LoginBackoff,
    accounts: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// `per_address_per_minute` attempts a minute from one address (a burst of as many).
    pub fn new(clock: Arc<dyn Clock>, per_address_per_minute: u32, backoff: LoginBackoff) -> Self {
        let n = NonZeroU32::new(per_address_per_minute.max(1)).expect("at least one");
        LoginThrottle {
            per_address: RateLimiter::new(
                Quota::per_minute(n),
                DefaultKeyedStateStore::default(),
                Injected(clock.clone()),
            ),
            clock,
            backoff,
            accounts: Mutex::new(HashMap::new()),
        }
    }

    /// Admits an attempt from `address` on `username`, or says how long to wait (429).
    pub fn admit(&self, address: Option<IpAddr>, username: &str) -> ApiResult<()> {
        if let Some(ip) = address {
            if let Err(not_until) = self.per_address.check_key(&ip) {
                let wait = not_until.wait_time_from(Injected(self.clock.clone()).now());
                return Err(too_many(
                    wait.as_secs_f64().ceil() as u64,
                    "too many login attempts from your address",
                ));
            }
        }
        let now = self.clock.now();
        let accounts = self.accounts.lock().expect("login throttle");
        if let Some(f) = accounts.get(username) {
            if let Some(at) = self.backoff.next_attempt(f.count, f.last) {
                if at > now {
                    let secs = (at - now).num_milliseconds().max(1) as f64 / 1000.0;
                    return Err(too_many(
                        secs.ceil() as u64,
                        "too many failed logins for this account",
                    ));
                }
            }
        }
        Ok(())
    }

    /// A wrong password (or unknown account) for `username`.
    pub fn failed(&self, username: &str) {
        let now = self.clock.now();
        let mut accounts = self.accounts.lock().expect("login throttle");
        if accounts.len() >= SWEEP_ABOVE {
            accounts.retain(|_, f| !self.backoff.forgotten(f.last, now));
            self.per_address.retain_recent();
        }
        let f = accounts.entry(username.to_string()).or_insert(Failures {
            count: 0,
            last: now,
        });
        f.count = f.count.saturating_add(1);
        f.last = now;
    }

    /// A successful login: the account's failures are forgiven.
    pub fn succeeded(&self, username: &str) {
        self.accounts
            .lock()
            .expect("login throttle")
            .remove(username);
    }
}

fn too_many(retry_after_secs: u64, detail: &str) -> ApiError {
    ApiError::TooManyRequests {
        retry_after_secs: retry_after_secs.max(1),
        detail: format!("{detail}: try again in {} s", retry_after_secs.max(1)),
    }
}
