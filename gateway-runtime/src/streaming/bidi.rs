//! Bidi streaming: requests and responses both streamed; full duplex in
//! chunked and WebSocket mode, one request from path and query in SSE mode.

use std::future::Future;

use axum::extract::Request;
use axum::response::Response;

use super::mode::{Mode, StreamBinding, sse_request};
use super::prepare::{Prepared, prepare, upgrade};
use super::request::{RequestErrors, body_requests, single_request};
use super::response::{Upstream, Writer, respond};
use super::websocket;
use super::{FieldFn, MergeFn, RequestStream, WriteFn};
use crate::bind::BindContext;
use crate::error::GatewayError;
use crate::path::Captures;
use crate::service::ServiceState;

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
    let prepared = match prepare(gateway, request, &captures, binding, bind, false).await {
        Ok(prepared) => prepared,
        Err(response) => return response,
    };
    if prepared.mode == Mode::WebSocket {
        let client = state.client.clone();
        return upgrade(gateway, prepared, merge, move |socket, session| {
            websocket::bidi_stream(socket, session, client, call, write)
        })
        .await;
    }
    let Prepared {
        parts,
        body,
        mode,
        message: base,
    } = prepared;
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
        error = errors.wait() => return gateway.fail(&parts, error),
        result = call => result,
    };
    let response = match result {
        Ok(response) => response,
        Err(status) => {
            return gateway.fail(
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
        Err(e) => gateway.fail(&parts, e),
    }
}
