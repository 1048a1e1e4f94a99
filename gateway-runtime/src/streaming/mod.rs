//! Streaming calls over HTTP: Server-Sent Events, WebSocket and chunked
//! transfer (NDJSON), for server, client and bidi streaming methods.
//!
//! Public here: the settings of each mode ([`SseConfig`], [`WebSocketConfig`],
//! [`ChunkedConfig`], given to [`GatewayBuilder`](crate::GatewayBuilder)),
//! the events an SSE error handler writes ([`SseEvent`]) and the piece size
//! of HttpBody uploads ([`UPLOAD_PIECE`]).
//!
//! Inside: one driver per gRPC shape (`server.rs`, `client.rs`, `bidi.rs`,
//! `raw.rs` for HttpBody); each picks the mode per request (`mode.rs`), then
//! hands over to the mode's code (`response.rs` for SSE and chunked,
//! `websocket.rs`).

pub(crate) mod bidi;
pub(crate) mod client;
mod config;
pub(crate) mod mode;
pub(crate) mod prepare;
pub(crate) mod raw;
pub(crate) mod request;
mod response;
pub(crate) mod response_stream;
pub(crate) mod server;
mod source;
mod stall;
mod sweeper;
mod websocket;

pub use crate::sse::SseEvent;
pub use config::{
    ChunkedConfig, ChunkedErrorHandler, OriginCheck, OriginPolicy, SseConfig, SseErrorHandler,
    StreamingConfig, WebSocketClose, WebSocketConfig, WebSocketErrorHandler,
};
pub(crate) use mode::Mode;
pub use raw::UPLOAD_PIECE;
pub(crate) use request::RequestStream;
pub(crate) use response_stream::ResponseStream;

/// Writes one response message as JSON (generated per binding, with
/// `response_body` applied).
pub(crate) type WriteFn<M> = fn(&M, &mut crate::json::JsonWriter);

/// Merges one JSON request value (a WebSocket frame, an NDJSON value) into
/// a request message (into the `body` field when the binding has one).
pub(crate) type MergeFn<M> =
    fn(&mut M, &mut crate::json::JsonReader<'_>) -> Result<(), crate::json::JsonError>;

/// Reads a top-level scalar field of a response message by proto or JSON
/// name, as text: the source of SSE `id:` and `event:` values.
pub(crate) type FieldFn<M> = fn(&M, &str) -> Option<String>;
