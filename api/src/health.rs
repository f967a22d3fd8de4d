//! What operators poll: `/healthz` (the process answers), `/readyz` (the database answers)
//! and `/metrics` (Prometheus text).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::state::AppState;

/// The answer of the liveness and readiness checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when a dependency does not answer.
    pub status: String,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(get_metrics);
}

/// Whether the process is up (liveness).
#[utoipa::path(
    tag = "operations",
    operation_id = "get_health",
    responses((status = 200, body = Health, description = "The process answers.")),
    security(())
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".to_owned(),
    })
}

/// Whether the process can serve requests: its database answers (readiness).
#[utoipa::path(
    tag = "operations",
    operation_id = "get_readiness",
    responses(
        (status = 200, body = Health, description = "Ready: the database answers."),
        (status = 503, body = Health, description = "Not ready: the database does not answer.")
    ),
    security(())
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match db::run(&state, staffroom_persistence::ping).await {
        Ok(()) => HttpResponse::Ok().json(Health {
            status: "ok".to_owned(),
        }),
        Err(_) => HttpResponse::ServiceUnavailable().json(Health {
            status: "unavailable".to_owned(),
        }),
    }
}

/// Metrics of this process for Prometheus.
///
/// Request counts and latency per route and status, database pool and provider job
/// gauges, the heap SQLite holds in the process, and the read cache's answers, in the
/// Prometheus text exposition format.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The metrics, as Prometheus text.", content_type = "text/plain", body = String)),
    security(())
)]
#[get("/metrics")]
pub async fn get_metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(
            state.metrics.render(&state.pool)
                + &state.read_cache.metrics()
                + &state.providers.jobs.metrics(),
        )
}
