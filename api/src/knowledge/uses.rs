//! An article used on a ticket, recorded so the operations review can count how often the
//! base solved it.
use super::articles::find_readable;
use crate::db::schema::{kb_article_uses, tickets};
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::knowledge::KbState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, Serialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct NewUse {
    pub article_id: i64,
    /// The article solved the ticket (not only helped).
    #[serde(default)]
    pub solved: bool,
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct ArticleUse {
    pub article_id: i64,
    pub used_by: i64,
    pub used_at: DateTime<Utc>,
    pub solved: bool,
}

/// Records (or updates: one row per article and ticket) the use of a published article.
pub async fn record(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    ticket_id: i64,
    body: &NewUse,
    now: DateTime<Utc>,
) -> ApiResult<Vec<ArticleUse>> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let org: i64 = tickets::table
            .find(ticket_id)
            .select(tickets::organization_id)
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| ApiError::not_found(format!("ticket {ticket_id}")))?;
        let a = match find_readable(conn, user, body.article_id, false).await {
            Ok(a) => a,
            Err(ApiError::NotFound(_)) => {
                return Err(ApiError::validation(
                    "article_id",
                    "unknown",
                    format!("no article {}", body.article_id),
                ))
            }
            Err(e) => return Err(e),
        };
        if a.state != KbState::Published {
            return Err(ApiError::validation(
                "article_id",
                "invalid",
                format!(
                    "article {} is {}: only a published article is used on tickets",
                    a.id, a.state
                ),
            ));
        }
        diesel::insert_into(kb_article_uses::table)
            .values((
                kb_article_uses::article_id.eq(a.id),
                kb_article_uses::ticket_id.eq(ticket_id),
                kb_article_uses::organization_id.eq(org),
                kb_article_uses::used_by.eq(user.id),
                kb_article_uses::used_at.eq(now),
                kb_article_uses::solved.eq(body.solved),
            ))
            .on_conflict((kb_article_uses::article_id, kb_article_uses::ticket_id))
            .do_update()
            .set((
                kb_article_uses::used_by.eq(excluded(kb_article_uses::used_by)),
                kb_article_uses::used_at.eq(excluded(kb_article_uses::used_at)),
                kb_article_uses::solved.eq(excluded(kb_article_uses::solved)),
            ))
            .execute(conn)
            .await?;
        append(
            conn,
            NewEvent::on(Entity::Ticket, ticket_id, "kb_article_used")
                .by(Some(user.id))
                .detail(serde_json::json!({ "article_id": a.id, "solved": body.solved })),
            now,
        )
        .await?;
        of_ticket(conn, ticket_id).await
    })
    .await
}

pub async fn of_ticket(conn: &mut AsyncPgConnection, ticket_id: i64) -> ApiResult<Vec<ArticleUse>> {
    Ok(kb_article_uses::table
        .filter(kb_article_uses::ticket_id.eq(ticket_id))
        .order(kb_article_uses::used_at)
        .select((
            kb_article_uses::article_id,
            kb_article_uses::used_by,
            kb_article_uses::used_at,
            kb_article_uses::solved,
        ))
        .load(conn)
        .await?)
}
