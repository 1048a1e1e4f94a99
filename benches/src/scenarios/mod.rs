//! The orchestrator: runs every scenario's contenders in interleaved
//! rounds, each run with fresh processes, and reads the gateway's CPU time
//! and memory from `/proc` while the load generator's window is open.

pub mod build_cost;
pub mod generator;
pub mod h2;
pub mod instructions;
pub mod ndjson;
pub mod short_streams;
pub mod sse;
pub mod unary;
pub mod websocket;

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cli::{Options, Plan};
use crate::contender::Contender;
use crate::load::{LoadResult, LoadSpec};
use crate::procstat::Cpu;
use crate::report::{self, Report};
use crate::role::Role;

/// One run of one contender: the load generator's numbers and the
/// servers' CPU time and memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub scenario: String,
    /// What varies inside the scenario (body size, direction…).
    pub case: String,
    /// Connections, streams or (NDJSON) 1.
    pub concurrency: usize,
    pub contender: Contender,
    pub round: usize,
    /// Operations (requests, events, messages) per second.
    pub throughput: f64,
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    /// Gateway process CPU time (user + system) per operation, µs.
    pub gateway_cpu_us: Option<f64>,
    /// The same from `utime + stime` of `/proc/PID/stat` (10 ms ticks).
    pub gateway_cpu_stat_us: Option<f64>,
    /// The system part of `gateway_cpu_stat_us` (`stime`, 10 ms ticks).
    #[serde(default)]
    pub gateway_system_us: Option<f64>,
    /// Backend process CPU time per operation, µs.
    pub backend_cpu_us: Option<f64>,
    /// Load generator process CPU time per operation, µs: its share of the
    /// cores, which bounds what the servers can be given.
    #[serde(default)]
    pub load_cpu_us: Option<f64>,
    /// Gateway RSS at the end of the window, KiB.
    pub gateway_rss_kib: Option<f64>,
    /// (Gateway RSS with every stream open − RSS before) / streams, KiB.
    pub rss_per_stream_kib: Option<f64>,
    pub errors: u64,
    pub note: String,
    /// Gateway instructions per operation, counted by callgrind (the
    /// instructions scenario only).
    #[serde(default)]
    pub instructions_per_op: Option<f64>,
    /// First-level data cache misses (reads and writes) per operation, with
    /// the cache simulated (instructions scenario, `GATEWAY_BENCH_CACHE_SIM`).
    #[serde(default)]
    pub d1_misses_per_op: Option<f64>,
    /// Last-level cache misses per operation, likewise.
    #[serde(default)]
    pub ll_misses_per_op: Option<f64>,
    /// First-level instruction cache misses per operation, likewise.
    #[serde(default)]
    pub i1_misses_per_op: Option<f64>,
    /// The code an operation runs, in KiB: the 64-byte lines of code
    /// executed at least once per operation on average (instructions
    /// scenario with the cache simulated).
    #[serde(default)]
    pub code_kib_per_op: Option<f64>,
}

impl Record {
    /// What the load generator measured of one run; the servers' CPU time
    /// and memory are left for the caller.
    pub fn of_load(
        load: &LoadResult,
        scenario: &str,
        case: &str,
        concurrency: usize,
        contender: Contender,
        round: usize,
    ) -> Record {
        Record {
            scenario: scenario.into(),
            case: case.into(),
            concurrency,
            contender,
            round,
            throughput: load.ops as f64 / load.secs.max(1e-9),
            p50_us: load.p50_us,
            p99_us: load.p99_us,
            gateway_cpu_us: None,
            gateway_cpu_stat_us: None,
            gateway_system_us: None,
            backend_cpu_us: None,
            load_cpu_us: None,
            gateway_rss_kib: None,
            rss_per_stream_kib: None,
            errors: load.errors,
            note: load.note.clone(),
            instructions_per_op: None,
            d1_misses_per_op: None,
            ll_misses_per_op: None,
            i1_misses_per_op: None,
            code_kib_per_op: None,
        }
    }
}

/// What the orchestrator saw of one run.
pub struct Measured {
    pub load: LoadResult,
    pub gateway_cpu: Option<Duration>,
    /// The same from `/proc/PID/stat` (10 ms ticks), for comparison.
    pub gateway_cpu_ticks: Option<Duration>,
    /// Its system part.
    pub gateway_system_ticks: Option<Duration>,
    pub backend_cpu: Option<Duration>,
    pub load_cpu: Option<Duration>,
    pub gateway_rss_before_kib: Option<u64>,
    pub gateway_rss_start_kib: Option<u64>,
    pub gateway_rss_end_kib: Option<u64>,
}

impl Measured {
    /// The record of this run, with per-operation CPU.
    pub fn record(
        &self,
        scenario: &str,
        case: &str,
        concurrency: usize,
        contender: Contender,
        round: usize,
    ) -> Record {
        let ops = self.load.ops.max(1) as f64;
        let per_op = |cpu: Option<Duration>| cpu.map(|d| d.as_secs_f64() * 1e6 / ops);
        Record {
            gateway_cpu_us: per_op(self.gateway_cpu),
            gateway_cpu_stat_us: per_op(self.gateway_cpu_ticks),
            gateway_system_us: per_op(self.gateway_system_ticks),
            backend_cpu_us: per_op(self.backend_cpu),
            load_cpu_us: per_op(self.load_cpu),
            gateway_rss_kib: self.gateway_rss_end_kib.map(|k| k as f64),
            ..Record::of_load(&self.load, scenario, case, concurrency, contender, round)
        }
    }
}

/// Which cores the processes of a run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Any: the gateway, the backend and the load generator share every
    /// core, so the load generator's CPU bounds what the servers get.
    Shared,
    /// The gateway on the first core, the load generator on the second
    /// (`taskset`), for contenders without a backend process: the
    /// gateway's own cost alone bounds the throughput, as with the load
    /// generator on another machine. The gateway's tokio runtime then has
    /// one worker (tokio counts the cores it may use).
    Pinned,
}

impl Placement {
    /// The `taskset` prefixes of the gateway and of the load generator.
    fn wrappers(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Placement::Shared => (&[], &[]),
            Placement::Pinned => (&["taskset", "-c", "0"], &["taskset", "-c", "1"]),
        }
    }

    /// Whether pinned runs can be made here: `taskset` (util-linux) can put
    /// a process on core 0 and on core 1 (a container may allow others).
    pub fn pinning_available() -> bool {
        ["0", "1"].iter().all(|core| {
            std::process::Command::new("taskset")
                .args(["-c", core, "true"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    }
}

/// Runs one contender once: starts the backend (if it has one), the
/// gateway (if it has one) and the load generator, and samples CPU time
/// when the load generator opens and closes its window.
pub fn run_once(contender: Contender, spec: impl FnOnce(SocketAddr) -> LoadSpec) -> Measured {
    run_placed(contender, Placement::Shared, spec)
}

/// [`run_once`] with the processes on the cores `placement` gives them.
pub fn run_placed(
    contender: Contender,
    placement: Placement,
    spec: impl FnOnce(SocketAddr) -> LoadSpec,
) -> Measured {
    let (gateway_cores, load_cores) = placement.wrappers();
    assert!(
        placement == Placement::Shared || !contender.needs_backend(),
        "a pinned run has no core for a backend"
    );
    let mut backend = contender.needs_backend().then(|| Role::spawn(&["backend"]));
    let backend_addr = backend.as_mut().map(Role::ready);
    let mut gateway = contender.has_gateway().then(|| {
        let args: Vec<String> = backend_addr.iter().map(ToString::to_string).collect();
        Role::serve(gateway_cores, contender, &args)
    });
    let gateway_addr = gateway.as_mut().map(Role::ready);
    let target = gateway_addr.or(backend_addr).expect("something to load");
    let spec = serde_json::to_string(&spec(target)).expect("serializable");

    let rss_before = gateway.as_ref().map(Role::rss_kib);
    let mut load = Role::spawn_wrapped(load_cores, &["load", &spec]);
    let cpu = |role: &Option<Role>| role.as_ref().map(Role::cpu);
    let (mut start, mut stop) = ((None, None, None), (None, None, None));
    let mut rss_start = None;
    let result = loop {
        let line = load.line();
        match line.as_str() {
            "START" => {
                start = (cpu(&gateway), cpu(&backend), Some(load.cpu()));
                rss_start = gateway.as_ref().map(Role::rss_kib);
            }
            "STOP" => stop = (cpu(&gateway), cpu(&backend), Some(load.cpu())),
            _ => {
                if let Some(json) = line.strip_prefix("RESULT ") {
                    break serde_json::from_str::<LoadResult>(json).expect("a LoadResult");
                }
            }
        }
    };
    let rss_end = gateway.as_ref().map(Role::rss_kib);
    load.finish();
    let diff = |a: Option<Cpu>, b: Option<Cpu>| Some(b?.since(&a?));
    let ticks = |a: Option<Cpu>, b: Option<Cpu>| Some(b?.stat.saturating_sub(a?.stat));
    Measured {
        load: result,
        gateway_cpu: diff(start.0, stop.0),
        gateway_cpu_ticks: ticks(start.0, stop.0),
        gateway_system_ticks: start
            .0
            .zip(stop.0)
            .map(|(a, b)| b.system.saturating_sub(a.system)),
        backend_cpu: diff(start.1, stop.1),
        load_cpu: diff(start.2, stop.2),
        gateway_rss_before_kib: rss_before,
        gateway_rss_start_kib: rss_start,
        gateway_rss_end_kib: rss_end,
    }
}

/// Prints one run as it finishes, so a long run shows progress.
pub fn progress(record: &Record) {
    let cpu = record
        .gateway_cpu_us
        .or(record.backend_cpu_us)
        .map(|c| format!("{c:.1} µs/op"))
        .unwrap_or_default();
    let load = record
        .load_cpu_us
        .map(|c| format!("(load {c:.1} µs/op)"))
        .unwrap_or_default();
    eprintln!(
        "  [{}] {:<9} {:>6} {:<22} round {}: {:>12.0}/s {} {} {}",
        record.scenario,
        record.case,
        record.concurrency,
        record.contender.name(),
        record.round + 1,
        record.throughput,
        cpu,
        load,
        if record.errors > 0 {
            format!("({} errors: {})", record.errors, record.note)
        } else {
            String::new()
        }
    );
}

/// Runs every scenario asked for and writes the report.
pub fn run_all(options: &Options) {
    if let Some(path) = &options.from_json {
        let json = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let report: Report = serde_json::from_str(&json).expect("a results.json");
        report::write(&report, &options.out);
        return;
    }
    let plan: Plan = options.plan();
    let limit = crate::procstat::raise_nofile_limit();
    let started = std::time::Instant::now();
    let load_before = report::load_average();
    eprintln!(
        "gateway-bench: {} rounds, {} cores, open-file limit {limit}",
        plan.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut records = Vec::new();
    let mut generator = None;
    let mut build_cost = None;
    for scenario in crate::cli::SCENARIOS.iter().chain(crate::cli::ON_REQUEST) {
        if !options.wants(scenario) {
            continue;
        }
        eprintln!("{scenario}:");
        match *scenario {
            "unary" => records.extend(unary::run(&plan)),
            "sse" => records.extend(sse::run(&plan, limit)),
            "websocket" => records.extend(websocket::run(&plan)),
            "ndjson" => records.extend(ndjson::run(&plan)),
            "short-streams" => records.extend(short_streams::run(&plan)),
            "h2" => records.extend(h2::run(&plan)),
            "instructions" => records.extend(instructions::run(&plan)),
            "generator" => generator = Some(generator::run(&plan)),
            "build-cost" => {
                let setup = build_cost::Setup::from_env(options.quick);
                build_cost = Some(build_cost::run(&setup));
            }
            _ => unreachable!(),
        }
    }
    let report = Report::new(
        options,
        &plan,
        records,
        generator,
        started.elapsed(),
        load_before,
    )
    .with_build_cost(build_cost);
    report::write(&report, &options.out);
}
