//! Streams of `google.api.HttpBody`: downloads (a server stream whose
//! messages' bytes are the response body) and uploads (a client stream fed
//! with the request body in bounded pieces). Nothing is buffered beyond one
//! message: the response body is pulled by hyper as the client reads, and
//! the request body is read as the call consumes messages.

use std::future::Future;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use http::{StatusCode, header};
use http_body_util::BodyExt;

use super::mode::StreamBinding;
use super::prepare::{Prepared, prepare};
use super::request::RequestErrors;
use super::response::{Item, Upstream};
use super::source::{Render, Typed};
use super::{RequestStream, WriteFn};
use crate::bind::BindContext;
use crate::error::GatewayError;
use crate::http_body::{RawBody, content_type_header, request_content_type};
use crate::metadata;
use crate::path::Captures;
use crate::router::RouterState;
use crate::unary::grpc_request_moving;

/// The largest piece of an upload sent as one message.
pub const UPLOAD_PIECE: usize = 64 * 1024;

/// Serves a server stream of `HttpBody`: the first message decides the
/// `Content-Type`, every message's bytes are written as they come. A
/// failure before the first message is a normal HTTP error; after it, the
/// body is cut off (HTTP/1.1 ends without the last chunk, HTTP/2 resets the
/// stream), since raw bytes have no error frame.
#[allow(clippy::too_many_arguments)]
pub async fn server_streaming_raw<C, Req, Resp, Fut>(
    state: &RouterState,
    request: axum::extract::Request,
    captures: Captures,
    binding: &'static StreamBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError> + Send,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    raw: fn(Resp) -> RawBody,
) -> Response
where
    C: Clone + Send + Sync + 'static,
    Req: Default + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<super::ResponseStream<Resp>>, tonic::Status>>
        + Send
        + 'static,
{
    crate::telemetry::observed(&binding.rpc, request, |request| async move {
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
        let Prepared {
            mut parts,
            message,
            deadline,
            ..
        } = prepared;
        let call = call(
            state.backend::<C>().clone(),
            grpc_request_moving(&mut parts, gateway, message),
        );
        let response = match deadline.run(call).await {
            Ok(response) => response,
            Err(status) => return gateway.fail(&parts, GatewayError::Upstream(status)),
        };
        let (response_metadata, stream, _) = response.into_parts();
        let mut upstream = Upstream::new(Typed::boxed(stream, Render::Raw(raw)), None, deadline);
        let first = match upstream.next().await {
            Item::Message => upstream.take_raw(),
            Item::End(_) => RawBody::default(),
            Item::Error(e) => return gateway.fail(&parts, e),
        };
        let content_type = content_type_header(&first.content_type);
        let rest = futures_util::stream::unfold(Some(upstream), move |upstream| async move {
            let mut upstream = upstream?;
            match upstream.next().await {
                Item::Message => Some((
                    Ok(http_body::Frame::data(upstream.take_raw().data)),
                    Some(upstream),
                )),
                Item::End(_) => None,
                Item::Error(e) => {
                    tracing::debug!("HttpBody stream failed after its first message: {e}");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        });
        let frames = futures_util::stream::once(async move {
            Ok::<_, std::io::Error>(http_body::Frame::data(first.data))
        })
        .chain(rest)
        .filter(|frame| {
            // Empty messages write nothing.
            let keep = !matches!(frame, Ok(f) if f.data_ref().is_some_and(Bytes::is_empty));
            async move { keep }
        });
        let mut response = Response::new(Body::new(http_body_util::StreamBody::new(frames)));
        *response.status_mut() = StatusCode::OK;
        metadata::outgoing_headers(
            &response_metadata,
            gateway.header_rules(),
            response.headers_mut(),
        );
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
        response
    })
    .await
}

/// Serves a client stream of `HttpBody`: the request body, read as the
/// call consumes it, becomes messages of at most [`UPLOAD_PIECE`] bytes,
/// each with the request's `Content-Type`; `make` builds one. The response
/// is JSON, after the call completes.
#[allow(clippy::too_many_arguments)]
pub async fn client_streaming_raw<C, Req, Resp, Fut>(
    state: &RouterState,
    request: axum::extract::Request,
    captures: Captures,
    binding: &'static StreamBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError> + Send,
    call: impl FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
    make: fn(String, Bytes) -> Req,
    write: WriteFn<Resp>,
) -> Response
where
    C: Clone + Send + Sync + 'static,
    Req: Default + Send + 'static,
    Resp: Send + Sync + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
{
    crate::telemetry::observed(&binding.rpc, request, |request| async move {
        let gateway = state.gateway();
        let prepared = match prepare(gateway, request, &captures, binding, bind, false).await {
            Ok(prepared) => prepared,
            Err(response) => return response,
        };
        let Prepared {
            mut parts,
            body,
            deadline,
            ..
        } = prepared;
        let content_type = request_content_type(&parts.headers).to_string();
        let errors = RequestErrors::default();
        let requests = pieces(body, content_type, make, errors.clone());
        let call = call(
            state.backend::<C>().clone(),
            grpc_request_moving(&mut parts, gateway, requests),
        );
        super::client::answer(gateway, &parts, &errors, deadline, call, write).await
    })
    .await
}

/// The request body as messages of at most [`UPLOAD_PIECE`] bytes; a read
/// error is reported to `errors` and ends the stream.
fn pieces<Req: Send + 'static>(
    body: Body,
    content_type: String,
    make: fn(String, Bytes) -> Req,
    errors: RequestErrors,
) -> RequestStream<Req> {
    let state = (body, Bytes::new());
    RequestStream::new(futures_util::stream::unfold(
        state,
        move |(mut body, mut pending)| {
            let (content_type, errors) = (content_type.clone(), errors.clone());
            async move {
                while pending.is_empty() {
                    match body.frame().await? {
                        Ok(frame) => {
                            if let Ok(data) = frame.into_data() {
                                pending = data;
                            }
                        }
                        Err(e) => {
                            errors.report(crate::body::read_error(e));
                            return None;
                        }
                    }
                }
                let piece = pending.split_to(pending.len().min(UPLOAD_PIECE));
                Some((make(content_type, piece), (body, pending)))
            }
        },
    ))
}
