//! Bidi streaming: requests and responses both streamed; full duplex in
//! chunked and WebSocket mode, one request from path and query in SSE mode.

use std::future::Future;

use axum::extract::Request;
use axum::response::Response;

use super::mode::{Mode, StreamBinding, sse_request};
use super::prepare::{Prepared, WebSocketCall, WebSocketSide, prepare, upgrade};
use super::request::{RequestErrors, request_stream};
use super::response::{ErasedCall, call_and_respond, erased};
use super::websocket;
use super::{FieldFn, MergeFn, RequestStream, WriteFn};
use crate::bind::BindContext;
use crate::error::GatewayError;
use crate::path::Captures;
use crate::router::{RouteFuture, RouterState};

/// Serves one bidi-streaming binding. Responses are sent as they come while
/// the request body is still being read (HTTP/1.1 and HTTP/2 alike).
/// `websocket` is [`bidi_websocket`] when the binding serves WebSocket,
/// `None` otherwise: that side is then not compiled for the binding.
#[allow(clippy::too_many_arguments)]
pub fn bidi_streaming<C, Req, Resp, Fut, Bind, Call>(
    state: RouterState,
    request: Request,
    captures: Captures,
    binding: &'static StreamBinding,
    bind: Bind,
    merge: MergeFn<Req>,
    call: Call,
    write: WriteFn<Resp>,
    field: FieldFn<Resp>,
    websocket: Option<WebSocketSide<C, Req, Call, Resp>>,
) -> RouteFuture
where
    C: Clone + Send + Sync + 'static,
    Req: Default + Clone + Send + Sync + 'static,
    Resp: Send + Sync + 'static,
    Bind: FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError> + Send + 'static,
    Call: FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<tonic::Response<super::ResponseStream<Resp>>, tonic::Status>>
        + Send
        + 'static,
{
    Box::pin(crate::telemetry::observed(
        &binding.rpc,
        request,
        move |request| async move {
            let client = state.backend::<C>().clone();
            let gateway = state.gateway();
            let prepared = match prepare(gateway, request, &captures, binding, bind, false).await {
                Ok(prepared) => prepared,
                Err(response) => return response,
            };
            if prepared.mode == Mode::WebSocket {
                // Boxed: held inline, the upgrade's future would make
                // every stream's future as large.
                let run =
                    WebSocketCall::run(websocket, gateway, client, prepared, merge, call, write);
                return Box::pin(run).await;
            }
            let Prepared {
                mut parts,
                body,
                mode,
                message: base,
                deadline,
                ..
            } = prepared;
            let errors = RequestErrors::default();
            let from_body = binding.body_stream && mode == Mode::Chunked;
            let requests = request_stream(gateway, from_body, body, base, merge, &errors);
            let request = sse_request(mode, &mut parts, gateway, binding, requests);
            // From here on without types: one boxed future per stream. The
            // call's future is made in the box, on its first poll: made
            // outside, the whole future would be copied in.
            let call: ErasedCall = Box::pin(async move {
                let response = call(client, request).await;
                response.map(|response| erased(response, write, field))
            });
            call_and_respond(gateway, mode, &parts, deadline, call, Some(errors)).await
        },
    ))
}

/// The WebSocket side of [`bidi_streaming`].
pub fn bidi_websocket<C, Req, Resp, Fut, Call>(ws: WebSocketCall<C, Req, Call, Resp>) -> RouteFuture
where
    C: Send + 'static,
    Req: Clone + Send + 'static,
    Resp: Send + Sync + 'static,
    Call: FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<tonic::Response<super::ResponseStream<Resp>>, tonic::Status>>
        + Send
        + 'static,
{
    Box::pin(async move {
        let WebSocketCall {
            gateway,
            client,
            prepared,
            merge,
            call,
            write,
        } = ws;
        if prepared.browser_token {
            return call_then_upgrade(&gateway, client, prepared, merge, call, write).await;
        }
        upgrade(&gateway, prepared, merge, move |socket, session| {
            websocket::bidi_stream(socket, session, client, call, write)
        })
        .await
    })
}

/// WebSocket with a browser token: the call starts before the upgrade and
/// has `first_message_wait` to fail, so that a refused token
/// (`UNAUTHENTICATED`) is a 401 rather than a close frame.
async fn call_then_upgrade<C, Req, Resp, Fut>(
    gateway: &crate::Gateway,
    client: C,
    prepared: super::prepare::Prepared<Req>,
    merge: MergeFn<Req>,
    call: impl FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
    write: WriteFn<Resp>,
) -> Response
where
    C: Send + 'static,
    Req: Clone + Send + 'static,
    Resp: Send + Sync + 'static,
    Fut: Future<Output = Result<tonic::Response<super::ResponseStream<Resp>>, tonic::Status>>
        + Send
        + 'static,
{
    let (parts, session) = super::prepare::session(gateway, prepared, merge);
    let (tx, requests) = websocket::request_queue();
    let mut pending = Box::pin(call(client, session.request(requests)));
    let wait = gateway.streaming().first_message_wait;
    let first = match tokio::time::timeout(wait, &mut pending).await {
        Ok(Err(status)) => {
            // Refused before the upgrade: no stream was opened.
            session.tracker.end(crate::telemetry::EndReason::GrpcError);
            return gateway.fail(&parts, GatewayError::Upstream(status));
        }
        Ok(Ok(response)) => Some(response),
        Err(_) => None,
    };
    let response = async move {
        match first {
            Some(response) => Ok(response),
            None => pending.await,
        }
    };
    super::prepare::upgrade_session(gateway, parts, session, move |socket, session| {
        websocket::bidi_stream_started(socket, session, tx, response, write)
    })
    .await
}
