//! Tracing spans and metrics of requests and streams (docs/operations.md).
//!
//! One span per request (`gateway.request`) and per stream: the stream's
//! span is the request's, kept open by the stream until it ends. Field
//! names follow the OpenTelemetry semantic conventions for HTTP servers and
//! RPC clients (`http.request.method`, `http.route`,
//! `http.response.status_code`, `rpc.system`, `rpc.service`, `rpc.method`,
//! `rpc.grpc.status_code`), plus `gateway.stream.mode`. A stream's end is
//! an event with its reason; messages are `trace` events only.
//!
//! With the `metrics` cargo feature the same points feed the `metrics`
//! facade; without it they compile to nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::drain::StreamToken;
use crate::streaming::Mode;

/// Names of one binding, fixed by the generator: the route template and
/// the gRPC method it calls.
#[derive(Debug, Clone, Copy)]
pub struct RpcName {
    /// The path template as written in the binding (`/v1/rooms/{room}`).
    pub route: &'static str,
    /// Full name of the gRPC service (`chat.v1.ChatService`).
    pub service: &'static str,
    /// Name of the gRPC method (`Subscribe`).
    pub method: &'static str,
}

/// Why a stream ended: the `reason` of the stream-end event and of the
/// `gateway_streams_ended_total` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum EndReason {
    /// The gRPC stream ended normally.
    Completed,
    /// The client went away (closed, reset, dropped the response).
    ClientGone,
    /// The gRPC call failed (or the gateway failed it: deadline, bad frame).
    GrpcError,
    /// The client accepted no data for the stall timeout.
    SlowConsumer,
    /// A WebSocket peer stopped answering pings.
    IdleTimeout,
    /// The gateway was draining for shutdown.
    Shutdown,
}

impl EndReason {
    /// The label value: `completed`, `client_gone`, `grpc_error`,
    /// `slow_consumer`, `idle_timeout`, `shutdown`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EndReason::Completed => "completed",
            EndReason::ClientGone => "client_gone",
            EndReason::GrpcError => "grpc_error",
            EndReason::SlowConsumer => "slow_consumer",
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::Shutdown => "shutdown",
        }
    }

    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => EndReason::Completed,
            2 => EndReason::ClientGone,
            3 => EndReason::GrpcError,
            4 => EndReason::SlowConsumer,
            5 => EndReason::IdleTimeout,
            6 => EndReason::Shutdown,
            _ => return None,
        })
    }

    fn to_u8(self) -> u8 {
        match self {
            EndReason::Completed => 1,
            EndReason::ClientGone => 2,
            EndReason::GrpcError => 3,
            EndReason::SlowConsumer => 4,
            EndReason::IdleTimeout => 5,
            EndReason::Shutdown => 6,
        }
    }
}

pub(crate) fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Sse => "sse",
        Mode::WebSocket => "websocket",
        Mode::Chunked => "chunked",
    }
}

/// The span of one request: created before anything else is done with it.
pub(crate) fn request_span(rpc: &RpcName, method: &http::Method, uri: &http::Uri) -> tracing::Span {
    let span = tracing::info_span!(
        "gateway.request",
        otel.name = tracing::field::Empty,
        otel.kind = "server",
        http.request.method = %method,
        http.route = rpc.route,
        url.path = uri.path(),
        rpc.system = "grpc",
        rpc.service = rpc.service,
        rpc.method = rpc.method,
        gateway.stream.mode = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        rpc.grpc.status_code = tracing::field::Empty,
    );
    if !span.is_disabled() {
        span.record(
            "otel.name",
            tracing::field::display(format_args!("{method} {}", rpc.route)),
        );
    }
    span
}

/// Serves `request` with `serve` inside the request's span, then records
/// the response status (span field, request metrics).
///
/// Not an `async fn`: one keeps its arguments for its whole life, so the
/// request and `serve` (which holds what the handler's future holds
/// again) would stay in the future beside the handler's own, which every
/// request's allocation then carries and copies.
pub(crate) fn observed<'a, F, Fut>(
    rpc: &'a RpcName,
    request: axum::extract::Request,
    serve: F,
) -> impl std::future::Future<Output = axum::response::Response> + 'a
where
    F: FnOnce(axum::extract::Request) -> Fut,
    Fut: std::future::Future<Output = axum::response::Response> + 'a,
{
    let start = start_time();
    let method = request.method().clone();
    let span = request_span(rpc, &method, request.uri());
    let serving = tracing::Instrument::instrument(serve(request), span.clone());
    // A combinator, not `async move { serving.await }`, which would hold
    // the handler's future twice (the captured one and the awaited one).
    futures_util::FutureExt::map(serving, move |response| {
        request_done(&span, rpc, &method, &response, start);
        response
    })
}

/// Records the HTTP status of a response on the request span and in the
/// request metrics; `start` is when the request arrived.
pub(crate) fn request_done(
    span: &tracing::Span,
    rpc: &RpcName,
    method: &http::Method,
    response: &axum::response::Response,
    start: Option<std::time::Instant>,
) {
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    tracing::debug!(parent: span, status = status.as_u16(), "request answered");
    #[cfg(feature = "metrics")]
    crate::request_keys::record(
        rpc.route,
        method,
        status,
        start.map(|start| start.elapsed().as_secs_f64()),
    );
    #[cfg(not(feature = "metrics"))]
    let _ = (rpc, method, start);
}

/// When a request arrived, if the metrics need it.
pub(crate) fn start_time() -> Option<std::time::Instant> {
    #[cfg(feature = "metrics")]
    return Some(std::time::Instant::now());
    #[cfg(not(feature = "metrics"))]
    None
}

/// Records the gRPC status code of a failed or finished call on `span`.
pub(crate) fn grpc_code(span: &tracing::Span, code: tonic::Code) {
    span.record("rpc.grpc.status_code", code as i32);
}

/// A reconnecting `EventSource` (an SSE request with `Last-Event-ID`).
pub(crate) fn sse_reconnect(rpc: &RpcName) {
    tracing::debug!("SSE reconnect with Last-Event-ID");
    #[cfg(feature = "metrics")]
    metrics::counter!("gateway_sse_reconnects_total", "route" => rpc.route).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = rpc;
}

/// Where a stream's end reason is written by whichever part of it sees the
/// end first (the body, the stall watcher, the WebSocket task).
#[derive(Clone, Default)]
pub(crate) struct EndCell(Arc<AtomicU8>);

impl EndCell {
    /// Sets the reason unless one is set already.
    pub(crate) fn set(&self, reason: EndReason) {
        let _ = self
            .0
            .compare_exchange(0, reason.to_u8(), Ordering::Relaxed, Ordering::Relaxed);
    }

    fn get(&self) -> Option<EndReason> {
        EndReason::from_u8(self.0.load(Ordering::Relaxed))
    }
}

/// One open stream: counted active while it lives; its drop is the
/// stream's end (reason from its [`EndCell`], else the client went away).
pub(crate) struct StreamTracker {
    span: tracing::Span,
    mode: Mode,
    end: EndCell,
    /// When the stream opened, for its duration; only read when something
    /// records it (the metrics, or the "stream ended" event's level is
    /// enabled when the stream opens): two clock readings per stream less
    /// otherwise.
    start: Option<std::time::Instant>,
    _token: Option<StreamToken>,
}

impl StreamTracker {
    pub(crate) fn new(span: tracing::Span, mode: Mode, token: Option<StreamToken>) -> Self {
        span.record("gateway.stream.mode", mode_name(mode));
        tracing::debug!(parent: &span, mode = mode_name(mode), "stream opened");
        #[cfg(feature = "metrics")]
        metrics::gauge!("gateway_streams_active", "mode" => mode_name(mode)).increment(1.0);
        StreamTracker {
            span,
            mode,
            end: EndCell::default(),
            start: (cfg!(feature = "metrics") || tracing::enabled!(tracing::Level::INFO))
                .then(std::time::Instant::now),
            _token: token,
        }
    }

    /// The cell the end reason goes in.
    pub(crate) fn end_cell(&self) -> EndCell {
        self.end.clone()
    }

    /// Sets the end reason (the first one set wins).
    pub(crate) fn end(&self, reason: EndReason) {
        self.end.set(reason);
    }

    /// The stream's span.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// What the request reader of a client or bidi stream needs to count
    /// the messages it receives.
    pub(crate) fn received(&self) -> Received {
        Received::new(self.span.clone(), self.mode)
    }

    /// What the parts of a stream that send messages need to count them.
    pub(crate) fn stats(&self) -> StreamStats {
        StreamStats {
            span: self.span.clone(),
            mode: self.mode,
            end: self.end.clone(),
            #[cfg(feature = "metrics")]
            sent: SentMetrics::new(self.mode),
        }
    }
}

/// Counts the messages of one stream, from whichever task moves them.
#[derive(Clone)]
pub(crate) struct StreamStats {
    span: tracing::Span,
    mode: Mode,
    end: EndCell,
    #[cfg(feature = "metrics")]
    sent: SentMetrics,
}

/// The per-message metrics of a stream's responses, registered once per
/// stream: a lookup by name and labels per message costs more than the
/// update itself.
#[cfg(feature = "metrics")]
#[derive(Clone)]
struct SentMetrics {
    messages: metrics::Counter,
    bytes: metrics::Counter,
    flush: metrics::Histogram,
}

#[cfg(feature = "metrics")]
impl SentMetrics {
    fn new(mode: Mode) -> Self {
        let mode = mode_name(mode);
        SentMetrics {
            messages: metrics::counter!("gateway_stream_messages_sent_total", "mode" => mode),
            bytes: metrics::counter!("gateway_stream_bytes_sent_total", "mode" => mode),
            flush: metrics::histogram!("gateway_stream_flush_seconds", "mode" => mode),
        }
    }
}

impl StreamStats {
    /// Sets the stream's end reason (the first one set wins).
    pub(crate) fn end(&self, reason: EndReason) {
        self.end.set(reason);
    }

    /// Records the gRPC status code of the call on the stream's span.
    pub(crate) fn grpc_code(&self, code: tonic::Code) {
        grpc_code(&self.span, code);
    }

    /// A message handed to the connection now: `bytes` on the wire; `left`
    /// is when it left the gRPC stream.
    pub(crate) fn sent(&self, bytes: usize, left: Left) {
        tracing::trace!(parent: &self.span, bytes, mode = mode_name(self.mode), "message sent");
        #[cfg(feature = "metrics")]
        {
            self.sent.messages.increment(1);
            self.sent.bytes.increment(bytes as u64);
            let flush = std::time::Instant::now().saturating_duration_since(left.at);
            self.sent.flush.record(flush.as_secs_f64());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = left;
    }
}

/// When a response message left the gRPC stream, for the flush-time
/// histogram. Without the `metrics` feature nothing is read or kept: the
/// clock is not read per message for a metric nobody records.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Left {
    #[cfg(feature = "metrics")]
    at: std::time::Instant,
}

impl Left {
    /// Now.
    pub(crate) fn now() -> Self {
        Left::at(None)
    }

    /// At `read`, a clock reading just taken, or now: a message's own
    /// clock read is shared where its stream read the clock anyway.
    pub(crate) fn at(read: Option<std::time::Instant>) -> Self {
        #[cfg(not(feature = "metrics"))]
        let _ = read;
        Left {
            #[cfg(feature = "metrics")]
            at: read.unwrap_or_else(std::time::Instant::now),
        }
    }
}

/// Counts the request messages of one client or bidi stream, with its
/// metric handles registered once per stream (as [`SentMetrics`]).
#[derive(Clone)]
pub(crate) struct Received {
    span: tracing::Span,
    mode: Mode,
    #[cfg(feature = "metrics")]
    messages: metrics::Counter,
    #[cfg(feature = "metrics")]
    bytes: metrics::Counter,
}

impl Received {
    /// The counter of the stream in `mode` whose span is `span`.
    pub(crate) fn new(span: tracing::Span, mode: Mode) -> Self {
        #[cfg(feature = "metrics")]
        let name = mode_name(mode);
        Received {
            span,
            mode,
            #[cfg(feature = "metrics")]
            messages: metrics::counter!("gateway_stream_messages_received_total", "mode" => name),
            #[cfg(feature = "metrics")]
            bytes: metrics::counter!("gateway_stream_bytes_received_total", "mode" => name),
        }
    }

    /// A request message received from the client (`bytes` of JSON).
    pub(crate) fn message(&self, bytes: usize) {
        tracing::trace!(parent: &self.span, bytes, mode = mode_name(self.mode), "message received");
        #[cfg(feature = "metrics")]
        {
            self.messages.increment(1);
            self.bytes.increment(bytes as u64);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = bytes;
    }
}

impl Drop for StreamTracker {
    fn drop(&mut self) {
        let reason = self.end.get().unwrap_or(EndReason::ClientGone);
        let seconds = self.start.map(|start| start.elapsed().as_secs_f64());
        tracing::info!(
            parent: &self.span,
            reason = reason.as_str(),
            mode = mode_name(self.mode),
            duration_s = seconds,
            "stream ended"
        );
        #[cfg(feature = "metrics")]
        {
            let mode = mode_name(self.mode);
            metrics::histogram!("gateway_stream_duration_seconds", "mode" => mode)
                .record(seconds.unwrap_or_default());
            metrics::counter!(
                "gateway_streams_ended_total",
                "mode" => mode,
                "reason" => reason.as_str()
            )
            .increment(1);
            // The gauge goes down last. A scrape is not atomic across
            // metrics: the Prometheus exporter reads every counter, then
            // every gauge. In this order a scrape shows the stream gone
            // from the gauge but not yet counted as ended only when both
            // updates fall between its two reads; the next scrape shows
            // both.
            metrics::gauge!("gateway_streams_active", "mode" => mode).decrement(1.0);
        }
    }
}
