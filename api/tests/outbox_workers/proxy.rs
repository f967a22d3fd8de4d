//! A recording proxy in front of the simulator: it sees every provider call, so it can tell

use super::*;

// whether two attempts carrying one idempotency key (one outbox job) were ever in flight at
// the same time, and how many attempts each job really made.

#[derive(Default)]
pub(crate) struct Calls {
    /// Calls in flight per idempotency key.
    pub(crate) in_flight: HashMap<String, usize>,
    /// Calls made per idempotency key.
    pub(crate) made: BTreeMap<String, usize>,
    /// Keys seen with another call already in flight.
    pub(crate) overlaps: Vec<String>,
}

pub(crate) struct Proxy {
    upstream: String,
    client: reqwest::Client,
    calls: Arc<Mutex<Calls>>,
}

/// Leaves the in-flight set even when the handler is dropped half-way.
pub(crate) struct InFlight {
    key: String,
    calls: Arc<Mutex<Calls>>,
}

impl InFlight {
    pub(crate) fn enter(key: String, calls: &Arc<Mutex<Calls>>) -> Self {
        let mut c = calls.lock().unwrap();
        let running = c.in_flight.entry(key.clone()).or_default();
        *running += 1;
        if *running > 1 {
            c.overlaps.push(key.clone());
        }
        *c.made.entry(key.clone()).or_default() += 1;
        Self {
            key,
            calls: Arc::clone(calls),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut c = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = c.in_flight.get_mut(&self.key) {
            *n -= 1;
        }
    }
}

pub(crate) async fn forward(
    req: HttpRequest,
    body: web::Bytes,
    proxy: web::Data<Proxy>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let key = header("idempotency-key");
    let in_flight = key.map(|k| InFlight::enter(k, &proxy.calls));
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let mut upstream = proxy
        .client
        .request(method, format!("{}{}", proxy.upstream, req.uri()))
        .body(body.to_vec());
    for name in ["authorization", "content-type", "accept", "idempotency-key"] {
        if let Some(value) = header(name) {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await;
    // The call is over for the provider before Staffroom sees its answer.
    drop(in_flight);
    match answer {
        Ok(answer) => {
            let status = answer.status().as_u16();
            let content_type = answer
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response =
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
            if let Some(content_type) = content_type {
                response.insert_header(("content-type", content_type));
            }
            response.body(bytes.to_vec())
        }
        Err(e) => HttpResponse::BadGateway().body(e.to_string()),
    }
}

/// Starts the proxy on a free port; returns its base URL and what it records.
pub(crate) fn start_proxy(upstream: String) -> (String, Arc<Mutex<Calls>>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let calls = Arc::new(Mutex::new(Calls::default()));
    let proxy = web::Data::new(Proxy {
        upstream,
        client: reqwest::Client::new(),
        calls: Arc::clone(&calls),
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(proxy.clone())
            .app_data(web::PayloadConfig::new(1024 * 1024))
            .default_service(web::to(forward))
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (base, calls)
}
