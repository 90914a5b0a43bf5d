use crate::app::AppState;
use crate::changes::rdms::store::RdmView;
use crate::changes::votes::{self, NewVote, Tally};
use crate::http::extract::ValidJson;
use crate::identity::principal::{AuthUser, STAFF};
use crate::platform::error::ApiResult;
use actix_web::{get, post, web, HttpResponse};
use domain::roles::Role;

/// Cast your vote on an RDM awaiting its committee. When the committee's approval policy
/// reaches a decision (consensual by default: all approve, or one rejection vetoes), the RDM
/// moves to `approved` or `rejected` at once.
#[utoipa::path(
    post, path = "/api/v1/rdms/{id}/votes", tag = "rdms",
    request_body = NewVote,
    params(("id" = i64, Path, description = "RDM id")),
    responses((status = 200, description = "The RDM after the vote", body = RdmView)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["committee_member (a required voter of this RDM)"])))
)]
#[post("/rdms/{id}/votes")]
pub async fn cast_vote(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewVote>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::CommitteeMember])?;
    let body = body.into_inner()?;

    let mut conn = state.pool.get().await?;
    let view = votes::cast(
        &mut conn,
        &state.notifier,
        &user,
        *id,
        &body,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The votes on an RDM and where its committee's decision stands.
#[utoipa::path(
    get, path = "/api/v1/rdms/{id}/votes", tag = "rdms",
    params(("id" = i64, Path, description = "RDM id")),
    responses((status = 200, description = "Votes and tally", body = Tally)),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["any role but customer"])))
)]
#[get("/rdms/{id}/votes")]
pub async fn list_votes(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(votes::list(&mut conn, *id).await?))
}
