//! Slow consumers of SSE and chunked responses. hyper polls a response body
//! for its next frame only when the client can accept data (HTTP/2 window,
//! socket buffer), so a body that handed out a frame (or was just created)
//! and has not been polled again for the stall timeout belongs to a client
//! that accepted no data for that long. One sweeper thread per process
//! ([`super::sweeper`]) checks every open body a few times per timeout; for
//! a stalled one it drops the producing stream, which drops the upstream
//! and cancels the gRPC call, and the body ends with the mode's error frame
//! for [`GatewayError::SlowConsumer`] should the client read again.
//!
//! Why not a task per stream reading ahead into a channel (the first
//! design): that costs a task, a channel and two wake-ups per frame on
//! every stream, about a quarter of the CPU of an SSE event and 7 KiB per
//! open stream (docs/benchmarks.md); here a frame costs an uncontended lock
//! and a read of the sweeper's coarse clock. Memory held for a stalled
//! client: what hyper took, plus the connection's send buffers.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::Stream;
use http_body::Frame;

use super::sweeper::{Clock, Sweep, coarse_now, sweep_period, sweeper};
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::telemetry::{EndCell, EndReason, Left, StreamStats};

/// A frame of a streaming body, with what the metrics need to know of it.
pub(crate) struct Timed {
    pub(crate) frame: Frame<Bytes>,
    /// For a response message: when it left the gRPC stream.
    pub(crate) message: Option<Left>,
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
    #[inline]
    fn hand_over(self, stats: &StreamStats) -> Frame<Bytes> {
        if let Some(left) = self.message {
            let bytes = self.frame.data_ref().map_or(0, Bytes::len);
            stats.sent(bytes, left);
        }
        self.frame
    }
}

/// The body of `frames`, ended with `last(gateway, SlowConsumer)` when the
/// client takes no frame for `stall` (no limit with `None`). Messages are
/// counted as sent when hyper takes them.
pub(crate) fn watched_body<S>(
    frames: S,
    stall: Option<Duration>,
    last: (Gateway, LastFrame),
    stats: StreamStats,
    end: EndCell,
) -> Body
where
    S: Stream<Item = Timed> + Unpin + Send + 'static,
{
    let stall = stall.filter(|s| !s.is_zero());
    let watched = Arc::new(Watched {
        frames: Mutex::new(Some(frames)),
        // Waiting for the client from the start: a client that grants no
        // window never lets hyper poll the body at all.
        handed_at: AtomicU64::new(Clock::now()),
        stalled: AtomicBool::new(false),
        stall: stall.unwrap_or(NOT_WATCHED),
        end,
        runtime: tokio::runtime::Handle::current(),
    });
    let slot = stall.map(|stall| {
        let weak = Arc::downgrade(&watched);
        sweeper().watch(weak, stall)
    });
    Body::new(WatchedBody {
        watched,
        slot,
        last: Some(last),
        stats,
    })
}

/// The frame that tells a stalled client why its stream ended. A function
/// and the gateway it reads, not a closure: a boxed closure would be one
/// more allocation per stream.
pub(crate) type LastFrame = fn(&Gateway, &GatewayError) -> Option<Bytes>;

/// What the body and the sweeper share of one stream.
///
/// The stream lives in this same allocation rather than a box of its own:
/// with thousands of open streams, each frame finds this state cold in the
/// cache, and every pointer followed per frame is another miss (a profile
/// of 1 000 SSE streams put a third of the gateway's own time per event in
/// these misses, docs/benchmarks.md).
///
/// `repr(C)`: what a frame reads and writes first, so that it shares a
/// cache line with the start of the stream. Not aligned to a cache line:
/// an over-aligned allocation goes through the allocator's `memalign`,
/// about 500 instructions more per stream than a plain one, against no
/// difference in misses within the runs' spread at 1 000 cold SSE streams
/// (docs/benchmarks.md, round of 2026-12-01, late morning).
#[repr(C)]
struct Watched<S> {
    stall: Duration,
    /// [`Clock`] time of the last frame hyper took, as the coarse clock
    /// had it ([`coarse_now`], at most one sweep period behind), or of the
    /// body's start; [`WAITING_UPSTREAM`] while hyper waits for the next
    /// frame.
    handed_at: AtomicU64,
    /// The producing stream; `None` once it ended or was dropped as stalled.
    frames: Mutex<Option<S>>,
    /// Set by the sweeper when it dropped the stream.
    stalled: AtomicBool,
    end: EndCell,
    /// The runtime the stream runs on, entered to drop it.
    runtime: tokio::runtime::Handle,
}

/// `stall` of a body without a stall timeout: no sweeper looks at it.
const NOT_WATCHED: Duration = Duration::MAX;

/// `handed_at` while the body waits for its upstream: the client is not
/// the one holding things up.
const WAITING_UPSTREAM: u64 = u64::MAX;

struct WatchedBody<S> {
    watched: Arc<Watched<S>>,
    /// The sweeper's slot of this stream, if it is watched.
    slot: Option<usize>,
    last: Option<(Gateway, LastFrame)>,
    stats: StreamStats,
}

/// A body that goes leaves the sweeper at once. Its entry there is weak,
/// but a weak reference keeps the allocation, and with it the stream's
/// state, which lives in it: left for the sweeper to find, every ended
/// stream's memory stayed for up to a sweep period (2.5 s with the default
/// stall timeout), 40–94 MB at 20 000–70 000 short streams per second.
impl<S> Drop for WatchedBody<S> {
    fn drop(&mut self) {
        // The stream, if it has not ended, is dropped here, in the body's
        // context (its runtime), even if the sweeper holds the state for a
        // moment.
        let stream = self
            .watched
            .frames
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(stream);
        if let Some(slot) = self.slot.take() {
            sweeper().unwatch(slot);
        }
    }
}

impl<S: Stream<Item = Timed> + Unpin> http_body::Body for WatchedBody<S> {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let watched = &*this.watched;
        let mut frames = watched.frames.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stream) = frames.as_mut() {
            return match Pin::new(stream).poll_next(cx) {
                Poll::Ready(Some(timed)) => {
                    // The coarse clock: no clock read per frame (the stall
                    // check allows for its lag).
                    if watched.stall != NOT_WATCHED {
                        let now = coarse_now();
                        watched.handed_at.store(now, Ordering::Relaxed);
                    }
                    drop(frames);
                    Poll::Ready(Some(Ok(timed.hand_over(&this.stats))))
                }
                Poll::Ready(None) => {
                    let ended = frames.take();
                    drop(frames);
                    drop(ended);
                    this.last = None;
                    Poll::Ready(None)
                }
                Poll::Pending => {
                    watched.handed_at.store(WAITING_UPSTREAM, Ordering::Relaxed);
                    Poll::Pending
                }
            };
        }
        drop(frames);
        // Stalled: the client read again; tell it why the stream ended.
        if watched.stalled.load(Ordering::Acquire)
            && let Some((gateway, last)) = this.last.take()
        {
            let error = GatewayError::SlowConsumer {
                after: watched.stall,
            };
            if let Some(bytes) = last(&gateway, &error) {
                return Poll::Ready(Some(Ok(Frame::data(bytes))));
            }
        }
        Poll::Ready(None)
    }
}

impl<S: Send> Sweep for Watched<S> {
    fn sweep(&self, now: u64) {
        let handed_at = self.handed_at.load(Ordering::Relaxed);
        // `handed_at` may be up to one sweep period early (the coarse
        // clock's lag; the period is at most this stream's), two allowed:
        // never a stall before the timeout.
        if handed_at == WAITING_UPSTREAM
            || Duration::from_nanos(now.saturating_sub(handed_at))
                < self.stall.saturating_add(2 * sweep_period(self.stall))
        {
            return;
        }
        let mut frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        // Taken meanwhile: the body was polled after all.
        if self.handed_at.load(Ordering::Relaxed) != handed_at {
            return;
        }
        let Some(stream) = frames.take() else { return };
        // Under the lock: a poll that finds the stream gone must see why.
        // The reason first: dropping the stream ends its tracker.
        self.end.set(EndReason::SlowConsumer);
        self.stalled.store(true, Ordering::Release);
        drop(frames);
        tracing::debug!(
            "streaming response ended: {}",
            GatewayError::SlowConsumer { after: self.stall }
        );
        // Dropped in its runtime's context: what it holds (timers, the
        // gRPC call) may need it.
        let _runtime = self.runtime.enter();
        drop(stream);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streaming::Mode;
    use crate::telemetry::StreamTracker;
    use futures_util::StreamExt;
    use http_body_util::BodyExt;

    /// A watched body of one frame over `frames`, and the address of the
    /// state it shares with the sweeper.
    fn body_of<S>(frames: S) -> (WatchedBody<S>, *const ())
    where
        S: Stream<Item = Timed> + Unpin + Send + 'static,
    {
        let tracker = StreamTracker::new(tracing::Span::none(), Mode::Chunked, None);
        let watched = Arc::new(Watched {
            frames: Mutex::new(Some(frames)),
            handed_at: AtomicU64::new(Clock::now()),
            stalled: AtomicBool::new(false),
            stall: Duration::from_secs(30),
            end: tracker.end_cell(),
            runtime: tokio::runtime::Handle::current(),
        });
        let at = Arc::as_ptr(&watched).cast::<()>();
        let slot = sweeper().watch(
            Arc::downgrade(&watched) as std::sync::Weak<dyn Sweep>,
            Duration::from_secs(30),
        );
        let body = WatchedBody {
            watched,
            slot: Some(slot),
            last: None,
            stats: tracker.stats(),
        };
        (body, at)
    }

    #[tokio::test]
    async fn a_body_that_goes_leaves_the_sweeper_at_once() {
        // Ended, then dropped: the sweeper keeps nothing of it (its weak
        // reference would keep the stream's memory until the next sweep).
        let one = futures_util::stream::iter([Timed::other(Frame::data(Bytes::from_static(b"x")))]);
        let (body, at) = body_of(one);
        assert!(sweeper().holds(at));
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(&collected[..], b"x");
        assert!(!sweeper().holds(at));

        // Dropped before its end (the client went away): the stream is
        // dropped with the body, and the sweeper lets go too.
        let dropped = Arc::new(());
        let held = dropped.clone();
        let endless = futures_util::stream::pending::<Timed>().map(move |t| {
            let _ = &held;
            t
        });
        let (body, at) = body_of(Box::pin(endless));
        assert_eq!(Arc::strong_count(&dropped), 2);
        drop(body);
        assert_eq!(
            Arc::strong_count(&dropped),
            1,
            "the stream went with the body"
        );
        assert!(!sweeper().holds(at));
    }
}
