//! The unary call: bind the request, call the tonic client, write the
//! response. Generated handlers supply the typed parts as closures.

use std::future::Future;
use std::net::SocketAddr;

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
pub async fn unary<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    request: Request,
    captures: Captures,
    binding: &'static UnaryBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut,
    write: impl FnOnce(&Resp, &mut JsonWriter),
) -> Response
where
    C: Clone,
    Req: Default,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    serve_unary(
        state,
        request,
        captures,
        binding,
        bind,
        call,
        |message, metadata, gateway| {
            let mut writer = JsonWriter::new(gateway.json_options());
            write(&message, &mut writer);
            json_response(writer.into_bytes(), metadata, gateway)
        },
    )
    .await
}

/// [`unary`] for a method that returns `google.api.HttpBody`: the response
/// is the message's bytes with its content type, not JSON. `raw` takes the
/// message apart.
pub async fn unary_raw<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    request: Request,
    captures: Captures,
    binding: &'static UnaryBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut,
    raw: impl FnOnce(Resp) -> RawBody,
) -> Response
where
    C: Clone,
    Req: Default,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    serve_unary(
        state,
        request,
        captures,
        binding,
        bind,
        call,
        |message, metadata, gateway| raw_response(raw(message), metadata, gateway),
    )
    .await
}

/// The unary call itself; `respond` builds the success response.
async fn serve_unary<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    request: Request,
    captures: Captures,
    binding: &'static UnaryBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut,
    respond: impl FnOnce(Resp, &tonic::metadata::MetadataMap, &Gateway) -> Response,
) -> Response
where
    C: Clone,
    Req: Default,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    telemetry::observed(&binding.rpc, request, |request| {
        let (parts, body) = request.into_parts();
        call_unary(state, parts, body, captures, binding, bind, call, respond)
    })
    .await
}

#[allow(clippy::too_many_arguments)]
async fn call_unary<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    parts: http::request::Parts,
    body: Body,
    captures: Captures,
    binding: &'static UnaryBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut,
    respond: impl FnOnce(Resp, &tonic::metadata::MetadataMap, &Gateway) -> Response,
) -> Response
where
    C: Clone,
    Req: Default,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    let gateway = &state.gateway;
    let fail = |error: GatewayError| gateway.fail(&parts, error);
    let deadline = match Deadline::of(&parts.headers) {
        Ok(deadline) => deadline,
        Err(e) => return fail(e),
    };
    let bytes = if binding.reads_body {
        match crate::body::read_body_with_headers(&parts.headers, body, gateway.body_limit()).await
        {
            Ok(bytes) => bytes,
            Err(e) => return fail(e),
        }
    } else {
        Bytes::new()
    };
    let mut message = Req::default();
    let cx = BindContext::new(&captures, parts.uri.query().unwrap_or(""), &bytes, gateway)
        .with_content_type(crate::http_body::request_content_type(&parts.headers));
    if let Err(e) = bind(&cx, &mut message) {
        return fail(e);
    }
    let grpc_request = grpc_request(&parts, gateway, message);
    // tonic's call future is several KiB; boxed, it is not copied each time
    // this future (and the handler's, and axum's around it) is moved.
    let call = Box::pin(call(state.client.clone(), grpc_request));
    // tonic passes the timeout on as `grpc-timeout`; the gateway also
    // enforces it, so that an expired deadline is DeadlineExceeded (504)
    // whoever notices first.
    let result = deadline.run(call).await;
    match result {
        Ok(response) => {
            telemetry::grpc_code(&tracing::Span::current(), tonic::Code::Ok);
            let (metadata, message, _) = response.into_parts();
            let mut response = respond(message, &metadata, gateway);
            gateway.hook_response(&metadata, &mut response);
            response
        }
        Err(status) => {
            telemetry::grpc_code(&tracing::Span::current(), status.code());
            fail(GatewayError::Upstream(status))
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
    let remote = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let mut metadata = metadata::incoming_metadata(parts, remote, gateway.header_rules());
    gateway.annotate(parts, &mut metadata);
    let mut request = tonic::Request::from_parts(metadata, extensions(parts), message);
    if let Some(timeout) = metadata::request_timeout(&parts.headers) {
        request.set_timeout(timeout);
    }
    request
}

/// The request's extensions for the gRPC request, less those hyper reads
/// on an outgoing request: the `:protocol` of an HTTP/2 WebSocket would
/// turn the gRPC call over a `Channel` into an extended CONNECT.
fn extensions(parts: &http::request::Parts) -> http::Extensions {
    let mut extensions = parts.extensions.clone();
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
