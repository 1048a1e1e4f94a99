//! Client streaming: a stream of requests (NDJSON body or WebSocket
//! frames), one response.

use std::future::Future;

use axum::extract::Request;
use axum::response::Response;

use super::mode::{Mode, StreamBinding};
use super::prepare::{Prepared, WebSocketCall, WebSocketSide, prepare, upgrade};
use super::request::{RequestErrors, request_stream};
use super::websocket;
use super::{MergeFn, RequestStream, WriteFn};
use crate::bind::BindContext;
use crate::deadline::Deadline;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::path::Captures;
use crate::router::{RouteFuture, RouterState};
use crate::unary::{grpc_request_moving, json_response};

/// Serves one client-streaming binding. In chunked mode the body is read as
/// NDJSON request messages and the response is one JSON document
/// (`application/json`): nothing is sent before the call completes, so any
/// error, a malformed request value included, is a normal HTTP error.
/// `websocket` is [`client_websocket`] when the binding serves WebSocket,
/// `None` otherwise: that side is then not compiled for the binding.
#[allow(clippy::too_many_arguments)]
pub fn client_streaming<C, Req, Resp, Fut, Bind, Call>(
    state: RouterState,
    request: Request,
    captures: Captures,
    binding: &'static StreamBinding,
    bind: Bind,
    merge: MergeFn<Req>,
    call: Call,
    write: WriteFn<Resp>,
    websocket: Option<WebSocketSide<C, Req, Call, Resp>>,
) -> RouteFuture
where
    C: Clone + Send + Sync + 'static,
    Req: Default + Clone + Send + Sync + 'static,
    Resp: Send + Sync + 'static,
    Bind: FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError> + Send + 'static,
    Call: FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
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
                message: base,
                deadline,
                ..
            } = prepared;
            let errors = RequestErrors::default();
            let requests = request_stream(gateway, binding.body_stream, body, base, merge, &errors);
            let call = call(client, grpc_request_moving(&mut parts, gateway, requests));
            answer(gateway, &parts, &errors, deadline, call, write).await
        },
    ))
}

/// The WebSocket side of [`client_streaming`].
pub fn client_websocket<C, Req, Resp, Fut, Call>(
    ws: WebSocketCall<C, Req, Call, Resp>,
) -> RouteFuture
where
    C: Send + 'static,
    Req: Clone + Send + 'static,
    Resp: Send + Sync + 'static,
    Call: FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
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
            websocket::client_stream(socket, session, client, call, write)
        })
        .await
    })
}

/// Waits for a client-streaming call whose request stream reports its
/// errors to `errors`, and answers with its response as one JSON document.
pub(crate) async fn answer<Resp, Fut>(
    gateway: &Gateway,
    parts: &http::request::Parts,
    errors: &RequestErrors,
    deadline: Deadline,
    call: Fut,
    write: WriteFn<Resp>,
) -> Response
where
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    // A malformed request value cancels the call (its future is dropped).
    let result = tokio::select! {
        biased;
        error = errors.wait() => return gateway.fail(parts, error),
        result = deadline.run(call) => result,
    };
    // The request stream ends on a malformed value; a service that answers
    // that end must not hide the error.
    if let Some(error) = errors.take() {
        return gateway.fail(parts, error);
    }
    match result {
        Ok(response) => {
            let (response_metadata, message, _) = response.into_parts();
            // One JSON answer, as a unary call's (chunked mode).
            let mut response = json_response(&|w| write(&message, w), &response_metadata, gateway);
            gateway.hook_response(&response_metadata, &mut response);
            response
        }
        Err(status) => gateway.fail(parts, GatewayError::Upstream(status)),
    }
}
