//! Demo problem and articles for `serve --demo`, made through the same operations as the API
//! (after the demo tickets): a known error grouping the S-1200 incident, published in the
//! knowledge base, and two how-tos. Only into a database that has no problem yet.
use super::lifecycle::{self, NewProblem, ProblemActionBody};
use crate::db::schema::{problems, tickets};
use crate::knowledge::articles::{self, NewArticle};
use crate::platform::error::ApiResult;
use crate::tickets::demo::{item, user};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::knowledge::{KbAction, KbKind};
use domain::problem::ProblemAction;

/// Seeds unless a problem exists; returns whether it did.
pub async fn seed(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> ApiResult<bool> {
    let any: Option<i64> = problems::table
        .select(problems::id)
        .first(conn)
        .await
        .optional()?;
    if any.is_some() {
        return Ok(false);
    }
    let rh1 = user(conn, "rh1").await?;
    let esocial = item(conn, "esocial").await?;
    let s1200: Vec<i64> = tickets::table
        .filter(tickets::title.like("Eventos S-1200%"))
        .filter(tickets::parent_id.is_null())
        .select(tickets::id)
        .load(conn)
        .await?;
    let created = lifecycle::open(
        conn,
        &rh1,
        &NewProblem {
            title: "Rejeições do S-1200 por leiaute desatualizado no TAF".into(),
            description: "Lotes do S-1200 rejeitados em massa após a mudança de leiaute.".into(),
            item_id: Some(esocial),
            owner_id: None,
            incident_ids: s1200,
        },
        None,
        now,
    )
    .await?;
    let id = match created {
        crate::platform::idempotency::Created::New(p) => p.id,
        crate::platform::idempotency::Created::Replayed(_) => return Ok(false),
    };
    lifecycle::perform(
        conn,
        &rh1,
        id,
        ProblemAction::Analyse,
        Default::default(),
        None,
        now,
    )
    .await?;
    lifecycle::perform(
        conn,
        &rh1,
        id,
        ProblemAction::RecordKnownError,
        ProblemActionBody {
            root_cause: Some(
                "O TAF gera o S-1200 no leiaute S-1.2 anterior à nota técnica 03/2026.".into(),
            ),
            workaround: Some(
                "Atualizar o pacote de leiaute do TAF e retransmitir os lotes rejeitados.".into(),
            ),
            ..Default::default()
        },
        None,
        now,
    )
    .await?;
    for (title, body) in [
        (
            "Como renovar o certificado digital A1 no servidor do TAF",
            "Quando os eventos deixam de assinar, confira a validade do certificado A1, instale o novo no repositório do TAF e reinicie o serviço de transmissão.",
        ),
        (
            "Não-conformidades do eSocial: como tratar uma rejeição",
            "Leia o código de retorno, corrija o cadastro indicado e retransmita o evento; rejeições em massa costumam ser de leiaute.",
        ),
    ] {
        let created = articles::create(
            conn,
            &rh1,
            &NewArticle { kind: KbKind::HowTo, title: title.into(), body: body.into(), item_id: Some(esocial), ticket_id: None },
            None,
            now,
        )
        .await?;
        if let crate::platform::idempotency::Created::New(a) = created {
            articles::perform(conn, &rh1, a.id, KbAction::Publish, None, now).await?;
        }
    }
    Ok(true)
}
