//! `/api/v1/kb`: the knowledge base — articles, their versions and lifecycle, search as
//! people type, suggestions for a ticket, and articles used on tickets (`crate::knowledge`).
use super::common::{etag, replayed, with_etag};
use crate::app::AppState;
use crate::http::extract::{header, text_header, ValidJson, ValidQuery};
use crate::identity::principal::{AuthUser, STAFF};
use crate::knowledge::articles::{
    self, ArticleEdit, ArticleVersion, ArticleView, NewArticle, WRITERS,
};
use crate::knowledge::search::{self, SearchHit, SearchQuery};
use crate::knowledge::uses::{self, ArticleUse, NewUse};
use crate::platform::error::ApiResult;
use crate::platform::idempotency::Created;
use actix_web::{get, http::header::ETAG, patch, post, web, HttpRequest, HttpResponse};
use domain::knowledge::{KbAction, KbKind};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};
use validator::Validate;

fn ok(view: ArticleView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view)
}

/// Write a draft: a how-to, or a solution proposal from a ticket (read by that ticket's team).
#[utoipa::path(
    post, path = "/api/v1/kb/articles", tag = "knowledge base",
    request_body = NewArticle,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry (1–200 characters)", min_length = 1, max_length = 200)),
    responses((status = 201, description = "Written (draft)", body = ArticleView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst", "change_manager"])))
)]
#[post("/kb/articles")]
pub async fn create_article(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: ValidJson<NewArticle>,
) -> ApiResult<HttpResponse> {
    user.require(WRITERS)?;
    let body = body.into_inner()?;
    let key = text_header(&req, "Idempotency-Key")?;
    let mut conn = state.pool.get().await?;
    match articles::create(&mut conn, &user, &body, key, state.clock.now()).await? {
        Created::New(view) => Ok(HttpResponse::Created()
            .insert_header((ETAG, etag(view.version)))
            .insert_header(("Location", format!("/api/v1/kb/articles/{}", view.id)))
            .json(view)),
        Created::Replayed(stored) => Ok(replayed(stored, with_etag)),
    }
}

/// Read an article (staff; another team's solution proposal is not found).
#[utoipa::path(
    get, path = "/api/v1/kb/articles/{id}", tag = "knowledge base",
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 200, description = "The article", body = ArticleView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["every role but customer"])))
)]
#[get("/kb/articles/{id}")]
pub async fn get_article(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(ok(articles::get(&mut conn, &user, *id).await?))
}

/// Every version of an article, oldest first.
#[utoipa::path(
    get, path = "/api/v1/kb/articles/{id}/versions", tag = "knowledge base",
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 200, description = "Its versions", body = [ArticleVersion])),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["every role but customer"])))
)]
#[get("/kb/articles/{id}/versions")]
pub async fn article_versions(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(articles::versions(&mut conn, &user, *id).await?))
}

/// Edit an article (a new version). A known error's text follows its problem.
#[utoipa::path(
    patch, path = "/api/v1/kb/articles/{id}", tag = "knowledge base",
    request_body = ArticleEdit,
    params(("id" = i64, Path, description = "Article id"),
           ("If-Match" = Option<String>, Header, description = "Optional: refuse if the article changed since this ETag")),
    responses((status = 200, description = "The article", body = ArticleView, headers(("ETag" = String)))),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst", "change_manager"])))
)]
#[patch("/kb/articles/{id}")]
pub async fn edit_article(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ValidJson<ArticleEdit>,
) -> ApiResult<HttpResponse> {
    user.require(WRITERS)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(ok(articles::edit(
        &mut conn,
        &user,
        *id,
        &body,
        header(&req, "If-Match"),
        state.clock.now(),
    )
    .await?))
}

macro_rules! article_action {
    ($fn_name:ident, $action:expr, $path:literal, $route:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $path, tag = "knowledge base",
            params(("id" = i64, Path, description = "Article id"),
                   ("If-Match" = Option<String>, Header, description = "Optional: refuse if the article changed since this ETag")),
            responses((status = 200, description = "The article", body = ArticleView, headers(("ETag" = String)))),
            security(("bearer" = [])),
            extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst", "change_manager"])))
        )]
        #[post($route)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            user: AuthUser,
            req: HttpRequest,
            id: web::Path<i64>,
        ) -> ApiResult<HttpResponse> {
            user.require(WRITERS)?;
            let mut conn = state.pool.get().await?;
            Ok(ok(articles::perform(&mut conn, &user, *id, $action, header(&req, "If-Match"), state.clock.now()).await?))
        }
    };
}

article_action!(
    publish_article,
    KbAction::Publish,
    "/api/v1/kb/articles/{id}/publish",
    "/kb/articles/{id}/publish",
    "Publish a draft or an archived article: it is searched and suggested."
);
article_action!(
    archive_article,
    KbAction::Archive,
    "/api/v1/kb/articles/{id}/archive",
    "/kb/articles/{id}/archive",
    "Archive a published article: kept with its versions, no longer searched or suggested."
);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KbSearch {
    /// What was typed: accents ignored, Portuguese stems; the last word is a prefix unless
    /// followed by a space; `"…"` for a phrase, `-word` to exclude.
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    pub kind: Option<KbKind>,
    pub item_id: Option<i64>,
    /// Drafts too (default: published only).
    pub include_drafts: Option<bool>,
    /// How many (default 10).
    #[validate(range(min = 1, max = 50))]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// Search the base, best first (title matches rank above body matches), with highlighted
/// title and passages (`<mark>`, the rest HTML-escaped).
#[utoipa::path(
    get, path = "/api/v1/kb/search", tag = "knowledge base",
    params(KbSearch),
    responses((status = 200, description = "The matching articles", body = [SearchHit])),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["every role but customer"])))
)]
#[get("/kb/search")]
pub async fn search_articles(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ValidQuery<KbSearch>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    q.validate()?;
    let q = q.into_inner();
    let mut conn = state.pool.get().await?;
    let hits = search::search(
        &mut conn,
        &user,
        &SearchQuery {
            text: q.q,
            kind: q.kind,
            item_id: q.item_id,
            include_drafts: q.include_drafts.unwrap_or(false),
            limit: q.limit.unwrap_or(10),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(hits))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// How many (default 5).
    #[validate(range(min = 1, max = 20))]
    #[param(minimum = 1, maximum = 20)]
    pub limit: Option<i64>,
}

/// The published articles most relevant to the ticket's text and catalog item: what the
/// portal shows before an analyst opens a child ticket (SPEC §4.2).
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/kb-suggestions", tag = "knowledge base",
    params(("id" = i64, Path, description = "Ticket id"), SuggestionQuery),
    responses((status = 200, description = "Suggested articles, best first", body = [SearchHit])),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["every role but customer"])))
)]
#[get("/tickets/{id}/kb-suggestions")]
pub async fn ticket_suggestions(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: ValidQuery<SuggestionQuery>,
) -> ApiResult<HttpResponse> {
    user.require(STAFF)?;
    q.validate()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok()
        .json(search::suggestions(&mut conn, &user, *id, q.limit.unwrap_or(5)).await?))
}

/// Record that an article was used on the ticket (and whether it solved it).
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/kb-uses", tag = "knowledge base",
    request_body = NewUse,
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The articles used on the ticket", body = [ArticleUse])),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["support_analyst", "support_coordinator", "test_analyst", "change_manager"])))
)]
#[post("/tickets/{id}/kb-uses")]
pub async fn record_use(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: ValidJson<NewUse>,
) -> ApiResult<HttpResponse> {
    user.require(WRITERS)?;
    let body = body.into_inner()?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok()
        .json(uses::record(&mut conn, &user, *id, &body, state.clock.now()).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_article, get_article, article_versions, edit_article, publish_article,
          archive_article, search_articles, ticket_suggestions, record_use),
    tags((name = "knowledge base", description = "Known errors, solution proposals and how-tos; Portuguese search as people type; suggestions for a ticket."))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(search_articles)
        .service(create_article)
        .service(get_article)
        .service(article_versions)
        .service(edit_article)
        .service(publish_article)
        .service(archive_article)
        .service(ticket_suggestions)
        .service(record_use);
}
