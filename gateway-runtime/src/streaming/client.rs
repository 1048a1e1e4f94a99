//! Client streaming: a stream of requests (NDJSON body or WebSocket
//! frames), one response.

use std::future::Future;

use axum::extract::Request;
use axum::response::Response;

use super::mode::{Mode, StreamBinding, select_mode};
use super::request::{RequestErrors, body_requests, single_request};
use super::response::json_response;
use super::websocket::{self, Session};
use super::{MergeFn, RequestStream, WriteFn};
use crate::bind::BindContext;
use crate::error::GatewayError;
use crate::gateway::ErrorContext;
use crate::json::JsonWriter;
use crate::metadata;
use crate::path::Captures;
use crate::service::ServiceState;
use crate::unary::grpc_request;

/// Serves one client-streaming binding. In chunked mode the body is read as
/// NDJSON request messages and the response is one JSON document
/// (`application/json`): nothing is sent before the call completes, so any
/// error, a malformed request value included, is a normal HTTP error.
#[allow(clippy::too_many_arguments)]
pub async fn client_streaming<C, Req, Resp, Fut>(
    state: &ServiceState<C>,
    request: Request,
    captures: Captures,
    binding: &'static StreamBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError>,
    merge: MergeFn<Req>,
    call: impl FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
    write: WriteFn<Resp>,
) -> Response
where
    C: Clone + Send + 'static,
    Req: Default + Clone + Send + Sync + 'static,
    Resp: Send + Sync + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
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
            websocket::client_stream(socket, session, client, call, write)
        })
        .await
        {
            Ok(response) => response,
            Err(e) => fail(&parts, e),
        };
    }
    let errors = RequestErrors::default();
    let requests = if binding.body_stream {
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
        grpc_request(&parts, gateway, requests),
    );
    // A malformed request value cancels the call (its future is dropped).
    let result = tokio::select! {
        biased;
        error = errors.wait() => return fail(&parts, error),
        result = call => result,
    };
    // The request stream ends on a malformed value; a service that answers
    // that end must not hide the error.
    if let Some(error) = errors.take() {
        return fail(&parts, error);
    }
    match result {
        Ok(response) => {
            let (response_metadata, message, _) = response.into_parts();
            let mut w = JsonWriter::new(gateway.json_options());
            write(&message, &mut w);
            json_response(w.into_bytes(), &response_metadata, gateway)
        }
        Err(status) => fail(&parts, GatewayError::Upstream(status)),
    }
}
