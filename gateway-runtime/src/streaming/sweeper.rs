//! The process's stall sweeper: the registry of watched streaming bodies
//! (see [`super::stall`]) and the thread that looks at them a few times per
//! stall timeout.
//!
//! Every stream registers when its body starts and leaves when the body
//! goes, on whichever worker thread runs it. The registry is sharded by
//! thread, each shard on cache lines of its own: with one lock for all,
//! every stream's start and end moved that lock's line between the cores
//! (a cost callgrind does not see, and the hand-written handler does not
//! pay). The coarse clock is written by the sweeper only, so the bodies
//! that read it per frame find it in their cache.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

/// What the sweeper needs of a watched stream, whatever its type.
pub(super) trait Sweep: Send + Sync {
    /// Drops the stream if its client stalled as of `now`.
    fn sweep(&self, now: u64);
}

/// Nanoseconds since the first use, on the system's monotonic clock (the
/// sweeper is a thread of its own, outside any runtime and its clock).
pub(super) struct Clock;

impl Clock {
    pub(super) fn now() -> u64 {
        Clock::at(Instant::now())
    }

    /// The clock's reading at `instant`.
    fn at(instant: Instant) -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        let start = *START.get_or_init(Instant::now);
        instant.saturating_duration_since(start).as_nanos() as u64
    }
}

/// [`Clock`] time as of the sweeper's last look (or its start): what a body
/// stores per frame instead of reading the clock, which would cost every
/// message of every stream a clock read.
static COARSE_NOW: AtomicU64 = AtomicU64::new(0);

/// The coarse clock (see [`COARSE_NOW`]): at most one sweep period behind
/// while the sweeper runs, and it runs while any stream is watched.
pub(super) fn coarse_now() -> u64 {
    COARSE_NOW.load(Ordering::Relaxed)
}

/// How often the sweeper looks at streams with this stall timeout: twelve
/// times per timeout. A stall counts from two periods after the coarse
/// time of the last frame (the coarse clock lags by one period, and a
/// sleep may overrun), so it is noticed within 1.25 times the timeout.
pub(super) fn sweep_period(stall: Duration) -> Duration {
    (stall / 12).max(Duration::from_millis(10))
}

/// Shards of the registry; a thread registers in one of them, chosen once
/// per thread. More than a runtime's usual number of worker threads.
const SHARDS: usize = 8;

/// A value on cache lines of its own (two: some processors fetch lines in
/// pairs).
#[repr(align(128))]
struct Padded<T>(T);

/// The process's sweeper: the watched streams, and whether its thread runs.
/// A thread, not a task: a task lives on the runtime that spawned it, which
/// may end (a test's, a short-lived one's) while other runtimes' streams
/// are still watched.
pub(super) struct Sweeper {
    shards: [Padded<Mutex<Shard>>; SHARDS],
    /// The sweep period of the shortest stall timeout seen, in nanoseconds
    /// ([`sweep_period`]); it only shrinks, so a stream's coarse times lag
    /// by at most its own period.
    period: AtomicU64,
    /// Whether the sweeping thread runs. Set and cleared under `control`.
    running: AtomicBool,
    /// Held to start the thread and by the thread to stop: a stream
    /// registered meanwhile is either seen by the thread before it stops,
    /// or sees it stopped and starts a new one.
    control: Mutex<()>,
}

#[derive(Default)]
struct Shard {
    /// The watched streams by index; a body frees its index when it goes.
    watched: Vec<Option<Weak<dyn Sweep>>>,
    /// Free indexes of `watched`.
    free: Vec<usize>,
}

/// The sweeper of the process.
pub(super) fn sweeper() -> &'static Sweeper {
    static SWEEPER: OnceLock<Sweeper> = OnceLock::new();
    SWEEPER.get_or_init(Sweeper::new)
}

/// The shard of the calling thread: threads take the shards in turn.
fn own_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sweeper {
    fn new() -> Self {
        Sweeper {
            shards: std::array::from_fn(|_| Padded(Mutex::new(Shard::default()))),
            period: AtomicU64::new(u64::MAX),
            running: AtomicBool::new(false),
            control: Mutex::new(()),
        }
    }

    /// Adds a stream, and starts the sweeping thread if none runs. Returns
    /// the stream's slot, for [`Sweeper::unwatch`].
    pub(super) fn watch(&'static self, stream: Weak<dyn Sweep>, stall: Duration) -> usize {
        let shard = own_shard();
        let index = {
            let mut state = lock(&self.shards[shard].0);
            match state.free.pop() {
                Some(index) => {
                    state.watched[index] = Some(stream);
                    index
                }
                None => {
                    state.watched.push(Some(stream));
                    state.watched.len() - 1
                }
            }
        };
        // Read, and written only by a stream with a shorter timeout than
        // any before: a write per stream would move the line between cores.
        let period = u64::try_from(sweep_period(stall).as_nanos()).unwrap_or(u64::MAX);
        if period < self.period.load(Ordering::Relaxed) {
            self.period.fetch_min(period, Ordering::Relaxed);
        }
        // After the stream is in its shard (the shard's lock orders the
        // two): a thread that stopped before seeing it is seen stopped.
        if !self.running.load(Ordering::SeqCst) {
            self.start();
        }
        index * SHARDS + shard
    }

    /// Starts the sweeping thread unless one runs.
    fn start(&'static self) {
        let _control = lock(&self.control);
        if self.running.load(Ordering::SeqCst) {
            return;
        }
        // Fresh for the new streams: the coarse clock stood still while
        // no thread ran.
        COARSE_NOW.store(Clock::now(), Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name("gateway-stall-sweeper".into())
            .spawn(move || self.run());
        match spawned {
            Ok(_) => self.running.store(true, Ordering::SeqCst),
            Err(e) => tracing::warn!("no stall sweeper thread ({e}): slow consumers are not ended"),
        }
    }

    /// Forgets the stream in `slot`. Its weak reference, the last one, is
    /// dropped after the lock: that frees the stream's state.
    pub(super) fn unwatch(&self, slot: usize) {
        let (index, shard) = (slot / SHARDS, slot % SHARDS);
        let gone = {
            let mut state = lock(&self.shards[shard].0);
            let gone = state.watched.get_mut(index).and_then(Option::take);
            if gone.is_some() {
                state.free.push(index);
            }
            gone
        };
        drop(gone);
    }

    /// Whether a slot holds the state at `at` (tests).
    #[cfg(test)]
    pub(super) fn holds(&self, at: *const ()) -> bool {
        self.shards.iter().any(|shard| {
            lock(&shard.0)
                .watched
                .iter()
                .flatten()
                .any(|w| std::ptr::addr_eq(w.as_ptr(), at))
        })
    }

    /// The live streams of every shard; the entries of streams gone
    /// without leaving are freed. One pass (each stream's state is cold in
    /// this thread's cache).
    fn live(&self) -> Vec<Arc<dyn Sweep>> {
        let mut live = Vec::new();
        for shard in &self.shards {
            let mut state = lock(&shard.0);
            let state = &mut *state;
            for (index, entry) in state.watched.iter_mut().enumerate() {
                let Some(weak) = entry else { continue };
                match weak.upgrade() {
                    Some(stream) => live.push(stream),
                    // Gone without leaving: not while bodies leave when
                    // dropped, but a dead entry is never kept.
                    None => {
                        *entry = None;
                        state.free.push(index);
                    }
                }
            }
        }
        live
    }

    /// Whether no stream is watched; the shards' memory goes if so.
    fn release_if_empty(&self) -> bool {
        let mut shards: Vec<_> = self.shards.iter().map(|s| lock(&s.0)).collect();
        if shards.iter().any(|s| s.watched.len() != s.free.len()) {
            return false;
        }
        for shard in &mut shards {
            **shard = Shard::default();
        }
        true
    }

    /// Sweeps until no stream is left.
    fn run(&'static self) {
        loop {
            std::thread::sleep(Duration::from_nanos(self.period.load(Ordering::Relaxed)));
            let live = self.live();
            if live.is_empty() {
                // Stopping: marked stopped first, then checked once more
                // under `control`; a stream registered before the check
                // keeps the thread, one after it sees it stopped.
                let _control = lock(&self.control);
                self.running.store(false, Ordering::SeqCst);
                if self.release_if_empty() {
                    return;
                }
                self.running.store(true, Ordering::SeqCst);
                continue;
            }
            let now = Clock::now();
            COARSE_NOW.store(now, Ordering::Relaxed);
            for stream in live {
                stream.sweep(now);
            }
            // Again after a sweep of many streams, so that the lag stays
            // about one period.
            COARSE_NOW.store(Clock::now(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A watched stream that counts the sweeps that looked at it.
    #[derive(Default)]
    struct Counted(AtomicUsize);

    impl Sweep for Counted {
        fn sweep(&self, _now: u64) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A sweeper of its own (the process's one is shared by every test).
    fn own_sweeper() -> &'static Sweeper {
        Box::leak(Box::new(Sweeper::new()))
    }

    fn watch(sweeper: &'static Sweeper, stream: &Arc<Counted>) -> usize {
        let weak = Arc::downgrade(stream) as Weak<dyn Sweep>;
        sweeper.watch(weak, Duration::from_millis(10))
    }

    /// Waits (up to 10 s) for `done`.
    fn eventually(what: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn streams_of_many_threads_are_swept_and_leave_their_shards() {
        let sweeper = own_sweeper();
        let per_thread: Vec<Vec<(Arc<Counted>, usize)>> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..SHARDS + 3)
                .map(|_| {
                    scope.spawn(|| {
                        (0..20)
                            .map(|_| {
                                let stream = Arc::new(Counted::default());
                                let slot = watch(sweeper, &stream);
                                (stream, slot)
                            })
                            .collect()
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let all: Vec<_> = per_thread.iter().flatten().collect();
        let shards: std::collections::HashSet<_> = all.iter().map(|(_, s)| s % SHARDS).collect();
        // Threads take the shards in turn (other tests' threads may take
        // turns in between, so not necessarily all of them).
        assert!(shards.len() >= 2, "the threads spread over the shards");
        let slots: std::collections::HashSet<_> = all.iter().map(|(_, s)| *s).collect();
        assert_eq!(slots.len(), all.len(), "one slot per stream");
        for (stream, _) in &all {
            assert!(sweeper.holds(Arc::as_ptr(stream).cast()));
        }
        eventually("every stream swept", || {
            all.iter().all(|(s, _)| s.0.load(Ordering::Relaxed) > 0)
        });
        for (stream, slot) in &all {
            sweeper.unwatch(*slot);
            assert!(!sweeper.holds(Arc::as_ptr(stream).cast()));
        }
    }

    #[test]
    fn the_thread_stops_when_nothing_is_watched_and_starts_again() {
        let sweeper = own_sweeper();
        let first = Arc::new(Counted::default());
        let slot = watch(sweeper, &first);
        assert!(sweeper.running.load(Ordering::SeqCst));
        eventually("swept", || first.0.load(Ordering::Relaxed) > 0);
        sweeper.unwatch(slot);
        eventually("stopped", || !sweeper.running.load(Ordering::SeqCst));

        // A new stream starts a new thread, with a fresh coarse clock.
        let before = Clock::now();
        let second = Arc::new(Counted::default());
        let slot = watch(sweeper, &second);
        assert!(sweeper.running.load(Ordering::SeqCst));
        assert!(coarse_now() >= before);
        eventually("swept again", || second.0.load(Ordering::Relaxed) > 0);
        assert!(sweeper.holds(Arc::as_ptr(&second).cast()));

        // A stream dropped without leaving is let go at the next sweep.
        drop(second);
        eventually("dead entry freed", || {
            let shard = lock(&sweeper.shards[slot % SHARDS].0);
            shard.watched.iter().all(Option::is_none)
        });
    }
}
