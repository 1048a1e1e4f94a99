//! Streaming calls over HTTP: Server-Sent Events, WebSocket and chunked
//! transfer (NDJSON), for server, client and bidi streaming methods.
//!
//! One driver per gRPC shape ([`server_streaming`], [`client_streaming`],
//! [`bidi_streaming`]); each picks the mode per request ([`select_mode`]),
//! then hands over to the mode's code (`response` for SSE and chunked, `websocket`).

mod bidi;
mod client;
mod config;
mod mode;
mod prepare;
mod raw;
mod request;
mod response;
mod server;
mod source;
mod stall;
mod websocket;

use std::pin::Pin;

use futures_util::Stream;

pub use bidi::bidi_streaming;
pub use client::client_streaming;
pub use config::{
    ChunkedConfig, ChunkedErrorHandler, OriginCheck, OriginPolicy, SseConfig, SseErrorHandler,
    StreamingConfig, WebSocketClose, WebSocketConfig, WebSocketErrorHandler,
};
pub use mode::{
    Mode, StreamBinding, accepts_event_stream, is_websocket_request, is_websocket_upgrade,
    select_mode,
};
pub use raw::{UPLOAD_PIECE, client_streaming_raw, server_streaming_raw};
pub use server::server_streaming;

/// The request stream handed to a tonic client-streaming or bidi call.
///
/// A named type rather than a bare `Pin<Box<dyn Stream>>`: with the bare
/// trait object, rustc cannot prove the futures of tonic's
/// `impl IntoStreamingRequest` methods `Send` ("higher-ranked lifetime
/// error").
pub struct RequestStream<M>(Pin<Box<dyn Stream<Item = M> + Send + 'static>>);

impl<M> RequestStream<M> {
    /// Wraps a stream of request messages.
    pub fn new(stream: impl Stream<Item = M> + Send + 'static) -> Self {
        RequestStream(Box::pin(stream))
    }
}

impl<M> Stream for RequestStream<M> {
    type Item = M;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<M>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl<M> std::fmt::Debug for RequestStream<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestStream")
    }
}

/// Writes one response message as JSON (generated per binding, with
/// `response_body` applied).
pub type WriteFn<M> = fn(&M, &mut crate::json::JsonWriter);

/// Merges one JSON request value (a WebSocket frame, an NDJSON value) into
/// a request message (into the `body` field when the binding has one).
pub type MergeFn<M> =
    fn(&mut M, &mut crate::json::JsonReader<'_>) -> Result<(), crate::json::JsonError>;

/// Reads a top-level scalar field of a response message by proto or JSON
/// name, as text: the source of SSE `id:` and `event:` values.
pub type FieldFn<M> = fn(&M, &str) -> Option<String>;
