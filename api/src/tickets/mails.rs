//! Ticket mails, pt-BR (SPEC §4.3, §8): one pair of templates (`mail/ticket_notice.*`) over
//! what happened, the links to follow and the ticket's essentials.
use crate::notify::format::{self, filters, mail_templates};
use crate::notify::Rendered;

/// What one ticket mail says.
pub struct TicketNotice {
    pub to_name: String,
    pub number: String,
    pub title: String,
    pub solution: Option<String>,
    pub paragraphs: Vec<String>,
    /// (label, URL), in order.
    pub links: Vec<(String, String)>,
    pub notes: Vec<String>,
}

struct NoticeMail<'a> {
    subject: String,
    heading: String,
    m: &'a TicketNotice,
}
mail_templates!(NoticeMail: NoticeText = "mail/ticket_notice.txt", NoticeHtml = "mail/ticket_notice.html");

pub fn render(subject: String, heading: String, m: &TicketNotice) -> Rendered {
    NoticeMail {
        subject,
        heading,
        m,
    }
    .render()
}
