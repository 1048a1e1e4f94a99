//! Streaming settings, per mode, with defaults that work behind common
//! proxies.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::error::GatewayError;
use crate::sse::SseEvent;

/// Settings of all streaming modes; part of [`crate::Gateway`].
#[derive(Clone, Debug)]
pub struct StreamingConfig {
    /// Server-Sent Events.
    pub sse: SseConfig,
    /// WebSocket; `None` (the default) refuses upgrades with 501.
    pub websocket: Option<WebSocketConfig>,
    /// Chunked transfer (NDJSON).
    pub chunked: ChunkedConfig,
    /// How long a streaming response waits for its first message before
    /// sending headers. An error that arrives within it is a normal HTTP
    /// error (status and JSON body); after it, the stream has started and
    /// errors are reported in-stream. Default 250 ms: long enough for an
    /// error that comes at once, short enough not to hold up the `open` of
    /// a quiet live stream.
    pub first_message_wait: Duration,
    /// How long a client may accept no data of a streaming response (an
    /// HTTP/2 stream without window, a socket nobody reads, a WebSocket
    /// whose frames do not leave) before the stream ends with
    /// [`GatewayError::SlowConsumer`] and its gRPC call is cancelled, in
    /// every mode. Default 30 s; `None`: no limit.
    pub stall_timeout: Option<Duration>,
}

impl Default for StreamingConfig {
    fn default() -> Self {
        StreamingConfig {
            sse: SseConfig::default(),
            websocket: None,
            chunked: ChunkedConfig::default(),
            first_message_wait: Duration::from_millis(250),
            stall_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// Turns a mid-stream error into the SSE event the client gets; `None`
/// sends nothing (the stream just ends).
pub type SseErrorHandler = Arc<dyn Fn(&GatewayError) -> Option<SseEvent> + Send + Sync>;

/// Server-Sent Events settings.
#[derive(Clone)]
pub struct SseConfig {
    pub(crate) end_of_stream: Option<SseEvent>,
    pub(crate) shutdown_event: Option<SseEvent>,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) retry: Option<Duration>,
    pub(crate) id_field: Option<String>,
    pub(crate) event_field: Option<String>,
    pub(crate) error_handler: Option<SseErrorHandler>,
}

impl Default for SseConfig {
    fn default() -> Self {
        SseConfig {
            end_of_stream: Some(SseEvent::end_of_stream()),
            shutdown_event: Some(SseEvent {
                event: Some("shutdown".into()),
                data: r#"{"code":14,"message":"the server is shutting down","details":[]}"#.into(),
                ..SseEvent::default()
            }),
            // Below the 30–60 s idle timeouts of common proxies and load
            // balancers (nginx 60 s, AWS ALB 60 s).
            heartbeat: Some(Duration::from_secs(15)),
            retry: None,
            id_field: None,
            event_field: None,
            error_handler: None,
        }
    }
}

impl std::fmt::Debug for SseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseConfig")
            .field("end_of_stream", &self.end_of_stream)
            .field("shutdown_event", &self.shutdown_event)
            .field("heartbeat", &self.heartbeat)
            .field("retry", &self.retry)
            .field("id_field", &self.id_field)
            .field("event_field", &self.event_field)
            .field("custom_error_handler", &self.error_handler.is_some())
            .finish()
    }
}

impl SseConfig {
    /// The event sent when the gRPC stream ends normally (default: the Go
    /// gateway's `id: EOS`, `event: EOS`, empty data); `None` sends none.
    pub fn end_of_stream(mut self, event: Option<SseEvent>) -> Self {
        self.end_of_stream = event;
        self
    }

    /// The last event of open streams when the gateway drains for shutdown
    /// (default `event: shutdown` with the `UNAVAILABLE` error body as
    /// data); `None` sends none. The stream then ends, and an `EventSource`
    /// reconnects after its retry delay (with a load balancer in front, to
    /// another instance); set `retry` in the event to choose that delay.
    pub fn shutdown_event(mut self, event: Option<SseEvent>) -> Self {
        self.shutdown_event = event;
        self
    }

    /// Interval of `: keep-alive` comment lines while the stream is idle
    /// (default 15 s); `None` sends none.
    pub fn heartbeat(mut self, interval: Option<Duration>) -> Self {
        self.heartbeat = interval;
        self
    }

    /// A `retry:` hint sent first: how long browsers wait before
    /// reconnecting (default: none, the browser's own).
    pub fn retry(mut self, retry: Option<Duration>) -> Self {
        self.retry = retry;
        self
    }

    /// A top-level scalar field of the response messages whose value
    /// becomes each event's `id:` (what browsers send back as
    /// `Last-Event-ID` when they reconnect). Proto or JSON name.
    pub fn id_field(mut self, field: impl Into<String>) -> Self {
        self.id_field = Some(field.into());
        self
    }

    /// A top-level scalar field whose value becomes each event's `event:`
    /// name (for `addEventListener(name, …)`); messages where it is empty
    /// are plain `message` events.
    pub fn event_field(mut self, field: impl Into<String>) -> Self {
        self.event_field = Some(field.into());
        self
    }

    /// Replaces the mid-stream error event (default `event: failure` with
    /// the error body as data).
    pub fn error_handler(
        mut self,
        handler: impl Fn(&GatewayError) -> Option<SseEvent> + Send + Sync + 'static,
    ) -> Self {
        self.error_handler = Some(Arc::new(handler));
        self
    }
}

/// Turns a mid-stream error into the last NDJSON line; `None` sends none.
pub type ChunkedErrorHandler = Arc<dyn Fn(&GatewayError) -> Option<Bytes> + Send + Sync>;

/// Chunked transfer (NDJSON) settings.
#[derive(Clone, Default)]
pub struct ChunkedConfig {
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) error_handler: Option<ChunkedErrorHandler>,
    pub(crate) declared_trailers: Vec<String>,
}

impl std::fmt::Debug for ChunkedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedConfig")
            .field("heartbeat", &self.heartbeat)
            .field("custom_error_handler", &self.error_handler.is_some())
            .field("declared_trailers", &self.declared_trailers)
            .finish()
    }
}

impl ChunkedConfig {
    /// Interval of blank heartbeat lines while idle (default: none).
    pub fn heartbeat(mut self, interval: Option<Duration>) -> Self {
        self.heartbeat = interval;
        self
    }

    /// Replaces the mid-stream error line (default
    /// `{"error":{"code":N,"message":"…","details":[…]}}`). Return the whole
    /// line, newline included.
    pub fn error_handler(
        mut self,
        handler: impl Fn(&GatewayError) -> Option<Bytes> + Send + Sync + 'static,
    ) -> Self {
        self.error_handler = Some(Arc::new(handler));
        self
    }

    /// gRPC trailer metadata keys to announce in a `Trailer` response header
    /// (default: none).
    ///
    /// Trailers are only sent to clients that asked with `TE: trailers`.
    /// HTTP/2 then carries every trailer; HTTP/1.1 carries only the fields
    /// the response announced up front (RFC 9110 §6.6.2, and hyper drops
    /// the rest), and the names are not known until the call ends, so list
    /// here the keys HTTP/1.1 clients should receive. Each key is announced
    /// under the name the outgoing trailer matcher gives it.
    pub fn declare_trailers<K: Into<String>>(mut self, keys: impl IntoIterator<Item = K>) -> Self {
        self.declared_trailers = keys
            .into_iter()
            .map(|k| k.into().to_ascii_lowercase())
            .collect();
        self
    }
}

/// A custom origin check: `(origin, request headers) -> allowed`.
pub type OriginCheck = Arc<dyn Fn(&str, &http::HeaderMap) -> bool + Send + Sync>;

/// Which cross-site pages may open WebSocket connections.
#[derive(Clone, Default)]
pub enum OriginPolicy {
    /// Requests without `Origin` (non-browser clients) and same-origin
    /// pages only: cross-site WebSocket hijacking is refused (403).
    #[default]
    SameOrigin,
    /// Same origin plus these origins (`https://app.example.com`).
    Allow(Vec<String>),
    /// Any origin. Only for APIs that do not rely on cookies.
    Any,
    /// Decide per request: `(origin, request headers) -> allowed`.
    Custom(OriginCheck),
}

impl std::fmt::Debug for OriginPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OriginPolicy::SameOrigin => f.write_str("SameOrigin"),
            OriginPolicy::Allow(list) => f.debug_tuple("Allow").field(list).finish(),
            OriginPolicy::Any => f.write_str("Any"),
            OriginPolicy::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// How a WebSocket ends on an error: an optional last text frame, then a
/// close code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketClose {
    /// Text frame sent before closing.
    pub frame: Option<String>,
    /// Close code (RFC 6455 §7.4).
    pub code: u16,
    /// Close reason (at most 123 bytes are sent).
    pub reason: String,
}

/// Turns an error into how the WebSocket ends.
pub type WebSocketErrorHandler = Arc<dyn Fn(&GatewayError) -> WebSocketClose + Send + Sync>;

/// WebSocket settings; set them with `GatewayBuilder::websocket` to accept
/// upgrades at all.
#[derive(Clone)]
pub struct WebSocketConfig {
    pub(crate) origin: OriginPolicy,
    pub(crate) max_message_size: usize,
    pub(crate) max_frame_size: usize,
    pub(crate) read_buffer_size: usize,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) pong_timeout: Duration,
    pub(crate) error_handler: Option<WebSocketErrorHandler>,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            origin: OriginPolicy::SameOrigin,
            max_message_size: crate::gateway::DEFAULT_BODY_LIMIT,
            max_frame_size: crate::gateway::DEFAULT_BODY_LIMIT,
            // tungstenite's default (128 KiB) is zero-filled on every read
            // attempt; JSON messages are small, and larger ones are read in
            // several chunks anyway.
            read_buffer_size: 8 * 1024,
            ping_interval: Some(Duration::from_secs(30)),
            pong_timeout: Duration::from_secs(30),
            error_handler: None,
        }
    }
}

impl std::fmt::Debug for WebSocketConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketConfig")
            .field("origin", &self.origin)
            .field("max_message_size", &self.max_message_size)
            .field("max_frame_size", &self.max_frame_size)
            .field("read_buffer_size", &self.read_buffer_size)
            .field("ping_interval", &self.ping_interval)
            .field("pong_timeout", &self.pong_timeout)
            .field("custom_error_handler", &self.error_handler.is_some())
            .finish()
    }
}

impl WebSocketConfig {
    /// Which origins may connect (default [`OriginPolicy::SameOrigin`]).
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin = policy;
        self
    }

    /// Largest message in bytes (default 4 MiB); larger closes with 1009.
    pub fn max_message_size(mut self, size: usize) -> Self {
        self.max_message_size = size;
        self
    }

    /// Largest frame in bytes (default 4 MiB).
    pub fn max_frame_size(mut self, size: usize) -> Self {
        self.max_frame_size = size;
        self
    }

    /// Size of the socket read buffer (default 8 KiB).
    pub fn read_buffer_size(mut self, size: usize) -> Self {
        self.read_buffer_size = size;
        self
    }

    /// Interval of server pings (default 30 s); `None` sends none.
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long after a ping interval without any frame from the peer it is
    /// dropped (default 30 s).
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// Replaces how errors end the connection (default: a text frame with
    /// the error body, then close 1011 — or 1007 for malformed frames).
    pub fn error_handler(
        mut self,
        handler: impl Fn(&GatewayError) -> WebSocketClose + Send + Sync + 'static,
    ) -> Self {
        self.error_handler = Some(Arc::new(handler));
        self
    }
}
