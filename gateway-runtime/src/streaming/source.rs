//! The upstream gRPC response stream with its message type erased.
//!
//! The SSE, NDJSON, WebSocket and `HttpBody` writers are compiled once for
//! every binding: they hold a `Box<dyn ResponseSource>` (one allocation per
//! stream) and make one virtual call per message, which writes the message
//! straight into the frame's buffer. Only [`Typed`], a few lines, is
//! compiled per message type.

use std::task::{Context, Poll};

use super::{FieldFn, WriteFn};
use crate::http_body::RawBody;
use crate::json::JsonWriter;

/// A stream of response messages; the last one received is held until it
/// is released or the next is polled, for [`ResponseSource::write`] and
/// the others.
pub(crate) trait ResponseSource: Send {
    /// Polls for the next message: `Ok(true)` when one arrived (and is now
    /// held), `Ok(false)` at the end of the stream.
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, tonic::Status>>;

    /// Polls for the trailers, once the stream has ended (for every
    /// backend they are there by then: this is ready at once).
    fn poll_trailers(&mut self, cx: &mut Context<'_>)
    -> Poll<Option<tonic::metadata::MetadataMap>>;

    /// Writes the held message as JSON.
    fn write(&self, w: &mut JsonWriter);

    /// A top-level scalar field of the held message, as text.
    fn field(&self, name: &str) -> Option<String>;

    /// Takes the held message apart (`google.api.HttpBody` streams).
    fn take_raw(&mut self) -> RawBody;

    /// Drops the held message, once it is written. Freed then, while its
    /// memory is still in the cache, rather than when the next message
    /// comes: on a quiet stream that is seconds later, and with thousands
    /// of streams open the free then misses the cache.
    fn release(&mut self);
}

/// How a message type is written.
pub(crate) enum Render<M> {
    /// As JSON, and its fields for SSE `id:` and `event:`.
    Json(WriteFn<M>, FieldFn<M>),
    /// As the bytes of an `HttpBody`.
    Raw(fn(M) -> RawBody),
}

/// The [`ResponseSource`] of one message type.
pub(crate) struct Typed<M> {
    stream: super::ResponseStream<M>,
    current: Option<M>,
    render: Render<M>,
}

impl<M: Send + 'static> Typed<M> {
    /// The stream of `stream`'s messages, written as `render` says.
    pub(crate) fn boxed(
        stream: super::ResponseStream<M>,
        render: Render<M>,
    ) -> Box<dyn ResponseSource> {
        Box::new(Typed {
            stream,
            current: None,
            render,
        })
    }
}

impl<M: Send + 'static> ResponseSource for Typed<M> {
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, tonic::Status>> {
        match self.stream.poll_next_message(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(message))) => {
                self.current = Some(message);
                Poll::Ready(Ok(true))
            }
            Poll::Ready(Some(Err(status))) => Poll::Ready(Err(status)),
            Poll::Ready(None) => Poll::Ready(Ok(false)),
        }
    }

    fn poll_trailers(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<tonic::metadata::MetadataMap>> {
        self.stream.poll_trailers(cx)
    }

    fn write(&self, w: &mut JsonWriter) {
        if let (Some(message), Render::Json(write, _)) = (&self.current, &self.render) {
            write(message, w);
        }
    }

    fn field(&self, name: &str) -> Option<String> {
        match (&self.current, &self.render) {
            (Some(message), Render::Json(_, field)) => field(message, name),
            _ => None,
        }
    }

    fn take_raw(&mut self) -> RawBody {
        match (self.current.take(), &self.render) {
            (Some(message), Render::Raw(raw)) => raw(message),
            _ => RawBody::default(),
        }
    }

    fn release(&mut self) {
        self.current = None;
    }
}
