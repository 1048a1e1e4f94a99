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
use gateway_runtime::{Gateway, RouterExt, Transport};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use crate::pb::chat::v1::chat_service_client::ChatServiceClient;
use crate::pb::chat::v1::chat_service_gateway;
use crate::pb::chat::v1::chat_service_server::{ChatService, ChatServiceServer};

/// The page and its script, built into the binary so that it runs from any
/// working directory.
const INDEX_HTML: &str = include_str!("../static/index.html");
const APP_JS: &str = include_str!("../static/app.js");

/// The gateway settings of this example.
pub fn gateway_settings() -> Gateway {
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
        .build()
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

/// Serves the HTTP app until it fails.
pub async fn serve_http(listener: TcpListener, app: Router) -> std::io::Result<()> {
    // Not `axum::serve`, which sets no timeout: the runtime's `serve` cuts
    // off slow or stalled clients, caps connections, sets TCP_NODELAY (small
    // streamed messages are not held back), keeps WebSocket over HTTP/2 on
    // and passes the peer address on (for `x-forwarded-for`).
    gateway_runtime::serve::serve(listener, app, ServeConfig::default()).await
}

/// Serves the chat service (any backend) over gRPC until it fails.
pub async fn serve_grpc<S: ChatService>(
    listener: TcpListener,
    rooms: S,
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
