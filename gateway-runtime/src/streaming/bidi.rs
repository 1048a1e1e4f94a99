//! Bidi streaming: requests and responses both streamed; full duplex in
//! chunked and WebSocket mode, one request from path and query in SSE mode.

use std::future::Future;

use axum::extract::Request;
use axum::response::Response;

use super::mode::{Mode, StreamBinding, select_mode, sse_request};
use super::request::{RequestErrors, body_requests, single_request};
use super::response::{Upstream, Writer, respond};
use super::websocket::{self, Session};
use super::{FieldFn, MergeFn, RequestStream, WriteFn};
use crate::bind::BindContext;
use crate::error::GatewayError;
use crate::gateway::ErrorContext;
use crate::metadata;
use crate::path::Captures;
use crate::service::ServiceState;
use crate::unary::grpc_request;

/// Serves one bidi-streaming binding. Responses are sent as they come while
/// the request body is still being read (HTTP/1.1 and HTTP/2 alike).
#[allow(clippy::too_many_arguments)]
pub async fn bidi_streaming<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    request: Request,
    captures: Captures,
    binding: &'static StreamBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    merge: MergeFn<Req>,
    call: impl FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
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
    let mut base = Req::default();
    let cx = BindContext::new(&captures, parts.uri.query().unwrap_or(""), &[], gateway);
    if let Err(e) = bind(&cx, &mut base) {
        return fail(&parts, e);
    }
    if mode == Mode::WebSocket {
        let config = gateway.streaming().websocket.clone().unwrap_or_default();
        let session = Session {
            gateway: gateway.clone(),
            base,
            merge,
            metadata: grpc_request(&parts, gateway, ()).into_parts().0,
            timeout: metadata::request_timeout(&parts.headers),
        };
        let client = state.client.clone();
        return match websocket::upgrade(&mut parts, &config, move |socket| {
            websocket::bidi_stream(socket, session, client, call, write)
        })
        .await
        {
            Ok(response) => response,
            Err(e) => fail(&parts, e),
        };
    }
    let errors = RequestErrors::default();
    let requests = if binding.body_stream && mode == Mode::Chunked {
        body_requests(
            body,
            base,
            merge,
            gateway.json_options().clone(),
            gateway.body_limit(),
            errors.clone(),
        )
    } else {
        single_request(base)
    };
    let call = call(
        state.client.clone(),
        sse_request(mode, &parts, gateway, requests),
    );
    let result = tokio::select! {
        biased;
        error = errors.wait() => return fail(&parts, error),
        result = call => result,
    };
    let response = match result {
        Ok(response) => response,
        Err(status) => {
            return fail(
                &parts,
                errors.take().unwrap_or(GatewayError::Upstream(status)),
            );
        }
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
        Upstream::new(stream, Some(errors)),
        writer,
    )
    .await
    {
        Ok(response) => response,
        Err(e) => fail(&parts, e),
    }
}
