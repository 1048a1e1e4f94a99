//! The unary response, read by the gateway itself rather than by
//! `tonic::client::Grpc`.
//!
//! tonic's unary client is its client-streaming one over a one-message
//! stream: an encoder stream, a `Streaming` decoder set up for any number
//! of messages, and the response metadata merged from a copy. A unary call
//! needs none of that machinery, only its behaviour, which this reproduces
//! for tonic 0.14: the head and the frames by tonic's rules (`frames`); the
//! first message is the answer, further ones are read (and checked) but
//! dropped; the response metadata is the headers extended by the trailers;
//! an error before the answer carries the headers in its metadata.

use bytes::Bytes;
use http::HeaderMap;
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::frames;
use crate::router::BoxError;

/// Reads a unary response: the answer's bytes and the metadata (headers
/// extended by trailers), or the call's status.
pub(super) async fn read_response<B>(
    response: http::Response<B>,
    limit: usize,
) -> Result<tonic::Response<Bytes>, Status>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let (parts, body) = response.into_parts();
    // Pinned here, not boxed: the body lives as long as this future.
    let body = std::pin::pin!(body);
    let mut frames = frames::open(&parts.headers, parts.status, body, limit)?;
    let message = match frames.message().await {
        Ok(Some(message)) => message,
        Ok(None) => return Err(Status::internal("Missing response message.")),
        // Only errors before the answer carry the response headers.
        Err(status) => return Err(with_headers(status, &parts.headers)),
    };
    while frames.message().await?.is_some() {}
    let mut metadata = parts.headers;
    if let Some(trailers) = frames.trailers {
        // A name in both: the trailer's values replace the header's.
        metadata.extend(trailers);
    }
    Ok(tonic::Response::from_parts(
        MetadataMap::from_headers(metadata),
        message,
        parts.extensions,
    ))
}

/// `status` with the response headers added to its metadata (a header
/// name it has already is replaced).
fn with_headers(mut status: Status, headers: &HeaderMap) -> Status {
    let mut metadata = std::mem::take(status.metadata_mut()).into_headers();
    metadata.extend(headers.clone());
    *status.metadata_mut() = MetadataMap::from_headers(metadata);
    status
}
