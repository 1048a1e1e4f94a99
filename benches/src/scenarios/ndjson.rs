//! Scenario 4, chunked NDJSON: one client taking a server stream of many
//! small messages (`GET /streaming/server/generate?count=N`), and one
//! client sending a client stream of as many lines (`POST
//! /streaming/client/add`). Messages per second and gateway CPU per
//! message; the baseline is the hand-written handler, the floor the same
//! stream over gRPC.

use std::net::SocketAddr;

use bytes::Bytes;
use gateway_e2e::e2e::stream::v1::streaming_test_client::StreamingTestClient;
use gateway_e2e::e2e::stream::v1::{AddRequest, GenerateRequest};
use http::{Request, header};
use http_body_util::{BodyExt, Full};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{Record, progress, run_once};
use crate::cli::Plan;
use crate::contender::Contender;
use crate::load::{LoadResult, LoadSpec, grpc_channel, http1};
use crate::role;

pub const CONTENDERS: &[Contender] = &[
    Contender::GenRemote,
    Contender::GenInProcess,
    Contender::GenDirect,
    Contender::Hand,
    Contender::Tonic,
];

/// Orchestrator side.
pub fn run(plan: &Plan) -> Vec<Record> {
    let mut records = Vec::new();
    let messages = plan.ndjson_messages;
    for round in 0..plan.rounds {
        for direction in ["down", "up"] {
            for &contender in CONTENDERS {
                let grpc = contender == Contender::Tonic;
                let measured = run_once(contender, |target| match direction {
                    "down" => LoadSpec::NdjsonDown {
                        target,
                        messages,
                        grpc,
                    },
                    _ => LoadSpec::NdjsonUp {
                        target,
                        messages,
                        grpc,
                    },
                });
                let record = measured.record("ndjson", direction, 1, contender, round);
                progress(&record);
                records.push(record);
            }
        }
    }
    records
}

/// Load side.
pub async fn load(spec: LoadSpec) -> LoadResult {
    let outcome = match spec {
        LoadSpec::NdjsonDown {
            target,
            messages,
            grpc: false,
        } => http_down(target, messages).await,
        LoadSpec::NdjsonDown {
            target,
            messages,
            grpc: true,
        } => grpc_down(target, messages).await,
        LoadSpec::NdjsonUp {
            target,
            messages,
            grpc: false,
        } => http_up(target, messages).await,
        LoadSpec::NdjsonUp {
            target,
            messages,
            grpc: true,
        } => grpc_up(target, messages).await,
        _ => unreachable!("ndjson::load takes LoadSpec::Ndjson*"),
    };
    match outcome {
        Ok(result) => result,
        Err(note) => {
            // No CPU sample without both marks: the orchestrator reports none.
            LoadResult {
                errors: 1,
                note,
                ..LoadResult::default()
            }
        }
    }
}

/// The result of one timed transfer of `expected` messages.
fn transfer(received: u64, expected: u64, start: Instant) -> LoadResult {
    let secs = start.elapsed().as_secs_f64();
    role::say("STOP");
    let mut result = LoadResult {
        ops: received,
        secs,
        ..LoadResult::default()
    };
    if received != expected {
        result.errors = 1;
        result.note = format!("{received} messages of {expected}");
    }
    result
}

/// Reads the response on a raw socket and counts the lines by their
/// `}\n` ends (chunk framing has no `}`). hyper's client would hand over
/// every chunk from its connection task to the reading task, which on this
/// stream of tiny chunks costs the load generator ~15 µs per message and
/// made it, not the gateway, the bottleneck.
async fn http_down(target: SocketAddr, messages: u64) -> Result<LoadResult, String> {
    let mut tcp = TcpStream::connect(target)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = format!(
        "GET /streaming/server/generate?count={messages} HTTP/1.1\r\n\
         Host: bench\r\nConnection: close\r\n\r\n"
    );
    role::say("START");
    let start = Instant::now();
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 64 * 1024];
    let (mut lines, mut previous, mut head) = (0u64, 0u8, true);
    loop {
        let n = tcp.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        if head {
            head = false;
            if !buf[..n].starts_with(b"HTTP/1.1 200") {
                return Err(String::from_utf8_lossy(&buf[..n.min(200)]).into_owned());
            }
        }
        for &b in &buf[..n] {
            if b == b'\n' && previous == b'}' {
                lines += 1;
            }
            previous = b;
        }
    }
    Ok(transfer(lines, messages, start))
}

async fn grpc_down(target: SocketAddr, messages: u64) -> Result<LoadResult, String> {
    let mut client = StreamingTestClient::new(grpc_channel(target).await?);
    let request = GenerateRequest {
        count: messages as i32,
        ..GenerateRequest::default()
    };
    role::say("START");
    let start = Instant::now();
    let mut stream = client
        .generate(request)
        .await
        .map_err(|e| e.to_string())?
        .into_inner();
    let mut received = 0u64;
    while stream.message().await.map_err(|e| e.to_string())?.is_some() {
        received += 1;
    }
    Ok(transfer(received, messages, start))
}

async fn http_up(target: SocketAddr, messages: u64) -> Result<LoadResult, String> {
    let mut sender = http1(target).await?;
    let body = Bytes::from("{\"value\":1}\n".repeat(messages as usize));
    let request = Request::post("/streaming/client/add")
        .header(header::HOST, "bench")
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Full::new(body))
        .expect("request");
    role::say("START");
    let start = Instant::now();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if status != http::StatusCode::OK {
        return Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    let reply: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let counted = reply["count"].as_u64().unwrap_or(0);
    Ok(transfer(counted, messages, start))
}

async fn grpc_up(target: SocketAddr, messages: u64) -> Result<LoadResult, String> {
    let mut client = StreamingTestClient::new(grpc_channel(target).await?);
    let stream = tokio_stream::iter((0..messages).map(|_| AddRequest { value: 1 }));
    role::say("START");
    let start = Instant::now();
    let reply = client
        .add(stream)
        .await
        .map_err(|e| e.to_string())?
        .into_inner();
    Ok(transfer(reply.count as u64, messages, start))
}
