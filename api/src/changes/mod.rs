//! Change management (SPEC §3): RDMs, committees and their votes (by API and by e-mail
//! link), meetings, maintenance windows and their flexes, delegations, the calendar policy,
//! standard templates, and the timers that make the committee's calendar run itself.
//!
//! Inside, modules import downwards only (a CI check proves it):
//! `rdms::store`, `labels`, `occurrences`, `policy`, `templates`, `substitutes`,
//! `committees` → `mails` → `notifications` → `votes` → `meetings`, `windows`,
//! `delegations` → `committee_admin`, `calendar_tick`, `vote_links`, the other `rdms`
//! operations.
pub mod calendar_tick;
pub mod committee_admin;
pub mod committees;
pub mod delegations;
pub mod labels;
pub mod log;
pub mod mails;
pub mod meetings;
pub mod notifications;
pub mod occurrences;
pub mod policy;
pub mod rdms;
pub mod substitutes;
pub mod templates;
pub mod vote_links;
pub mod votes;
pub mod windows;
