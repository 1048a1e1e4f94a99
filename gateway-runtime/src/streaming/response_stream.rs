//! The response messages of a server- or bidi-streaming call, from either
//! backend: the gRPC body's messages as protobuf bytes, decoded here (read
//! by the gateway for a server stream, by tonic's `Streaming` for a bidi
//! one), or the stream a service returned to a direct call.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::remote::Messages;

type DecodeFn<M> = fn(Bytes) -> Result<M, tonic::Status>;

/// A stream of response messages as the streaming drivers read it.
pub struct ResponseStream<M>(Inner<M>);

// Not boxed: the tonic variant is what remote and in-process calls hold
// anyway, and a box would cost them an allocation per stream.
#[allow(clippy::large_enum_variant)]
enum Inner<M> {
    Tonic(tonic::Streaming<M>),
    /// A server stream's messages as protobuf bytes, read by
    /// [`crate::remote`], and the decode of the method's response type.
    Remote(Messages, DecodeFn<M>),
    /// A bidi stream's messages as protobuf bytes ([`crate::remote`]'s
    /// erased codec) and the decode of the method's response type.
    RemoteBidi(tonic::Streaming<Bytes>, DecodeFn<M>),
    Direct(Pin<Box<dyn Stream<Item = Result<M, tonic::Status>> + Send + 'static>>),
}

impl<M> ResponseStream<M> {
    /// The stream a service method returned (its `Self::FooStream`).
    pub fn direct(stream: impl Stream<Item = Result<M, tonic::Status>> + Send + 'static) -> Self {
        ResponseStream(Inner::Direct(Box::pin(stream)))
    }

    /// The messages of a server-streaming call made through
    /// [`crate::remote::Remote`].
    pub(crate) fn remote(messages: Messages, decode: DecodeFn<M>) -> Self {
        ResponseStream(Inner::Remote(messages, decode))
    }

    /// The messages of a bidi-streaming call made through
    /// [`crate::remote::Remote`].
    pub(crate) fn remote_bidi(stream: tonic::Streaming<Bytes>, decode: DecodeFn<M>) -> Self {
        ResponseStream(Inner::RemoteBidi(stream, decode))
    }

    /// The next message; `Ok(None)` at the end.
    pub async fn message(&mut self) -> Result<Option<M>, tonic::Status> {
        match &mut self.0 {
            Inner::Tonic(stream) => stream.message().await,
            Inner::Remote(messages, decode) => {
                match std::future::poll_fn(|cx| messages.poll_message(cx)).await {
                    Some(bytes) => bytes.and_then(*decode).map(Some),
                    None => Ok(None),
                }
            }
            Inner::RemoteBidi(stream, decode) => match stream.message().await? {
                Some(bytes) => decode(bytes).map(Some),
                None => Ok(None),
            },
            Inner::Direct(stream) => stream.next().await.transpose(),
        }
    }

    /// Polls for the next message.
    #[inline]
    pub(crate) fn poll_next_message(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<M, tonic::Status>>> {
        match &mut self.0 {
            Inner::Tonic(stream) => Pin::new(stream).poll_next(cx),
            Inner::Remote(messages, decode) => messages
                .poll_message(cx)
                .map(|next| next.map(|bytes| bytes.and_then(*decode))),
            Inner::RemoteBidi(stream, decode) => Pin::new(stream)
                .poll_next(cx)
                .map(|next| next.map(|bytes| bytes.and_then(*decode))),
            Inner::Direct(stream) => stream.as_mut().poll_next(cx),
        }
    }

    /// The trailers, after the last message. A direct call has none: a
    /// tonic service cannot set trailers on a stream that ends well (its
    /// error's metadata is the status's own).
    pub async fn trailers(
        &mut self,
    ) -> Result<Option<tonic::metadata::MetadataMap>, tonic::Status> {
        match &mut self.0 {
            Inner::Tonic(stream) => stream.trailers().await,
            Inner::Remote(messages, _) => messages.trailers().await,
            Inner::RemoteBidi(stream, _) => stream.trailers().await,
            Inner::Direct(_) => Ok(None),
        }
    }
}

impl<M> ResponseStream<M> {
    /// Polls for the trailers once the messages have ended, when every
    /// backend has them at hand: without the future [`Self::trailers`]
    /// makes (a box per stream, where it is kept across polls). An error
    /// reading them counts as none.
    pub(crate) fn poll_trailers(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<tonic::metadata::MetadataMap>> {
        match &mut self.0 {
            Inner::Remote(messages, _) => messages.poll_trailers(cx),
            // Ready at once after the end (tonic keeps them from the last
            // poll); were it not, a new future next time reads on from
            // where this one stopped.
            Inner::Tonic(stream) => poll_once(std::pin::pin!(stream.trailers()), cx),
            Inner::RemoteBidi(stream, _) => poll_once(std::pin::pin!(stream.trailers()), cx),
            Inner::Direct(_) => std::task::Poll::Ready(None),
        }
    }
}

fn poll_once<F>(
    future: Pin<&mut F>,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<Option<tonic::metadata::MetadataMap>>
where
    F: std::future::Future<Output = Result<Option<tonic::metadata::MetadataMap>, tonic::Status>>,
{
    future.poll(cx).map(|trailers| trailers.ok().flatten())
}

impl<M> From<tonic::Streaming<M>> for ResponseStream<M> {
    fn from(stream: tonic::Streaming<M>) -> Self {
        ResponseStream(Inner::Tonic(stream))
    }
}

impl<M> std::fmt::Debug for ResponseStream<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Inner::Tonic(_) | Inner::Remote(..) | Inner::RemoteBidi(..) => "ResponseStream(tonic)",
            Inner::Direct(_) => "ResponseStream(direct)",
        })
    }
}
