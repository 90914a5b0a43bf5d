//! Demo tickets for `serve --demo`: a few incidents in the states a newcomer wants to see,
//! opened and worked through the same operations the API uses (so their clocks, events,
//! timers and mails are the real ones). Only into a database that has no ticket yet.
use super::create::{self, NewChild, NewTicket};
use super::lifecycle::{perform, TicketActionBody};
use crate::db::schema::{support_items, tickets, users};
use crate::identity::principal::AuthUser;
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::idempotency::Created;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::rdm::Priority;
use domain::roles::{Role, RoleSet, Team};
use domain::ticket::{PendingOn, TicketAction, TicketKind};

/// Opens the demo tickets unless the database has tickets; returns how many were opened.
pub async fn seed(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let any: Option<i64> = tickets::table
        .select(tickets::id)
        .first(conn)
        .await
        .optional()?;
    if any.is_some() {
        return Ok(0);
    }
    let acme = user(conn, "customer.acme").await?;
    let globex = user(conn, "customer.globex").await?;
    let rh1 = user(conn, "rh1").await?;
    let cloud1 = user(conn, "cloud1").await?;
    let (esocial, taf, cloud) = (
        item(conn, "esocial").await?,
        item(conn, "taf").await?,
        item(conn, "cloud-infra").await?,
    );
    let open = async |conn: &mut AsyncPgConnection,
                      who: &AuthUser,
                      item_id: i64,
                      priority: Priority,
                      title: &str,
                      description: &str|
           -> ApiResult<i64> {
        let body = NewTicket {
            organization_id: None,
            item_id,
            title: title.into(),
            description: description.into(),
            priority,
            requester_id: None,
        };
        match create::open(conn, who, &body, None, now).await? {
            Created::New(v) => Ok(v.id),
            Created::Replayed(_) => Err(ApiError::internal("no idempotency key was given")),
        }
    };
    let act = async |conn: &mut AsyncPgConnection,
                     who: &AuthUser,
                     id: i64,
                     action: TicketAction,
                     body: TicketActionBody|
           -> ApiResult<()> {
        perform(conn, n, who, id, action, body, None, now).await?;
        Ok(())
    };

    // Worked by rh1, with an escalation to TAF/TSS under way.
    let s1200 = open(
        conn,
        &acme,
        esocial,
        Priority::High,
        "Eventos S-1200 rejeitados na competência 11/2026",
        "O retorno do governo veio com rejeição para 40 funcionários da filial de Campinas.",
    )
    .await?;
    act(conn, &rh1, s1200, TicketAction::Start, Default::default()).await?;
    create::open_child(
        conn,
        &rh1,
        s1200,
        &NewChild {
            kind: TicketKind::Escalation,
            team: Team::TafTss,
            title: "Validar o leiaute do S-1200 enviado pelo TAF".into(),
            description: "Rejeição 1234 em todos os eventos do lote; o XML segue anexo.".into(),
            priority: None,
        },
        now,
    )
    .await?;
    // New, waiting in its queue.
    open(
        conn,
        &globex,
        taf,
        Priority::Medium,
        "Erro ao transmitir a DCTFWeb",
        "A transmissão termina com tempo esgotado desde ontem.",
    )
    .await?;
    // Resolved: the customer has the confirm and reopen links by e-mail.
    let cert = open(
        conn,
        &acme,
        esocial,
        Priority::Medium,
        "Certificado digital A1 vencido",
        "Os eventos não assinam desde segunda-feira.",
    )
    .await?;
    act(conn, &rh1, cert, TicketAction::Start, Default::default()).await?;
    act(
        conn,
        &rh1,
        cert,
        TicketAction::Resolve,
        TicketActionBody {
            solution: Some("Certificado renovado e instalado no servidor do TAF.".into()),
            ..Default::default()
        },
    )
    .await?;
    // Critical, 24×7, waiting on the cloud provider.
    let vm = open(
        conn,
        &globex,
        cloud,
        Priority::Critical,
        "VM do ERP sem resposta",
        "O ERP está fora do ar para todos os usuários.",
    )
    .await?;
    act(conn, &cloud1, vm, TicketAction::Start, Default::default()).await?;
    act(
        conn,
        &cloud1,
        vm,
        TicketAction::Pend,
        TicketActionBody {
            pending_on: Some(PendingOn::ThirdParty),
            reason: Some("Aguardando o provedor de nuvem (chamado 98431).".into()),
            ..Default::default()
        },
    )
    .await?;
    Ok(5)
}

pub(crate) async fn user(conn: &mut AsyncPgConnection, username: &str) -> ApiResult<AuthUser> {
    let (id, roles, organization_id): (i64, Vec<Role>, Option<i64>) = users::table
        .filter(users::username.eq(username))
        .select((users::id, users::roles, users::organization_id))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::internal(format!("demo user {username} missing")))?;
    Ok(AuthUser {
        id,
        username: username.into(),
        roles: RoleSet::new(roles),
        organization_id,
    })
}

pub(crate) async fn item(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<i64> {
    support_items::table
        .filter(support_items::code.eq(code))
        .select(support_items::id)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::internal(format!("demo item {code} missing")))
}
