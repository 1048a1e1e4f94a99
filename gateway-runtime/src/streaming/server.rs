//! Server streaming: one request (path, query, body or first WebSocket
//! frame), a stream of responses.

use std::future::Future;

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;

use super::mode::{Mode, StreamBinding, select_mode, sse_request};
use super::response::{Upstream, Writer, respond};
use super::websocket::{self, Session};
use super::{FieldFn, MergeFn, WriteFn};
use crate::bind::BindContext;
use crate::error::GatewayError;
use crate::gateway::ErrorContext;
use crate::metadata;
use crate::path::Captures;
use crate::service::ServiceState;
use crate::unary::grpc_request;

/// Serves one server-streaming binding in the mode the request asks for.
#[allow(clippy::too_many_arguments)]
pub async fn server_streaming<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    request: Request,
    captures: Captures,
    binding: &'static StreamBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    merge: MergeFn<Req>,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    write: WriteFn<Resp>,
    field: FieldFn<Resp>,
) -> Response
where
    C: Clone + Send + 'static,
    Req: Default + Clone + Send + Sync + 'static,
    Resp: Send + Sync + 'static,
    Fut: Future<Output = Result<tonic::Response<tonic::Streaming<Resp>>, tonic::Status>>
        + Send
        + 'static,
{
    let gateway = &state.gateway;
    let (mut parts, body) = request.into_parts();
    let fail = |parts: &http::request::Parts, error: GatewayError| {
        let cx = ErrorContext {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
        };
        gateway.error_response(error, &cx)
    };
    let mode = match select_mode(&parts.headers, binding, gateway) {
        Ok(mode) => mode,
        Err(e) => return fail(&parts, e),
    };
    let bytes = if binding.reads_body && mode != Mode::WebSocket {
        match crate::body::read_body_with_headers(&parts.headers, body, gateway.body_limit()).await
        {
            Ok(bytes) => bytes,
            Err(e) => return fail(&parts, e),
        }
    } else {
        Bytes::new()
    };
    let mut message = Req::default();
    let cx = BindContext::new(&captures, parts.uri.query().unwrap_or(""), &bytes, gateway);
    if let Err(e) = bind(&cx, &mut message) {
        return fail(&parts, e);
    }
    if mode == Mode::WebSocket {
        let config = gateway.streaming().websocket.clone().unwrap_or_default();
        let session = Session {
            gateway: gateway.clone(),
            base: message,
            merge,
            metadata: grpc_request(&parts, gateway, ()).into_parts().0,
            timeout: metadata::request_timeout(&parts.headers),
        };
        let client = state.client.clone();
        return match websocket::upgrade(&mut parts, &config, move |socket| {
            websocket::server_stream(socket, session, client, call, write)
        })
        .await
        {
            Ok(response) => response,
            Err(e) => fail(&parts, e),
        };
    }
    let response = match call(
        state.client.clone(),
        sse_request(mode, &parts, gateway, message),
    )
    .await
    {
        Ok(response) => response,
        Err(status) => return fail(&parts, GatewayError::Upstream(status)),
    };
    let (response_metadata, stream, _) = response.into_parts();
    let writer = Writer {
        gateway: gateway.clone(),
        write,
        field,
    };
    match respond(
        mode,
        &parts.headers,
        &response_metadata,
        Upstream::new(stream, None),
        writer,
    )
    .await
    {
        Ok(response) => response,
        Err(e) => fail(&parts, e),
    }
}
