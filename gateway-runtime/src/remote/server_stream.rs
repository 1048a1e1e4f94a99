//! The response messages of a server-streaming call, read by the gateway
//! itself rather than by tonic's `Streaming`: the frames by tonic's rules
//! (`frames`), handed on as they come, and the trailers kept for the end.
//!
//! tonic's `Streaming` copies every data frame into a decode buffer of its
//! own (allocated per call, kept while the stream waits), wraps the body
//! in a second boxed body that maps its frames and errors, and goes
//! through a boxed decoder per message. Here a message within one data
//! frame is split off it, and a waiting stream holds no buffer.
//!
//! At the end, as tonic 0.14: the trailers of a call that failed on its
//! status are not kept, and `trailers` first reads whatever messages are
//! left. After an error (a bad frame, a failed body, a non-OK status) the
//! stream ends here, where tonic's `Streaming` may return a body's error a
//! second time, or go on reading after a bad frame from the wrong place;
//! the gateway's drivers stop at the first error either way.

use std::task::{Context, Poll, ready};

use bytes::Bytes;
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::frames::{self, Frames};

/// The messages of a server-streaming response, as protobuf bytes.
pub(crate) struct Messages {
    frames: Frames<tonic::body::Body>,
    /// Whether the end or an error has been returned.
    finished: bool,
}

impl Messages {
    /// The messages of `response`'s body, after the checks of its head
    /// (which may end the call); `limit` is the decoding limit.
    pub(super) fn open(
        response: http::Response<tonic::body::Body>,
        limit: usize,
    ) -> Result<tonic::Response<Messages>, Status> {
        let (parts, body) = response.into_parts();
        let frames = frames::open(&parts.headers, parts.status, body, limit)?;
        let messages = Messages {
            frames,
            finished: false,
        };
        Ok(tonic::Response::from_parts(
            MetadataMap::from_headers(parts.headers),
            messages,
            parts.extensions,
        ))
    }

    /// Polls for the next message; `None` once the stream has ended or
    /// returned its error.
    pub(crate) fn poll_message(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Status>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match ready!(self.frames.poll_message(cx)) {
            Ok(Some(message)) => Poll::Ready(Some(Ok(message))),
            Ok(None) => {
                self.finished = true;
                Poll::Ready(None)
            }
            Err(status) => {
                self.finished = true;
                self.frames.trailers = None;
                Poll::Ready(Some(Err(status)))
            }
        }
    }

    /// The trailers, once the messages left are read (and dropped).
    pub(crate) async fn trailers(&mut self) -> Result<Option<MetadataMap>, Status> {
        while let Some(message) = std::future::poll_fn(|cx| self.poll_message(cx)).await {
            message?;
        }
        Ok(self.take_trailers())
    }

    /// [`Self::trailers`] polled, an error counting as none: ready at once
    /// after the end.
    pub(crate) fn poll_trailers(&mut self, cx: &mut Context<'_>) -> Poll<Option<MetadataMap>> {
        while let Some(message) = ready!(self.poll_message(cx)) {
            if message.is_err() {
                return Poll::Ready(None);
            }
        }
        Poll::Ready(self.take_trailers())
    }

    fn take_trailers(&mut self) -> Option<MetadataMap> {
        self.frames.trailers.take().map(MetadataMap::from_headers)
    }
}
