//! RDMs (change requests): filing, editing, the lifecycle actions, the customer notice, the
//! listing and the history, over one store.
pub mod actions;
pub mod create;
pub mod customer_notice;
pub mod history;
pub mod list;
pub mod published;
pub mod store;
pub mod update;
