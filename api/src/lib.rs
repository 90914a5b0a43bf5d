//! gmud's HTTP API, persistence, and command line. The rules live in the `domain` crate.
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod controllers;
pub mod db;
pub mod error;
pub mod extract;
pub mod fixtures;
pub mod models;
pub mod openapi;
pub mod rdms;
pub mod scheduling;
pub mod schema;
pub mod state;
