//! The chat service over gRPC only, for `remote-gateway` to connect to.
//!
//! ```sh
//! cargo run -p chat-example --bin grpc-server
//! ```
//!
//! Rooms in memory, or on Redis with `CHAT_REDIS_URL` (see `chat-example`).

use chat_example::{Rooms, addr_from_env, serve_grpc};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = addr_from_env("CHAT_GRPC_ADDR", "127.0.0.1:50051")?;
    let rooms = Rooms::from_env().await?;
    let listener = TcpListener::bind(addr).await?;
    println!("rooms: {}", rooms.describe());
    println!("gRPC: http://{}", listener.local_addr()?);
    serve_grpc(listener, rooms).await?;
    Ok(())
}
