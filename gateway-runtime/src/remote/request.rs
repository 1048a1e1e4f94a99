//! The request of a call that sends one message (unary, server
//! streaming), made straight on the transport rather than through
//! `tonic::client::Grpc`, as tonic 0.14 makes it: `POST`, HTTP/2, the
//! method's `:path` alone as URI, the metadata as headers less the names
//! tonic reserves, then `te: trailers` and `content-type:
//! application/grpc`; the body is the message as one uncompressed frame (a
//! message over the encoding limit is a body error, as tonic's encoder
//! yields it).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, header};
use http_body::Frame;
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::frames::FRAME_HEADER;

/// The headers of a one-message request: `metadata` (with its `grpc-timeout`)
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

/// The body of a one-message request: its one frame, or the encoding error
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
