//! A backend's `grpc-status-details-bin` that is not base64.
//!
//! tonic 0.14 reads a call's status from its headers or trailers with
//! `Status::from_header_map`, which panics when the details are not
//! base64. A backend (or a proxy in front of it) that sends such a value
//! would panic the gateway's request task and drop the client's connection
//! without an answer. Here the call ends with `Internal` instead, as
//! grpc-go's client ends it ("malformed grpc-status-details-bin"), and the
//! backend's own code and message are kept in the message.
//!
//! Calls made on the transport ask [`status_from_map`]; calls through
//! tonic's client core (client and bidi streams) see their response head
//! and trailers rewritten by [`Checked`] before tonic reads them.

use std::pin::Pin;
use std::task::{Context, Poll};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use futures_util::TryFutureExt as _;
use futures_util::future::MapOk;
use http::{HeaderMap, HeaderValue};
use http_body::Frame;
use tonic::Status;

use crate::router::Transport;

const GRPC_STATUS: &str = "grpc-status";
const GRPC_MESSAGE: &str = "grpc-message";
const GRPC_STATUS_DETAILS: &str = "grpc-status-details-bin";

/// The base64 tonic decodes status details with: the standard alphabet,
/// padding optional, trailing bits refused. Not the client-side rule of
/// `base64_rule`, which is more lenient: what passes here is decoded again
/// by tonic, so it must be exactly what tonic accepts.
const DETAILS_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The status `map` carries, as `Status::from_header_map` reads it, except
/// that details which are not base64 make it `Internal` instead of a panic.
pub(super) fn status_from_map(map: &HeaderMap) -> Option<Status> {
    match malformed(map) {
        Some(status) => Some(status),
        None => Status::from_header_map(map),
    }
}

/// `Internal`, when `map` has a status whose details are not base64.
fn malformed(map: &HeaderMap) -> Option<Status> {
    let code = map.get(GRPC_STATUS)?;
    let details = map.get(GRPC_STATUS_DETAILS)?;
    if DETAILS_BASE64.decode(details.as_bytes()).is_ok() {
        return None;
    }
    let message = map.get(GRPC_MESSAGE).map_or(String::new(), |message| {
        percent_encoding::percent_decode(message.as_bytes())
            .decode_utf8_lossy()
            .into_owned()
    });
    Some(Status::internal(format!(
        "protocol error: grpc-status-details-bin is not base64 (the backend's grpc-status {}, grpc-message {message:?})",
        String::from_utf8_lossy(code.as_bytes()),
    )))
}

/// Rewrites a status whose details are not base64 into the `Internal` one
/// [`status_from_map`] makes, for tonic to read.
fn rewrite(map: &mut HeaderMap) {
    let Some(status) = malformed(map) else {
        return;
    };
    map.remove(GRPC_STATUS_DETAILS);
    map.insert(GRPC_STATUS, HeaderValue::from(status.code() as i32));
    let message: String =
        percent_encoding::utf8_percent_encode(status.message(), GRPC_MESSAGE_ESCAPES).collect();
    match HeaderValue::try_from(message) {
        Ok(value) => map.insert(GRPC_MESSAGE, value),
        Err(_) => map.remove(GRPC_MESSAGE),
    };
}

/// What the gRPC spec's `grpc-message` escapes: everything outside
/// printable ASCII (the encoder escapes non-ASCII bytes itself), and `%`.
const GRPC_MESSAGE_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');

/// A transport whose responses have their status checked (see the module
/// docs) before tonic's client core reads them.
#[derive(Clone)]
pub(super) struct Checked<T>(pub(super) T);

type CheckedFuture<F, B> = MapOk<F, fn(http::Response<B>) -> http::Response<CheckedBody>>;

impl<T: Transport> tower::Service<http::Request<tonic::body::Body>> for Checked<T> {
    type Response = http::Response<CheckedBody>;
    type Error = T::Error;
    type Future = CheckedFuture<T::Future, T::ResponseBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tonic::client::GrpcService::poll_ready(&mut self.0, cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let check: fn(http::Response<T::ResponseBody>) -> http::Response<CheckedBody> = check;
        tonic::client::GrpcService::call(&mut self.0, request).map_ok(check)
    }
}

fn check<B>(response: http::Response<B>) -> http::Response<CheckedBody>
where
    B: http_body::Body<Data = Bytes, Error: Into<crate::router::BoxError> + Send> + Send + 'static,
{
    let (mut parts, body) = response.into_parts();
    rewrite(&mut parts.headers);
    http::Response::from_parts(parts, CheckedBody(tonic::body::Body::new(body)))
}

/// A response body whose trailers are checked (see the module docs).
pub(super) struct CheckedBody(tonic::body::Body);

impl http_body::Body for CheckedBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let polled = Pin::new(&mut self.0).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = polled {
            return Poll::Ready(Some(Ok(match frame.into_trailers() {
                Ok(mut trailers) => {
                    rewrite(&mut trailers);
                    Frame::trailers(trailers)
                }
                Err(frame) => frame,
            })));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.size_hint()
    }
}
