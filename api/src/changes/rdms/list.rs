//! Listing RDMs: filtered, searched (Portuguese full text), newest first.
use super::store::number;
use crate::db::enums::Stored;
use crate::db::schema::{rdm_items, rdms};
use crate::platform::error::ApiResult;
use crate::platform::pagination::paginate;
use chrono::{DateTime, Utc};
use diesel::dsl::{exists, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::rdm::{Level, Priority, RdmState, RdmType};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct RdmSummary {
    pub id: i64,
    pub number: String,
    pub rdm_type: String,
    pub state: String,
    pub title: String,
    pub priority: Option<String>,
    pub risk: Option<String>,
    pub requester_id: i64,
    pub meeting_id: Option<i64>,
    pub window_id: Option<i64>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RdmPage {
    pub items: Vec<RdmSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// Which RDMs to list.
#[derive(Debug, Default, Clone)]
pub struct RdmQuery {
    pub state: Option<RdmState>,
    pub rdm_type: Option<RdmType>,
    pub requester_id: Option<i64>,
    pub window_id: Option<i64>,
    pub item_id: Option<i64>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<i64>,
}

/// RDMs newest first, filtered and paginated (keyset on id).
pub async fn list(conn: &mut AsyncPgConnection, f: &RdmQuery) -> ApiResult<RdmPage> {
    let limit = f.limit.unwrap_or(50);
    let mut q = rdms::table.into_boxed();
    if let Some(s) = f.state {
        q = q.filter(rdms::state.eq(s.db()));
    }
    if let Some(t) = f.rdm_type {
        q = q.filter(rdms::rdm_type.eq(t.db()));
    }
    if let Some(r) = f.requester_id {
        q = q.filter(rdms::requester_id.eq(r));
    }
    if let Some(w) = f.window_id {
        q = q.filter(rdms::window_id.eq(w));
    }
    if let Some(i) = f.item_id {
        q = q.filter(exists(
            rdm_items::table
                .filter(rdm_items::rdm_id.eq(rdms::id))
                .filter(rdm_items::item_id.eq(i)),
        ));
    }
    if let Some(text) = &f.q {
        q = q.filter(
            sql::<Bool>("search @@ plainto_tsquery('portuguese', ")
                .bind::<Text, _>(text.clone())
                .sql(")"),
        );
    }
    if let Some(c) = f.cursor {
        q = q.filter(rdms::id.lt(c));
    }
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        RdmType,
        RdmState,
        String,
        Option<Priority>,
        Option<Level>,
        i64,
        Option<i64>,
        Option<i64>,
        i32,
        DateTime<Utc>,
    )> = q
        .select((
            rdms::id,
            rdms::rdm_type,
            rdms::state,
            rdms::title,
            rdms::priority,
            rdms::risk,
            rdms::requester_id,
            rdms::meeting_id,
            rdms::window_id,
            rdms::version,
            rdms::updated_at,
        ))
        .order(rdms::id.desc())
        .limit(limit + 1)
        .load(conn)
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |r| r.0);
    let items: Vec<RdmSummary> = rows
        .into_iter()
        .map(|r| RdmSummary {
            id: r.0,
            number: number(r.0),
            rdm_type: r.1.as_str().to_string(),
            state: r.2.as_str().to_string(),
            title: r.3,
            priority: r.4.map(|p| p.as_str().to_string()),
            risk: r.5.map(|l| l.as_str().to_string()),
            requester_id: r.6,
            meeting_id: r.7,
            window_id: r.8,
            version: r.9,
            updated_at: r.10,
        })
        .collect();
    Ok(RdmPage { items, next_cursor })
}
