//! Scenario 7, instructions per operation (`--only instructions`): the
//! small unary echo, and SSE events (200 streams, 5 events/s each), with the
//! gateway process run under valgrind's callgrind, which counts the
//! instructions it executes. Unlike CPU time, the count barely
//! moves with the machine's load, so it compares contenders on a busy
//! machine too; it is what the unary CPU target is judged by when the
//! machine is not quiet.
//!
//! The counters are zeroed (`callgrind_control -z`) when the load
//! generator opens its window and dumped (`callgrind_control -d`) when it
//! closes it; instructions in the dump divided by the requests completed
//! in the window. Not part of the default run (valgrind slows the gateway
//! about fifty times, and may be missing): ask for it by name.
//!
//! With `GATEWAY_BENCH_CALLGRIND_DIR=DIR` each window's dump is kept as
//! `DIR/CONTENDER-CASE-rN.callgrind`, for `gateway-bench callgrind-top FILE`
//! (the functions with the most instructions of their own).

use std::path::Path;
use std::process::Command;

use super::{Record, progress};
use crate::cli::Plan;
use crate::contender::Contender;
use crate::load::{LoadResult, LoadSpec};
use crate::payload::BodySize;
use crate::role::Role;

pub const CONTENDERS: &[Contender] = &[
    Contender::GenRemote,
    Contender::GenInProcess,
    Contender::GenDirect,
    Contender::Hand,
];

/// Connections of the closed loop: a few, so that the gateway (slowed by
/// valgrind) is the bottleneck and every request counts.
const CONNECTIONS: usize = 4;

/// SSE streams and events per second each: a load callgrind keeps up with.
const SSE_STREAMS: usize = 200;
const SSE_RATE: u32 = 5;

/// Whether valgrind and callgrind_control can be run.
pub fn available() -> bool {
    let works = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    works("valgrind") && works("callgrind_control")
}

/// Orchestrator side.
pub fn run(plan: &Plan) -> Vec<Record> {
    if !available() {
        eprintln!("  instructions: skipped, valgrind (callgrind_control) is not installed");
        return Vec::new();
    }
    let mut records = Vec::new();
    let window_ms = (plan.window.as_millis() as u64 * 2).max(1_000);
    for round in 0..plan.rounds {
        for &contender in CONTENDERS {
            for (case, concurrency) in [("unary small", CONNECTIONS), ("sse", SSE_STREAMS)] {
                let spec = |target| {
                    if case == "sse" {
                        LoadSpec::Sse {
                            target,
                            streams: SSE_STREAMS,
                            rate: SSE_RATE,
                            settle_ms: 2_000,
                            window_ms,
                        }
                    } else {
                        LoadSpec::Unary {
                            target,
                            body: BodySize::Small,
                            connections: CONNECTIONS,
                            grpc: false,
                            // JIT warm-up of valgrind itself, then a window
                            // long enough that the time callgrind_control
                            // takes is a small share of it.
                            warmup_ms: 3_000,
                            window_ms,
                        }
                    }
                };
                records.push(run_case(contender, case, concurrency, round, spec));
            }
        }
    }
    records
}

fn run_case(
    contender: Contender,
    case: &str,
    concurrency: usize,
    round: usize,
    spec: impl FnOnce(std::net::SocketAddr) -> LoadSpec,
) -> Record {
    let keep = std::env::var_os("GATEWAY_BENCH_CALLGRIND_DIR").map(|dir| {
        let name = format!(
            "{}-{}-r{round}.callgrind",
            contender.name(),
            case.replace(' ', "-")
        );
        std::path::PathBuf::from(dir).join(name)
    });
    let (load, instructions) = measure(contender, spec, keep.as_deref());
    let mut record = Record::of_load(&load, "instructions", case, concurrency, contender, round);
    record.instructions_per_op = instructions.map(|i| i as f64 / load.ops.max(1) as f64);
    if instructions.is_none() && record.note.is_empty() {
        record.note = "no callgrind dump".into();
        record.errors += 1;
    }
    progress(&record);
    record
}

/// One run: backend (if any), the gateway under callgrind, the load.
fn measure(
    contender: Contender,
    spec: impl FnOnce(std::net::SocketAddr) -> LoadSpec,
    keep: Option<&Path>,
) -> (LoadResult, Option<u64>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("callgrind.out");
    let mut backend = contender.needs_backend().then(|| Role::spawn(&["backend"]));
    let backend_addr = backend.as_mut().map(Role::ready);
    let args: Vec<String> = backend_addr.iter().map(ToString::to_string).collect();
    let out_arg = format!("--callgrind-out-file={}", out.display());
    // Names written out in full in every dump: the zeroed window's dump
    // stands alone for tools that read it.
    let mut gateway = Role::serve(
        &[
            "valgrind",
            "--tool=callgrind",
            &out_arg,
            "--compress-strings=no",
            "--compress-pos=no",
            "--quiet",
        ],
        contender,
        &args,
    );
    let target = gateway.ready();
    let spec = serde_json::to_string(&spec(target)).expect("serializable");
    let pid = gateway.pid();
    let mut load = Role::spawn(&["load", &spec]);
    let (mut zeroed, mut dumped) = (false, false);
    let result = loop {
        let line = load.line();
        match line.as_str() {
            "START" => zeroed = control(&pid, "-z"),
            "STOP" => dumped = control(&pid, "-d"),
            _ => {
                if let Some(json) = line.strip_prefix("RESULT ") {
                    break serde_json::from_str::<LoadResult>(json).expect("a LoadResult");
                }
            }
        }
    };
    load.finish();
    let newest = (zeroed && dumped)
        .then(|| newest_dump(dir.path()))
        .flatten();
    let instructions = newest.as_deref().and_then(dumped_instructions);
    if let (Some(from), Some(to)) = (&newest, keep)
        && let Err(e) = std::fs::copy(from, to)
    {
        eprintln!("  instructions: could not keep {}: {e}", to.display());
    }
    drop(gateway);
    drop(backend);
    (result, instructions)
}

/// `callgrind_control FLAG PID`; whether it succeeded.
fn control(pid: &str, flag: &str) -> bool {
    Command::new("callgrind_control")
        .args([flag, pid])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The newest `callgrind.out*` file of `dir`: the dump `callgrind_control
/// -d` wrote.
fn newest_dump(dir: &Path) -> Option<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("callgrind.out"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

/// Instructions (`Ir`) of a dump: its `totals:` (or `summary:`) line.
fn dumped_instructions(dump: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dump).ok()?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
}

/// Instructions of each function's own (not of what it calls) in a dump
/// written with `--compress-strings=no`, most first. Cost lines follow a
/// `fn=` line; the line after a `calls=` line is the call's inclusive cost
/// and is skipped.
pub fn self_costs(text: &str) -> Vec<(String, u64)> {
    let mut costs: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    let (mut function, mut after_call) = (None, false);
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("fn=") {
            function = Some(name);
        } else if line.starts_with("calls=") {
            after_call = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
            if std::mem::take(&mut after_call) {
                continue;
            }
            let cost = line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse::<u64>().ok());
            if let (Some(function), Some(cost)) = (function, cost) {
                *costs.entry(function).or_default() += cost;
            }
        }
    }
    let mut costs: Vec<(String, u64)> = costs.into_iter().map(|(f, c)| (f.to_owned(), c)).collect();
    costs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    costs
}

/// `gateway-bench callgrind-top FILE [N]`: the N (default 40) functions
/// with the most instructions of their own in a kept dump.
pub fn top_main(args: &[String]) {
    let Some(file) = args.first() else {
        eprintln!("usage: gateway-bench callgrind-top FILE [N]");
        std::process::exit(2);
    };
    let count = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(40);
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| {
        eprintln!("{file}: {e}");
        std::process::exit(1);
    });
    let costs = self_costs(&text);
    let total: u64 = costs.iter().map(|c| c.1).sum();
    println!("{total} instructions");
    for (function, cost) in costs.iter().take(count) {
        let share = *cost as f64 * 100.0 / total.max(1) as f64;
        println!("{cost:>12} {share:5.1}% {function}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_totals_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("callgrind.out.1"),
            "version: 1\nevents: Ir\nfn=main\n0 5\nsummary: 12345\ntotals: 12345\n",
        )
        .unwrap();
        let dump = newest_dump(dir.path()).unwrap();
        assert_eq!(dumped_instructions(&dump), Some(12345));
    }

    #[test]
    fn self_costs_leave_out_calls() {
        let dump = "events: Ir\nfn=main\n1 5\n+1 2\ncfn=work\ncalls=3 10\n* 900\n\
                    fn=work\n10 40\nfn=main\n2 1\n";
        assert_eq!(
            self_costs(dump),
            [("work".to_owned(), 40), ("main".to_owned(), 8)]
        );
    }
}
