//! Slow consumers of SSE and chunked responses: the response body is
//! produced in its own task and handed to hyper through a one-frame
//! channel. hyper takes a frame only when the client can accept it (HTTP/2
//! window, socket buffer), so a frame that waits longer than the stall
//! timeout means the client accepted no data for that long: the producer
//! then stops, which drops the upstream stream and cancels the gRPC call,
//! and the body ends with the mode's error frame for
//! [`GatewayError::SlowConsumer`] should the client read again. Memory held
//! for such a client: one frame here, plus the connection's send buffers.

use std::convert::Infallible;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body::Frame;
use http_body_util::StreamBody;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::error::GatewayError;
use crate::telemetry::{EndCell, EndReason, StreamStats};

/// A frame of a streaming body, with what the metrics need to know of it.
pub(crate) struct Timed {
    pub(crate) frame: Frame<Bytes>,
    /// For a response message: when it left the gRPC stream.
    pub(crate) message: Option<std::time::Instant>,
}

impl Timed {
    /// A frame that is not a response message (heartbeat, end, trailers).
    pub(crate) fn other(frame: Frame<Bytes>) -> Self {
        Timed {
            frame,
            message: None,
        }
    }

    /// The frame, counted as sent if it carries a message.
    fn hand_over(self, stats: &StreamStats) -> Frame<Bytes> {
        if let Some(since) = self.message {
            let bytes = self.frame.data_ref().map_or(0, Bytes::len);
            stats.sent(bytes, Some(since));
        }
        self.frame
    }
}

/// The body of `frames`, ended with `last(SlowConsumer)` when the client
/// takes no frame for `stall` (no limit with `None`). Messages are counted
/// as sent when hyper takes them.
pub(crate) fn watched_body<S>(
    frames: S,
    stall: Option<Duration>,
    last: impl FnOnce(&GatewayError) -> Option<Bytes> + Send + 'static,
    stats: StreamStats,
    end: EndCell,
) -> Body
where
    S: Stream<Item = Timed> + Send + 'static,
{
    let Some(stall) = stall.filter(|s| !s.is_zero()) else {
        let frames = frames.map(move |t| Ok::<_, Infallible>(t.hand_over(&stats)));
        return Body::new(StreamBody::new(frames));
    };
    let (tx, rx) = mpsc::channel::<Timed>(1);
    let slot: Arc<Mutex<Option<Bytes>>> = Arc::default();
    let ending = slot.clone();
    tokio::spawn(async move {
        let mut frames = pin!(frames);
        loop {
            // The client gone (body dropped) ends the producer at once, even
            // while the upstream is quiet.
            let frame = tokio::select! {
                frame = frames.next() => frame,
                () = tx.closed() => return,
            };
            let Some(frame) = frame else { return };
            let frame = match tx.try_send(frame) {
                Ok(()) => continue,
                Err(TrySendError::Closed(_)) => return,
                Err(TrySendError::Full(frame)) => frame,
            };
            match tokio::time::timeout(stall, tx.send(frame)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return,
                Err(_) => {
                    let error = GatewayError::SlowConsumer { after: stall };
                    tracing::debug!("streaming response ended: {error}");
                    end.set(EndReason::SlowConsumer);
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = last(&error);
                    return;
                }
            }
        }
    });
    let frames = futures_util::stream::unfold((rx, Some(ending)), move |(mut rx, ending)| {
        let stats = stats.clone();
        async move {
            if let Some(frame) = rx.recv().await {
                return Some((Ok::<_, Infallible>(frame.hand_over(&stats)), (rx, ending)));
            }
            let last = ending?.lock().unwrap_or_else(|e| e.into_inner()).take()?;
            Some((Ok(Frame::data(last)), (rx, None)))
        }
    });
    Body::new(StreamBody::new(frames))
}
