//! The unary call, made straight on the transport rather than through
//! `tonic::client::Grpc`.
//!
//! tonic's unary client is its client-streaming one over a one-message
//! stream: an encoder stream, a `Streaming` decoder set up for any number
//! of messages, and the metadata handed over as a `MetadataMap` that is
//! copied into the request with tonic's reserved names removed one by one.
//! A unary call needs none of that machinery, only its behaviour, which
//! this module reproduces for tonic 0.14 (each rule below says which):
//!
//! - the request: `POST`, HTTP/2, the method's `:path` alone as URI, the
//!   metadata as headers less the names tonic reserves, then `te: trailers`
//!   and `content-type: application/grpc`; the body is the message as one
//!   uncompressed frame (a message over the encoding limit is a body error,
//!   as tonic's encoder yields it);
//! - the response: a `grpc-encoding` other than `identity` is refused
//!   (nothing is offered); a `grpc-status` in the headers (trailers-only) ends
//!   the call unless it is OK; the first message is the answer, further
//!   ones are read (and checked) but dropped; the status then comes from
//!   the trailers, or from the HTTP status when they carry none; the
//!   response metadata is the headers extended by the trailers.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body::Frame;
use http_body_util::BodyExt;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};

use crate::router::BoxError;

/// The length of a gRPC frame's prefix: the compressed flag and the
/// big-endian message length.
const FRAME_HEADER: usize = 5;

/// The decoding limit tonic applies to a trailers-only response's body,
/// whatever the client's own limit: its decoder for such a body is made
/// without one.
const TRAILERS_ONLY_LIMIT: usize = 4 * 1024 * 1024;

/// The headers of a unary request: `metadata` (with its `grpc-timeout`)
/// less the names tonic reserves, and the gRPC protocol headers.
pub(super) fn request_headers(metadata: MetadataMap) -> HeaderMap {
    let mut headers = metadata.into_headers();
    // The gateway's header rules never produce these names; an annotator
    // may. One pass over the keys costs less than five removals.
    if headers.keys().any(|name| reserved(name.as_str())) {
        for name in RESERVED {
            headers.remove(name);
        }
    }
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers
}

/// The metadata names tonic removes from a request's metadata: the
/// protocol sets them.
const RESERVED: [&str; 5] = [
    "te",
    "content-type",
    "grpc-message",
    "grpc-message-type",
    "grpc-status",
];

fn reserved(name: &str) -> bool {
    RESERVED.contains(&name)
}

/// The request message as one uncompressed gRPC frame, or the error
/// tonic's encoder gives a message over `limit` bytes.
pub(super) fn frame(
    len: usize,
    limit: usize,
    encode: impl FnOnce(&mut BytesMut),
) -> Result<Bytes, Status> {
    if len > limit {
        return Err(Status::out_of_range(format!(
            "Error, encoded message length too large: found {len} bytes, the limit is: {limit} bytes"
        )));
    }
    let Ok(prefix) = u32::try_from(len) else {
        return Err(Status::resource_exhausted(format!(
            "Cannot return body with more than 4GB of data but got {len} bytes"
        )));
    };
    let mut buf = BytesMut::with_capacity(FRAME_HEADER + len);
    buf.put_u8(0);
    buf.put_u32(prefix);
    encode(&mut buf);
    Ok(buf.freeze())
}

/// The body of a unary request: its one frame, or the encoding error
/// (tonic's encoder body fails the same way, and the transport decides
/// what the call then returns).
pub(super) struct RequestBody(Option<Result<Bytes, Status>>);

impl RequestBody {
    pub(super) fn new(frame: Result<Bytes, Status>) -> Self {
        RequestBody(Some(frame))
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        Poll::Ready(self.get_mut().0.take().map(|frame| frame.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    // `size_hint` stays unknown: with an exact size hyper would add a
    // `content-length` header, which tonic's streaming body never gets.
}

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
    refuse_compression(&parts.headers)?;
    let mut frames = match Status::from_header_map(&parts.headers) {
        // Trailers-only: the status is in the headers; an OK one still
        // reads the body, with tonic's default limit and no status check.
        Some(status) if status.code() != Code::Ok => return Err(status),
        Some(_) => Frames::new(body, None, TRAILERS_ONLY_LIMIT),
        None => Frames::new(body, Some(parts.status), limit),
    };
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

/// Fails a response compressed with anything but `identity`: the call
/// offers no compression.
fn refuse_compression(headers: &HeaderMap) -> Result<(), Status> {
    let Some(encoding) = headers.get("grpc-encoding") else {
        return Ok(());
    };
    let encoding = encoding.as_bytes();
    if encoding == b"identity" {
        return Ok(());
    }
    let name = match std::str::from_utf8(encoding) {
        Ok(name) => name.to_owned(),
        Err(_) => format!("{encoding:?}"),
    };
    let mut status = Status::unimplemented(format!(
        "Content is compressed with `{name}` which isn't supported"
    ));
    status.metadata_mut().insert(
        "grpc-accept-encoding",
        MetadataValue::from_static("identity"),
    );
    Err(status)
}

/// `status` with the response headers added to its metadata (a header
/// name it has already is replaced).
fn with_headers(mut status: Status, headers: &HeaderMap) -> Status {
    let mut metadata = std::mem::take(status.metadata_mut()).into_headers();
    metadata.extend(headers.clone());
    *status.metadata_mut() = MetadataMap::from_headers(metadata);
    status
}

/// The messages of a response body, frame by frame.
struct Frames<B> {
    body: B,
    /// The HTTP status, to check the call's status against at the end;
    /// `None` for a trailers-only response (already checked).
    status: Option<StatusCode>,
    limit: usize,
    /// Unread bytes of the data received, while they are contiguous: a
    /// message within one data frame is split off it, not copied.
    rest: Bytes,
    /// A frame that spans data frames, gathered (`rest` is then empty).
    gather: BytesMut,
    trailers: Option<HeaderMap>,
}

impl<B> Frames<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    fn new(body: B, status: Option<StatusCode>, limit: usize) -> Self {
        Frames {
            body,
            status,
            limit,
            rest: Bytes::new(),
            gather: BytesMut::new(),
            trailers: None,
        }
    }

    /// The next message; `None` at the end of a body that ended well.
    async fn message(&mut self) -> Result<Option<Bytes>, Status> {
        loop {
            if let Some(message) = self.split_message()? {
                return Ok(Some(message));
            }
            match self.body.frame().await {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.push(data),
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            self.add_trailers(trailers);
                        }
                        return self.end();
                    }
                },
                Some(Err(error)) => return Err(Status::from_error(error.into())),
                None if self.rest.is_empty() && self.gather.is_empty() => return self.end(),
                None => return Err(Status::internal("Unexpected EOF decoding stream.")),
            }
        }
    }

    fn push(&mut self, data: Bytes) {
        if self.rest.is_empty() && self.gather.is_empty() {
            self.rest = data;
            return;
        }
        if self.gather.is_empty() {
            self.gather.extend_from_slice(&self.rest);
            self.rest = Bytes::new();
        }
        self.gather.extend_from_slice(&data);
    }

    fn add_trailers(&mut self, trailers: HeaderMap) {
        match &mut self.trailers {
            Some(all) => all.extend(trailers),
            None => self.trailers = Some(trailers),
        }
    }

    /// The next whole message received, checked against the frame rules.
    fn split_message(&mut self) -> Result<Option<Bytes>, Status> {
        let received: &[u8] = if self.gather.is_empty() {
            &self.rest
        } else {
            &self.gather
        };
        let Some(len) = self.message_len(received)? else {
            return Ok(None);
        };
        let have = received.len();
        if have < FRAME_HEADER + len {
            if !self.gather.is_empty() {
                // One growth to the message's size.
                self.gather.reserve(FRAME_HEADER + len - have);
            }
            return Ok(None);
        }
        if !self.gather.is_empty() {
            self.rest = self.gather.split().freeze();
        }
        self.rest.advance(FRAME_HEADER);
        Ok(Some(self.rest.split_to(len)))
    }

    /// The length of the frame starting `received`, once its prefix is
    /// there: an uncompressed message within the limit.
    fn message_len(&self, received: &[u8]) -> Result<Option<usize>, Status> {
        let Some((&flag, rest)) = received.split_first() else {
            return Ok(None);
        };
        let Some(len) = rest.first_chunk::<4>() else {
            return Ok(None);
        };
        match flag {
            0 => {}
            // No `grpc-encoding` was accepted, so none is in force.
            1 => {
                return Err(Status::internal(
                    "protocol error: received message with compressed-flag but no grpc-encoding was specified",
                ));
            }
            other => return Err(self.invalid_flag(other)),
        }
        let len = u32::from_be_bytes(*len) as usize;
        if len > self.limit {
            return Err(Status::out_of_range(format!(
                "Error, decoded message length too large: found {len} bytes, the limit is: {} bytes",
                self.limit
            )));
        }
        Ok(Some(len))
    }

    fn invalid_flag(&self, flag: u8) -> Status {
        Status::internal(match self.status {
            Some(status) => format!(
                "protocol error: received message with invalid compression flag: {flag} (valid flags are 0 and 1) while receiving response with status: {status}"
            ),
            None => format!(
                "protocol error: received message with invalid compression flag: {flag} (valid flags are 0 and 1), while sending request"
            ),
        })
    }

    /// The end of the body: the call's status, from the trailers, else
    /// from the HTTP status.
    fn end(&mut self) -> Result<Option<Bytes>, Status> {
        let Some(http_status) = self.status else {
            return Ok(None);
        };
        if self.trailers.as_ref().is_some_and(plainly_ok) {
            return Ok(None);
        }
        match self.trailers.as_ref().and_then(Status::from_header_map) {
            Some(status) if status.code() == Code::Ok => Ok(None),
            Some(status) => Err(status),
            None => Err(missing_status(http_status)),
        }
    }
}

/// Whether `trailers` end the call with a bare OK: `grpc-status: 0` and
/// no message or details, which may still turn an OK into an error
/// (`Status::from_header_map` makes a message that is not UTF-8
/// `Unknown`). Checked first, as the usual case: `from_header_map` copies
/// the whole map for the status's metadata.
fn plainly_ok(trailers: &HeaderMap) -> bool {
    trailers.get("grpc-status").is_some_and(|code| code == "0")
        && !trailers.contains_key("grpc-message")
        && !trailers.contains_key("grpc-status-details-bin")
}

/// The status of a response whose trailers carry no `grpc-status`: the
/// gRPC mapping of HTTP statuses, and `Unknown` for a 200 (a stream cut
/// short, by a proxy for instance).
fn missing_status(http_status: StatusCode) -> Status {
    let code = match http_status {
        StatusCode::OK => {
            return Status::unknown(
                "protocol error: missing grpc-status trailer, stream was terminated without a final status (possible truncation by a proxy or load balancer)",
            );
        }
        StatusCode::BAD_REQUEST => Code::Internal,
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::FORBIDDEN => Code::PermissionDenied,
        StatusCode::NOT_FOUND => Code::Unimplemented,
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => Code::Unavailable,
        _ => Code::Unknown,
    };
    Status::new(
        code,
        format!(
            "grpc-status header missing, mapped from HTTP status code {}",
            http_status.as_u16()
        ),
    )
}

#[cfg(test)]
mod tests;
