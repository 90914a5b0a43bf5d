use crate::app::AppState;
use crate::changes::rdms::list::{self, RdmPage, RdmQuery};
use crate::http::extract::ValidQuery;
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use actix_web::{get, web, HttpResponse};
use domain::rdm::{RdmState, RdmType};
use serde::Deserialize;
use utoipa::IntoParams;
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
    let f = filter.into_inner();
    let query = RdmQuery {
        state: f.state,
        rdm_type: f.rdm_type,
        requester_id: f.requester_id,
        window_id: f.window_id,
        item_id: f.item_id,
        q: f.q,
        limit: f.limit,
        cursor: f.cursor,
    };
    let mut conn = state.pool.get().await?;
    let page: RdmPage = list::list(&mut conn, &query).await?;
    Ok(HttpResponse::Ok().json(page))
}
