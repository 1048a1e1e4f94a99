//! The chat example in one process: the service over gRPC, and the same
//! service over HTTP through the generated gateway, with a page that uses
//! SSE, WebSocket and NDJSON.
//!
//! ```sh
//! cargo run -p chat-example    # then open http://127.0.0.1:8080/
//! ```
//!
//! The rooms are in memory. With `CHAT_REDIS_URL` they are Redis Streams,
//! shared by every instance on that Redis (see docs/scaling.md); two
//! instances:
//!
//! ```sh
//! CHAT_REDIS_URL=redis://127.0.0.1:6379/ cargo run -p chat-example
//! CHAT_REDIS_URL=redis://127.0.0.1:6379/ CHAT_HTTP_ADDR=127.0.0.1:8081 CHAT_GRPC_ADDR=127.0.0.1:50052 cargo run -p chat-example
//! ```
//!
//! Logs go to stderr, filtered by `RUST_LOG` (default `info`: one line per
//! stream end; `debug` adds one per request, `trace` one per message):
//!
//! ```sh
//! RUST_LOG=debug cargo run -p chat-example
//! ```
//!
//! Metrics are at `/metrics`. SIGINT or SIGTERM shuts down gracefully.

use chat_example::pb::chat::v1::chat_service_server::ChatServiceServer;
use chat_example::{
    Rooms, addr_from_env, app, gateway_builder, install_metrics, metrics_route, serve_grpc,
    serve_http_until, shutdown_signal,
};
use gateway_runtime::Drain;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let grpc_addr = addr_from_env("CHAT_GRPC_ADDR", "127.0.0.1:50051")?;
    let http_addr = addr_from_env("CHAT_HTTP_ADDR", "127.0.0.1:8080")?;

    let rooms = Rooms::from_env().await?;
    // The gateway calls the service in process: its gRPC calls go to the
    // tonic server directly, no socket in between. Both servers share the
    // rooms, so gRPC and HTTP clients chat together.
    let transport = ChatServiceServer::new(rooms.clone());
    // One handle for the gateway (ends open streams) and the server (stops
    // accepting, waits for what is in flight).
    let drain = Drain::new();
    let gateway = gateway_builder().drain(&drain).build();
    let http_app = app(transport, &gateway).merge(metrics_route(install_metrics()?));

    let grpc = TcpListener::bind(grpc_addr).await?;
    let http = TcpListener::bind(http_addr).await?;
    println!("rooms:    {}", rooms.describe());
    println!("gRPC:     http://{}", grpc.local_addr()?);
    println!("HTTP API: http://{}/v1/rooms/lobby", http.local_addr()?);
    println!("page:     http://{}/", http.local_addr()?);

    tokio::spawn({
        let drain = drain.clone();
        async move {
            shutdown_signal().await;
            eprintln!("shutting down: draining open streams");
            drain.start();
        }
    });
    tokio::select! {
        result = serve_grpc(grpc, rooms) => result?,
        result = serve_http_until(http, http_app, drain) => result?,
    }
    Ok(())
}
