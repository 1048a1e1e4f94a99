//! A chat service served over gRPC and, through the generated gateway, over
//! HTTP/JSON, Server-Sent Events, WebSocket and NDJSON, with a static page
//! that uses all three streaming modes from a browser.
//!
//! - [`pb`]: the code generated from `proto/chat/v1/chat.proto` (messages,
//!   tonic client and server, gateway router).
//! - [`ChatRooms`]: the service, in memory; [`RedisRooms`]: the same on
//!   Redis Streams, shared by every instance; [`Rooms`]: either, as
//!   `CHAT_REDIS_URL` says.
//! - [`app`], [`gateway_settings`], [`serve_http`], [`serve_grpc`]: the
//!   pieces `src/main.rs` puts together.

mod backend;
mod redis_rooms;
mod redis_server;
mod rooms;
mod web;

pub use backend::{BackendError, REDIS_URL_VAR, Rooms};
pub use redis_rooms::RedisRooms;
pub use redis_server::{REDIS_SERVER, start_redis_server, start_redis_server_on_free_port};
pub use rooms::ChatRooms;
pub use web::{
    AddrError, OPENAPI, addr_from_env, app, gateway_builder, gateway_settings, install_metrics,
    metrics_route, serve_grpc, serve_http, serve_http_until, shutdown_signal,
};

/// Generated code, one module per proto package, as prost lays it out.
pub mod pb {
    /// `chat.*` packages.
    pub mod chat {
        /// `chat.v1`: messages and tonic code (`tonic::include_proto!`), and
        /// the gateway (`gateway_runtime::include_gateway!`), which must sit
        /// in the same module because it refers to both.
        pub mod v1 {
            tonic::include_proto!("chat.v1");
            gateway_runtime::include_gateway!("chat.v1");
        }
    }
}
