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
mod queue;
mod rdm_lifecycle;
mod rdm_rules;
mod refusals;
mod scheduling;
mod schema_drift;
mod setup;
mod vote_links;
