//! Server streaming: one request (path, query, body or first WebSocket
//! frame), a stream of responses.

use std::future::Future;

use axum::extract::Request;
use axum::response::Response;

use super::mode::{Mode, StreamBinding, sse_request};
use super::prepare::{Prepared, prepare, upgrade};
use super::response::{ErasedCall, call_and_respond, erased};
use super::websocket;
use super::{FieldFn, MergeFn, WriteFn};
use crate::bind::BindContext;
use crate::error::GatewayError;
use crate::path::Captures;
use crate::router::ServiceState;

/// Serves one server-streaming binding in the mode the request asks for.
#[allow(clippy::too_many_arguments)]
pub async fn server_streaming<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    request: Request,
    captures: Captures,
    binding: &'static StreamBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError> + Send,
    merge: MergeFn<Req>,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    write: WriteFn<Resp>,
    field: FieldFn<Resp>,
) -> Response
where
    C: Clone + Send + 'static,
    Req: Default + Clone + Send + Sync + 'static,
    Resp: Send + Sync + 'static,
    Fut: Future<Output = Result<tonic::Response<super::ResponseStream<Resp>>, tonic::Status>>
        + Send
        + 'static,
{
    crate::telemetry::observed(&binding.rpc, request, |request| async move {
        let gateway = &state.gateway;
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
            let client = state.client.clone();
            return upgrade(gateway, prepared, merge, move |socket, session| {
                websocket::server_stream(socket, session, client, call, write)
            })
            .await;
        }
        let Prepared {
            parts,
            mode,
            message,
            deadline,
            ..
        } = prepared;
        let call = call(
            state.client.clone(),
            sse_request(mode, &parts, gateway, binding, message),
        );
        // From here on without types: one boxed future per stream.
        let call: ErasedCall =
            Box::pin(async move { call.await.map(|response| erased(response, write, field)) });
        call_and_respond(gateway, mode, &parts, deadline, call, None).await
    })
    .await
}
