//! A 100 MiB `google.api.HttpBody` download and a 100 MiB upload through
//! the gateway (remote backend, real HTTP and gRPC over loopback) while the
//! process's resident memory is sampled: it must grow by less than 16 MiB,
//! so nothing is buffered whole. One test in its own binary, so no other
//! test's memory is counted. (Service, gateway and client share the
//! process, so this bounds all three together.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use gateway_e2e::e2e::files::files_gateway;
use gateway_e2e::files::{FNV_START, file_byte, fnv1a, spawn_grpc};
use gateway_e2e::serve::spawn_http;
use gateway_runtime::{Gateway, RouterExt};

const SIZE: u64 = 100 << 20;
const GROWTH_LIMIT: u64 = 16 << 20;

fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn expected_checksum(size: u64) -> u64 {
    let mut hash = FNV_START;
    let mut chunk = Vec::with_capacity(1 << 16);
    let mut at = 0;
    while at < size {
        chunk.clear();
        let end = (at + (1 << 16)).min(size);
        chunk.extend((at..end).map(file_byte));
        hash = fnv1a(hash, &chunk);
        at = end;
    }
    hash
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_mib_through_the_gateway_in_bounded_memory() {
    let grpc = spawn_grpc().await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let gateway = Gateway::default();
    let app = files_gateway::router(channel, &gateway).with_gateway_fallbacks(&gateway);
    let addr = spawn_http(app).await;
    let http = reqwest::Client::new();
    let want = expected_checksum(SIZE);

    // Warm up pools and buffers, then take the baseline.
    let warm = http
        .get(format!(
            "http://{addr}/files/w:stream?size=4194304&piece=65536"
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(warm.len(), 4 << 20);
    let baseline = rss();
    let peak = Arc::new(AtomicU64::new(baseline));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    // Download: read and checksum as it comes.
    let response = http
        .get(format!(
            "http://{addr}/files/big.bin:stream?size={SIZE}&piece=65536"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let (mut received, mut hash) = (0u64, FNV_START);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        received += chunk.len() as u64;
        hash = fnv1a(hash, &chunk);
    }
    assert_eq!(received, SIZE);
    assert_eq!(hash, want);

    // Upload: a body generated as it is sent.
    let pieces = futures_util::stream::unfold(0u64, |at| async move {
        if at >= SIZE {
            return None;
        }
        let end = (at + (1 << 16)).min(SIZE);
        let chunk: Vec<u8> = (at..end).map(file_byte).collect();
        Some((Ok::<_, std::io::Error>(chunk), end))
    });
    let response = http
        .post(format!("http://{addr}/files:upload"))
        .header("Content-Type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(pieces))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let summary: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(summary["bytes"], SIZE.to_string());
    assert_eq!(summary["checksum"], want.to_string());

    sampler.abort();
    let growth = peak.load(Ordering::Relaxed).saturating_sub(baseline);
    assert!(
        growth < GROWTH_LIMIT,
        "resident memory grew by {} KiB moving 2 x 100 MiB (limit {} KiB)",
        growth / 1024,
        GROWTH_LIMIT / 1024
    );
    eprintln!("resident memory growth: {} KiB", growth / 1024);
}
