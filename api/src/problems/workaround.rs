//! Telling people (SPEC §5, §8): the workaround sent once to the linked open incidents'
//! assignees (and, by choice, their customers); the owner told when the fix ships. Each mail
//! is a job in the caller's transaction, keyed by the event and the recipient.
use super::store::{self, Problem, ProblemView};
use crate::db::schema::tickets;
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::notify::format::{self, filters, mail_templates};
use crate::notify::{active_users, send, Notifier, Rendered};
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::input::check_if_match;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::problem::ProblemState;
use domain::ticket::TicketState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What one problem mail says (pt-BR).
pub struct ProblemNotice {
    pub to_name: String,
    pub number: String,
    pub title: String,
    /// The workaround, shown as such.
    pub solution: Option<String>,
    pub paragraphs: Vec<String>,
    pub links: Vec<(String, String)>,
    pub notes: Vec<String>,
}

struct NoticeMail<'a> {
    subject: String,
    heading: String,
    m: &'a ProblemNotice,
}
mail_templates!(NoticeMail: NoticeText = "mail/problem_notice.txt", NoticeHtml = "mail/problem_notice.html");

fn render(subject: String, heading: String, m: &ProblemNotice) -> Rendered {
    NoticeMail {
        subject,
        heading,
        m,
    }
    .render()
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct WorkaroundNotice {
    /// Also mail each incident's customer (requester). Default: the assignees only.
    #[serde(default)]
    pub include_customers: bool,
}

/// Who was told, per incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkaroundSent {
    pub ticket_id: i64,
    pub user_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkaroundCommunication {
    pub problem: ProblemView,
    pub sent: Vec<WorkaroundSent>,
}

/// Sends the workaround to every linked open incident, once per problem: a second request
/// is refused (409 `workaround_already_communicated`), so nobody is mailed twice.
pub async fn communicate(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    id: i64,
    body: &WorkaroundNotice,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<WorkaroundCommunication> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut p = store::find(conn, id, true).await?;
        check_if_match(if_match, p.version, false)?;
        let Some(workaround) = p.workaround.clone() else {
            return Err(ApiError::StateConflict {
                code: "no_workaround",
                detail: format!("{} has no workaround yet: record the known error first", p.number()),
                current_state: p.state.to_string(),
                allowed_actions: vec![],
                missing: vec!["workaround".into()],
            });
        };
        if p.state == ProblemState::Closed {
            return Err(ApiError::StateConflict {
                code: "problem_closed",
                detail: format!("{} is closed", p.number()),
                current_state: p.state.to_string(),
                allowed_actions: vec![],
                missing: vec![],
            });
        }
        if let Some(at) = p.workaround_communicated_at {
            return Err(ApiError::conflict(
                "workaround_already_communicated",
                format!(
                    "the workaround of {} was already sent at {}",
                    p.number(),
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ));
        }
        let open = [TicketState::New, TicketState::InProgress, TicketState::Pending];
        let linked = store::incidents(conn, id).await?;
        let mut sent = Vec::new();
        let event = append(
            conn,
            NewEvent::on(Entity::Problem, id, "communicate_workaround")
                .by(Some(user.id))
                .detail(serde_json::json!({
                    "include_customers": body.include_customers,
                    "ticket_ids": linked.iter().filter(|t| open.contains(&t.state)).map(|t| t.id).collect::<Vec<_>>(),
                })),
            now,
        )
        .await?;
        for t in linked.iter().filter(|t| open.contains(&t.state)) {
            let requester: i64 = tickets::table
                .find(t.id)
                .select(tickets::requester_id)
                .first(conn)
                .await?;
            let mut ids: Vec<i64> = t.assignee_id.into_iter().collect();
            if body.include_customers && !ids.contains(&requester) {
                ids.push(requester);
            }
            let users = active_users(conn, &ids).await?;
            let number = crate::tickets::store::number(t.id);
            for u in &users {
                let notice = ProblemNotice {
                    to_name: u.display_name.clone(),
                    number: p.number(),
                    title: p.title.clone(),
                    solution: Some(workaround.clone()),
                    paragraphs: vec![format!(
                        "O chamado {number} ({}) é causado por um problema conhecido. \
                         Enquanto a correção definitiva não é implantada, há uma solução de \
                         contorno, abaixo.",
                        format::one_line(&t.title)
                    )],
                    links: vec![],
                    notes: vec![],
                };
                let r = render(
                    format!("[{number}] Solução de contorno disponível"),
                    "Solução de contorno disponível".into(),
                    &notice,
                );
                send(conn, n, u, format!("event:{}:ticket:{}", event.id, t.id), r, now).await?;
            }
            append(
                conn,
                NewEvent::on(Entity::Ticket, t.id, "workaround_communicated")
                    .by(Some(user.id))
                    .detail(serde_json::json!({
                        "problem_id": id,
                        "recipients": users.iter().map(|u| u.id).collect::<Vec<_>>(),
                    })),
                now,
            )
            .await?;
            sent.push(WorkaroundSent {
                ticket_id: t.id,
                user_ids: users.iter().map(|u| u.id).collect(),
            });
        }
        p.workaround_communicated_at = Some(now);
        store::save(conn, &mut p, now).await?;
        Ok(WorkaroundCommunication {
            problem: store::view(conn, p).await?,
            sent,
        })
    })
    .await
}

/// The owner hears that the RDM carrying the fix was implemented (and the problem resolved).
pub(super) async fn tell_owner_fix_shipped(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    p: &Problem,
    rdm_id: i64,
    event_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let rdm = crate::changes::labels::number(rdm_id);
    for u in active_users(conn, &[p.owner_id]).await? {
        let notice = ProblemNotice {
            to_name: u.display_name.clone(),
            number: p.number(),
            title: p.title.clone(),
            solution: None,
            paragraphs: vec![
                format!(
                    "A {rdm}, que traz a correção definitiva do problema {}, foi implementada. \
                     O problema passou a resolvido.",
                    p.number()
                ),
                "Confirme que os incidentes não se repetem e encerre o problema.".into(),
            ],
            links: vec![(
                "Ver o problema".into(),
                n.api_url(&format!("/problems/{}", p.id)),
            )],
            notes: vec![],
        };
        let r = render(
            format!("[{}] Correção implementada ({rdm})", p.number()),
            "Correção implementada".into(),
            &notice,
        );
        send(conn, n, &u, format!("event:{event_id}"), r, now).await?;
    }
    Ok(())
}
