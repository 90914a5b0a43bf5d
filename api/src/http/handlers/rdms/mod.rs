//! `/api/v1/rdms`: change requests (`crate::changes::rdms`). One file per action.
pub mod actions;
pub mod create;
pub mod get;
pub mod history;
pub mod list;
pub mod notify;
pub mod update;
pub mod votes;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create::create_rdm)
        .service(list::list_rdms)
        .service(get::get_rdm)
        .service(update::update_rdm)
        .service(history::rdm_history)
        .service(votes::cast_vote)
        .service(votes::list_votes)
        .service(notify::notify_customers);
    actions::routes(cfg);
}
