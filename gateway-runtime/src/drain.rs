//! Graceful shutdown: a [`Drain`] handle shared by the gateway (which
//! refuses new streams and ends open ones the documented way once it is
//! draining) and [`serve_with_drain`](crate::serve::serve_with_drain)
//! (which stops accepting, lets requests in flight finish and closes idle
//! connections). See docs/operations.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, watch};

/// A shutdown signal plus a count of the streams still open.
///
/// Cheap to clone; all clones are one handle. Give it to the gateway with
/// [`GatewayBuilder::drain`](crate::GatewayBuilder::drain) and to
/// [`serve_with_drain`](crate::serve::serve_with_drain), then call
/// [`start`](Drain::start) on SIGTERM.
#[derive(Clone, Debug)]
pub struct Drain {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    signal: watch::Sender<bool>,
    streams: AtomicUsize,
    idle: Notify,
}

impl Default for Drain {
    fn default() -> Self {
        Drain::new()
    }
}

impl Drain {
    /// A handle that is not draining.
    pub fn new() -> Self {
        Drain {
            inner: Arc::new(Inner {
                signal: watch::Sender::new(false),
                streams: AtomicUsize::new(0),
                idle: Notify::new(),
            }),
        }
    }

    /// Starts draining: new streams get 503, open streams end (WebSocket
    /// close 1001, SSE the shutdown event, NDJSON the end of the body), and
    /// the server stops accepting connections.
    pub fn start(&self) {
        self.inner.signal.send_replace(true);
    }

    /// Whether [`start`](Drain::start) was called.
    pub fn is_draining(&self) -> bool {
        *self.inner.signal.borrow()
    }

    /// Resolves once draining starts.
    pub async fn draining(&self) {
        let mut rx = self.inner.signal.subscribe();
        let _ = rx.wait_for(|draining| *draining).await;
    }

    /// How many streams are open.
    pub fn open_streams(&self) -> usize {
        self.inner.streams.load(Ordering::Acquire)
    }

    /// Resolves when no stream is open.
    pub async fn streams_closed(&self) {
        loop {
            let idle = self.inner.idle.notified();
            if self.open_streams() == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Counts one stream open until the token is dropped.
    pub(crate) fn stream(&self) -> StreamToken {
        self.inner.streams.fetch_add(1, Ordering::AcqRel);
        StreamToken(self.clone())
    }
}

/// One open stream of a [`Drain`].
pub(crate) struct StreamToken(Drain);

impl Drop for StreamToken {
    fn drop(&mut self) {
        if self.0.inner.streams.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.inner.idle.notify_waiters();
        }
    }
}
