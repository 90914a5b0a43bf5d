//! `/api/v1/tickets`: incidents and their children (`crate::tickets`).
pub mod actions;
pub mod catalog;
pub mod intake;
pub mod oncall;
pub mod read;
pub mod work;

use actix_web::web;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(
        intake::open_ticket,
        intake::open_child,
        intake::open_follow_up,
        read::list_tickets,
        read::get_ticket,
        read::ticket_history,
        read::what_if,
        read::list_support_items,
        read::list_queues,
        actions::start,
        actions::pend,
        actions::resume,
        actions::resolve,
        actions::reopen,
        actions::confirm,
        actions::close,
        actions::cancel,
        work::change_priority,
        work::assign,
        work::add_comment,
        work::list_comments,
        work::record_contact_attempt,
        work::list_contact_attempts,
        work::link_rdm,
        work::rdm_tickets,
        work::solution_proposals,
        oncall::list_policies,
        oncall::who_is_on_call,
        oncall::add_override,
        catalog::list_contracts,
        catalog::add_contract,
        catalog::list_routing_rules,
        catalog::add_routing_rule,
        catalog::delete_routing_rule,
    ),
    tags(
        (name = "tickets", description = "Incidents (SPEC §4): intake and routing, children, SLA clocks, comments."),
        (name = "ticket lifecycle", description = "One endpoint per lifecycle action; illegal moves get 409 with the current state and allowed actions.")
    )
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(intake::open_ticket)
        .service(read::list_tickets)
        .service(read::list_support_items)
        .service(read::list_queues)
        .service(work::solution_proposals)
        .service(work::rdm_tickets)
        .service(read::get_ticket)
        .service(read::ticket_history)
        .service(read::what_if)
        .service(intake::open_child)
        .service(intake::open_follow_up)
        .service(work::change_priority)
        .service(work::assign)
        .service(work::add_comment)
        .service(work::list_comments)
        .service(work::record_contact_attempt)
        .service(work::list_contact_attempts)
        .service(work::link_rdm)
        .service(oncall::list_policies)
        .service(oncall::who_is_on_call)
        .service(oncall::add_override)
        .service(catalog::list_contracts)
        .service(catalog::add_contract)
        .service(catalog::list_routing_rules)
        .service(catalog::add_routing_rule)
        .service(catalog::delete_routing_rule);
    actions::routes(cfg);
}
