//! gmud's HTTP API, persistence, jobs and mail. The rules live in the `domain` crate.
//!
//! Layers, each importing only those below it (`.ci/check-layering` fails otherwise):
//! `db` → `platform` → `queue`, `events` → `notify` → `identity`, `calendar`, `catalog` →
//! `changes` → `app` (the composition root), `fixtures` → `http`.
pub mod app;
pub mod calendar;
pub mod catalog;
pub mod changes;
pub mod db;
pub mod events;
pub mod fixtures;
pub mod http;
pub mod identity;
pub mod knowledge;
pub mod notify;
pub mod platform;
pub mod problems;
pub mod queue;
pub mod reports;
pub mod tickets;
