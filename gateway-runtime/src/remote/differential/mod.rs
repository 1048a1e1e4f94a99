//! The calls the gateway makes on the transport itself against tonic's
//! own client, answer for answer: each case runs both over the same
//! transport and compares what the backend received and what the caller
//! got back (`unary`: the lean unary call against `Grpc::unary`;
//! `server_stream`: the lean server stream against
//! `Grpc::server_streaming`); `departures` shows where the gateway departs
//! from tonic on purpose.

use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, StreamBody};
use prost_types::{Duration, Timestamp};

use super::{Method, Outgoing};

mod departures;
mod server_stream;
mod unary;

pub(super) const METHOD: Method = Method {
    path: "/pkg.Svc/Call",
    service: "pkg.Svc",
    method: "Call",
};

/// A gRPC frame of `payload` with this compressed flag.
pub(super) fn flagged(flag: u8, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::new();
    out.put_u8(flag);
    out.put_u32(payload.len() as u32);
    out.put_slice(payload);
    out.freeze()
}

pub(super) fn frame(payload: &[u8]) -> Bytes {
    flagged(0, payload)
}

pub(super) fn answer() -> Duration {
    Duration {
        seconds: 3,
        nanos: 4,
    }
}

pub(super) fn header_map(entries: &[(&'static str, &'static str)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in entries {
        map.append(*name, http::HeaderValue::from_static(value));
    }
    map
}

/// What a test backend answers: status, headers, data frames, trailers.
#[derive(Clone)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(&'static str, &'static str)>,
    pub(super) data: Vec<Bytes>,
    pub(super) trailers: Option<Vec<(&'static str, &'static str)>>,
}

impl Answer {
    /// A 200 with `data` and trailers `grpc-status: 0`.
    pub(super) fn ok(data: Vec<Bytes>) -> Self {
        Answer {
            status: 200,
            headers: vec![("content-type", "application/grpc")],
            data,
            trailers: Some(vec![("grpc-status", "0"), ("x-done", "yes")]),
        }
    }

    pub(super) fn response(&self) -> http::Response<tonic::body::Body> {
        let data = self
            .data
            .clone()
            .into_iter()
            .map(|d| Ok::<_, tonic::Status>(http_body::Frame::data(d)));
        let trailers = self
            .trailers
            .as_ref()
            .map(|t| Ok(http_body::Frame::trailers(header_map(t))));
        let body = StreamBody::new(futures_util::stream::iter(data.chain(trailers)));
        let mut response = http::Response::new(tonic::body::Body::new(body));
        *response.status_mut() = http::StatusCode::from_u16(self.status).unwrap();
        *response.headers_mut() = header_map(&self.headers);
        response
    }
}

/// What the backend received, as text: method, URI, version, headers in
/// order, the body's size hint and its bytes (or its error).
pub(super) type Seen = Arc<Mutex<Vec<String>>>;

/// A transport that records each request and answers `answer`.
pub(super) fn transport(answer: Answer, seen: Seen) -> impl crate::router::Transport {
    tower::service_fn(move |request: http::Request<tonic::body::Body>| {
        let answer = answer.clone();
        let seen = seen.clone();
        async move {
            let method = request.extensions().get::<tonic::GrpcMethod>().unwrap();
            let mut text = format!(
                "{} {} {:?} {}/{} hint={:?}",
                request.method(),
                request.uri(),
                request.version(),
                method.service(),
                method.method(),
                http_body::Body::size_hint(request.body()).exact(),
            );
            for (name, value) in request.headers() {
                text.push_str(&format!(" {name}={value:?}"));
            }
            let body = request.into_body().collect().await;
            let body = body.map(|b| b.to_bytes());
            text.push_str(&format!(" body={body:?}"));
            seen.lock().unwrap().push(text);
            // A request body that failed fails the call with its status.
            body?;
            Ok::<_, tonic::Status>(answer.response())
        }
    })
}

/// Metadata as text: names and values in order.
pub(super) fn metadata(map: &tonic::metadata::MetadataMap) -> String {
    map.clone()
        .into_headers()
        .iter()
        .map(|(name, value)| format!("{name}={value:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A call's outcome as text: code, message, details, metadata in order,
/// and the answer's bytes.
pub(super) fn outcome(result: Result<tonic::Response<Bytes>, tonic::Status>) -> String {
    match result {
        Ok(response) => format!(
            "OK [{}] {:?}",
            metadata(response.metadata()),
            response.get_ref()
        ),
        Err(status) => format!(
            "{:?} {:?} {:?} [{}]",
            status.code(),
            status.message(),
            status.details(),
            metadata(status.metadata())
        ),
    }
}

/// A request as the gateway makes it: metadata, an extension, a timeout.
pub(super) fn request() -> tonic::Request<Outgoing> {
    let mut request = tonic::Request::new(Outgoing::new(Timestamp {
        seconds: 5,
        nanos: 7,
    }));
    request
        .metadata_mut()
        .insert("x-forwarded-for", "10.0.0.1".parse().unwrap());
    request.set_timeout(std::time::Duration::from_millis(1500));
    request
}
