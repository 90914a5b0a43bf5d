//! Builds the actix application: routes, error shapes, docs.
use super::handlers;
use super::problem::{path_error, query_error};
use crate::app::AppState;
use crate::platform::error::ApiError;
use crate::platform::pool::PoolSpec;
use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpRequest, HttpResponse, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;
use utoipa_swagger_ui::SwaggerUi;

/// Registers everything on an actix `ServiceConfig` (used by the server and by tests).
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .app_data(web::Data::new(RouteTable::from_document(
                &super::openapi::document(),
            )))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .service(handlers::health::health)
            .service(handlers::health::ready)
            .service(handlers::health::metrics)
            .configure(super::vote_pages::routes)
            .configure(super::ticket_pages::routes)
            .configure(super::report_pages::routes)
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url("/api/v1/openapi.json", super::openapi::document()),
            )
            .service(web::scope("/api/v1").configure(handlers::routes))
            .default_service(web::to(not_found));
    }
}

/// The documented routes and their methods, to tell "no such route" (404) from "no such
/// method here" (405 with `Allow`).
#[derive(Clone)]
pub struct RouteTable(Arc<Vec<(Vec<String>, Vec<&'static str>)>>);

impl RouteTable {
    pub fn from_document(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .trim_matches('/')
                    .split('/')
                    .map(str::to_string)
                    .collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter(|(_, has)| *has)
                .map(|(m, _)| m)
                .collect();
                (segments, methods)
            })
            .collect();
        RouteTable(Arc::new(routes))
    }

    /// The methods a concrete path answers to (empty: no such path).
    pub fn methods_for(&self, path: &str) -> Vec<&'static str> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut out = Vec::new();
        for (segments, methods) in self.0.iter() {
            let matches = segments.len() == parts.len()
                && segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if matches {
                out.extend(methods.iter().copied());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

async fn not_found(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    let allowed = routes.methods_for(req.path());
    if allowed.is_empty() {
        return Err(ApiError::NotFound("route".into()));
    }
    Err(ApiError::MethodNotAllowed(allowed.join(", ")))
}

/// Starts serving on `listener` with `workers` threads; the returned server runs when awaited.
///
/// Each HTTP worker gets its own share of `pool`: a connection is driven by the runtime of
/// the thread that opened it, so a pool shared by the workers hands every query across
/// threads (a wake-up and a context switch each way). Measured on the read benchmark: about
/// a quarter more requests a second with a pool per worker.
pub fn serve(
    listener: TcpListener,
    state: AppState,
    workers: usize,
    pool: PoolSpec,
) -> std::io::Result<Server> {
    let share = pool.share(workers);
    // Tokens are checked against each account as it is now: kept current by notifications.
    state.access.spawn_listener(state.pool.clone());
    let server = HttpServer::new(move || {
        let mut state = state.clone();
        match share.build() {
            Ok(own) => state.pool = own,
            // Cannot happen with a URL the shared pool was built from; keep serving on it.
            Err(e) => tracing::error!(error = %e, "HTTP worker keeps the shared pool"),
        }
        App::new()
            // Request id, access log (vote-link tokens masked) and metrics, around everything.
            .wrap(middleware::from_fn(super::observe::observe))
            .configure(configure(state))
    })
    .workers(workers)
    .listen(listener)?;
    Ok(server.run())
}
