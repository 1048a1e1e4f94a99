//! `Gateway`: the runtime settings every generated router shares.

use std::sync::Arc;

use axum::response::Response;

use crate::browser_auth::BrowserAuth;
use crate::drain::Drain;
use crate::error::GatewayError;
use crate::hooks::{MetadataAnnotator, ResponseHook};
use crate::json::JsonOptions;
use crate::metadata::HeaderRules;
use crate::streaming::{ChunkedConfig, SseConfig, StreamingConfig, WebSocketConfig};

/// Default limit on request bodies: 4 MiB, as gRPC's default message size.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Default limit on a gRPC response message from the backend: 4 MiB, as
/// tonic's clients have.
pub const DEFAULT_MAX_DECODING_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// What an error handler is told about the request that failed.
#[derive(Debug, Clone, Copy)]
pub struct ErrorContext<'a> {
    /// HTTP method of the request.
    pub method: &'a http::Method,
    /// Request URI.
    pub uri: &'a http::Uri,
    /// Request headers.
    pub headers: &'a http::HeaderMap,
}

/// Turns an error into the HTTP response the client gets.
pub type ErrorHandler =
    Arc<dyn Fn(GatewayError, &ErrorContext<'_>, &Gateway) -> Response + Send + Sync + 'static>;

/// Runtime settings of generated gateways: JSON options, body limit, header
/// rules, error handling (and, for streaming, the per-mode settings).
///
/// Cheap to clone; build one with [`Gateway::builder`] or take
/// [`Gateway::default`], and hand `&gateway` to every generated `router`.
#[derive(Clone, Default)]
pub struct Gateway {
    inner: Arc<Inner>,
}

/// Aligned so that the settings start on a cache line after the `Arc`'s
/// reference counts: streams clone and drop the gateway on every worker
/// thread, and each count's change would otherwise take the settings' line
/// from the other cores, which read it for every request and frame.
#[repr(align(128))]
struct Inner {
    json: JsonOptions,
    body_limit: usize,
    headers: HeaderRules,
    error_handler: Option<ErrorHandler>,
    streaming: StreamingConfig,
    annotator: Option<MetadataAnnotator>,
    response_hook: Option<ResponseHook>,
    drain: Option<Drain>,
    browser_auth: BrowserAuth,
    max_decoding_message_size: usize,
    max_encoding_message_size: usize,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            json: JsonOptions::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            headers: HeaderRules::default(),
            error_handler: None,
            streaming: StreamingConfig::default(),
            annotator: None,
            response_hook: None,
            drain: None,
            browser_auth: BrowserAuth::default(),
            max_decoding_message_size: DEFAULT_MAX_DECODING_MESSAGE_SIZE,
            max_encoding_message_size: usize::MAX,
        }
    }
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("json", &self.inner.json)
            .field("body_limit", &self.inner.body_limit)
            .field("custom_error_handler", &self.inner.error_handler.is_some())
            .field("streaming", &self.inner.streaming)
            .field("annotator", &self.inner.annotator.is_some())
            .field("response_hook", &self.inner.response_hook.is_some())
            .field("drain", &self.inner.drain)
            .field("browser_auth", &self.inner.browser_auth)
            .field(
                "max_decoding_message_size",
                &self.inner.max_decoding_message_size,
            )
            .field(
                "max_encoding_message_size",
                &self.inner.max_encoding_message_size,
            )
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A builder starting from the defaults.
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder {
            inner: Inner::default(),
        }
    }

    /// JSON options for request and response bodies.
    pub fn json_options(&self) -> &JsonOptions {
        &self.inner.json
    }

    /// Largest accepted request body, in bytes.
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// Header ↔ metadata rules.
    pub fn header_rules(&self) -> &HeaderRules {
        &self.inner.headers
    }

    /// Streaming settings.
    pub fn streaming(&self) -> &StreamingConfig {
        &self.inner.streaming
    }

    /// The drain handle, if one was given.
    pub fn drain(&self) -> Option<&Drain> {
        self.inner.drain.as_ref()
    }

    /// Largest gRPC message accepted from the backend.
    pub fn max_decoding_message_size(&self) -> usize {
        self.inner.max_decoding_message_size
    }

    /// Largest gRPC message sent to the backend.
    pub fn max_encoding_message_size(&self) -> usize {
        self.inner.max_encoding_message_size
    }

    /// Where browser streams may carry a bearer token.
    pub(crate) fn browser_auth(&self) -> &BrowserAuth {
        &self.inner.browser_auth
    }

    /// Whether the gateway is draining for shutdown.
    pub(crate) fn is_draining(&self) -> bool {
        self.inner.drain.as_ref().is_some_and(Drain::is_draining)
    }

    /// Resolves when the gateway starts draining (never without a drain).
    pub(crate) async fn draining(&self) {
        match &self.inner.drain {
            Some(drain) => drain.draining().await,
            None => std::future::pending().await,
        }
    }

    /// Adds the annotator's metadata.
    pub(crate) fn annotate(
        &self,
        parts: &http::request::Parts,
        metadata: &mut tonic::metadata::MetadataMap,
    ) {
        if let Some(annotator) = &self.inner.annotator {
            annotator(parts, metadata);
        }
    }

    /// Runs the response hook on a successful response.
    pub(crate) fn hook_response(
        &self,
        metadata: &tonic::metadata::MetadataMap,
        response: &mut Response,
    ) {
        if let Some(hook) = &self.inner.response_hook {
            hook(metadata, response);
        }
    }

    /// The response for an error: the custom error handler's, or the
    /// standard JSON error body (`{"code":N,"message":"…","details":[…]}`).
    pub fn error_response(&self, error: GatewayError, cx: &ErrorContext<'_>) -> Response {
        match &self.inner.error_handler {
            Some(handler) => handler(error, cx, self),
            None => self.default_error_response(error),
        }
    }

    /// The error response for a request, from its head.
    pub(crate) fn fail(&self, parts: &http::request::Parts, error: GatewayError) -> Response {
        if let GatewayError::Upstream(status) = &error {
            crate::telemetry::grpc_code(&tracing::Span::current(), status.code());
        }
        let cx = ErrorContext {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
        };
        self.error_response(error, &cx)
    }

    /// The error response for a whole request (routing fallbacks).
    pub(crate) fn fail_request(
        &self,
        request: &axum::extract::Request,
        error: GatewayError,
    ) -> Response {
        let cx = ErrorContext {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
        };
        self.error_response(error, &cx)
    }

    /// The standard error response, for handlers that want to wrap it.
    pub fn default_error_response(&self, error: GatewayError) -> Response {
        error.into_response_with(&self.inner.json, &self.inner.headers)
    }
}

/// Builds a [`Gateway`].
pub struct GatewayBuilder {
    inner: Inner,
}

impl std::fmt::Debug for GatewayBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayBuilder").finish_non_exhaustive()
    }
}

impl GatewayBuilder {
    /// Replaces the JSON options.
    pub fn json_options(mut self, options: JsonOptions) -> Self {
        self.inner.json = options;
        self
    }

    /// Whether fields with default values are written (default: true, as
    /// the Go gateways do).
    pub fn emit_defaults(mut self, emit: bool) -> Self {
        self.inner.json.emit_defaults = emit;
        self
    }

    /// Write proto field names instead of lowerCamelCase JSON names
    /// (default: false).
    pub fn use_proto_names(mut self, proto_names: bool) -> Self {
        self.inner.json.use_proto_names = proto_names;
        self
    }

    /// Skip unknown fields in request bodies (default: true); when false,
    /// an unknown field is a 400.
    pub fn ignore_unknown_fields(mut self, ignore: bool) -> Self {
        self.inner.json.ignore_unknown_fields = ignore;
        self
    }

    /// Largest accepted request body in bytes (default 4 MiB); larger → 413.
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.inner.body_limit = limit;
        self
    }

    /// Replaces all header ↔ metadata rules.
    pub fn header_rules(mut self, rules: HeaderRules) -> Self {
        self.inner.headers = rules;
        self
    }

    /// Which request headers become gRPC metadata, and under which key.
    pub fn incoming_header_matcher(
        mut self,
        matcher: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.inner.headers.incoming = Arc::new(matcher);
        self
    }

    /// Which response header metadata becomes HTTP headers, and their names.
    pub fn outgoing_header_matcher(
        mut self,
        matcher: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.inner.headers.outgoing_header = Arc::new(matcher);
        self
    }

    /// Which trailer metadata becomes HTTP trailers, and their names.
    pub fn outgoing_trailer_matcher(
        mut self,
        matcher: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.inner.headers.outgoing_trailer = Arc::new(matcher);
        self
    }

    /// A custom error handler. It receives typed errors, so it can tell a
    /// gateway-raised error (bad path parameter, body too large, …) from an
    /// upstream gRPC status.
    pub fn error_handler(
        mut self,
        handler: impl Fn(GatewayError, &ErrorContext<'_>, &Gateway) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.inner.error_handler = Some(Arc::new(handler));
        self
    }

    /// Server-Sent Events settings (EOS event, heartbeat, retry, event id
    /// and name fields, error event).
    pub fn sse(mut self, config: SseConfig) -> Self {
        self.inner.streaming.sse = config;
        self
    }

    /// Accepts WebSocket upgrades on streaming bindings, with these settings
    /// (origin policy, sizes, pings). Without it, upgrades get 501.
    pub fn websocket(mut self, config: WebSocketConfig) -> Self {
        self.inner.streaming.websocket = Some(config);
        self
    }

    /// Chunked transfer (NDJSON) settings.
    pub fn chunked(mut self, config: ChunkedConfig) -> Self {
        self.inner.streaming.chunked = config;
        self
    }

    /// How long a streaming response waits for its first message before
    /// committing its headers (default 250 ms); see
    /// [`StreamingConfig::first_message_wait`].
    pub fn first_message_wait(mut self, wait: std::time::Duration) -> Self {
        self.inner.streaming.first_message_wait = wait;
        self
    }

    /// How long a client may accept no data of a streaming response before
    /// the stream ends as a slow consumer (default 30 s; `None`: no limit);
    /// see [`StreamingConfig::stall_timeout`].
    pub fn stall_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.inner.streaming.stall_timeout = timeout;
        self
    }

    /// Adds gRPC request metadata computed from each HTTP request head
    /// (after the header rules), in every mode; see [`MetadataAnnotator`].
    pub fn metadata_annotator(
        mut self,
        annotator: impl Fn(&http::request::Parts, &mut tonic::metadata::MetadataMap)
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.inner.annotator = Some(Arc::new(annotator));
        self
    }

    /// Adjusts successful responses from the gRPC response metadata
    /// (status, headers, cookies); see [`ResponseHook`].
    pub fn response_hook(
        mut self,
        hook: impl Fn(&tonic::metadata::MetadataMap, &mut Response) + Send + Sync + 'static,
    ) -> Self {
        self.inner.response_hook = Some(Arc::new(hook));
        self
    }

    /// Graceful shutdown: once `drain` is started, new streams get 503 and
    /// open ones end the documented way (docs/operations.md).
    pub fn drain(mut self, drain: &Drain) -> Self {
        self.inner.drain = Some(drain.clone());
        self
    }

    /// Lets browser streams carry a bearer token in a query parameter or a
    /// WebSocket subprotocol (off by default); see [`BrowserAuth`].
    pub fn browser_auth(mut self, auth: BrowserAuth) -> Self {
        self.inner.browser_auth = auth;
        self
    }

    /// Largest gRPC message the gateway accepts from the backend, in bytes
    /// (default 4 MiB, as tonic's clients): a larger response fails the
    /// call with `OutOfRange`. What `FooClient::max_decoding_message_size`
    /// set when routers took a tonic client.
    pub fn max_decoding_message_size(mut self, limit: usize) -> Self {
        self.inner.max_decoding_message_size = limit;
        self
    }

    /// Largest gRPC message the gateway sends to the backend, in bytes
    /// (default: no limit, as tonic's clients; request bodies are limited
    /// by [`GatewayBuilder::body_limit`] before that).
    pub fn max_encoding_message_size(mut self, limit: usize) -> Self {
        self.inner.max_encoding_message_size = limit;
        self
    }

    /// Finishes the gateway.
    pub fn build(self) -> Gateway {
        Gateway {
            inner: Arc::new(self.inner),
        }
    }
}
