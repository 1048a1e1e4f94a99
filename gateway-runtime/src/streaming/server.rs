//! Server streaming: one request (path, query, body or first WebSocket
//! frame), a stream of responses.

use std::future::Future;

use axum::extract::Request;

use super::mode::{Mode, StreamBinding, sse_request};
use super::prepare::{Prepared, WebSocketCall, WebSocketSide, prepare, upgrade};
use super::response::{ErasedCall, call_and_respond, erased};
use super::websocket;
use super::{FieldFn, MergeFn, WriteFn};
use crate::bind::BindContext;
use crate::error::GatewayError;
use crate::path::Captures;
use crate::router::{RouteFuture, RouterState};

/// Serves one server-streaming binding in the mode the request asks for.
/// `websocket` is [`server_websocket`] when the binding serves WebSocket,
/// `None` otherwise: that side is then not compiled for the binding.
#[allow(clippy::too_many_arguments)]
pub fn server_streaming<C, Req, Resp, Fut, Bind, Call>(
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
    Call: FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<tonic::Response<super::ResponseStream<Resp>>, tonic::Status>>
        + Send
        + 'static,
{
    let serve = crate::telemetry::observed(&binding.rpc, request, move |request| async move {
        let client = state.backend::<C>().clone();
        let gateway = state.gateway();
        let prepared = match prepare(
            gateway,
            request,
            &captures,
            binding,
            bind,
            binding.reads_body,
        )
        .await
        {
            Ok(prepared) => prepared,
            Err(response) => return response,
        };
        if prepared.mode == Mode::WebSocket {
            // Boxed: held inline, the upgrade's future would make
            // every stream's future as large.
            let run = WebSocketCall::run(websocket, gateway, client, prepared, merge, call, write);
            return Box::pin(run).await;
        }
        let Prepared {
            mut parts,
            mode,
            message,
            deadline,
            ..
        } = prepared;
        let request = sse_request(mode, &mut parts, gateway, binding, message);
        // From here on without types: one boxed future per stream. The
        // call's future is made in the box, on its first poll: made
        // outside, the whole future would be copied in.
        let call: ErasedCall = Box::pin(async move {
            let response = call(client, request).await;
            response.map(|response| erased(response, write, field))
        });
        call_and_respond(gateway, mode, &parts, deadline, call, None).await
    });
    // Boxed as it is: an `async` block around it would hold it and what it
    // was made from again (see `telemetry::observed`).
    Box::pin(serve)
}

/// The WebSocket side of [`server_streaming`].
pub fn server_websocket<C, Req, Resp, Fut, Call>(
    ws: WebSocketCall<C, Req, Call, Resp>,
) -> RouteFuture
where
    C: Send + 'static,
    Req: Clone + Send + 'static,
    Resp: Send + 'static,
    Call: FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
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
        upgrade(&gateway, prepared, merge, move |socket, session| {
            websocket::server_stream(socket, session, client, call, write)
        })
        .await
    })
}
