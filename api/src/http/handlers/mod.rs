//! Handlers, one file per resource (one per action for RDMs).
pub mod auth;
pub mod calendar_policy;
pub mod calendar_rules;
pub mod calendars;
pub mod catalog;
pub mod committees;
pub mod common;
pub mod delegations;
pub mod health;
pub mod jobs;
pub mod knowledge;
pub mod meetings;
pub mod problems;
pub mod rdms;
pub mod reports;
pub mod templates;
pub mod tickets;
pub mod users;
pub mod windows;

use actix_web::web;

/// Everything under `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(auth::issue_token).service(auth::me);
    rdms::routes(cfg);
    committees::routes(cfg);
    delegations::routes(cfg);
    meetings::routes(cfg);
    windows::routes(cfg);
    calendar_policy::routes(cfg);
    catalog::routes(cfg);
    calendars::routes(cfg);
    calendar_rules::routes(cfg);
    users::routes(cfg);
    templates::routes(cfg);
    jobs::routes(cfg);
    tickets::routes(cfg);
    problems::routes(cfg);
    knowledge::routes(cfg);
    reports::routes(cfg);
}
