//! HTTP, and only HTTP: actix extractors, the one mapping of errors to problem+json, the
//! OpenAPI document, one handler per action translating a request into an operation of a
//! context and its result into a response, and the HTML pages behind e-mail vote links.
//! Nothing else in the crate imports this.
pub mod auth;
pub mod extract;
pub mod handlers;
pub mod observe;
pub mod openapi;
pub mod problem;
pub mod report_pages;
pub mod server;
pub mod ticket_pages;
pub mod vote_pages;

pub use server::{configure, serve};
