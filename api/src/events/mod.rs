//! The one append-only event log, for every entity (RDMs, meetings, windows, delegations,
//! committees; later tickets and problems): who did what, when, from which state to which,
//! why, and the detail. The database refuses UPDATE, DELETE and TRUNCATE on it.
//!
//! Each context appends its events in the transaction of the change they record, and derives
//! its notifications from them: an event exists if and only if its change committed.
use crate::db::enums::Stored;
use crate::db::schema::events;
use crate::platform::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Rdm,
    Meeting,
    Window,
    Delegation,
    Committee,
    User,
    Ticket,
    Problem,
    Postmortem,
    KbArticle,
}

impl Entity {
    pub const ALL: [Entity; 10] = [
        Entity::Rdm,
        Entity::Meeting,
        Entity::Window,
        Entity::Delegation,
        Entity::Committee,
        Entity::User,
        Entity::Ticket,
        Entity::Problem,
        Entity::Postmortem,
        Entity::KbArticle,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Rdm => "rdm",
            Entity::Meeting => "meeting",
            Entity::Window => "window",
            Entity::Delegation => "delegation",
            Entity::Committee => "committee",
            Entity::User => "user",
            Entity::Ticket => "ticket",
            Entity::Problem => "problem",
            Entity::Postmortem => "postmortem",
            Entity::KbArticle => "kb_article",
        }
    }
}

impl std::str::FromStr for Entity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Entity::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| format!("unknown entity `{s}`"))
    }
}

crate::pg_enum!(crate::db::schema::sql_types::EntityKind => Entity);

/// An event about to be recorded.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub entity: Entity,
    pub entity_id: i64,
    /// What happened, snake_case (`submit`, `vote`, `reschedule`…).
    pub action: &'static str,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    /// Who acted; None for the system (a timer, a committee's decision).
    pub actor_id: Option<i64>,
    pub reason: Option<String>,
    pub detail: serde_json::Value,
}

impl NewEvent {
    /// An event on `entity` `id` with no state change, no actor, reason or detail yet.
    pub fn on(entity: Entity, entity_id: i64, action: &'static str) -> Self {
        NewEvent {
            entity,
            entity_id,
            action,
            from_state: None,
            to_state: None,
            actor_id: None,
            reason: None,
            detail: serde_json::json!({}),
        }
    }
    pub fn states(mut self, from: Option<&str>, to: Option<&str>) -> Self {
        self.from_state = from.map(str::to_string);
        self.to_state = to.map(str::to_string);
        self
    }
    pub fn by(mut self, actor: Option<i64>) -> Self {
        self.actor_id = actor;
        self
    }
    pub fn because(mut self, reason: Option<String>) -> Self {
        self.reason = reason;
        self
    }
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// A recorded event.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub struct Event {
    pub id: i64,
    pub entity: Entity,
    pub entity_id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub actor_id: Option<i64>,
    pub reason: Option<String>,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Appends `e` at `at`, in the caller's transaction.
pub async fn append(
    conn: &mut AsyncPgConnection,
    e: NewEvent,
    at: DateTime<Utc>,
) -> ApiResult<Event> {
    Ok(diesel::insert_into(events::table)
        .values((
            events::entity.eq(e.entity.db()),
            events::entity_id.eq(e.entity_id),
            events::action.eq(e.action),
            events::from_state.eq(e.from_state),
            events::to_state.eq(e.to_state),
            events::actor_id.eq(e.actor_id),
            events::reason.eq(e.reason),
            events::detail.eq(e.detail),
            events::at.eq(at),
        ))
        .returning(Event::as_returning())
        .get_result(conn)
        .await?)
}

/// Every event of one entity, oldest first.
pub async fn of(
    conn: &mut AsyncPgConnection,
    entity: Entity,
    entity_id: i64,
) -> ApiResult<Vec<Event>> {
    Ok(events::table
        .filter(events::entity.eq(entity.db()))
        .filter(events::entity_id.eq(entity_id))
        .order(events::id)
        .select(Event::as_select())
        .load(conn)
        .await?)
}

/// The events of one entity with `action`, oldest first.
pub async fn of_action(
    conn: &mut AsyncPgConnection,
    entity: Entity,
    entity_id: i64,
    action: &str,
) -> ApiResult<Vec<Event>> {
    Ok(events::table
        .filter(events::entity.eq(entity.db()))
        .filter(events::entity_id.eq(entity_id))
        .filter(events::action.eq(action.to_string()))
        .order(events::id)
        .select(Event::as_select())
        .load(conn)
        .await?)
}
