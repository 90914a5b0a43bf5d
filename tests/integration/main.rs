//! One test binary: the API over HTTP, each test on its own database.
mod access;
mod auth;
mod catalog;
mod committee_clock;
mod delegations;
mod event_log;
mod flexes;
mod mail;
mod openapi;
mod query_plans;
mod queue;
mod rdm_lifecycle;
mod rdm_rules;
mod scheduling;
mod schema_drift;
mod setup;
mod vote_links;
