//! The contenders: what answers the load generator's requests.

use serde::{Deserialize, Serialize};

/// One way of serving the benchmark's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Contender {
    /// The generated gateway calling the backend process through a tonic
    /// `Channel` (one HTTP/2 connection over loopback).
    GenRemote,
    /// The generated gateway calling the service in its own process:
    /// `foo_gateway::router(FooServer::new(service))`.
    GenInProcess,
    /// The generated gateway calling the service implementation directly
    /// (`foo_gateway::direct_router(Direct::new(service))`): no protobuf,
    /// no tonic server.
    GenDirect,
    /// Hand-written axum handlers (serde_json, axum's SSE and WebSocket)
    /// calling the same backend through the same kind of `Channel`: the
    /// baseline the targets are ratios against.
    Hand,
    /// No HTTP gateway: the load generator calls the backend over gRPC
    /// itself. The floor.
    Tonic,
    /// Experiment (unary): the generated handler's code with the tonic call
    /// future boxed.
    BoxedCall,
    /// `GenRemote` with the runtime's `metrics` feature compiled in (served
    /// by `gateway-bench-recorded`) and a Prometheus recorder installed: the
    /// cost of the feature in use, against the default build.
    GenRemoteMetrics,
    /// Experiment (WebSocket): the hand-written forwarder with an 8 KiB
    /// read buffer.
    HandSmallBuffer,
    /// `GenRemote` served with `ServeConfig::http1_max_buf_size(8 KiB)`
    /// (SSE memory per open stream).
    GenRemoteSmallReadBuf,
    /// `GenInProcess` as it was when the direct-call targets were set: the
    /// `serve generated-in-process` role of a `gateway-bench` built from
    /// that commit, named by `GATEWAY_BENCH_ISSUE_BASELINE` (see
    /// [`issue_baseline`]). Run only when that variable is set.
    IssueInProcess,
}

/// Every contender, in the order tables list them.
pub const ALL: &[Contender] = &[
    Contender::GenRemote,
    Contender::GenInProcess,
    Contender::GenDirect,
    Contender::Hand,
    Contender::Tonic,
    Contender::BoxedCall,
    Contender::HandSmallBuffer,
    Contender::GenRemoteMetrics,
    Contender::GenRemoteSmallReadBuf,
    Contender::IssueInProcess,
];

/// The variable naming the `gateway-bench` executable built from the
/// commit the direct-call targets were set against.
pub const ISSUE_BASELINE_VAR: &str = "GATEWAY_BENCH_ISSUE_BASELINE";

/// That executable, when the variable names one.
pub fn issue_baseline() -> Option<std::path::PathBuf> {
    std::env::var_os(ISSUE_BASELINE_VAR).map(std::path::PathBuf::from)
}

impl Contender {
    /// The name in reports and on the `serve` command line.
    pub fn name(self) -> &'static str {
        match self {
            Contender::GenRemote => "generated-remote",
            Contender::GenInProcess => "generated-in-process",
            Contender::GenDirect => "generated-direct",
            Contender::Hand => "hand-written",
            Contender::Tonic => "tonic-direct",
            Contender::BoxedCall => "experiment-boxed-call",
            Contender::HandSmallBuffer => "experiment-hand-ws-8KiB",
            Contender::GenRemoteMetrics => "generated-remote-metrics",
            Contender::GenRemoteSmallReadBuf => "generated-remote-8KiB-read-buffer",
            Contender::IssueInProcess => "in-process-at-issue",
        }
    }

    /// The contender's name on the `serve` command line of its
    /// executable: the older executable knows the in-process path by its
    /// own name.
    pub fn serve_name(self) -> &'static str {
        match self {
            Contender::IssueInProcess => Contender::GenInProcess.name(),
            other => other.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<Contender> {
        ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Whether a backend process is started for it.
    pub fn needs_backend(self) -> bool {
        !matches!(
            self,
            Contender::GenInProcess | Contender::GenDirect | Contender::IssueInProcess
        )
    }

    /// The executable whose `serve` role serves it: this one, except for
    /// the contender of the runtime's `metrics` feature (see `recorded`).
    pub fn executable(self) -> std::path::PathBuf {
        match self {
            Contender::GenRemoteMetrics => crate::recorded::executable(),
            Contender::IssueInProcess => {
                issue_baseline().unwrap_or_else(|| panic!("{ISSUE_BASELINE_VAR} is not set"))
            }
            _ => std::env::current_exe().expect("own executable"),
        }
    }

    /// Whether a gateway process is started for it.
    pub fn has_gateway(self) -> bool {
        self != Contender::Tonic
    }
}
