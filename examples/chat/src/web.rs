//! Serving: the gateway settings, the HTTP app (gateway routes and the
//! static page) and the two servers.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use gateway_runtime::serve::ServeConfig;
use gateway_runtime::streaming::{SseConfig, WebSocketConfig};
use gateway_runtime::{Drain, Gateway, GatewayBuilder, RouterExt, Transport};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use crate::ChatRooms;
use crate::pb::chat::v1::chat_service_client::ChatServiceClient;
use crate::pb::chat::v1::chat_service_gateway;
use crate::pb::chat::v1::chat_service_server::ChatServiceServer;

/// The page and its script, built into the binary so that it runs from any
/// working directory.
const INDEX_HTML: &str = include_str!("../static/index.html");
const APP_JS: &str = include_str!("../static/app.js");

/// The gateway settings of this example.
pub fn gateway_settings() -> Gateway {
    gateway_builder().build()
}

/// The gateway settings of this example, still open to more (`main` adds
/// the drain handle).
pub fn gateway_builder() -> GatewayBuilder {
    Gateway::builder()
        // Off unless asked for: only then does the gateway accept upgrades.
        // The default origin policy admits same-origin pages (ours) and
        // non-browser clients.
        .websocket(WebSocketConfig::default())
        .sse(
            SseConfig::default()
                // The message id becomes the event id, so a reconnecting
                // EventSource sends `Last-Event-ID` and the service replays
                // what it missed.
                .id_field("id")
                // Reconnect after 1 s instead of the browser's default 3 s.
                .retry(Some(Duration::from_secs(1))),
        )
}

/// The HTTP app: the generated gateway routes in front of `client`, plus
/// the page at `/`. `client` may reach the service over any transport: a
/// `Channel` to a remote server, or `ChatServiceServer::new(rooms)` in
/// process.
pub fn app<T: Transport>(client: ChatServiceClient<T>, gateway: &Gateway) -> Router {
    Router::new()
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route(
            "/app.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], APP_JS).into_response() }),
        )
        .merge(chat_service_gateway::router(client, gateway))
        // Last, once every route is in: unknown paths get the gateway's JSON
        // 404, known paths with another method its 405.
        .with_gateway_fallbacks(gateway)
}

/// Installs the Prometheus recorder of the `metrics` facade, which the
/// runtime (built with its `metrics` feature) records to, and returns the
/// handle that renders the text format. Once per process.
/// Call it inside the tokio runtime: it also starts the recorder's upkeep.
pub fn install_metrics() -> Result<PrometheusHandle, Box<dyn std::error::Error>> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    // Histograms are folded into their summaries by the upkeep (and on
    // each render); without it they grow between scrapes.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// `GET /metrics`: the metrics in Prometheus text format.
pub fn metrics_route(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let text = handle.render();
            async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text) }
        }),
    )
}

/// Serves the HTTP app until `drain` is started, then shuts down
/// gracefully: open streams end (WebSocket close 1001, the SSE `shutdown`
/// event, the end of NDJSON bodies), calls in flight finish, at most 10 s.
pub async fn serve_http_until(
    listener: TcpListener,
    app: Router,
    drain: Drain,
) -> std::io::Result<()> {
    let grace = Duration::from_secs(10);
    gateway_runtime::serve::serve_with_drain(listener, app, ServeConfig::default(), drain, grace)
        .await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// Serves the HTTP app until it fails.
pub async fn serve_http(listener: TcpListener, app: Router) -> std::io::Result<()> {
    // Not `axum::serve`, which sets no timeout: the runtime's `serve` cuts
    // off slow or stalled clients, caps connections, sets TCP_NODELAY (small
    // streamed messages are not held back), keeps WebSocket over HTTP/2 on
    // and passes the peer address on (for `x-forwarded-for`).
    gateway_runtime::serve::serve(listener, app, ServeConfig::default()).await
}

/// Serves the chat service over gRPC until it fails.
pub async fn serve_grpc(
    listener: TcpListener,
    rooms: ChatRooms,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(ChatServiceServer::new(rooms))
        .serve_with_incoming(TcpListenerStream::new(listener))
        .await
}

/// The socket address in environment variable `var`, or `default`.
pub fn addr_from_env(var: &str, default: &str) -> Result<SocketAddr, AddrError> {
    let value = std::env::var(var).unwrap_or_else(|_| default.to_string());
    value.parse().map_err(|e| {
        AddrError(format!(
            "{var}={value} is not a socket address (like 127.0.0.1:8080): {e}"
        ))
    })
}

/// A bad address in an environment variable.
pub struct AddrError(String);

impl std::fmt::Display for AddrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The message as is: `main` reports its error with `Debug`, and a quoted,
/// escaped string would read badly.
impl std::fmt::Debug for AddrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddrError {}
