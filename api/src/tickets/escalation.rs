//! Escalation (SPEC §4.4): the `ticket_escalation` timer raises a ticket to its next level when
//! the level's share of the watched clock has elapsed, records it, and tells the level's
//! target once. The level only rises, only while the ticket is open and the watched clock
//! runs (pending pauses it: the timer finds the clock paused and does nothing, and resuming
//! queues the level again at its new instant; resolution stops it). For a business-hours
//! item, the mail waits for the next opening; an on-call target is told at once.
use super::jobs::{self, TicketEscalation};
use super::mails::{render, TicketNotice};
use super::oncall;
use super::settings::{self, EscalationLevel};
use super::store::{self, ClockBasis, Ticket, Which};
use crate::db::enums::StoredOption;
use crate::db::models::User;
use crate::db::schema::{queues, users};
use crate::events::{append, Entity, NewEvent};
use crate::notify::format::format_local;
use crate::notify::{send_at, users_with_role, Notifier};
use crate::platform::error::ApiResult;
use crate::queue::Timer;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::escalation::{next_level, notify_at};
use domain::roles::{Role, Team};
use domain::ticket::SUPPORT_ROLES;

pub use super::settings::policy_for;

/// Whom a level tells, and how the target reads in the history.
async fn recipients(
    conn: &mut AsyncPgConnection,
    t: &Ticket,
    level: &EscalationLevel,
    now: DateTime<Utc>,
) -> ApiResult<(Vec<User>, serde_json::Value)> {
    let team_members = async |conn: &mut AsyncPgConnection, team: Team| -> ApiResult<Vec<User>> {
        let all: Vec<User> = users::table
            .filter(users::team.eq(Some(team).db()))
            .filter(users::active.eq(true))
            .order(users::id)
            .select(User::as_select())
            .load(conn)
            .await?;
        Ok(all
            .into_iter()
            .filter(|u| u.roles.iter().any(|r| SUPPORT_ROLES.contains(r)))
            .collect())
    };
    match level.target_kind.as_str() {
        "queue" => {
            let qid = level.target_queue_id.unwrap_or(t.queue_id);
            let team: Team = queues::table
                .find(qid)
                .select(queues::team)
                .first(conn)
                .await?;
            Ok((
                team_members(conn, team).await?,
                serde_json::json!({"kind": "queue", "queue_id": qid, "team": team}),
            ))
        }
        "role" => {
            let role = level.target_role.unwrap_or(Role::SupportCoordinator);
            Ok((
                users_with_role(conn, role).await?,
                serde_json::json!({"kind": "role", "role": role}),
            ))
        }
        "user" => {
            let id = level.target_user_id.unwrap_or_default();
            Ok((
                crate::notify::active_users(conn, &[id]).await?,
                serde_json::json!({"kind": "user", "user_id": id}),
            ))
        }
        _ => {
            let team = level.target_team.unwrap_or(t.team);
            match oncall::person(conn, team, now).await? {
                Some(u) => {
                    let id = u.id;
                    Ok((
                        vec![u],
                        serde_json::json!({"kind": "on_call", "team": team, "user_id": id}),
                    ))
                }
                // Nobody on call (business hours): the team itself.
                None => Ok((
                    team_members(conn, team).await?,
                    serde_json::json!({"kind": "on_call", "team": team, "user_id": null, "fallback": "team"}),
                )),
            }
        }
    }
}

impl Timer for TicketEscalation {
    type Context = Notifier;

    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let mut t = store::find(conn, self.ticket_id, true).await?;
        let Some(policy) = t.escalation_policy_id else {
            return Ok(());
        };
        if !t.state.is_open() || t.escalation_level >= self.level {
            return Ok(());
        }
        let rows = settings::levels(conn, policy).await?;
        let rules: Vec<_> = rows.iter().map(EscalationLevel::rule).collect();
        let basis = ClockBasis::of_ticket(conn, &t, now).await?;
        let h = basis.hours();
        let fr = t.clock(Which::FirstResponse);
        let res = t.clock(Which::Resolution);
        let Some((rule, at)) = next_level(&rules, t.escalation_level, &fr, &res, h) else {
            return Ok(());
        };
        // Stale (paused, re-targeted, another level first) or early: nothing now; the
        // current instant is queued by whatever changed the clock.
        if rule.level != self.level || at > now {
            return Ok(());
        }
        let row = rows
            .iter()
            .find(|r| r.level == rule.level)
            .expect("the rule comes from a row")
            .clone();
        let (to, target) = recipients(conn, &t, &row, now).await?;
        let send_from = notify_at(rule, t.round_the_clock, basis.calendar(), now);
        let from = t.escalation_level;
        t.escalation_level = rule.level;
        store::save(conn, &mut t, now).await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, t.id, "escalate").detail(serde_json::json!({
                "from_level": from, "level": rule.level, "clock": row.clock,
                "threshold_percent": row.threshold_percent, "reached_at": at,
                "target": target, "recipients": to.iter().map(|u| u.id).collect::<Vec<_>>(),
                "notify_at": send_from, "deferred": send_from > now,
            })),
            now,
        )
        .await?;
        let tz: chrono_tz::Tz = basis
            .timezone
            .parse()
            .unwrap_or(chrono_tz::America::Sao_Paulo);
        let number = t.number();
        let clock = if row.clock == "first_response" {
            "primeira resposta"
        } else {
            "solução"
        };
        for u in &to {
            let notice = TicketNotice {
                to_name: u.display_name.clone(),
                number: number.clone(),
                title: t.title.clone(),
                solution: None,
                paragraphs: vec![format!(
                    "O chamado {number} (prioridade {}) atingiu {}% do prazo de {clock} em {}: escalonado para o nível {}.",
                    t.priority,
                    row.threshold_percent,
                    format_local(at, tz),
                    rule.level
                )],
                links: vec![("Abrir o chamado".into(), n.api_url(&format!("/tickets/{}", t.id)))],
                notes: vec![],
            };
            let subject = format!("Escalonamento nível {}: {number}", rule.level);
            let heading = format!("{number} escalonado (nível {})", rule.level);
            let event = format!("ticket:{}:escalation:{}", t.id, rule.level);
            send_at(
                conn,
                n,
                u,
                event,
                render(subject, heading, &notice),
                send_from,
                now,
            )
            .await?;
        }
        jobs::schedule_clocks(conn, &t, h, now).await
    }
}
