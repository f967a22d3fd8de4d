//! Building the actix application: state, error handlers, middleware, routes and docs.

use std::net::{SocketAddr, TcpListener};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use tracing::Instrument;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::extract::RequestId;
use crate::state::AppState;

/// Registers every route; the OpenAPI document is generated from the same calls.
pub fn routes(cfg: &mut ServiceConfig) {
    crate::health::configure(cfg);
    crate::auth::handlers::configure(cfg);
    crate::site::configure(cfg);
    crate::clinics::configure(cfg);
    crate::permissions::configure(cfg);
    crate::users::configure(cfg);
    crate::service_accounts::configure(cfg);
    crate::audit::configure(cfg);
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Gives every request an id (the caller's `X-Request-Id` or a new one), runs it inside a
/// span carrying that id, echoes it in the response and logs the outcome.
async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id_of(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path()
    );
    let started = std::time::Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "handled"
        );
    });
    Ok(res)
}

async fn no_route() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "not_found",
        "No such route; see /openapi.json.",
    ))
}

/// The application with its routes, docs and shared state.
pub fn build(
    state: AppState,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
        .into_utoipa_app()
        .openapi(crate::openapi::base())
        .configure(routes)
        .openapi_service(|api| {
            SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", crate::openapi::finish(api))
        })
        .into_app()
        .default_service(web::to(no_route))
        .wrap(from_fn(crate::idempotency::idempotency_key))
        .wrap(from_fn(request_context))
}

/// A started server and the address it listens on.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    pub server: Server,
}

/// Binds `listen` (port 0 picks a free port) and builds the server; await `server` to run.
pub fn start(
    state: AppState,
    listen: &str,
    workers: Option<usize>,
) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(listen)?;
    let addr = listener.local_addr()?;
    let mut server = HttpServer::new(move || build(state.clone())).shutdown_timeout(10);
    if let Some(n) = workers {
        server = server.workers(n.max(1));
    }
    let server = server.listen(listener)?.run();
    Ok(RunningServer {
        addr,
        handle: server.handle(),
        server,
    })
}
