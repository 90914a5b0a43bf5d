use crate::auth::JwtKeys;
use crate::clock::Clock;
use crate::db::Pool;
use crate::mail::Mailer;
use crate::notify::Notifier;
use std::sync::Arc;

/// Everything a handler or a job may use, typed. No globals.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
    pub mailer: Arc<Mailer>,
    pub notifier: Notifier,
}
