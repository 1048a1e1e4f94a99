//! The HTTP gateway alone, in front of a chat service running elsewhere
//! (`grpc-server`): the gateway's backend is a tonic `Channel`.
//!
//! ```sh
//! cargo run -p chat-example --bin grpc-server      # one terminal
//! cargo run -p chat-example --bin remote-gateway   # another
//! ```

use chat_example::{addr_from_env, app, gateway_settings, serve_http};
use tokio::net::TcpListener;
use tonic::transport::Endpoint;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let grpc_addr = addr_from_env("CHAT_GRPC_ADDR", "127.0.0.1:50051")?;
    let http_addr = addr_from_env("CHAT_HTTP_ADDR", "127.0.0.1:8080")?;

    // Lazy: the gateway starts even while the gRPC server is down, answers
    // 503 (UNAVAILABLE) meanwhile, and reconnects when it is back.
    let channel = Endpoint::from_shared(format!("http://{grpc_addr}"))?.connect_lazy();
    let http_app = app(channel, &gateway_settings());

    let http = TcpListener::bind(http_addr).await?;
    println!("backend:  gRPC at http://{grpc_addr}");
    println!("HTTP API: http://{}/v1/rooms/lobby", http.local_addr()?);
    println!("page:     http://{}/", http.local_addr()?);
    serve_http(http, http_app).await?;
    Ok(())
}
