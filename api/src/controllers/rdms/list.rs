use crate::auth::AuthUser;
use crate::controllers::common::paginate;
use crate::error::ApiResult;
use crate::extract::ValidQuery;
use crate::rdms::{number, STAFF};
use crate::schema::{rdm_items, rdms};
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::dsl::{exists, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::RunQueryDsl;
use domain::rdm::{RdmState, RdmType};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RdmFilter {
    pub state: Option<RdmState>,
    pub rdm_type: Option<RdmType>,
    pub requester_id: Option<i64>,
    pub window_id: Option<i64>,
    /// RDMs touching this configuration item.
    pub item_id: Option<i64>,
    /// Full-text search (Portuguese) over title, description and justification.
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Page size (default 50).
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

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

/// List RDMs, newest first, filtered and paginated (keyset on id).
#[utoipa::path(
    get, path = "/api/v1/rdms", tag = "rdms",
    params(RdmFilter),
    responses((status = 200, description = "A page of RDMs", body = RdmPage)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/rdms")]
pub async fn list_rdms(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: ValidQuery<RdmFilter>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    filter.validate()?;
    let limit = filter.limit.unwrap_or(50);
    let mut q = rdms::table.into_boxed();
    if let Some(s) = filter.state {
        q = q.filter(rdms::state.eq(s.as_str()));
    }
    if let Some(t) = filter.rdm_type {
        q = q.filter(rdms::rdm_type.eq(t.as_str()));
    }
    if let Some(r) = filter.requester_id {
        q = q.filter(rdms::requester_id.eq(r));
    }
    if let Some(w) = filter.window_id {
        q = q.filter(rdms::window_id.eq(w));
    }
    if let Some(i) = filter.item_id {
        q = q.filter(exists(
            rdm_items::table
                .filter(rdm_items::rdm_id.eq(rdms::id))
                .filter(rdm_items::item_id.eq(i)),
        ));
    }
    if let Some(text) = &filter.q {
        q = q.filter(
            sql::<Bool>("search @@ plainto_tsquery('portuguese', ")
                .bind::<Text, _>(text.clone())
                .sql(")"),
        );
    }
    if let Some(c) = filter.cursor {
        q = q.filter(rdms::id.lt(c));
    }
    let mut conn = state.pool.get().await?;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
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
        .load(&mut conn)
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |r| r.0);
    let items: Vec<RdmSummary> = rows
        .into_iter()
        .map(|r| RdmSummary {
            id: r.0,
            number: number(r.0),
            rdm_type: r.1,
            state: r.2,
            title: r.3,
            priority: r.4,
            risk: r.5,
            requester_id: r.6,
            meeting_id: r.7,
            window_id: r.8,
            version: r.9,
            updated_at: r.10,
        })
        .collect();
    Ok(HttpResponse::Ok().json(RdmPage { items, next_cursor }))
}
