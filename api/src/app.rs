//! Building the actix application: state, error handlers, middleware, routes and docs.
//! The OpenAPI document is generated once at start-up and handed, with what it tells the
//! body check and the fallback, to every worker.

use std::net::{SocketAddr, TcpListener};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use tracing::Instrument;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::principal::verified_claims;
use crate::contract::BodyContract;
use crate::error::ApiError;
use crate::extract::RequestId;
use crate::fallback::DocumentedPaths;
use crate::state::AppState;

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
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id_of(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let Some(state) = &state
        && state.limiter.enabled()
        && let Err(wait) = state.limiter.check(&rate_key(&req, state))
    {
        let seconds = wait.as_secs().max(1);
        let error = ApiError::new(
            staffroom_domain::ProblemCode::RateLimited,
            format!("Too many requests; retry in {seconds} s."),
        );
        let mut res = req.error_response(error);
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            res.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, value);
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            res.headers_mut().insert(REQUEST_ID, value);
        }
        return Ok(res.map_into_right_body());
    }
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
    let elapsed = started.elapsed();
    if let Some(state) = &state {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        state.metrics.record(
            res.request().method().as_str(),
            &route,
            res.status().as_u16(),
            elapsed,
        );
    }
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            "handled"
        );
    });
    Ok(res.map_into_left_body())
}

/// The rate-limit bucket of a request: the verified principal, else the client address.
/// Health, readiness and metrics are never limited.
fn rate_key(req: &ServiceRequest, state: &AppState) -> String {
    if matches!(req.path(), "/healthz" | "/readyz" | "/metrics") {
        return String::new();
    }
    let principal = req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
        .then(|| verified_claims(req.request(), &state.tokens).ok())
        .flatten();
    match principal {
        Some(claims) => format!("principal:{}:{}", claims.site, claims.sub),
        None if state.behind_proxy => format!(
            "address:{}",
            req.connection_info()
                .realip_remote_addr()
                .unwrap_or("unknown")
        ),
        None => format!(
            "address:{}",
            req.peer_addr()
                .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
        ),
    }
}

/// What the routes publish, built once at start-up from the OpenAPI document and shared by
/// every worker: the document itself, the schemas request bodies are checked against and
/// the documented paths the fallback answers `405` for.
#[derive(Clone)]
pub struct Published {
    document: utoipa::openapi::OpenApi,
    contract: web::Data<BodyContract>,
    paths: web::Data<DocumentedPaths>,
}

impl Published {
    /// Derives from `document` what the request path needs.
    pub fn new(document: utoipa::openapi::OpenApi) -> Self {
        Self {
            contract: web::Data::new(BodyContract::new(&document)),
            paths: web::Data::new(DocumentedPaths::new(&document)),
            document,
        }
    }
}

/// The application with its routes, docs and shared state.
pub fn build(
    state: AppState,
    published: Published,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = App::new()
        .into_utoipa_app()
        .configure(crate::routes::routes)
        .split_for_parts();
    app.app_data(web::Data::new(state))
        .app_data(published.contract)
        .app_data(published.paths)
        .app_data(web::PathConfig::default().error_handler(crate::fallback::path_rejected))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", published.document))
        .service(web::redirect("/docs", "/docs/").permanent())
        .route(
            "/accept-invitation",
            web::get().to(crate::invitation_page::show),
        )
        .default_service(web::to(crate::fallback::no_route))
        .wrap(from_fn(crate::idempotency::idempotency_key))
        .wrap(from_fn(crate::authorization::authorize))
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
    start_on(state, TcpListener::bind(listen)?, workers)
}

/// Builds the server on a listener already bound; await `server` to run.
pub fn start_on(
    state: AppState,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let published = Published::new(crate::openapi::document());
    let mut server =
        HttpServer::new(move || build(state.clone(), published.clone())).shutdown_timeout(10);
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
