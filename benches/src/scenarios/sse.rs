//! Scenario 2, SSE fan-out: N clients each on a server stream that emits M
//! events/s. Measures events delivered per second, gateway CPU per event,
//! and gateway memory per open stream: (RSS with all N streams open − RSS
//! of the fresh gateway) / N.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};

use super::{Record, progress, run_once};
use crate::cli::Plan;
use crate::contender::Contender;
use crate::load::{LoadResult, LoadSpec};
use crate::role;

pub const CONTENDERS: &[Contender] = &[
    Contender::GenRemote,
    Contender::GenInProcess,
    Contender::GenDirect,
    Contender::Hand,
    Contender::GenRemoteSmallReadBuf,
];

/// File descriptors each side keeps besides the streams' sockets.
const FD_MARGIN: u64 = 256;

/// Orchestrator side. `fd_limit` is the open-file limit children inherit:
/// stream counts beyond it are lowered, and the report says so.
pub fn run(plan: &Plan, fd_limit: u64) -> Vec<Record> {
    let mut records = Vec::new();
    for round in 0..plan.rounds {
        for &wanted in &plan.sse_streams {
            let streams = wanted.min(fd_limit.saturating_sub(FD_MARGIN) as usize);
            for &contender in CONTENDERS {
                let measured = run_once(contender, |target| LoadSpec::Sse {
                    target,
                    streams,
                    rate: plan.sse_rate,
                    settle_ms: plan.warmup.as_millis() as u64,
                    window_ms: plan.window.as_millis() as u64,
                });
                let mut record = measured.record(
                    "sse",
                    &format!("{}/s", plan.sse_rate),
                    streams,
                    contender,
                    round,
                );
                record.rss_per_stream_kib = match (
                    measured.gateway_rss_before_kib,
                    measured.gateway_rss_start_kib,
                ) {
                    (Some(before), Some(open)) => {
                        Some(open.saturating_sub(before) as f64 / streams.max(1) as f64)
                    }
                    _ => None,
                };
                if streams < wanted {
                    record.note = format!(
                        "{wanted} streams asked, {streams} run: open-file limit {fd_limit}"
                    );
                }
                progress(&record);
                records.push(record);
            }
        }
    }
    records
}

/// Load side: opens every stream (at most 256 handshakes at a time), waits
/// until each has delivered its first event, lets the gateway settle, then
/// counts events in the window.
pub async fn load(spec: LoadSpec) -> LoadResult {
    let LoadSpec::Sse {
        target,
        streams,
        rate,
        settle_ms,
        window_ms,
    } = spec
    else {
        unreachable!("sse::load takes LoadSpec::Sse")
    };
    let delay_ms = (1000 / rate.max(1)).max(1);
    let request: Arc<[u8]> = format!(
        "GET /streaming/server/notifications?delayMs={delay_ms} HTTP/1.1\r\n\
         Host: bench\r\nAccept: text/event-stream\r\n\r\n"
    )
    .into_bytes()
    .into();
    let events = Arc::new(AtomicU64::new(0));
    let gate = Arc::new(Semaphore::new(256));
    let (opened, opened_rx) = mpsc::unbounded_channel();
    let clients: Vec<_> = (0..streams)
        .map(|_| {
            tokio::spawn(client(
                target,
                request.clone(),
                events.clone(),
                gate.clone(),
                opened.clone(),
            ))
        })
        .collect();
    drop(opened);

    let result = count_events(streams, opened_rx, &events, settle_ms, window_ms).await;
    for client in clients {
        client.abort();
    }
    result
}

/// Waits until `streams` streams reported opening (each its first event, or
/// an error), lets the gateway settle, then counts `events` in the window
/// the orchestrator measures (`START` … `STOP`).
pub async fn count_events(
    streams: usize,
    mut opened_rx: mpsc::UnboundedReceiver<Result<(), String>>,
    events: &AtomicU64,
    settle_ms: u64,
    window_ms: u64,
) -> LoadResult {
    let mut result = LoadResult::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    for _ in 0..streams {
        match tokio::time::timeout_at(deadline, opened_rx.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(e))) => {
                result.errors += 1;
                if result.note.is_empty() {
                    result.note = e;
                }
            }
            Ok(None) | Err(_) => {
                result.errors += 1;
                result.note = "streams did not open in time".into();
                break;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(settle_ms)).await;
    role::say("START");
    let before = events.load(Ordering::Relaxed);
    let start = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(window_ms)).await;
    result.ops = events.load(Ordering::Relaxed) - before;
    result.secs = start.elapsed().as_secs_f64();
    role::say("STOP");
    result
}

/// One SSE client on a raw socket: counts events by their blank-line
/// terminators (`\n\n`), which chunked framing (`\r\n`) never produces.
async fn client(
    target: SocketAddr,
    request: Arc<[u8]>,
    events: Arc<AtomicU64>,
    gate: Arc<Semaphore>,
    opened: mpsc::UnboundedSender<Result<(), String>>,
) {
    let permit = gate.acquire_owned().await.expect("semaphore open");
    let mut tcp = match TcpStream::connect(target).await {
        Ok(tcp) => tcp,
        Err(e) => {
            let _ = opened.send(Err(format!("connect: {e}")));
            return;
        }
    };
    let _ = tcp.set_nodelay(true);
    if let Err(e) = tcp.write_all(&request).await {
        let _ = opened.send(Err(format!("write: {e}")));
        return;
    }
    let mut buf = vec![0u8; 2048];
    let mut previous = 0u8;
    let mut permit = Some(permit);
    let mut checked = false;
    loop {
        let n = match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if !checked {
            checked = true;
            if !buf[..n].starts_with(b"HTTP/1.1 200") {
                let head = String::from_utf8_lossy(&buf[..n.min(200)]).into_owned();
                let _ = opened.send(Err(format!("not a 200 event stream: {head}")));
                return;
            }
        }
        let mut count = 0;
        for &b in &buf[..n] {
            if b == b'\n' && previous == b'\n' {
                count += 1;
            }
            previous = b;
        }
        if count > 0 {
            events.fetch_add(count, Ordering::Relaxed);
            if permit.take().is_some() {
                let _ = opened.send(Ok(()));
            }
        }
    }
    if permit.is_some() {
        let _ = opened.send(Err("stream ended before its first event".into()));
    }
}
