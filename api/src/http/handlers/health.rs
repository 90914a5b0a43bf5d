//! Liveness and readiness, for load balancers and orchestrators; metrics, for Prometheus.
use crate::app::AppState;
use crate::platform::error::ApiError;
use crate::platform::metrics::CONTENT_TYPE;
use crate::queue::admin::backlog;
use actix_web::{get, web, HttpResponse};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when a dependency is down.
    pub status: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Alive", body = Health)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "operations", responses(
    (status = 200, description = "Ready", body = Health),
    (status = 503, description = "The database is unreachable", body = Health)
))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let ok = match state.pool.get().await {
        Ok(mut conn) => diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .is_ok(),
        Err(_) => false,
    };
    if ok {
        HttpResponse::Ok().json(Health {
            status: "ok".into(),
        })
    } else {
        HttpResponse::ServiceUnavailable().json(Health {
            status: "unavailable".into(),
        })
    }
}

/// The service's own SLIs, in the Prometheus text format.
///
/// Request latency, counts and errors by route pattern, the job queue's backlog by kind (read
/// now from the database), mail send failures and SLA breaches. Not behind a token, as is
/// usual for a scrape target: expose it to the monitoring network only (bind address,
/// proxy), like `/health`.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text exposition (version 0.0.4)", content_type = "text/plain", body = String)
))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let backlog = async {
        let mut conn = state.pool.get().await.map_err(ApiError::from)?;
        backlog(&mut conn, &state.registry, state.clock.now()).await
    };
    // Without the database the process' own metrics still tell what is happening (the 5xx
    // of an outage): only the queue's gauges are left out.
    let backlog = backlog.await.unwrap_or_else(|e| {
        tracing::warn!(error = %e.chain(), "metrics: cannot read the job queue");
        vec![]
    });
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(crate::platform::metrics::metrics().render(&backlog))
}
