//! Scenario 1, unary: `POST /v1/echo` with a small and a ~10 KiB JSON body
//! on 64 keep-alive connections for a fixed time, against every contender;
//! then the small body at other connection counts for the
//! throughput-vs-concurrency plot. Last in each round, the in-process and
//! direct contenders again with the gateway pinned to one core and the
//! load generator to the other (scenario `unary-pinned`), where the
//! gateway alone bounds the throughput.

use std::net::SocketAddr;

use bytes::Bytes;
use gateway_e2e::e2e::echo::v1::Kitchen;
use gateway_e2e::e2e::echo::v1::echo_service_client::EchoServiceClient;
use http::{Request, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tokio::time::Instant;

use super::{Placement, Record, progress, run_placed};
use crate::cli::Plan;
use crate::contender::{Contender, issue_baseline};
use crate::load::raw_http1::{RawConnection, post_json};
use crate::load::{ConnStats, LoadResult, LoadSpec, Window, closed_loop, grpc_channel};
use crate::payload::{BodySize, echo_body, echo_json};

pub const CONTENDERS: &[Contender] = &[
    Contender::GenRemote,
    Contender::GenInProcess,
    Contender::Hand,
    Contender::Tonic,
];

/// The contenders of the pinned runs: those without a backend process,
/// whose comparison (direct calls against the in-process transport) is
/// about the gateway's own cost; with `GATEWAY_BENCH_ISSUE_BASELINE` set,
/// the in-process path of the issue's time too.
fn pinned_contenders() -> Vec<Contender> {
    let mut contenders = vec![Contender::GenInProcess, Contender::GenDirect];
    contenders.extend(issue_baseline().map(|_| Contender::IssueInProcess));
    contenders
}

/// Orchestrator side.
pub fn run(plan: &Plan) -> Vec<Record> {
    let pinned = Placement::pinning_available();
    if !pinned {
        eprintln!("note: `taskset` cannot use cores 0 and 1 here: no pinned unary runs");
    }
    let mut cases = vec![
        (BodySize::Small, plan.unary_connections),
        (BodySize::Large, plan.unary_connections),
    ];
    cases.extend(plan.unary_sweep.iter().map(|&c| (BodySize::Small, c)));
    let mut records = Vec::new();
    for round in 0..plan.rounds {
        for &(body, connections) in &cases {
            // The experiment, the metrics recorder and direct calls only in
            // the main comparison, not the sweep.
            let extra: Vec<Contender> = if connections == plan.unary_connections {
                let mut extra = vec![
                    Contender::GenDirect,
                    Contender::BoxedCall,
                    Contender::GenRemoteMetrics,
                ];
                extra.extend(issue_baseline().map(|_| Contender::IssueInProcess));
                extra
            } else {
                Vec::new()
            };
            for &contender in CONTENDERS.iter().chain(&extra) {
                let run = (contender, Placement::Shared, body, connections, round);
                records.push(measure(plan, "unary", run));
            }
        }
        let bodies = if pinned {
            &[BodySize::Small, BodySize::Large][..]
        } else {
            &[]
        };
        for &body in bodies {
            for contender in pinned_contenders() {
                let run = (
                    contender,
                    Placement::Pinned,
                    body,
                    plan.unary_connections,
                    round,
                );
                records.push(measure(plan, "unary-pinned", run));
            }
        }
    }
    records
}

/// One run of one contender (placed, with a body, on so many connections,
/// in a round), recorded under `scenario` and shown as it finishes.
fn measure(
    plan: &Plan,
    scenario: &str,
    (contender, placement, body, connections, round): (
        Contender,
        Placement,
        BodySize,
        usize,
        usize,
    ),
) -> Record {
    let measured = run_placed(contender, placement, |target| LoadSpec::Unary {
        target,
        body,
        connections,
        grpc: contender == Contender::Tonic,
        warmup_ms: plan.warmup.as_millis() as u64,
        window_ms: plan.window.as_millis() as u64,
    });
    let record = measured.record(scenario, body.name(), connections, contender, round);
    progress(&record);
    record
}

/// Load side.
pub async fn load(spec: LoadSpec) -> LoadResult {
    let LoadSpec::Unary {
        target,
        body,
        connections,
        grpc,
        warmup_ms,
        window_ms,
    } = spec
    else {
        unreachable!("unary::load takes LoadSpec::Unary")
    };
    let json = Bytes::from(echo_json(body));
    closed_loop(warmup_ms, window_ms, connections, |window| {
        let json = json.clone();
        async move {
            if grpc {
                grpc_connection(target, body, window).await
            } else {
                http_connection(target, json, window).await
            }
        }
    })
    .await
}

/// One keep-alive connection sending requests back to back, with the lean
/// client (see `load::raw_http1` for why not hyper's).
async fn http_connection(target: SocketAddr, body: Bytes, window: Window) -> ConnStats {
    let mut stats = ConnStats::default();
    let Some(mut connection) = RawConnection::open(target, &mut stats).await else {
        return stats;
    };
    let mut check = EchoCheck::new(&body);
    let request = post_json("/v1/echo", &body);
    while Instant::now() < window.end {
        let start = Instant::now();
        match connection.exchange(&request).await {
            Ok((status, bytes)) => check.record(&mut stats, &window, start, status, &bytes),
            Err(e) => {
                stats.error(e);
                break;
            }
        }
    }
    stats
}

/// A hyper client connection the echo loop sends on: HTTP/1.1 or h2.
pub trait EchoSender: Send {
    fn ready(&mut self) -> impl Future<Output = hyper::Result<()>> + Send;
    fn send(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> impl Future<Output = hyper::Result<http::Response<Incoming>>> + Send;
}

/// hyper's two `SendRequest`s have the same methods but no common trait.
macro_rules! echo_sender {
    ($sender:ty) => {
        impl EchoSender for $sender {
            fn ready(&mut self) -> impl Future<Output = hyper::Result<()>> + Send {
                self.ready()
            }
            fn send(
                &mut self,
                request: Request<Full<Bytes>>,
            ) -> impl Future<Output = hyper::Result<http::Response<Incoming>>> + Send {
                self.send_request(request)
            }
        }
    };
}
echo_sender!(hyper::client::conn::http1::SendRequest<Full<Bytes>>);
echo_sender!(hyper::client::conn::http2::SendRequest<Full<Bytes>>);

/// One caller: a request (`request()` with the JSON `body`), its whole
/// answer, the next request, until the window ends.
pub async fn echo_loop(
    mut sender: impl EchoSender,
    request: impl Fn() -> http::request::Builder,
    body: Bytes,
    window: Window,
) -> ConnStats {
    let mut stats = ConnStats::default();
    let mut check = EchoCheck::new(&body);
    while Instant::now() < window.end {
        if let Err(e) = sender.ready().await {
            stats.error(e);
            break;
        }
        let request = request()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))
            .expect("request");
        let start = Instant::now();
        let response = match sender.send(request).await {
            Ok(response) => response,
            Err(e) => {
                stats.error(e);
                break;
            }
        };
        let status = response.status().as_u16();
        match response.into_body().collect().await {
            Ok(body) => check.record(&mut stats, &window, start, status, &body.to_bytes()),
            Err(e) => {
                stats.error(e);
                break;
            }
        }
    }
    stats
}

/// The check of one connection's echo answers: each must be a 200, and
/// the first must be what was sent (see `payload`).
struct EchoCheck {
    expected: serde_json::Value,
    checked: bool,
}

impl EchoCheck {
    fn new(body: &[u8]) -> EchoCheck {
        EchoCheck {
            expected: serde_json::from_slice(body).expect("JSON"),
            checked: false,
        }
    }

    /// Counts the answer to a request sent at `start`, received now.
    fn record(
        &mut self,
        stats: &mut ConnStats,
        window: &Window,
        start: Instant,
        status: u16,
        bytes: &[u8],
    ) {
        let end = Instant::now();
        if status != 200 {
            stats.error(format!("HTTP {status}: {}", String::from_utf8_lossy(bytes)));
            return;
        }
        if !self.checked {
            self.checked = true;
            let answer = serde_json::from_slice::<serde_json::Value>(bytes).ok();
            if answer.as_ref() != Some(&self.expected) {
                stats.error(format!(
                    "response differs from the request: {}",
                    String::from_utf8_lossy(bytes)
                ));
            }
        }
        stats.record(window, start, end);
    }
}

/// The floor: the same call straight over gRPC, one channel per task.
async fn grpc_connection(target: SocketAddr, body: BodySize, window: Window) -> ConnStats {
    let mut stats = ConnStats::default();
    let mut client = match grpc_channel(target).await {
        Ok(channel) => EchoServiceClient::new(channel),
        Err(e) => {
            stats.error(e);
            return stats;
        }
    };
    let message = Kitchen::from(echo_body(body));
    let mut checked = false;
    while Instant::now() < window.end {
        let start = Instant::now();
        match client.echo(message.clone()).await {
            Ok(reply) => {
                let end = Instant::now();
                if !checked {
                    checked = true;
                    if reply.get_ref() != &message {
                        stats.error("reply differs from the request");
                    }
                }
                stats.record(&window, start, end);
            }
            Err(status) => stats.error(status),
        }
    }
    stats
}
