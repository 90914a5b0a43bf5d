use super::super::common::{etag, replayed, with_etag, Decorate};
use crate::app::AppState;
use crate::changes::rdms::create::{self, NewRdm};
use crate::changes::rdms::store::{RdmView, CREATORS};
use crate::http::extract::{text_header, ValidJson};
use crate::identity::principal::AuthUser;
use crate::platform::error::ApiResult;
use crate::platform::idempotency::Created;
use actix_web::{http::header::ETAG, post, web, HttpRequest, HttpResponse};

/// Create an RDM (draft).
///
/// Repeat the request with the same `Idempotency-Key` to get the first result back instead of
/// a second RDM.
#[utoipa::path(
    post, path = "/api/v1/rdms", tag = "rdms",
    request_body = NewRdm,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry (1–200 characters)", min_length = 1, max_length = 200)),
    responses((status = 201, description = "Created", body = RdmView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["requester", "test_analyst", "change_manager", "support_analyst", "support_coordinator"])))
)]
#[post("/rdms")]
pub async fn create_rdm(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: ValidJson<NewRdm>,
) -> ApiResult<HttpResponse> {
    user.require(CREATORS)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    let key = text_header(&req, "Idempotency-Key")?;
    match create::create(
        &mut conn,
        &state.notifier,
        &user,
        &body,
        key,
        state.clock.now(),
    )
    .await?
    {
        Created::New(view) => Ok(HttpResponse::Created()
            .insert_header((ETAG, etag(view.version)))
            .insert_header(("Location", format!("/api/v1/rdms/{}", view.id)))
            .json(view)),
        Created::Replayed(stored) => Ok(replayed(stored, with_etag)),
    }
}

const _: Decorate = with_etag;
