//! gmud's rules, free of HTTP, SQL and mail: the RDM lifecycle, approval policies,
//! business-hours calendars, committee meetings and maintenance windows.
//!
//! Nothing here reads the clock: every rule that depends on time takes `now`.
pub mod approval;
pub mod calendar;
pub mod delegation;
pub mod jobs;
pub mod rdm;
pub mod roles;
pub mod schedule;
pub mod vote_link;
