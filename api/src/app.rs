//! Builds the actix application: routes, error shapes, docs.
use crate::controllers;
use crate::error::{path_error, query_error, ApiError};
use crate::state::AppState;
use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpResponse, HttpServer};
use std::net::TcpListener;
use utoipa_swagger_ui::SwaggerUi;

/// Registers everything on an actix `ServiceConfig` (used by the server and by tests).
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .service(controllers::health::health)
            .service(controllers::health::ready)
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url("/api/v1/openapi.json", crate::openapi::document()),
            )
            .service(web::scope("/api/v1").configure(controllers::routes))
            .default_service(web::to(not_found));
    }
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("route".into()))
}

/// Starts serving on `listener`; the returned server runs when awaited.
pub fn serve(
    listener: TcpListener,
    state: AppState,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(middleware::Logger::new("%r %s %Dms").exclude("/health"))
            .configure(configure(state.clone()))
    })
    .listen(listener)?;
    if let Some(w) = workers {
        server = server.workers(w);
    }
    Ok(server.run())
}
