//! Scenario 3, WebSocket bidi echo: N connections on `GET
//! /streaming/bidi/chat`, each sending a JSON text frame and waiting for
//! the echo before sending the next. Messages per second and round-trip
//! latency.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{Record, progress, run_once};
use crate::cli::Plan;
use crate::contender::Contender;
use crate::load::{ConnStats, LoadResult, LoadSpec, Window, gather};
use crate::payload::CHAT_FRAME;

pub const CONTENDERS: &[Contender] = &[
    Contender::GenRemote,
    Contender::GenInProcess,
    Contender::GenDirect,
    Contender::Hand,
];

/// Orchestrator side.
pub fn run(plan: &Plan) -> Vec<Record> {
    let mut records = Vec::new();
    for round in 0..plan.rounds {
        for &connections in &plan.ws_connections {
            for &contender in CONTENDERS.iter().chain(&[Contender::HandSmallBuffer]) {
                let measured = run_once(contender, |target| LoadSpec::WebSocket {
                    target,
                    connections,
                    warmup_ms: plan.warmup.as_millis() as u64,
                    window_ms: plan.window.as_millis() as u64,
                });
                let record = measured.record("websocket", "echo", connections, contender, round);
                progress(&record);
                records.push(record);
            }
        }
    }
    records
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Load side: connects everything first (at most 128 handshakes at a time),
/// then runs the closed loop on every connection.
pub async fn load(spec: LoadSpec) -> LoadResult {
    let LoadSpec::WebSocket {
        target,
        connections,
        warmup_ms,
        window_ms,
    } = spec
    else {
        unreachable!("websocket::load takes LoadSpec::WebSocket")
    };
    let gate = Arc::new(Semaphore::new(128));
    let handshakes: Vec<_> = (0..connections)
        .map(|_| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.expect("semaphore open");
                connect(target).await
            })
        })
        .collect();
    let mut sockets = Vec::new();
    let mut failed = ConnStats::default();
    for handshake in handshakes {
        match handshake.await.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(socket) => sockets.push(socket),
            Err(e) => failed.error(e),
        }
    }

    let window = Window::after(warmup_ms, window_ms);
    let announcer = window.announce();
    let expected: serde_json::Value = serde_json::from_str(CHAT_FRAME).expect("JSON");
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|socket| tokio::spawn(echo_loop(socket, window, expected.clone())))
        .collect();
    gather(window, announcer, tasks, vec![failed]).await
}

async fn connect(target: SocketAddr) -> Result<Socket, String> {
    let url = format!("ws://{target}/streaming/bidi/chat");
    // tungstenite zero-fills its whole read buffer (128 KiB by default) on
    // every read attempt; a small one keeps the load generator's CPU for
    // the servers.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| format!("WebSocket handshake: {e}"))?;
    Ok(socket)
}

async fn echo_loop(mut socket: Socket, window: Window, expected: serde_json::Value) -> ConnStats {
    let mut stats = ConnStats::default();
    let mut checked = false;
    'calls: while Instant::now() < window.end {
        let start = Instant::now();
        if let Err(e) = socket.send(Message::text(CHAT_FRAME)).await {
            stats.error(e);
            break;
        }
        let reply = loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => break text,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => {
                    stats.error(format!("unexpected frame: {other:?}"));
                    break 'calls;
                }
                Some(Err(e)) => {
                    stats.error(e);
                    break 'calls;
                }
                None => {
                    stats.error("connection closed");
                    break 'calls;
                }
            }
        };
        let end = Instant::now();
        if !checked {
            checked = true;
            if serde_json::from_str::<serde_json::Value>(&reply)
                .ok()
                .as_ref()
                != Some(&expected)
            {
                stats.error(format!("echo differs from the request: {reply}"));
            }
        }
        stats.record(&window, start, end);
    }
    stats
}
