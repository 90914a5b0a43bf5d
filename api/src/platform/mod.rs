//! Plumbing every part uses and that knows no business: configuration, the clock, the
//! database pool and migrations, the one error type, input checks, pagination,
//! idempotent creates, signed links and the process' metrics.
pub mod clock;
pub mod config;
pub mod error;
pub mod idempotency;
pub mod input;
pub mod links;
pub mod metrics;
pub mod pagination;
pub mod pool;
pub mod sql;
