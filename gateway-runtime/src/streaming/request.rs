//! The request side of client and bidi streaming: NDJSON values from the
//! body (or one message from path and query) as a stream of request
//! messages, with errors reported to the response side.

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use std::task::{Context, Poll, ready};

use futures_util::Stream;
use tokio::sync::Notify;

use super::MergeFn;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::json::{JsonOptions, JsonReader, ReaderScratch};
use crate::ndjson::{BodyValueError, BodyValues, SplitError, body_values};
use crate::telemetry::Received;

/// The request stream handed to a tonic client-streaming or bidi call.
///
/// A named type rather than a bare `Pin<Box<dyn Stream>>`: with the bare
/// trait object, rustc cannot prove the futures of tonic's
/// `impl IntoStreamingRequest` methods `Send` ("higher-ranked lifetime
/// error").
pub struct RequestStream<M>(Pin<Box<dyn Stream<Item = M> + Send + 'static>>);

impl<M> RequestStream<M> {
    /// Wraps a stream of request messages.
    pub fn new(stream: impl Stream<Item = M> + Send + 'static) -> Self {
        RequestStream(Box::pin(stream))
    }
}

impl<M> Stream for RequestStream<M> {
    type Item = M;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<M>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl<M> std::fmt::Debug for RequestStream<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestStream")
    }
}

/// Where the request stream reports a malformed value: the request stream
/// itself can only end (tonic request streams carry no errors), so the
/// response side waits on this as well and fails the call with it.
#[derive(Clone, Default)]
pub(crate) struct RequestErrors {
    inner: Arc<(Mutex<Option<GatewayError>>, Notify)>,
}

impl RequestErrors {
    /// Records the first error and wakes the waiter.
    pub(crate) fn report(&self, error: GatewayError) {
        let mut slot = self.inner.0.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(error);
        }
        drop(slot);
        self.inner.1.notify_one();
    }

    /// The recorded error, if any.
    pub(crate) fn take(&self) -> Option<GatewayError> {
        self.inner
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Waits for an error.
    pub(crate) async fn wait(&self) -> GatewayError {
        loop {
            if let Some(error) = self.take() {
                return error;
            }
            self.inner.1.notified().await;
        }
    }
}

/// The request messages of a call: the NDJSON values of the body when
/// `from_body`, else the one message `base` (path and query values).
pub(crate) fn request_stream<M: Clone + Send + 'static>(
    gateway: &Gateway,
    from_body: bool,
    body: axum::body::Body,
    base: M,
    merge: MergeFn<M>,
    errors: &RequestErrors,
) -> RequestStream<M> {
    if from_body {
        body_requests(
            body,
            base,
            merge,
            gateway.json_options().clone(),
            gateway.body_limit(),
            errors.clone(),
        )
    } else {
        RequestStream::new(futures_util::stream::once(async move { base }))
    }
}

/// Request messages from an NDJSON body: each complete JSON value is merged
/// over a copy of `base` (the path and query values) and sent at once; the
/// body is read only as fast as the call consumes messages.
fn body_requests<M>(
    body: axum::body::Body,
    base: M,
    merge: MergeFn<M>,
    options: JsonOptions,
    max_value: usize,
    errors: RequestErrors,
) -> RequestStream<M>
where
    M: Clone + Send + 'static,
{
    RequestStream::new(BodyRequests {
        values: body_values(body, max_value),
        base,
        merge,
        options,
        errors,
        // The request's span: the stream is polled by tonic, outside it.
        received: Received::new(tracing::Span::current(), super::Mode::Chunked),
        scratch: ReaderScratch::default(),
        done: false,
    })
}

/// The stream of [`body_requests`], written by hand: a value costs a copy
/// of `base` and the merge, nothing per message for the stream itself (the
/// value is read where the splitter found it, in the body's buffer).
struct BodyRequests<M> {
    values: BodyValues,
    base: M,
    merge: MergeFn<M>,
    options: JsonOptions,
    errors: RequestErrors,
    received: Received,
    /// The JSON reader's lists, reused from message to message.
    scratch: ReaderScratch,
    done: bool,
}

// No field is ever pinned (the message is only cloned and moved out), so
// the stream moves freely whatever `M` is.
impl<M> Unpin for BodyRequests<M> {}

impl<M: Clone> Stream for BodyRequests<M> {
    type Item = M;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<M>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let error = match ready!(this.values.poll_value(cx)) {
            None => {
                this.done = true;
                return Poll::Ready(None);
            }
            Some(Ok(bytes)) => {
                let mut message = this.base.clone();
                let mut reader = JsonReader::with_scratch(bytes, &this.options, &mut this.scratch);
                let merged = (this.merge)(&mut message, &mut reader).and_then(|()| reader.finish());
                reader.into_scratch(&mut this.scratch);
                match merged {
                    Ok(()) => {
                        this.received.message(bytes.len());
                        return Poll::Ready(Some(message));
                    }
                    Err(e) => GatewayError::InvalidBody(e),
                }
            }
            Some(Err(BodyValueError::Split(SplitError::TooLarge { limit }))) => {
                GatewayError::BodyTooLarge { limit }
            }
            Some(Err(BodyValueError::Split(e))) => {
                GatewayError::InvalidBody(crate::json::JsonError::custom(e.to_string()))
            }
            Some(Err(BodyValueError::Read(e))) => GatewayError::BodyRead(e),
        };
        this.errors.report(error);
        this.done = true;
        Poll::Ready(None)
    }
}
