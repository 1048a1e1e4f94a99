//! The unary call: bind the request, call the backend, write the
//! response. Generated handlers supply the typed parts as closures.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};

use crate::bind::BindContext;
use crate::deadline::Deadline;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::http_body::{RawBody, raw_response};
use crate::json::JsonWriter;
use crate::metadata;
use crate::path::Captures;
use crate::router::{RouteFuture, RouterState};
use crate::telemetry::{self, RpcName};

/// Facts about a binding that the generated code fixes at generation time.
#[derive(Debug)]
pub struct UnaryBinding {
    /// Whether the binding reads the request body (`body` is set).
    pub reads_body: bool,
    /// Route template and gRPC method, for tracing and metrics.
    pub rpc: RpcName,
}

/// What a generated router's backend is, as far as the request's metadata
/// map goes: [`Remote`](crate::remote::Remote) sends it through tonic,
/// which adds its own entries; [`Direct`](crate::direct::Direct) hands it
/// to the service as it is. A supertrait of each generated `Backend`.
pub trait CallTarget {
    /// Entries the call adds to the request's metadata map after the
    /// gateway has filled it.
    const ADDED_METADATA: usize;
}

impl<T> CallTarget for crate::remote::Remote<T> {
    const ADDED_METADATA: usize = metadata::TONIC_ADDS;
}

/// Nothing but the `grpc-timeout` of a request with a deadline, whose
/// `Grpc-Timeout` header is counted among the request's headers already.
impl<S> CallTarget for crate::direct::Direct<S> {
    const ADDED_METADATA: usize = 0;
}

/// What a unary binding compiles of its own: a function that binds the
/// request message (through [`UnaryInput`]) and starts the call on the
/// backend `C`, generated as a closure that calls [`unary_call`] (or
/// [`unary_raw_call`], for `google.api.HttpBody` responses) with the binding's typed parts.
pub type UnaryStart<C> = fn(C, &mut UnaryInput<'_>) -> Result<CallFuture, GatewayError>;

/// A started unary call: it ends with the response metadata and the HTTP
/// response. tonic's call future is several KiB; boxed, it is not copied
/// each time the driver's future (and axum's around it) is moved.
pub type CallFuture = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// Serves one unary binding.
///
/// `start` binds path, query and body values into the request message,
/// starts the gRPC call and writes the response (or its `response_body`
/// field) as JSON. Errors of any step become the gateway's error response.
/// When the HTTP client goes away, hyper drops this future and with it the
/// tonic call, which cancels the gRPC request.
///
/// Only `start` is compiled per binding; this driver is compiled once per
/// backend type (service), and its body once for all.
pub fn unary<C>(
    state: RouterState,
    request: Request,
    captures: Captures,
    binding: &'static UnaryBinding,
    start: UnaryStart<C>,
) -> RouteFuture
where
    C: Clone + Send + Sync + 'static,
{
    // Written into its box, not built on the stack and copied there (see
    // `start_call`).
    let boxed = Box::write(
        Box::new_uninit(),
        serve_unary(state, request, captures, binding, start),
    );
    Box::into_pin(boxed)
}

/// What a binding's [`UnaryStart`] reads: the binding context (path, query,
/// body) and, once the message is bound, the gRPC request's head.
pub struct UnaryInput<'a> {
    parts: &'a mut http::request::Parts,
    captures: &'a Captures,
    body: &'a Bytes,
    gateway: &'a Gateway,
    timeout: Option<std::time::Duration>,
}

impl UnaryInput<'_> {
    /// The binding context: path captures, query and body.
    fn context(&self) -> BindContext<'_> {
        BindContext::new(
            self.captures,
            self.parts.uri.query().unwrap_or(""),
            self.body,
            self.gateway,
        )
        .with_content_type_of(&self.parts.headers)
    }

    /// The gRPC request without its message: the metadata (the gateway's
    /// annotator sees the request with its extensions), then the
    /// extensions moved into it: past this point the request's parts serve
    /// only the error response (method, URI, headers).
    fn head(&mut self, room: usize) -> tonic::Request<()> {
        grpc_request_moving_head(self.parts, self.gateway, self.timeout, room)
    }
}

/// A unary binding's [`UnaryStart`]: binds a default request message with
/// `bind`, starts `call` on `client`, and writes the response with `write`.
pub fn unary_call<C, Req, Resp, Fut>(
    client: C,
    input: &mut UnaryInput<'_>,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    write: fn(&Resp, &mut JsonWriter),
) -> Result<CallFuture, GatewayError>
where
    C: CallTarget + Send + 'static,
    Req: Default + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
{
    start_call(client, input, bind, call, Render::Json(write))
}

/// [`unary_call`] for a method that returns `google.api.HttpBody`: the
/// response is the message's bytes with its content type, not JSON. `raw`
/// takes the message apart.
pub fn unary_raw_call<C, Req, Resp, Fut>(
    client: C,
    input: &mut UnaryInput<'_>,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    raw: fn(Resp) -> RawBody,
) -> Result<CallFuture, GatewayError>
where
    C: CallTarget + Send + 'static,
    Req: Default + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
{
    start_call(client, input, bind, call, Render::Raw(raw))
}

/// The successful end of a unary call: the response metadata and the HTTP
/// response built from the message.
type Answer = Result<(tonic::metadata::MetadataMap, Response), tonic::Status>;

/// How a response message becomes the HTTP response.
enum Render<Resp> {
    /// JSON, written by the binding's function.
    Json(fn(&Resp, &mut JsonWriter)),
    /// A `google.api.HttpBody`, taken apart.
    Raw(fn(Resp) -> RawBody),
}

/// Binds, then starts the call inside its box.
fn start_call<C, Req, Resp, Fut>(
    client: C,
    input: &mut UnaryInput<'_>,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    render: Render<Resp>,
) -> Result<CallFuture, GatewayError>
where
    C: CallTarget + Send + 'static,
    Req: Default + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
{
    let mut message = Req::default();
    bind(&input.context(), &mut message)?;
    let request = input.head(C::ADDED_METADATA);
    let gateway = input.gateway.clone();
    // The call future is made inside the boxed one, on its first poll:
    // made out here, its several KiB would be copied into the async block
    // and again into the box. The box is allocated before the block is
    // written into it: `Box::pin(async { .. })` built the block (7.5 KiB
    // with tonic's future, of which only the captures are set) on the stack
    // and copied all of it. The block only awaits: what follows is a plain
    // function, so that each binding's state machine stays small.
    let boxed = Box::write(Box::new_uninit(), async move {
        let response = call(client, request.map(|()| message)).await;
        answer(response, render, &gateway)
    });
    Ok(Box::into_pin(boxed))
}

/// The HTTP response of a finished call.
fn answer<Resp>(
    response: Result<tonic::Response<Resp>, tonic::Status>,
    render: Render<Resp>,
    gateway: &Gateway,
) -> Answer {
    let (metadata, message, _) = response?.into_parts();
    let response = match render {
        Render::Json(write) => json_response(&|w| write(&message, w), &metadata, gateway),
        Render::Raw(raw) => raw_response(raw(message), &metadata, gateway),
    };
    Ok((metadata, response))
}

/// What the driver calls to bind and start: a binding's [`UnaryStart`]
/// with its backend.
type Start<'a> = dyn FnMut(&mut UnaryInput<'_>) -> Result<CallFuture, GatewayError> + Send + 'a;

/// The unary call, inside the request's span, then the response status
/// recorded (what `telemetry::observed` does for the other drivers). The
/// route's boxed future is this one's. The span is made and the request
/// taken apart before it, when the route is called: the future holds the
/// parts only, not the request as well (an `async fn` keeps its arguments
/// apart from what it makes of them), and the call borrows them. That
/// keeps it within the allocator's small sizes (864 bytes on a direct
/// call, from 1 400). What the call does is `call_unary`, compiled once.
fn serve_unary<C>(
    state: RouterState,
    request: Request,
    captures: Captures,
    binding: &'static UnaryBinding,
    start: UnaryStart<C>,
) -> impl Future<Output = Response> + Send
where
    C: Clone + Send + Sync + 'static,
{
    let started = telemetry::start_time();
    let span = telemetry::request_span(&binding.rpc, request.method(), request.uri());
    let (mut parts, body) = request.into_parts();
    async move {
        let mut client = Some(state.backend::<C>().clone());
        let mut start = |input: &mut UnaryInput<'_>| match client.take() {
            Some(client) => start(client, input),
            None => Err(GatewayError::Internal("a unary call starts once".into())),
        };
        let gateway = state.gateway();
        let call = call_unary(gateway, &mut parts, body, &captures, binding, &mut start);
        let response = tracing::Instrument::instrument(call, span.clone()).await;
        telemetry::request_done(&span, &binding.rpc, &parts.method, &response, started);
        response
    }
}

async fn call_unary(
    gateway: &Gateway,
    parts: &mut http::request::Parts,
    body: Body,
    captures: &Captures,
    binding: &'static UnaryBinding,
    start: &mut Start<'_>,
) -> Response {
    // The header is read once: the deadline and the call's timeout.
    let timeout = match Deadline::timeout_of(&parts.headers) {
        Ok(timeout) => timeout,
        Err(e) => return gateway.fail(parts, e),
    };
    let deadline = Deadline::within(timeout);
    let bytes = if binding.reads_body {
        // `read_body_with_headers`, one future fewer.
        let limit = gateway.body_limit();
        let read = match crate::body::declared_within(&parts.headers, limit) {
            Ok(()) => crate::body::read_body(body, limit).await,
            Err(e) => Err(e),
        };
        match read {
            Ok(bytes) => bytes,
            Err(e) => return gateway.fail(parts, e),
        }
    } else {
        Bytes::new()
    };
    let mut input = UnaryInput {
        parts,
        captures,
        body: &bytes,
        gateway,
        timeout,
    };
    let call = match start(&mut input) {
        Ok(call) => call,
        Err(e) => return gateway.fail(input.parts, e),
    };
    let parts = &*input.parts;
    // tonic passes the timeout on as `grpc-timeout`; the gateway also
    // enforces it, so that an expired deadline is DeadlineExceeded (504)
    // whoever notices first. Without a deadline the call is awaited here,
    // not through `Deadline::run`'s future.
    let result = if deadline.is_set() {
        deadline.run(call).await
    } else {
        call.await
    };
    match result {
        Ok((metadata, mut response)) => {
            telemetry::grpc_code(&tracing::Span::current(), tonic::Code::Ok);
            gateway.hook_response(&metadata, &mut response);
            response
        }
        Err(status) => {
            telemetry::grpc_code(&tracing::Span::current(), status.code());
            gateway.fail(parts, GatewayError::Upstream(status))
        }
    }
}

/// A tonic request carrying the metadata derived from the HTTP request
/// headers (and the gateway's annotator), the request's extensions (what
/// tower layers inserted reaches an in-process service) and the
/// `Grpc-Timeout` deadline. The extensions are copied: this is for the
/// WebSocket session, whose parts still carry the upgrade; every other
/// call moves them ([`grpc_request_moving`]).
pub(crate) fn grpc_request<M>(
    parts: &http::request::Parts,
    gateway: &Gateway,
    message: M,
) -> tonic::Request<M> {
    let extensions = without_upgrade(parts.extensions.clone());
    let timeout = metadata::request_timeout(&parts.headers);
    grpc_request_head(parts, gateway, extensions, timeout, metadata::TONIC_ADDS).map(|()| message)
}

/// [`grpc_request`] for a caller whose request parts serve only the error
/// response from here on (method, URI, headers): the extensions are moved
/// into the gRPC request rather than copied, once the gateway's annotator
/// has seen them.
pub(crate) fn grpc_request_moving<M>(
    parts: &mut http::request::Parts,
    gateway: &Gateway,
    message: M,
) -> tonic::Request<M> {
    let timeout = metadata::request_timeout(&parts.headers);
    grpc_request_moving_head(parts, gateway, timeout, metadata::TONIC_ADDS).map(|()| message)
}

/// [`grpc_request_moving`] without its message.
fn grpc_request_moving_head(
    parts: &mut http::request::Parts,
    gateway: &Gateway,
    timeout: Option<std::time::Duration>,
    room: usize,
) -> tonic::Request<()> {
    let mut request = grpc_request_head(parts, gateway, http::Extensions::new(), timeout, room);
    *request.extensions_mut() = without_upgrade(std::mem::take(&mut parts.extensions));
    request
}

/// [`grpc_request`] without its message: compiled once, not once per
/// message type.
fn grpc_request_head(
    parts: &http::request::Parts,
    gateway: &Gateway,
    extensions: http::Extensions,
    timeout: Option<std::time::Duration>,
    room: usize,
) -> tonic::Request<()> {
    let remote = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let mut metadata =
        metadata::incoming_metadata_with_room(parts, remote, gateway.header_rules(), room);
    gateway.annotate(parts, &mut metadata);
    let mut request = tonic::Request::from_parts(metadata, extensions, ());
    if let Some(timeout) = timeout {
        request.set_timeout(timeout);
    }
    request
}

/// The request's extensions for the gRPC request, less those hyper reads
/// on an outgoing request (the `:protocol` of an HTTP/2 WebSocket would
/// turn the gRPC call over a `Channel` into an extended CONNECT) and the
/// body-timeout marker of [`serve`](crate::serve::serve), which only the
/// gateway can name and which has done its work once the body is read or
/// the stream's mode is known (a request stream sets it before this).
/// Without it, the `GrpcMethod` the call adds is the map's third entry
/// after `ConnectInfo` and axum's path parameters, which fits the map's
/// first allocation instead of growing it.
fn without_upgrade(mut extensions: http::Extensions) -> http::Extensions {
    extensions.remove::<hyper::ext::Protocol>();
    extensions.remove::<hyper::upgrade::OnUpgrade>();
    extensions.remove::<crate::serve::BodyTimeoutExempt>();
    extensions
}

/// A 200 response with the message `write` writes as its JSON body and the
/// response metadata as headers: a unary call's answer, and a client
/// stream's in chunked mode.
///
/// tonic merges a unary call's trailers into its response metadata, so
/// both arrive here and both are sent as `Grpc-Metadata-*` headers.
pub(crate) fn json_response(
    write: &dyn Fn(&mut JsonWriter),
    metadata: &tonic::metadata::MetadataMap,
    gateway: &Gateway,
) -> Response {
    let body = crate::json::json_frame(gateway.json_options(), b"", write, b"");
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::OK;
    metadata::outgoing_headers(metadata, gateway.header_rules(), response.headers_mut());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
