//! The load generator role (`gateway-bench load SPEC`), and what its
//! scenario drivers share: the spec, the result, the measured window, the
//! latency record and a bare HTTP/1.1 client connection.
//!
//! It runs in its own process so that the gateway's CPU time counts the
//! gateway only.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::time::Instant;

pub mod raw_http1;

use crate::payload::BodySize;
use crate::role;
use crate::scenarios;

/// What one load generator does; passed as JSON on its command line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum LoadSpec {
    /// Closed-loop unary calls (`POST /v1/echo`, or gRPC `Echo` when
    /// `grpc`) on `connections` connections.
    Unary {
        target: SocketAddr,
        body: BodySize,
        connections: usize,
        grpc: bool,
        warmup_ms: u64,
        window_ms: u64,
    },
    /// `streams` SSE clients on a stream emitting `rate` events/s each.
    Sse {
        target: SocketAddr,
        streams: usize,
        rate: u32,
        settle_ms: u64,
        window_ms: u64,
    },
    /// Closed-loop WebSocket echo on `connections` connections.
    WebSocket {
        target: SocketAddr,
        connections: usize,
        warmup_ms: u64,
        window_ms: u64,
    },
    /// One server stream of `messages` NDJSON lines (or gRPC messages).
    NdjsonDown {
        target: SocketAddr,
        messages: u64,
        grpc: bool,
    },
    /// One client stream of `messages` NDJSON lines (or gRPC messages).
    NdjsonUp {
        target: SocketAddr,
        messages: u64,
        grpc: bool,
    },
    /// Closed-loop unary calls (`POST /v1/echo`, small body) over h2c:
    /// `streams` callers spread over `connections` connections.
    UnaryH2 {
        target: SocketAddr,
        connections: usize,
        streams: usize,
        warmup_ms: u64,
        window_ms: u64,
    },
    /// Closed-loop short server streams: on each of `connections`
    /// connections, `GET /streaming/server/generate?count=MESSAGES` read to
    /// its end, then the next, as SSE (`sse`) or NDJSON.
    ShortStreams {
        target: SocketAddr,
        sse: bool,
        messages: u32,
        connections: usize,
        warmup_ms: u64,
        window_ms: u64,
    },
    /// `streams` SSE clients over `connections` h2c connections.
    SseH2 {
        target: SocketAddr,
        connections: usize,
        streams: usize,
        rate: u32,
        settle_ms: u64,
        window_ms: u64,
    },
}

/// What the load generator measured inside its window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadResult {
    /// Completed operations (requests, events, messages).
    pub ops: u64,
    /// Length of the window, seconds.
    pub secs: f64,
    /// Failed operations, and responses that were not what was sent.
    pub errors: u64,
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    /// The first error seen, if any.
    pub note: String,
}

/// `gateway-bench load SPEC_JSON`.
pub fn load_main(args: &[String]) {
    let spec: LoadSpec =
        serde_json::from_str(args.first().expect("load SPEC")).expect("a LoadSpec in JSON");
    crate::procstat::raise_nofile_limit();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async move {
        match spec {
            LoadSpec::Unary { .. } => scenarios::unary::load(spec).await,
            LoadSpec::Sse { .. } => scenarios::sse::load(spec).await,
            LoadSpec::WebSocket { .. } => scenarios::websocket::load(spec).await,
            LoadSpec::NdjsonDown { .. } | LoadSpec::NdjsonUp { .. } => {
                scenarios::ndjson::load(spec).await
            }
            LoadSpec::UnaryH2 { .. } | LoadSpec::SseH2 { .. } => scenarios::h2::load(spec).await,
            LoadSpec::ShortStreams { .. } => scenarios::short_streams::load(spec).await,
        }
    });
    role::say(&format!(
        "RESULT {}",
        serde_json::to_string(&result).expect("serializable")
    ));
    // Connections still open are not closed gracefully: the servers are
    // killed next anyway.
    runtime.shutdown_timeout(Duration::from_millis(100));
}

/// The measured part of a closed-loop run: after a warm-up, for a fixed
/// length. The orchestrator reads the gateway's CPU time when `START` and
/// `STOP` are printed.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    pub fn after(warmup_ms: u64, window_ms: u64) -> Window {
        let start = Instant::now() + Duration::from_millis(warmup_ms);
        Window {
            start,
            end: start + Duration::from_millis(window_ms),
        }
    }

    /// Prints `START` and `STOP` on time.
    pub fn announce(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            tokio::time::sleep_until(self.start).await;
            role::say("START");
            tokio::time::sleep_until(self.end).await;
            role::say("STOP");
        })
    }

    pub fn secs(&self) -> f64 {
        (self.end - self.start).as_secs_f64()
    }

    /// Whether an operation that ended at `end` counts.
    pub fn holds(&self, end: Instant) -> bool {
        end >= self.start && end <= self.end
    }
}

/// What one connection saw.
#[derive(Debug, Default)]
pub struct ConnStats {
    pub ops: u64,
    pub errors: u64,
    /// Latency of each counted operation, µs.
    pub latencies: Vec<u32>,
    pub note: String,
}

impl ConnStats {
    pub fn record(&mut self, window: &Window, start: Instant, end: Instant) {
        if window.holds(end) {
            self.ops += 1;
            self.latencies
                .push((end - start).as_micros().min(u32::MAX as u128) as u32);
        }
    }

    pub fn error(&mut self, what: impl std::fmt::Display) {
        self.errors += 1;
        if self.note.is_empty() {
            self.note = what.to_string();
        }
    }
}

/// A closed-loop load: one task per connection, made by `connection` for
/// the window that opens after `warmup_ms`, and their stats merged.
pub async fn closed_loop<F, Fut>(
    warmup_ms: u64,
    window_ms: u64,
    connections: usize,
    connection: F,
) -> LoadResult
where
    F: Fn(Window) -> Fut,
    Fut: std::future::Future<Output = ConnStats> + Send + 'static,
{
    let window = Window::after(warmup_ms, window_ms);
    let announcer = window.announce();
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(window)))
        .collect();
    gather(window, announcer, tasks, Vec::new()).await
}

/// Waits for the load's tasks and for the end of its window (`announcer`),
/// then merges their stats after `earlier` (stats of connections that
/// failed before any task ran).
pub async fn gather(
    window: Window,
    announcer: tokio::task::JoinHandle<()>,
    tasks: Vec<tokio::task::JoinHandle<ConnStats>>,
    mut earlier: Vec<ConnStats>,
) -> LoadResult {
    for task in tasks {
        earlier.push(task.await.unwrap_or_default());
    }
    let _ = announcer.await;
    merge(earlier, window.secs())
}

/// Merges per-connection stats into the result.
pub fn merge(stats: Vec<ConnStats>, secs: f64) -> LoadResult {
    let mut result = LoadResult {
        secs,
        ..LoadResult::default()
    };
    let mut latencies = Vec::new();
    for s in stats {
        result.ops += s.ops;
        result.errors += s.errors;
        if result.note.is_empty() {
            result.note = s.note;
        }
        latencies.extend(s.latencies);
    }
    latencies.sort_unstable();
    result.p50_us = percentile(&latencies, 0.50);
    result.p99_us = percentile(&latencies, 0.99);
    result
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u32], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1] as f64)
}

/// A bare HTTP/1.1 connection (keep-alive, TCP_NODELAY): hyper's
/// connection-level client, so that N tasks mean exactly N connections and
/// no pool sits in between.
pub async fn http1(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    Ok(sender)
}

/// A gRPC channel of its own (one HTTP/2 connection) for a load task.
pub async fn grpc_channel(addr: SocketAddr) -> Result<tonic::transport::Channel, String> {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), Some(50.0));
        assert_eq!(percentile(&v, 0.99), Some(99.0));
        assert_eq!(percentile(&[7], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
