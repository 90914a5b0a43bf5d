use crate::auth::JwtKeys;
use crate::clock::Clock;
use crate::db::Pool;
use std::sync::Arc;

/// Everything a handler may use, typed. No globals.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
}
