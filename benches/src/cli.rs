//! Command line of the orchestrator and the sizes of a run.

use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
usage: gateway-bench [--quick] [--rounds N] [--only LIST] [--out DIR]
       gateway-bench --from-json FILE [--out DIR]

  --quick       smoke run: one round, short windows, small sizes (what CI runs)
  --rounds N    interleaved repetitions of each contender (default 3, quick 1)
  --only LIST   comma-separated scenarios: unary,sse,websocket,ndjson,short-streams,
                h2,generator;
                and, only when named: instructions (needs valgrind) and
                build-cost (takes minutes; with --quick, debug builds only)
  --out DIR     where results.json, results.md and benchmarks.svg go
                (default target/gateway-bench)
  --from-json FILE  rewrite results.md and benchmarks.svg from a results.json";

/// Every scenario, in the order they run.
pub const SCENARIOS: &[&str] = &[
    "unary",
    "sse",
    "websocket",
    "ndjson",
    "short-streams",
    "h2",
    "generator",
];

/// Scenarios that run only when `--only` names them (they need tools the
/// machine may lack, or take minutes).
pub const ON_REQUEST: &[&str] = &["instructions", "build-cost"];

/// What the orchestrator was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub quick: bool,
    pub rounds: Option<usize>,
    pub only: Vec<String>,
    pub out: PathBuf,
    /// Only render the report of an earlier run.
    pub from_json: Option<PathBuf>,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            quick: false,
            rounds: None,
            only: SCENARIOS
                .iter()
                .filter(|s| !ON_REQUEST.contains(s))
                .map(|s| s.to_string())
                .collect(),
            out: PathBuf::from("target/gateway-bench"),
            from_json: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--rounds" => {
                    let n = value()?;
                    options.rounds = Some(
                        n.parse()
                            .ok()
                            .filter(|&n| n > 0)
                            .ok_or(format!("--rounds: not a positive number: {n}"))?,
                    );
                }
                "--only" => {
                    let list = value()?;
                    options.only = list.split(',').map(|s| s.trim().to_string()).collect();
                    if let Some(bad) = options.only.iter().find(|s| {
                        !SCENARIOS.contains(&s.as_str()) && !ON_REQUEST.contains(&s.as_str())
                    }) {
                        return Err(format!("--only: unknown scenario `{bad}`"));
                    }
                }
                "--out" => options.out = PathBuf::from(value()?),
                "--from-json" => options.from_json = Some(PathBuf::from(value()?)),
                "-h" | "--help" => return Err("help".into()),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(options)
    }

    pub fn wants(&self, scenario: &str) -> bool {
        self.only.iter().any(|s| s == scenario)
    }

    /// Sizes and durations for this run.
    pub fn plan(&self) -> Plan {
        let mut plan = if self.quick {
            Plan::quick()
        } else {
            Plan::full()
        };
        if let Some(rounds) = self.rounds {
            plan.rounds = rounds;
        }
        plan
    }
}

/// Sizes and durations of one run. The full plan keeps a whole run within
/// a few minutes on 2 cores; the quick plan only proves every scenario
/// produces numbers.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rounds: usize,
    /// Load runs this long before the measured window opens (connections
    /// set up, allocator and caches warm).
    pub warmup: Duration,
    /// Measured window of the closed-loop scenarios.
    pub window: Duration,
    /// Connections of the main unary comparison (the 64).
    pub unary_connections: usize,
    /// Extra connection counts for the throughput-vs-concurrency curve
    /// (small body only).
    pub unary_sweep: Vec<usize>,
    /// Concurrent SSE streams.
    pub sse_streams: Vec<usize>,
    /// Events per second emitted by each SSE stream.
    pub sse_rate: u32,
    /// Concurrent WebSocket connections.
    pub ws_connections: Vec<usize>,
    /// Messages in the NDJSON server stream and client stream.
    pub ndjson_messages: u64,
    /// Connections of the short-streams scenario, each reading one stream
    /// after the other.
    pub short_stream_connections: usize,
    /// SSE streams of the HTTP/2 scenario, and the h2 connections they
    /// share.
    pub sse_h2_streams: usize,
    pub sse_h2_connections: usize,
    /// Synthetic generator input: services × methods per service.
    pub generator_services: usize,
    pub generator_methods: usize,
}

impl Plan {
    fn full() -> Plan {
        Plan {
            rounds: 3,
            warmup: Duration::from_millis(500),
            window: Duration::from_secs(2),
            unary_connections: 64,
            unary_sweep: vec![1, 16, 256],
            sse_streams: vec![1_000, 10_000],
            sse_rate: 2,
            ws_connections: vec![100, 1_000],
            ndjson_messages: 1_000_000,
            short_stream_connections: 64,
            sse_h2_streams: 1_000,
            sse_h2_connections: 10,
            generator_services: 50,
            generator_methods: 20,
        }
    }

    fn quick() -> Plan {
        Plan {
            rounds: 1,
            warmup: Duration::from_millis(100),
            window: Duration::from_millis(300),
            unary_connections: 8,
            unary_sweep: vec![2],
            sse_streams: vec![10, 40],
            sse_rate: 20,
            ws_connections: vec![4, 16],
            ndjson_messages: 2_000,
            short_stream_connections: 8,
            sse_h2_streams: 20,
            sse_h2_connections: 2,
            generator_services: 5,
            generator_methods: 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_cost_runs_only_when_named() {
        let all = Options::parse(&[]).unwrap();
        assert!(all.wants("unary") && all.wants("generator"));
        assert!(!all.wants("build-cost"));
        let only = Options::parse(&["--only".into(), "build-cost".into()]).unwrap();
        assert!(only.wants("build-cost") && !only.wants("unary"));
    }
}
