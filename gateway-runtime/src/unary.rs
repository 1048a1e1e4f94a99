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
use crate::router::ServiceState;
use crate::telemetry::{self, RpcName};

/// Facts about a binding that the generated code fixes at generation time.
#[derive(Debug)]
pub struct UnaryBinding {
    /// Whether the binding reads the request body (`body` is set).
    pub reads_body: bool,
    /// Route template and gRPC method, for tracing and metrics.
    pub rpc: RpcName,
}

/// Serves one unary binding.
///
/// `bind` writes path, query and body values into the request message,
/// `call` makes the gRPC call, `write` writes the response (or its
/// `response_body` field) as JSON. Errors of any step become the gateway's
/// error response. When the HTTP client goes away, hyper drops this future
/// and with it the tonic call, which cancels the gRPC request.
///
/// Only the typed parts (binding, the call, the response's JSON) are
/// compiled per binding; the driver itself is compiled once, for all
/// bindings.
pub async fn unary<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    request: Request,
    captures: Captures,
    binding: &'static UnaryBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError> + Send,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    write: impl FnOnce(&Resp, &mut JsonWriter) + Send + 'static,
) -> Response
where
    C: Clone + Send + Sync + 'static,
    Req: Default + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
{
    let respond = move |message: Resp, metadata: &_, gateway: &Gateway| {
        let mut writer = JsonWriter::new(gateway.json_options());
        write(&message, &mut writer);
        json_response(writer.into_bytes(), metadata, gateway)
    };
    let mut typed = Typed::new(&state.client, bind, call, respond);
    serve_unary(&state.gateway, request, captures, binding, &mut typed).await
}

/// [`unary`] for a method that returns `google.api.HttpBody`: the response
/// is the message's bytes with its content type, not JSON. `raw` takes the
/// message apart.
pub async fn unary_raw<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    request: Request,
    captures: Captures,
    binding: &'static UnaryBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError> + Send,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    raw: impl FnOnce(Resp) -> RawBody + Send + 'static,
) -> Response
where
    C: Clone + Send + Sync + 'static,
    Req: Default + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
{
    let respond = move |message: Resp, metadata: &_, gateway: &Gateway| {
        raw_response(raw(message), metadata, gateway)
    };
    let mut typed = Typed::new(&state.client, bind, call, respond);
    serve_unary(&state.gateway, request, captures, binding, &mut typed).await
}

/// The successful end of a unary call: the response metadata and the HTTP
/// response built from the message.
type Answer = Result<(tonic::metadata::MetadataMap, Response), tonic::Status>;

/// The typed half of a unary binding, behind a trait object: the driver
/// (deadline, body, binding context, metadata, errors, telemetry) is
/// compiled once for all bindings, and each binding adds only its message
/// types' code.
trait UnaryCall: Send {
    /// Binds path, query and body values into the request message.
    fn bind(&mut self, cx: &BindContext<'_>) -> Result<(), GatewayError>;

    /// Starts the call with `request`'s metadata, extensions and timeout;
    /// the future ends with the success response. tonic's call future is
    /// several KiB; boxed, it is not copied each time the driver's future
    /// (and the handler's, and axum's around it) is moved.
    fn call(
        &mut self,
        request: tonic::Request<()>,
        gateway: &Gateway,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send>>;
}

/// [`UnaryCall`] of one binding.
struct Typed<'a, C, Req, Bind, Call, Respond> {
    client: &'a C,
    message: Option<Req>,
    bind: Option<Bind>,
    call: Option<Call>,
    respond: Option<Respond>,
}

impl<'a, C, Req: Default, Bind, Call, Respond> Typed<'a, C, Req, Bind, Call, Respond> {
    /// The typed half of one call, with a default request message.
    fn new(client: &'a C, bind: Bind, call: Call, respond: Respond) -> Self {
        Typed {
            client,
            message: Some(Req::default()),
            bind: Some(bind),
            call: Some(call),
            respond: Some(respond),
        }
    }
}

impl<C, Req, Resp, Fut, Bind, Call, Respond> UnaryCall for Typed<'_, C, Req, Bind, Call, Respond>
where
    C: Clone + Send + Sync + 'static,
    Req: Default + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
    Bind: FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError> + Send,
    Call: FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    Respond: FnOnce(Resp, &tonic::metadata::MetadataMap, &Gateway) -> Response + Send + 'static,
{
    fn bind(&mut self, cx: &BindContext<'_>) -> Result<(), GatewayError> {
        match (self.bind.take(), self.message.as_mut()) {
            (Some(bind), Some(message)) => bind(cx, message),
            _ => Ok(()),
        }
    }

    fn call(
        &mut self,
        request: tonic::Request<()>,
        gateway: &Gateway,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send>> {
        let message = self.message.take().unwrap_or_default();
        let call = self.call.take().expect("a unary call starts once");
        let respond = self.respond.take().expect("a unary call starts once");
        let client = self.client.clone();
        let gateway = gateway.clone();
        // The call future is made inside the boxed one, on its first poll:
        // made out here, its several KiB would be copied into the async
        // block and again into the box. The box is allocated before the
        // block is written into it: `Box::pin(async { .. })` built the
        // block (7.5 KiB with tonic's future, of which only the captures are
        // set) on the stack and copied all of it.
        let boxed = Box::write(Box::new_uninit(), async move {
            let future = call(client, request.map(|()| message));
            let (metadata, message, _) = future.await?.into_parts();
            let response = respond(message, &metadata, &gateway);
            Ok((metadata, response))
        });
        Box::into_pin(boxed)
    }
}

/// The unary call itself, for every binding.
async fn serve_unary(
    gateway: &Gateway,
    request: Request,
    captures: Captures,
    binding: &'static UnaryBinding,
    typed: &mut dyn UnaryCall,
) -> Response {
    telemetry::observed(&binding.rpc, request, |request| {
        let (parts, body) = request.into_parts();
        call_unary(gateway, parts, body, captures, binding, typed)
    })
    .await
}

async fn call_unary(
    gateway: &Gateway,
    mut parts: http::request::Parts,
    body: Body,
    captures: Captures,
    binding: &'static UnaryBinding,
    typed: &mut dyn UnaryCall,
) -> Response {
    // The header is read once: the deadline and the call's timeout.
    let timeout = match Deadline::timeout_of(&parts.headers) {
        Ok(timeout) => timeout,
        Err(e) => return gateway.fail(&parts, e),
    };
    let deadline = Deadline::within(timeout);
    let bytes = if binding.reads_body {
        match crate::body::read_body_with_headers(&parts.headers, body, gateway.body_limit()).await
        {
            Ok(bytes) => bytes,
            Err(e) => return gateway.fail(&parts, e),
        }
    } else {
        Bytes::new()
    };
    let cx = BindContext::new(&captures, parts.uri.query().unwrap_or(""), &bytes, gateway)
        .with_content_type(crate::http_body::request_content_type(&parts.headers));
    if let Err(e) = typed.bind(&cx) {
        return gateway.fail(&parts, e);
    }
    // The extensions move into the gRPC request: past this point the
    // request's parts serve only the error response (method, URI, headers).
    let mut request = grpc_request_head(&parts, gateway, http::Extensions::new(), timeout);
    *request.extensions_mut() = without_upgrade(std::mem::take(&mut parts.extensions));
    let call = typed.call(request, gateway);
    // tonic passes the timeout on as `grpc-timeout`; the gateway also
    // enforces it, so that an expired deadline is DeadlineExceeded (504)
    // whoever notices first.
    match deadline.run(call).await {
        Ok((metadata, mut response)) => {
            telemetry::grpc_code(&tracing::Span::current(), tonic::Code::Ok);
            gateway.hook_response(&metadata, &mut response);
            response
        }
        Err(status) => {
            telemetry::grpc_code(&tracing::Span::current(), status.code());
            gateway.fail(&parts, GatewayError::Upstream(status))
        }
    }
}

/// A tonic request carrying the metadata derived from the HTTP request
/// headers (and the gateway's annotator), the request's extensions (what
/// tower layers inserted reaches an in-process service) and the
/// `Grpc-Timeout` deadline.
pub(crate) fn grpc_request<M>(
    parts: &http::request::Parts,
    gateway: &Gateway,
    message: M,
) -> tonic::Request<M> {
    let extensions = without_upgrade(parts.extensions.clone());
    let timeout = metadata::request_timeout(&parts.headers);
    grpc_request_head(parts, gateway, extensions, timeout).map(|()| message)
}

/// [`grpc_request`] without its message: compiled once, not once per
/// message type.
fn grpc_request_head(
    parts: &http::request::Parts,
    gateway: &Gateway,
    extensions: http::Extensions,
    timeout: Option<std::time::Duration>,
) -> tonic::Request<()> {
    let remote = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let mut metadata = metadata::incoming_metadata(parts, remote, gateway.header_rules());
    gateway.annotate(parts, &mut metadata);
    let mut request = tonic::Request::from_parts(metadata, extensions, ());
    if let Some(timeout) = timeout {
        request.set_timeout(timeout);
    }
    request
}

/// The request's extensions for the gRPC request, less those hyper reads
/// on an outgoing request: the `:protocol` of an HTTP/2 WebSocket would
/// turn the gRPC call over a `Channel` into an extended CONNECT.
fn without_upgrade(mut extensions: http::Extensions) -> http::Extensions {
    extensions.remove::<hyper::ext::Protocol>();
    extensions.remove::<hyper::upgrade::OnUpgrade>();
    extensions
}

/// A 200 response with a JSON body and the response metadata as headers.
///
/// tonic merges a unary call's trailers into its response metadata, so
/// both arrive here and both are sent as `Grpc-Metadata-*` headers.
fn json_response(
    body: Vec<u8>,
    metadata: &tonic::metadata::MetadataMap,
    gateway: &Gateway,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::OK;
    metadata::outgoing_headers(metadata, gateway.header_rules(), response.headers_mut());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
