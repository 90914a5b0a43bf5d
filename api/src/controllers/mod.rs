//! HTTP handlers, one folder or file per resource.
pub mod auth;
pub mod health;
pub mod rdms;

use actix_web::web;

/// Everything under `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(auth::issue_token).service(auth::me);
    rdms::routes(cfg);
}
