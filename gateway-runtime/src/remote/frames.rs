//! The response side of a call made on the transport: the rules tonic
//! 0.14's client applies to a response's head, and its body read frame by
//! frame into messages. Shared by the unary call (`unary`), which reads one
//! answer, and the server-streaming one (`server_stream`), which hands the
//! messages on as they come.
//!
//! - The head: a `grpc-encoding` other than `identity` is refused (nothing
//!   is offered); a `grpc-status` in the headers (trailers-only) ends the
//!   call unless it is OK, and an OK one leaves the body read without a
//!   status check, with tonic's default limit.
//! - The body: uncompressed frames within the limit; the status then comes
//!   from the trailers, or from the HTTP status when they carry none.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, StatusCode};
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use super::status_details::status_from_map;
use crate::router::BoxError;

/// The length of a gRPC frame's prefix: the compressed flag and the
/// big-endian message length.
pub(super) const FRAME_HEADER: usize = 5;

/// The decoding limit tonic applies to a trailers-only response's body,
/// whatever the client's own limit: its decoder for such a body is made
/// without one.
const TRAILERS_ONLY_LIMIT: usize = 4 * 1024 * 1024;

/// The reader of a response's body after the checks of its head, or the
/// call's status when the head ends it. `limit` is the client's decoding
/// limit.
pub(super) fn open<B>(
    headers: &HeaderMap,
    status: StatusCode,
    body: B,
    limit: usize,
) -> Result<Frames<B>, Status> {
    refuse_compression(headers)?;
    Ok(match status_from_map(headers) {
        // Trailers-only: the status is in the headers; an OK one still
        // reads the body, with tonic's default limit and no status check.
        Some(status) if status.code() != Code::Ok => return Err(status),
        Some(_) => Frames::new(body, None, TRAILERS_ONLY_LIMIT),
        None => Frames::new(body, Some(status), limit),
    })
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

/// The messages of a response body, frame by frame.
pub(super) struct Frames<B> {
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
    /// The trailers received, once the body has ended.
    pub(super) trailers: Option<HeaderMap>,
}

impl<B> Frames<B> {
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
}

impl<B> Frames<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    /// The next message; `None` at the end of a body that ended well.
    pub(super) async fn message(&mut self) -> Result<Option<Bytes>, Status> {
        std::future::poll_fn(|cx| self.poll_message(cx)).await
    }

    /// Polls for the next message; `None` at the end of a body that ended
    /// well. Not to be polled again after `None` or an error.
    pub(super) fn poll_message(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, Status>> {
        loop {
            if let Some(message) = self.split_message()? {
                return Poll::Ready(Ok(Some(message)));
            }
            let frame = match ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                Some(Ok(frame)) => frame,
                Some(Err(error)) => return Poll::Ready(Err(Status::from_error(error.into()))),
                None if self.rest.is_empty() && self.gather.is_empty() => {
                    return Poll::Ready(self.end());
                }
                None => {
                    return Poll::Ready(Err(Status::internal("Unexpected EOF decoding stream.")));
                }
            };
            match frame.into_data() {
                Ok(data) => self.push(data),
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        self.add_trailers(trailers);
                    }
                    return Poll::Ready(self.end());
                }
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
        // The prefix is there (`message_len` said so); counted without
        // `FRAME_HEADER + len`, which a limit near `usize::MAX` would
        // overflow on a 32-bit target.
        let have = received.len() - FRAME_HEADER;
        if have < len {
            if !self.gather.is_empty() {
                // One growth to the message's size.
                self.gather.reserve(len - have);
            }
            return Ok(None);
        }
        if !self.gather.is_empty() {
            self.rest = self.gather.split().freeze();
        }
        self.rest.advance(FRAME_HEADER);
        // The last message of a data frame leaves `rest` empty and holding
        // nothing of the frame (`split_to` of the whole): a stream waiting
        // for its next message keeps no buffer of the connection's.
        let message = self.rest.split_to(len);
        Ok(Some(message))
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
        match self.trailers.as_ref().and_then(status_from_map) {
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
