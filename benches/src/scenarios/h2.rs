//! Scenario 6, HTTP/2 clients: the unary echo and the SSE fan-out with the
//! load over h2c (HTTP/2 with prior knowledge, many streams per
//! connection), beside the same load over HTTP/1.1 in the same rounds.
//!
//! Cases (the concurrency column is in-flight requests or open streams):
//! - `unary h1.1`: one request at a time on each of N connections (the
//!   unary scenario's load);
//! - `unary h2 1 conn`: N concurrent streams on one connection;
//! - `unary h2 8 conns`: N concurrent streams spread over 8 connections;
//! - `sse h1.1` / `sse h2`: N event streams, one per connection, or N
//!   streams over `sse_h2_connections` connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{Record, progress, run_once};
use crate::cli::Plan;
use crate::contender::Contender;
use crate::load::{ConnStats, LoadResult, LoadSpec, Window, gather, merge};
use crate::payload::{BodySize, echo_json};

pub const CONTENDERS: &[Contender] = &[
    Contender::GenRemote,
    Contender::GenInProcess,
    Contender::Hand,
];

/// Connections the h2 unary case spreads its streams over, besides one.
const UNARY_H2_CONNECTIONS: usize = 8;

/// A case: its name, its concurrency and the load it sends to a target.
type Case<'a> = (
    &'static str,
    usize,
    Box<dyn Fn(SocketAddr) -> LoadSpec + 'a>,
);

/// Orchestrator side.
pub fn run(plan: &Plan) -> Vec<Record> {
    let n = plan.unary_connections;
    let warmup_ms = plan.warmup.as_millis() as u64;
    let window_ms = plan.window.as_millis() as u64;
    let mut records = Vec::new();
    for round in 0..plan.rounds {
        for &contender in CONTENDERS {
            let cases: [Case; 5] = [
                (
                    "unary h1.1",
                    n,
                    Box::new(move |target| LoadSpec::Unary {
                        target,
                        body: BodySize::Small,
                        connections: n,
                        grpc: false,
                        warmup_ms,
                        window_ms,
                    }),
                ),
                (
                    "unary h2 1 conn",
                    n,
                    Box::new(move |target| LoadSpec::UnaryH2 {
                        target,
                        connections: 1,
                        streams: n,
                        warmup_ms,
                        window_ms,
                    }),
                ),
                (
                    "unary h2 8 conns",
                    n,
                    Box::new(move |target| LoadSpec::UnaryH2 {
                        target,
                        connections: UNARY_H2_CONNECTIONS.min(n),
                        streams: n,
                        warmup_ms,
                        window_ms,
                    }),
                ),
                (
                    "sse h1.1",
                    plan.sse_h2_streams,
                    Box::new(|target| LoadSpec::Sse {
                        target,
                        streams: plan.sse_h2_streams,
                        rate: plan.sse_rate,
                        settle_ms: warmup_ms,
                        window_ms,
                    }),
                ),
                (
                    "sse h2",
                    plan.sse_h2_streams,
                    Box::new(|target| LoadSpec::SseH2 {
                        target,
                        connections: plan.sse_h2_connections,
                        streams: plan.sse_h2_streams,
                        rate: plan.sse_rate,
                        settle_ms: warmup_ms,
                        window_ms,
                    }),
                ),
            ];
            for (case, concurrency, spec) in cases {
                let measured = run_once(contender, spec);
                let mut record = measured.record("h2", case, concurrency, contender, round);
                if case.starts_with("sse") {
                    record.rss_per_stream_kib = match (
                        measured.gateway_rss_before_kib,
                        measured.gateway_rss_start_kib,
                    ) {
                        (Some(before), Some(open)) => {
                            Some(open.saturating_sub(before) as f64 / concurrency.max(1) as f64)
                        }
                        _ => None,
                    };
                }
                progress(&record);
                records.push(record);
            }
        }
    }
    records
}

/// Load side.
pub async fn load(spec: LoadSpec) -> LoadResult {
    match spec {
        LoadSpec::UnaryH2 {
            target,
            connections,
            streams,
            warmup_ms,
            window_ms,
        } => unary(target, connections, streams, warmup_ms, window_ms).await,
        LoadSpec::SseH2 {
            target,
            connections,
            streams,
            rate,
            settle_ms,
            window_ms,
        } => sse(target, connections, streams, rate, settle_ms, window_ms).await,
        _ => unreachable!("h2::load takes the H2 specs"),
    }
}

/// An h2c connection (HTTP/2 with prior knowledge, TCP_NODELAY); the
/// sender is cloned for each stream.
async fn http2(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .map_err(|e| format!("h2 handshake: {e}"))?;
    tokio::spawn(connection);
    Ok(sender)
}

/// `streams` closed-loop unary callers over `connections` connections.
async fn unary(
    target: SocketAddr,
    connections: usize,
    streams: usize,
    warmup_ms: u64,
    window_ms: u64,
) -> LoadResult {
    let window = Window::after(warmup_ms, window_ms);
    let json = Bytes::from(echo_json(BodySize::Small));
    let mut senders = Vec::new();
    for _ in 0..connections.max(1) {
        match http2(target).await {
            Ok(sender) => senders.push(sender),
            Err(e) => {
                let mut stats = ConnStats::default();
                stats.error(e);
                return merge(vec![stats], window.secs());
            }
        }
    }
    let announcer = window.announce();
    let tasks: Vec<_> = (0..streams)
        .map(|i| {
            let sender = senders[i % senders.len()].clone();
            let request = || Request::post("http://bench/v1/echo");
            tokio::spawn(super::unary::echo_loop(
                sender,
                request,
                json.clone(),
                window,
            ))
        })
        .collect();
    gather(window, announcer, tasks, Vec::new()).await
}

/// `streams` SSE streams over `connections` h2 connections; counted like
/// the HTTP/1.1 SSE scenario (opened, settled, then the window).
async fn sse(
    target: SocketAddr,
    connections: usize,
    streams: usize,
    rate: u32,
    settle_ms: u64,
    window_ms: u64,
) -> LoadResult {
    let delay_ms = (1000 / rate.max(1)).max(1);
    let mut senders = Vec::new();
    for _ in 0..connections.max(1) {
        match http2(target).await {
            Ok(sender) => senders.push(sender),
            Err(note) => {
                return LoadResult {
                    errors: 1,
                    note,
                    ..LoadResult::default()
                };
            }
        }
    }
    let events = Arc::new(AtomicU64::new(0));
    let (opened, opened_rx) = mpsc::unbounded_channel();
    let clients: Vec<_> = (0..streams)
        .map(|i| {
            let sender = senders[i % senders.len()].clone();
            tokio::spawn(sse_stream(sender, delay_ms, events.clone(), opened.clone()))
        })
        .collect();
    drop(opened);
    let result = super::sse::count_events(streams, opened_rx, &events, settle_ms, window_ms).await;
    for client in clients {
        client.abort();
    }
    result
}

/// One SSE stream on a shared connection: counts events by their
/// blank-line terminators.
async fn sse_stream(
    sender: SendRequest<Full<Bytes>>,
    delay_ms: u32,
    events: Arc<AtomicU64>,
    opened: mpsc::UnboundedSender<Result<(), String>>,
) {
    let mut sender = sender;
    let request = Request::get(format!(
        "http://bench/streaming/server/notifications?delayMs={delay_ms}"
    ))
    .header(header::ACCEPT, "text/event-stream")
    .body(Full::new(Bytes::new()))
    .expect("request");
    let response = match sender.ready().await {
        Ok(()) => sender.send_request(request).await,
        Err(e) => Err(e),
    };
    let response = match response {
        Ok(response) if response.status() == http::StatusCode::OK => response,
        Ok(response) => {
            let _ = opened.send(Err(format!("HTTP {}", response.status())));
            return;
        }
        Err(e) => {
            let _ = opened.send(Err(format!("request: {e}")));
            return;
        }
    };
    let mut body = response.into_body();
    let mut previous = 0u8;
    let mut first = true;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        let Some(data) = frame.data_ref() else {
            continue;
        };
        let mut count = 0;
        for &b in data.iter() {
            if b == b'\n' && previous == b'\n' {
                count += 1;
            }
            previous = b;
        }
        if count > 0 {
            events.fetch_add(count, Ordering::Relaxed);
            if first {
                first = false;
                let _ = opened.send(Ok(()));
            }
        }
    }
    if first {
        let _ = opened.send(Err("stream ended before its first event".into()));
    }
}
