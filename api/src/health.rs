//! What operators poll: `/healthz` (the process answers), `/readyz` (the database answers)
//! and `/metrics` (Prometheus text).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when a dependency does not answer.
    pub status: String,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(get_metrics);
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".to_owned(),
    })
}

/// The database is reachable.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health, description = "The database does not answer"))
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

/// Prometheus metrics of this process.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
pub async fn get_metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&state.pool) + &state.outbox.render_metrics())
}
