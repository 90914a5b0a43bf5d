//! Incident management (SPEC §4): tickets and their children, routed by data, counted by SLA
//! clocks in business hours, validated by the customer (links in a mail), closed by
//! themselves 60 business hours after resolution. Beside `changes/`, on the same plumbing:
//! the calendar, the queue, the event log and notifications.
pub mod contacts;
pub mod create;
pub mod demo;
pub mod discussion;
pub mod escalation;
pub mod jobs;
pub mod lifecycle;
pub mod list;
pub mod mails;
pub mod notifications;
pub mod oncall;
pub mod rdm_links;
pub mod replan;
pub mod settings;
pub mod store;
pub mod support_catalog;
pub mod timers;
pub mod validation_links;
