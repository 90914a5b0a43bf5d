//! Incident ↔ RDM (SPEC §3.1, §4.2–4.3): the change that fixes an incident, opened and
//! followed by the test analyst or the change manager; a non-conformity's fix shipped by an
//! RDM after homologation. Visible from both sides.
use super::store;
use crate::db::schema::{rdms, ticket_rdm_links, tickets};
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::roles::Role;
use domain::ticket::TicketKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Who links a change to an incident (SPEC §4.3).
pub const LINKERS: &[Role] = &[Role::TestAnalyst, Role::ChangeManager];

/// What the RDM is to the ticket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkRelation {
    /// The change fixes the incident (or ships the non-conformity's fix).
    #[default]
    FixedBy,
    /// The change caused the incident: counted by the change failure rate (SPEC §7).
    CausedBy,
}

impl LinkRelation {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkRelation::FixedBy => "fixed_by",
            LinkRelation::CausedBy => "caused_by",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRdmLink {
    pub rdm_id: i64,
    /// Default `fixed_by`. A ticket and an RDM are linked once: linking again keeps the first
    /// relation.
    pub relation: Option<LinkRelation>,
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct LinkedTicket {
    pub id: i64,
    pub kind: TicketKind,
    pub title: String,
    pub state: domain::ticket::TicketState,
    pub organization_id: i64,
    /// `fixed_by` or `caused_by`.
    #[schema(example = "fixed_by")]
    pub relation: String,
}

pub async fn link(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    ticket_id: i64,
    body: &NewRdmLink,
    now: DateTime<Utc>,
) -> ApiResult<Vec<i64>> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let t = store::find_visible(conn, user, ticket_id, true).await?;
        if !matches!(t.kind, TicketKind::Incident | TicketKind::NonConformity) {
            return Err(ApiError::conflict(
                "not_linkable",
                "an RDM is linked to an incident or to a non-conformity",
            ));
        }
        let exists: Option<i64> = rdms::table
            .find(body.rdm_id)
            .select(rdms::id)
            .first(conn)
            .await
            .optional()?;
        if exists.is_none() {
            return Err(ApiError::validation(
                "rdm_id",
                "unknown",
                format!("no RDM {}", body.rdm_id),
            ));
        }
        let relation = body.relation.unwrap_or_default();
        let n = diesel::insert_into(ticket_rdm_links::table)
            .values((
                ticket_rdm_links::ticket_id.eq(t.id),
                ticket_rdm_links::rdm_id.eq(body.rdm_id),
                ticket_rdm_links::organization_id.eq(t.organization_id),
                ticket_rdm_links::created_by.eq(user.id),
                ticket_rdm_links::created_at.eq(now),
                ticket_rdm_links::relation.eq(relation.as_str()),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if n == 1 {
            for (entity, id, other) in [
                (
                    Entity::Ticket,
                    t.id,
                    serde_json::json!({"rdm_id": body.rdm_id, "relation": relation.as_str()}),
                ),
                (
                    Entity::Rdm,
                    body.rdm_id,
                    serde_json::json!({"ticket_id": t.id, "relation": relation.as_str()}),
                ),
            ] {
                append(
                    conn,
                    NewEvent::on(entity, id, "link")
                        .by(Some(user.id))
                        .detail(other),
                    now,
                )
                .await?;
            }
        }
        Ok(ticket_rdm_links::table
            .filter(ticket_rdm_links::ticket_id.eq(t.id))
            .order(ticket_rdm_links::rdm_id)
            .select(ticket_rdm_links::rdm_id)
            .load(conn)
            .await?)
    })
    .await
}

/// The tickets an RDM addresses or ships the fix of.
pub async fn tickets_of_rdm(
    conn: &mut AsyncPgConnection,
    rdm_id: i64,
) -> ApiResult<Vec<LinkedTicket>> {
    let exists: Option<i64> = rdms::table
        .find(rdm_id)
        .select(rdms::id)
        .first(conn)
        .await
        .optional()?;
    if exists.is_none() {
        return Err(ApiError::not_found(format!("RDM {rdm_id}")));
    }
    Ok(ticket_rdm_links::table
        .inner_join(tickets::table.on(tickets::id.eq(ticket_rdm_links::ticket_id)))
        .filter(ticket_rdm_links::rdm_id.eq(rdm_id))
        .order(tickets::id)
        .select((
            tickets::id,
            tickets::kind,
            tickets::title,
            tickets::state,
            tickets::organization_id,
            ticket_rdm_links::relation,
        ))
        .load(conn)
        .await?)
}
