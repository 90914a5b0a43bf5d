//! Who hears what of a ticket (SPEC §4.3, §8). Each message is a `mail` job written in the
//! caller's transaction (it exists if and only if its event committed), keyed by the event
//! and the recipient: the same event never mails twice.
use super::mails::{render, TicketNotice};
use super::store::Ticket;
use crate::db::schema::{ticket_links, tickets};
use crate::notify::format::format_local;
use crate::notify::{active_users, send, Notifier};
use crate::platform::error::ApiResult;
use crate::platform::links::{TicketLinkAction, TicketLinkBinding};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ticket::{TicketAction, TicketKind};

/// The confirm and reopen URLs of the ticket's current resolution for `recipient_id`
/// (the link row is created once per resolution and recipient).
pub async fn validation_urls(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    t: &Ticket,
    recipient_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<(String, String)> {
    diesel::insert_into(ticket_links::table)
        .values((
            ticket_links::ticket_id.eq(t.id),
            ticket_links::organization_id.eq(t.organization_id),
            ticket_links::resolution_no.eq(t.resolution_no),
            ticket_links::recipient_id.eq(recipient_id),
            ticket_links::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let link_id: i64 = ticket_links::table
        .filter(ticket_links::ticket_id.eq(t.id))
        .filter(ticket_links::resolution_no.eq(t.resolution_no))
        .filter(ticket_links::recipient_id.eq(recipient_id))
        .select(ticket_links::id)
        .first(conn)
        .await?;
    let b = TicketLinkBinding {
        link_id,
        ticket_id: t.id,
        resolution_no: t.resolution_no,
        recipient_id,
    };
    let url = |a| {
        format!(
            "{}/ticket-links/{}",
            n.public_url,
            n.signer.sign_ticket(&b, a)
        )
    };
    Ok((
        url(TicketLinkAction::Confirm),
        url(TicketLinkAction::Reopen),
    ))
}

async fn timezone(conn: &mut AsyncPgConnection, t: &Ticket) -> ApiResult<chrono_tz::Tz> {
    use crate::db::schema::calendars;
    let tz: String = calendars::table
        .find(t.calendar_id)
        .select(calendars::timezone)
        .first(conn)
        .await?;
    Ok(tz.parse().unwrap_or(chrono_tz::America::Sao_Paulo))
}

/// The mail asking the customer to validate a resolution, with its two links.
async fn validation_mail(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    t: &Ticket,
    reminder: bool,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(to) = active_users(conn, &[t.requester_id]).await?.pop() else {
        return Ok(());
    };
    let (confirm, reopen) = validation_urls(conn, n, t, to.id, now).await?;
    let tz = timezone(conn, t).await?;
    let close_at = t
        .auto_close_at
        .map(|at| format_local(at, tz))
        .unwrap_or_default();
    let number = t.number();
    let (subject, heading, first) = if reminder {
        (
            format!("Lembrete: o chamado {number} será encerrado em {close_at}"),
            format!("{number} será encerrado automaticamente"),
            format!("O chamado {number} foi resolvido e aguarda sua validação. Se você não confirmar nem reabrir, ele será encerrado automaticamente em {close_at}."),
        )
    } else {
        (
            format!("Chamado {number} resolvido: confirme ou reabra"),
            format!("{number} foi resolvido"),
            format!("O chamado {number} foi resolvido. Confirme que o problema foi solucionado ou reabra o chamado, informando o motivo."),
        )
    };
    let notice = TicketNotice {
        to_name: to.display_name.clone(),
        number: number.clone(),
        title: t.title.clone(),
        solution: t.solution.clone(),
        paragraphs: vec![first],
        links: vec![
            ("Confirmar a solução".into(), confirm),
            ("Reabrir o chamado".into(), reopen),
        ],
        notes: vec![
            "Cada link abre uma página de confirmação: nada é decidido até você confirmar.".into(),
            "Responder a este e-mail não confirma nem reabre o chamado.".into(),
            format!("Sem resposta, o chamado é encerrado automaticamente em {close_at} (60 horas úteis após a resolução). Depois disso, só é possível abrir um chamado de acompanhamento."),
        ],
    };
    let event = format!(
        "ticket:{}:resolution:{}:{}",
        t.id,
        t.resolution_no,
        if reminder { "reminder" } else { "resolved" }
    );
    send(conn, n, &to, event, render(subject, heading, &notice), now).await?;
    Ok(())
}

pub async fn close_reminder(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    t: &Ticket,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    validation_mail(conn, n, t, true, now).await
}

/// Mail caused by an action, if any.
pub async fn after_action(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    t: &Ticket,
    action: TicketAction,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    match action {
        TicketAction::Resolve if t.kind == TicketKind::Incident => {
            validation_mail(conn, n, t, false, now).await
        }
        TicketAction::Reopen => {
            let Some(assignee) = t.assignee_id else {
                return Ok(());
            };
            let Some(to) = active_users(conn, &[assignee]).await?.pop() else {
                return Ok(());
            };
            let number = t.number();
            let notice = TicketNotice {
                to_name: to.display_name.clone(),
                number: number.clone(),
                title: t.title.clone(),
                solution: None,
                paragraphs: vec![format!(
                    "O chamado {number} foi reaberto (reaberturas: {}).",
                    t.reopen_count
                )],
                links: vec![],
                notes: vec![],
            };
            let event = format!("ticket:{}:reopen:{}", t.id, t.reopen_count);
            send(
                conn,
                n,
                &to,
                event,
                render(
                    format!("Chamado {number} reaberto"),
                    format!("{number} reaberto"),
                    &notice,
                ),
                now,
            )
            .await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The parent's assignee learns that its last open child was resolved.
pub async fn last_child_resolved(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    parent_id: i64,
    child: &Ticket,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let (assignee, title): (Option<i64>, String) = tickets::table
        .find(parent_id)
        .select((tickets::assignee_id, tickets::title))
        .first(conn)
        .await?;
    crate::events::append(
        conn,
        crate::events::NewEvent::on(
            crate::events::Entity::Ticket,
            parent_id,
            "children_resolved",
        )
        .detail(serde_json::json!({"last_child_id": child.id})),
        now,
    )
    .await?;
    let Some(to) = active_users(conn, &assignee.into_iter().collect::<Vec<_>>())
        .await?
        .pop()
    else {
        return Ok(());
    };
    let number = super::store::number(parent_id);
    let notice = TicketNotice {
        to_name: to.display_name.clone(),
        number: number.clone(),
        title,
        solution: child.solution.clone(),
        paragraphs: vec![format!(
            "O último chamado filho aberto do {number} ({}, equipe {}) foi resolvido: o chamado pai já pode ser resolvido.",
            child.number(),
            child.team.as_str()
        )],
        links: vec![],
        notes: vec![],
    };
    let event = format!(
        "ticket:{}:children_resolved:{}:{}",
        parent_id, child.id, child.resolution_no
    );
    send(
        conn,
        n,
        &to,
        event,
        render(
            format!("{number}: todos os chamados filhos resolvidos"),
            format!("{number}: filhos resolvidos"),
            &notice,
        ),
        now,
    )
    .await?;
    Ok(())
}
