//! Calls to a tonic transport (a remote `Channel`, or `FooServer` in
//! process) made by the gateway itself rather than through tonic-build's
//! generated client.
//!
//! Two reasons, both measured (docs/benchmarks.md):
//! - **Code size.** A generated client compiles tonic's whole client path
//!   (request encoding, `Streaming`, trailers, response building) once per
//!   method, since its codec is typed by the method's messages. Here
//!   request messages are type-erased ([`Outgoing`]) and responses handed
//!   over as their protobuf bytes, so that path is compiled once per
//!   transport type; what each method adds is a protobuf decode of its
//!   response type. Request streams keep their message type
//!   ([`StreamCodec`]): boxing every streamed message would cost more than
//!   encoding it.
//! - **Memory.** tonic's default codec asks for 8 KiB encode and decode
//!   buffers per call; an open server stream keeps its decode buffer while
//!   it waits. A server stream here keeps no buffer while it waits, and
//!   the codec of client and bidi streams starts both at
//!   [`CODEC_BUFFER_SIZE`] and lets them grow to the message that needs it.
//!
//! Calls that send one message (unary, server streaming) go further and do
//! without tonic's client core: they write their one request frame
//! ([`request`]) and read the response frames themselves ([`frames`]), as
//! tonic 0.14 would. tonic makes both out of its client-streaming
//! machinery (an encoder stream, a `Streaming` decoder that copies every
//! data frame into a buffer of its own), which a single request message
//! pays for: several thousand instructions per call, and code that every
//! stream runs through. Client and bidi streams keep tonic's core.
//!
//! What tonic's generated client does besides, this does the same: the
//! transport's readiness is awaited before each call (an error is
//! `Unknown: Service was not ready: ...`), the call carries tonic's
//! `GrpcMethod` extension (for tower layers that look at it), a response
//! that is not valid protobuf fails the call with `Internal`, and response
//! messages are limited to [`Gateway`]'s `max_decoding_message_size`
//! (4 MiB by default, as tonic's).

use std::marker::PhantomData;

use bytes::{Buf, Bytes};
use http::uri::PathAndQuery;
use tonic::GrpcMethod;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use crate::gateway::Gateway;
use crate::router::Transport;
use crate::streaming::{RequestStream, ResponseStream};

mod frames;
mod request;
mod server_stream;
mod status_details;
mod unary;

pub(crate) use server_stream::Messages;

/// Where the codec's encode and decode buffers start (tonic's default is
/// 8 KiB). Small messages fit; larger ones grow the buffer once (the
/// encoder reserves a message's exact length before writing it).
pub(crate) const CODEC_BUFFER_SIZE: usize = 512;

/// tonic's default: an encoder hands its buffer to the transport once it
/// holds this much.
const YIELD_THRESHOLD: usize = 32 * 1024;

/// The backend of a generated `router`: the user's transport, with the
/// limits of the [`Gateway`]. Unary and server-streaming calls are made on
/// the transport directly (the `unary` and `server_stream` modules); client
/// and bidi streams through tonic's client core.
pub struct Remote<T> {
    transport: T,
    max_decoding_message_size: usize,
    max_encoding_message_size: usize,
}

impl<T: Clone> Clone for Remote<T> {
    fn clone(&self) -> Self {
        Remote {
            transport: self.transport.clone(),
            max_decoding_message_size: self.max_decoding_message_size,
            max_encoding_message_size: self.max_encoding_message_size,
        }
    }
}

impl<T> std::fmt::Debug for Remote<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Remote")
    }
}

/// The identity of one gRPC method, as generated code names it.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    /// `/package.Service/Method`.
    pub path: &'static str,
    /// `package.Service`.
    pub service: &'static str,
    /// `Method`.
    pub method: &'static str,
}

impl<T: Transport> Remote<T> {
    /// Calls through `transport` with `gateway`'s message size limits.
    pub fn new(transport: T, gateway: &Gateway) -> Self {
        Remote {
            transport,
            max_decoding_message_size: gateway.max_decoding_message_size(),
            max_encoding_message_size: gateway.max_encoding_message_size(),
        }
    }

    /// tonic's client core over the transport, for a streaming call; the
    /// responses' status checked first (see [`status_details`]).
    fn grpc(self) -> tonic::client::Grpc<status_details::Checked<T>> {
        tonic::client::Grpc::new(status_details::Checked(self.transport))
            .max_decoding_message_size(self.max_decoding_message_size)
            .max_encoding_message_size(self.max_encoding_message_size)
    }

    /// A unary call.
    pub async fn unary<Req, Resp>(
        self,
        request: tonic::Request<Req>,
        method: Method,
    ) -> Result<tonic::Response<Resp>, tonic::Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default,
    {
        let response = self
            .unary_erased(request.map(Outgoing::new), method)
            .await?;
        decode_response(response)
    }

    /// A server-streaming call.
    pub async fn server_streaming<Req, Resp>(
        self,
        request: tonic::Request<Req>,
        method: Method,
    ) -> Result<tonic::Response<ResponseStream<Resp>>, tonic::Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default,
    {
        let response = self
            .server_streaming_erased(request.map(Outgoing::new), method)
            .await?;
        Ok(response.map(|stream| ResponseStream::remote(stream, decode::<Resp>)))
    }

    /// A client-streaming call.
    pub async fn client_streaming<Req, Resp>(
        self,
        request: tonic::Request<RequestStream<Req>>,
        method: Method,
    ) -> Result<tonic::Response<Resp>, tonic::Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default,
    {
        let response = self.client_streaming_typed(request, method).await?;
        decode_response(response)
    }

    /// A bidi-streaming call.
    pub async fn streaming<Req, Resp>(
        self,
        request: tonic::Request<RequestStream<Req>>,
        method: Method,
    ) -> Result<tonic::Response<ResponseStream<Resp>>, tonic::Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default,
    {
        let response = self.streaming_typed(request, method).await?;
        Ok(response.map(|stream| ResponseStream::remote_bidi(stream, decode::<Resp>)))
    }

    // The erased halves: compiled once per transport type, whatever the
    // messages. Request streams keep their message type (one instance per
    // client- or bidi-streaming request type): a box per message would
    // cost small streamed messages more than the encoding itself.

    /// The unary call, on the transport itself (see [`unary`]).
    async fn unary_erased(
        self,
        request: tonic::Request<Outgoing>,
        method: Method,
    ) -> Result<tonic::Response<Bytes>, tonic::Status> {
        let limit = self.max_decoding_message_size;
        let response = self.send(request, method).await?;
        unary::read_response(response, limit).await
    }

    /// The server-streaming call, on the transport itself (see
    /// [`server_stream`]).
    async fn server_streaming_erased(
        self,
        request: tonic::Request<Outgoing>,
        method: Method,
    ) -> Result<tonic::Response<Messages>, tonic::Status> {
        let limit = self.max_decoding_message_size;
        let response = self.send(request, method).await?;
        Messages::open(response.map(tonic::body::Body::new), limit)
    }

    /// Sends a one-message request (see [`request`]) once the transport is
    /// ready; the response's head has not been checked yet.
    async fn send(
        self,
        request: tonic::Request<Outgoing>,
        method: Method,
    ) -> Result<http::Response<T::ResponseBody>, tonic::Status> {
        let mut transport = self.transport;
        std::future::poll_fn(|cx| transport.poll_ready(cx))
            .await
            .map_err(not_ready)?;
        let (metadata, mut extensions, message) = request.into_parts();
        extensions.insert(GrpcMethod::new(method.service, method.method));
        let frame = message.0.frame(self.max_encoding_message_size);
        let mut http_request =
            http::Request::new(tonic::body::Body::new(request::RequestBody::new(frame)));
        *http_request.method_mut() = http::Method::POST;
        *http_request.uri_mut() = http::Uri::from(grpc_path(method.path));
        *http_request.version_mut() = http::Version::HTTP_2;
        *http_request.headers_mut() = request::request_headers(metadata);
        *http_request.extensions_mut() = extensions;
        transport
            .call(http_request)
            .await
            .map_err(|error| tonic::Status::from_error(error.into()))
    }

    async fn client_streaming_typed<Req: prost::Message + Send + Sync + 'static>(
        self,
        request: tonic::Request<RequestStream<Req>>,
        method: Method,
    ) -> Result<tonic::Response<Bytes>, tonic::Status> {
        let mut grpc = self.grpc();
        let (request, path) = prepare(&mut grpc, request, method).await?;
        grpc.client_streaming(request, path, StreamCodec::<Req>::default())
            .await
    }

    async fn streaming_typed<Req: prost::Message + Send + Sync + 'static>(
        self,
        request: tonic::Request<RequestStream<Req>>,
        method: Method,
    ) -> Result<tonic::Response<tonic::Streaming<Bytes>>, tonic::Status> {
        let mut grpc = self.grpc();
        let (request, path) = prepare(&mut grpc, request, method).await?;
        grpc.streaming(request, path, StreamCodec::<Req>::default())
            .await
    }
}

/// What tonic's generated client does before a streaming call.
async fn prepare<T: Transport, R>(
    grpc: &mut tonic::client::Grpc<T>,
    mut request: tonic::Request<R>,
    method: Method,
) -> Result<(tonic::Request<R>, PathAndQuery), tonic::Status> {
    grpc.ready().await.map_err(not_ready)?;
    request
        .extensions_mut()
        .insert(GrpcMethod::new(method.service, method.method));
    Ok((request, grpc_path(method.path)))
}

/// The status of a call whose transport failed to become ready, as
/// tonic's generated client words it.
fn not_ready(error: impl Into<crate::router::BoxError>) -> tonic::Status {
    tonic::Status::unknown(format!("Service was not ready: {}", error.into()))
}

/// The `:path` of a call to the method at `path`. `PathAndQuery::from_static`
/// validates the text byte by byte on every call; a worker thread usually
/// calls the same method again, so it keeps the last one made: a hit is a
/// pointer comparison and a clone of static bytes.
fn grpc_path(path: &'static str) -> PathAndQuery {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(&'static str, PathAndQuery)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((cached, made)) = last.as_ref()
            && std::ptr::eq(*cached, path)
        {
            return made.clone();
        }
        let made = PathAndQuery::from_static(path);
        *last = Some((path, made.clone()));
        made
    })
}

/// A request message, its type erased.
pub(crate) struct Outgoing(Box<dyn EncodeMessage>);

impl Outgoing {
    fn new<M: prost::Message + Send + Sync + 'static>(message: M) -> Self {
        Outgoing(Box::new(message))
    }
}

trait EncodeMessage: Send + Sync {
    /// Into a tonic codec's buffer (request streams; in the tests, tonic's
    /// client that the calls made here are compared with).
    fn encode_into(&self, buf: &mut EncodeBuf<'_>);

    /// As the one frame of a unary or server-streaming call's body, within
    /// `limit` bytes.
    fn frame(&self, limit: usize) -> Result<Bytes, tonic::Status>;
}

impl<M: prost::Message + Send + Sync> EncodeMessage for M {
    fn encode_into(&self, buf: &mut EncodeBuf<'_>) {
        // One growth to the message's size instead of doubling as it is
        // written: the buffer starts small.
        buf.reserve(self.encoded_len());
        self.encode_raw(buf);
    }

    fn frame(&self, limit: usize) -> Result<Bytes, tonic::Status> {
        request::frame(self.encoded_len(), limit, |buf| self.encode_raw(buf))
    }
}

fn decode_response<M: prost::Message + Default>(
    response: tonic::Response<Bytes>,
) -> Result<tonic::Response<M>, tonic::Status> {
    let (metadata, bytes, extensions) = response.into_parts();
    Ok(tonic::Response::from_parts(
        metadata,
        decode(bytes)?,
        extensions,
    ))
}

/// A response message from its protobuf bytes; an undecodable one fails
/// the call with `Internal`, as tonic's prost codec does.
pub(crate) fn decode<M: prost::Message + Default>(bytes: Bytes) -> Result<M, tonic::Status> {
    M::decode(bytes).map_err(|error| tonic::Status::internal(error.to_string()))
}

/// The decoder of client and bidi streams' responses: hands their
/// messages over as their bytes. In the tests, also the codec of tonic's
/// client made to encode [`Outgoing`] messages.
#[derive(Debug, Clone, Copy)]
struct ErasedCodec;

#[cfg(test)]
impl Codec for ErasedCodec {
    type Encode = Outgoing;
    type Decode = Bytes;
    type Encoder = ErasedCodec;
    type Decoder = ErasedCodec;

    fn encoder(&mut self) -> Self::Encoder {
        ErasedCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        ErasedCodec
    }
}

#[cfg(test)]
impl Encoder for ErasedCodec {
    type Item = Outgoing;
    type Error = tonic::Status;

    fn encode(&mut self, item: Outgoing, buf: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        item.0.encode_into(buf);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(CODEC_BUFFER_SIZE, YIELD_THRESHOLD)
    }
}

/// The codec of client- and bidi-streaming calls: request messages of
/// their type, responses as bytes ([`ErasedCodec`]).
struct StreamCodec<M>(PhantomData<fn(M)>);

impl<M> Default for StreamCodec<M> {
    fn default() -> Self {
        StreamCodec(PhantomData)
    }
}

impl<M: prost::Message + Send + Sync + 'static> Codec for StreamCodec<M> {
    type Encode = M;
    type Decode = Bytes;
    type Encoder = StreamCodec<M>;
    type Decoder = ErasedCodec;

    fn encoder(&mut self) -> Self::Encoder {
        StreamCodec(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        ErasedCodec
    }
}

impl<M: prost::Message + Send + Sync + 'static> Encoder for StreamCodec<M> {
    type Item = M;
    type Error = tonic::Status;

    fn encode(&mut self, item: M, buf: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        item.encode_into(buf);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(CODEC_BUFFER_SIZE, YIELD_THRESHOLD)
    }
}

impl Decoder for ErasedCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        // Split off, not copied: the bytes share tonic's buffer until the
        // typed decode drops them.
        let len = buf.remaining();
        Ok(Some(buf.copy_to_bytes(len)))
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(CODEC_BUFFER_SIZE, YIELD_THRESHOLD)
    }
}

#[cfg(test)]
mod differential;

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bytes::{BufMut, BytesMut};
    use http_body_util::{BodyExt, StreamBody};
    use prost::Message;
    use prost_types::{Duration, Timestamp};

    use super::*;

    const METHOD: Method = Method {
        path: "/pkg.Svc/Call",
        service: "pkg.Svc",
        method: "Call",
    };

    /// A gRPC frame: uncompressed flag, big-endian length, payload.
    fn frame(payload: &[u8]) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u8(0);
        out.put_u32(payload.len() as u32);
        out.put_slice(payload);
        out.freeze()
    }

    /// A gRPC response of these frames and trailers `grpc-status: 0`.
    fn response(frames: Vec<Bytes>) -> http::Response<tonic::body::Body> {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        trailers.insert("x-done", http::HeaderValue::from_static("yes"));
        let frames = frames
            .into_iter()
            .map(|f| Ok::<_, tonic::Status>(http_body::Frame::data(f)))
            .chain(std::iter::once(Ok(http_body::Frame::trailers(trailers))));
        http::Response::builder()
            .header("content-type", "application/grpc")
            .body(tonic::body::Body::new(StreamBody::new(
                futures_util::stream::iter(frames),
            )))
            .unwrap()
    }

    /// A transport answering `frames` after checking the call's path and
    /// `GrpcMethod`, and handing back the request body it read.
    fn transport(
        frames: Vec<Bytes>,
        seen: tokio::sync::mpsc::UnboundedSender<Bytes>,
    ) -> impl Transport {
        tower::service_fn(move |request: http::Request<tonic::body::Body>| {
            let frames = frames.clone();
            let seen = seen.clone();
            async move {
                assert_eq!(request.uri().path(), METHOD.path);
                let method = request.extensions().get::<GrpcMethod>().unwrap();
                assert_eq!((method.service(), method.method()), ("pkg.Svc", "Call"));
                let body = request.into_body().collect().await.unwrap().to_bytes();
                seen.send(body).unwrap();
                Ok::<_, Infallible>(response(frames))
            }
        })
    }

    fn gateway() -> Gateway {
        Gateway::default()
    }

    #[tokio::test]
    async fn unary_encodes_the_request_and_decodes_the_answer() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let answer = Duration {
            seconds: 3,
            nanos: 4,
        };
        let remote = Remote::new(
            transport(vec![frame(&answer.encode_to_vec())], tx),
            &gateway(),
        );
        let request = Timestamp {
            seconds: 5,
            nanos: 7,
        };
        let response = remote
            .unary::<_, Duration>(tonic::Request::new(request), METHOD)
            .await
            .unwrap();
        assert_eq!(response.get_ref(), &answer);
        assert_eq!(response.metadata().get("x-done").unwrap(), "yes");
        assert_eq!(rx.recv().await.unwrap(), frame(&request.encode_to_vec()));
    }

    #[tokio::test]
    async fn an_undecodable_answer_is_internal() {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let remote = Remote::new(transport(vec![frame(&[0xff])], tx), &gateway());
        let status = remote
            .unary::<_, Duration>(tonic::Request::new(Timestamp::default()), METHOD)
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Internal, "{status:?}");
    }

    #[tokio::test]
    async fn answers_over_the_gateway_limit_are_out_of_range() {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let big = Duration {
            seconds: i64::MAX,
            nanos: 1,
        };
        let gateway = Gateway::builder().max_decoding_message_size(4).build();
        let remote = Remote::new(transport(vec![frame(&big.encode_to_vec())], tx), &gateway);
        let status = remote
            .unary::<_, Duration>(tonic::Request::new(Timestamp::default()), METHOD)
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    }

    #[tokio::test]
    async fn streams_both_ways() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let answers: Vec<Duration> = (1..=3)
            .map(|s| Duration {
                seconds: s,
                nanos: 0,
            })
            .collect();
        let frames = answers.iter().map(|d| frame(&d.encode_to_vec())).collect();
        let remote = Remote::new(transport(frames, tx), &gateway());
        // Requests larger than the codec's starting buffer, which grows.
        let requests: Vec<prost_types::Any> = (0..3)
            .map(|i| prost_types::Any {
                type_url: format!("t/{i}"),
                value: vec![i as u8; CODEC_BUFFER_SIZE * 3],
            })
            .collect();
        let stream = RequestStream::new(futures_util::stream::iter(requests.clone()));
        let response = remote
            .streaming::<_, Duration>(tonic::Request::new(stream), METHOD)
            .await
            .unwrap();
        let mut stream = response.into_inner();
        for want in &answers {
            assert_eq!(stream.message().await.unwrap().as_ref(), Some(want));
        }
        assert_eq!(stream.message().await.unwrap(), None);
        let trailers = stream.trailers().await.unwrap().unwrap();
        assert_eq!(trailers.get("x-done").unwrap(), "yes");
        let sent: Vec<u8> = requests
            .iter()
            .flat_map(|m| frame(&m.encode_to_vec()).to_vec())
            .collect();
        assert_eq!(rx.recv().await.unwrap(), sent);
    }
}
