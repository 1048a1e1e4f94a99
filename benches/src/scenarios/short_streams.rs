//! Scenario 9, short streams: what a whole server stream of ten messages
//! costs, opening and ending included. On each of 64 keep-alive
//! connections, `GET /streaming/server/generate?count=10` is read to its
//! end, then the next, for a fixed time, once as SSE (`Accept:
//! text/event-stream`) and once as NDJSON. Streams per second and gateway
//! CPU per stream. The long-stream scenarios (SSE, NDJSON) measure the
//! cost per message once a stream runs; this one adds what each stream
//! pays once: the request, the call, the heartbeat timer, the stall watch,
//! the end-of-stream event and the header rules.

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::time::Instant;

use super::{Record, progress, run_once};
use crate::cli::Plan;
use crate::contender::Contender;
use crate::load::raw_http1::{RawConnection, get};
use crate::load::{ConnStats, LoadResult, LoadSpec, Window, closed_loop};

pub const CONTENDERS: &[Contender] = &[
    Contender::GenRemote,
    Contender::GenInProcess,
    Contender::GenDirect,
    Contender::Hand,
];

/// Messages per stream: the "10-message stream".
pub const MESSAGES: u32 = 10;

/// The cases: their names in the report, and whether they ask for SSE.
const CASES: &[(&str, bool)] = &[("sse ×10", true), ("ndjson ×10", false)];

/// Orchestrator side.
pub fn run(plan: &Plan) -> Vec<Record> {
    let connections = plan.short_stream_connections;
    let mut records = Vec::new();
    for round in 0..plan.rounds {
        for &(case, sse) in CASES {
            for &contender in CONTENDERS {
                let measured = run_once(contender, |target| LoadSpec::ShortStreams {
                    target,
                    sse,
                    messages: MESSAGES,
                    connections,
                    warmup_ms: plan.warmup.as_millis() as u64,
                    window_ms: plan.window.as_millis() as u64,
                });
                let record = measured.record("short-streams", case, connections, contender, round);
                progress(&record);
                records.push(record);
            }
        }
    }
    records
}

/// Load side.
pub async fn load(spec: LoadSpec) -> LoadResult {
    let LoadSpec::ShortStreams {
        target,
        sse,
        messages,
        connections,
        warmup_ms,
        window_ms,
    } = spec
    else {
        unreachable!("short_streams::load takes LoadSpec::ShortStreams")
    };
    closed_loop(warmup_ms, window_ms, connections, |window| {
        connection(target, sse, messages, window)
    })
    .await
}

/// One keep-alive connection reading streams back to back.
async fn connection(target: SocketAddr, sse: bool, messages: u32, window: Window) -> ConnStats {
    let mut stats = ConnStats::default();
    let Some(mut connection) = RawConnection::open(target, &mut stats).await else {
        return stats;
    };
    let accept = if sse {
        "text/event-stream"
    } else {
        "application/x-ndjson"
    };
    let request = get(
        &format!("/streaming/server/generate?count={messages}"),
        accept,
    );
    let mut checked = false;
    while Instant::now() < window.end {
        let start = Instant::now();
        match connection.exchange(&request).await {
            Ok((200, body)) => {
                let end = Instant::now();
                // Every stream ended (the body is whole); the first one of
                // each connection is read message by message.
                if !checked {
                    checked = true;
                    if let Err(e) = check(&body, sse, messages) {
                        stats.error(e);
                        continue;
                    }
                }
                stats.record(&window, start, end);
            }
            Ok((status, body)) => {
                stats.error(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)));
                break;
            }
            Err(e) => {
                stats.error(e);
                break;
            }
        }
    }
    stats
}

/// Whether a stream's body holds the `messages` messages of `Generate` in
/// order (`"id": "c0"`, `"c1"`…): as NDJSON lines, or as the `data` of SSE
/// events without an event name (the generated gateway's end-of-stream
/// event has one, and no message).
fn check(body: &Bytes, sse: bool, messages: u32) -> Result<(), String> {
    let text = std::str::from_utf8(body).map_err(|_| "a stream that is not UTF-8")?;
    let payloads: Vec<&str> = if sse {
        text.split("\n\n")
            .filter(|event| !event.lines().any(|l| l.starts_with("event:")))
            .filter_map(|event| event.lines().find_map(|l| l.strip_prefix("data:")))
            .map(str::trim)
            .collect()
    } else {
        text.lines().filter(|l| !l.is_empty()).collect()
    };
    let ids: Vec<String> = payloads
        .iter()
        .map(|p| {
            serde_json::from_str::<serde_json::Value>(p)
                .ok()
                .and_then(|v| v["id"].as_str().map(String::from))
                .unwrap_or_default()
        })
        .collect();
    let expected: Vec<String> = (0..messages).map(|i| format!("c{i}")).collect();
    if ids == expected {
        Ok(())
    } else {
        Err(format!("unexpected stream: {text:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_messages_of_either_format() {
        let ndjson = Bytes::from_static(b"{\"id\":\"c0\"}\n{\"index\":1,\"id\":\"c1\"}\n");
        assert!(check(&ndjson, false, 2).is_ok());
        assert!(check(&ndjson, false, 3).is_err());
        let sse = Bytes::from_static(
            b"data: {\"id\":\"c0\"}\n\n: heartbeat\n\ndata: {\"id\":\"c1\"}\n\n\
              id: EOS\nevent: EOS\ndata: \n\n",
        );
        assert!(check(&sse, true, 2).is_ok());
        let out_of_order =
            Bytes::from_static(b"data: {\"id\":\"c1\"}\n\ndata: {\"id\":\"c0\"}\n\n");
        assert!(check(&out_of_order, true, 2).is_err());
    }
}
