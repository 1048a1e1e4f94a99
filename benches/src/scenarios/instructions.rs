//! Scenario 7, instructions per operation (`--only instructions`): the
//! small unary echo, SSE events (200 streams, 5 events/s each), whole
//! 10-message streams in SSE and NDJSON (scenario 9's, on 4 connections)
//! and the messages of one long NDJSON stream (scenario 4's, after a
//! warm-up stream), with the gateway process run under valgrind's
//! callgrind, which counts the
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
//!
//! `GATEWAY_BENCH_CASES=LIST` and `GATEWAY_BENCH_CONTENDERS=LIST` (comma
//! separated parts of names, say `short ndjson` and `generated-remote,hand`)
//! run only the cases and contenders whose names contain one of them: a
//! quicker look at one change.
//!
//! With `GATEWAY_BENCH_CACHE_SIM=1` callgrind also simulates the caches:
//! data misses per operation in the first and last level, instruction
//! misses in the first level, the code an operation runs (from a dump
//! with instruction addresses, [`code_lines`]), and one more case, SSE on
//! 1 000 streams that stay cold between their events. The instruction
//! cache is simulated as this machine's (32 KiB, 8-way): a loop whose
//! code fits may still miss where more of its lines fall in one set than
//! it has ways, which only the placement of the code decides.

use std::collections::HashMap;
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

/// With the cache simulated: streams enough that their state outgrows the
/// simulated last-level cache, each quiet between its events, as at 10 000
/// streams against a real L3.
const COLD_SSE_STREAMS: usize = 1_000;
const COLD_SSE_RATE: u32 = 1;

/// Messages of the NDJSON case's measured stream, and of the stream
/// before it that warms the gateway (and valgrind's translation of it).
const NDJSON_MESSAGES: u64 = 100_000;
const NDJSON_WARM_UP: u64 = 2_000;

/// The last-level cache callgrind simulates with `GATEWAY_BENCH_CACHE_SIM=1`:
/// 1 MiB, 8-way, 64-byte lines (one core's L2 here). The state of 1 000
/// open streams does not fit in it, so a miss there stands for what 10 000
/// streams miss in a real L3.
const SIMULATED_LL: &str = "--LL=1048576,8,64";

/// The first-level caches callgrind simulates: this machine's (32 KiB,
/// 8-way, 64-byte lines), set rather than detected, so that another
/// machine counts the same misses.
const SIMULATED_I1: &str = "--I1=32768,8,64";
const SIMULATED_D1: &str = "--D1=32768,8,64";

/// Whether to simulate the caches (`GATEWAY_BENCH_CACHE_SIM=1`): callgrind
/// then also counts first-level data and instruction misses and last-level
/// misses, dumps instruction addresses (for the code an operation runs),
/// and the SSE case with cold streams runs. About twice as slow.
fn cache_sim() -> bool {
    std::env::var("GATEWAY_BENCH_CACHE_SIM").is_ok_and(|v| v == "1")
}

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
    let mut cases = vec![
        ("unary small", CONNECTIONS, 0),
        ("sse", SSE_STREAMS, SSE_RATE),
        ("short sse ×10", CONNECTIONS, 0),
        ("short ndjson ×10", CONNECTIONS, 0),
        ("ndjson down", 1, 0),
    ];
    if cache_sim() {
        cases.push(("sse cold", COLD_SSE_STREAMS, COLD_SSE_RATE));
    }
    let picked = |name: &str, var: &str| {
        std::env::var(var).map_or(true, |list| {
            list.split(',').any(|p| name.contains(p.trim()))
        })
    };
    cases.retain(|(case, ..)| picked(case, "GATEWAY_BENCH_CASES"));
    let contenders = CONTENDERS
        .iter()
        .filter(|c| picked(c.name(), "GATEWAY_BENCH_CONTENDERS"));
    for round in 0..plan.rounds {
        for &contender in contenders.clone() {
            for &(case, concurrency, rate) in &cases {
                let spec = |target| {
                    if case == "ndjson down" {
                        let down = |messages| LoadSpec::NdjsonDown {
                            target,
                            messages,
                            grpc: false,
                        };
                        return (Some(down(NDJSON_WARM_UP)), down(NDJSON_MESSAGES));
                    }
                    let measured = if let Some(mode) = case.strip_prefix("short ") {
                        LoadSpec::ShortStreams {
                            target,
                            sse: mode.starts_with("sse"),
                            messages: super::short_streams::MESSAGES,
                            connections: CONNECTIONS,
                            warmup_ms: 3_000,
                            window_ms,
                        }
                    } else if case.starts_with("sse") {
                        LoadSpec::Sse {
                            target,
                            streams: concurrency,
                            rate,
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
                    };
                    (None, measured)
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
    spec: impl FnOnce(std::net::SocketAddr) -> Loads,
) -> Record {
    let keep = std::env::var_os("GATEWAY_BENCH_CALLGRIND_DIR").map(|dir| {
        let name = format!(
            "{}-{}-r{round}.callgrind",
            contender.name(),
            case.replace(' ', "-")
        );
        std::path::PathBuf::from(dir).join(name)
    });
    let (load, dump) = measure(contender, spec, keep.as_deref());
    let counts = dump.as_deref().and_then(dumped_counts);
    let mut record = Record::of_load(&load, "instructions", case, concurrency, contender, round);
    let per_op = |events: &[&str]| -> Option<f64> {
        let counts = counts.as_ref()?;
        let total = events
            .iter()
            .map(|e| counts.get(*e).copied())
            .sum::<Option<u64>>()?;
        Some(total as f64 / load.ops.max(1) as f64)
    };
    record.instructions_per_op = per_op(&["Ir"]);
    record.d1_misses_per_op = per_op(&["D1mr", "D1mw"]);
    record.ll_misses_per_op = per_op(&["DLmr", "DLmw"]);
    record.i1_misses_per_op = per_op(&["I1mr"]);
    record.code_kib_per_op = dump
        .as_deref()
        .and_then(|text| code_lines(text, load.ops.max(1)))
        .map(|lines| lines as f64 * 64.0 / 1024.0);
    if record.instructions_per_op.is_none() && record.note.is_empty() {
        record.note = "no callgrind dump".into();
        record.errors += 1;
    }
    progress(&record);
    record
}

/// The loads of one case: a warm-up run to its end first, if any, then the
/// measured one.
type Loads = (Option<LoadSpec>, LoadSpec);

/// One run: backend (if any), the gateway under callgrind, the load; the
/// text of the window's dump.
fn measure(
    contender: Contender,
    spec: impl FnOnce(std::net::SocketAddr) -> Loads,
    keep: Option<&Path>,
) -> (LoadResult, Option<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("callgrind.out");
    let mut backend = contender.needs_backend().then(|| Role::spawn(&["backend"]));
    let backend_addr = backend.as_mut().map(Role::ready);
    let args: Vec<String> = backend_addr.iter().map(ToString::to_string).collect();
    let out_arg = format!("--callgrind-out-file={}", out.display());
    // Names written out in full in every dump: the zeroed window's dump
    // stands alone for tools that read it.
    let mut wrapper = vec![
        "valgrind",
        "--tool=callgrind",
        &out_arg,
        "--compress-strings=no",
        "--compress-pos=no",
        "--quiet",
    ];
    if cache_sim() {
        // Instruction addresses too, for the code an operation runs.
        wrapper.extend([
            "--cache-sim=yes",
            SIMULATED_I1,
            SIMULATED_D1,
            SIMULATED_LL,
            "--dump-instr=yes",
        ]);
    }
    let mut gateway = Role::serve(&wrapper, contender, &args);
    let target = gateway.ready();
    let (warm_up, measured) = spec(target);
    if let Some(warm_up) = warm_up {
        let warm_up = serde_json::to_string(&warm_up).expect("serializable");
        let mut load = Role::spawn(&["load", &warm_up]);
        while !load.line().starts_with("RESULT ") {}
        load.finish();
    }
    let spec = serde_json::to_string(&measured).expect("serializable");
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
    let dump = newest
        .as_deref()
        .and_then(|path| std::fs::read_to_string(path).ok());
    if let (Some(from), Some(to)) = (&newest, keep)
        && let Err(e) = std::fs::copy(from, to)
    {
        eprintln!("  instructions: could not keep {}: {e}", to.display());
    }
    drop(gateway);
    drop(backend);
    (result, dump)
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

/// The counts of a dump's text by event name (`Ir`, and with the cache simulated
/// `D1mr`, `DLmr`…): its `events:` line names the columns of its `totals:`
/// (or `summary:`) line.
fn dumped_counts(text: &str) -> Option<HashMap<String, u64>> {
    let names = text.lines().find_map(|l| l.strip_prefix("events:"))?;
    let values = text.lines().find_map(|l| {
        l.strip_prefix("totals:")
            .or_else(|| l.strip_prefix("summary:"))
    })?;
    let counts: HashMap<String, u64> = names
        .split_whitespace()
        .zip(values.split_whitespace())
        .map(|(name, value)| Some((name.to_string(), value.parse().ok()?)))
        .collect::<Option<_>>()?;
    counts.contains_key("Ir").then_some(counts)
}

/// Every cost line of a dump written with `--compress-strings=no`: the
/// function it is in, its instruction address (a dump with
/// `--dump-instr=yes`; `None` without) and its instructions (`Ir`, the
/// first event). The line after a `calls=` line is the call's inclusive
/// cost, not the caller's own, and is left out.
fn cost_lines(text: &str) -> impl Iterator<Item = (Option<&str>, Option<u64>, u64)> {
    let mut positions: Vec<&str> = vec!["line"];
    let (mut function, mut after_call, mut address) = (None, false, 0u64);
    text.lines().filter_map(move |line| {
        if let Some(names) = line.strip_prefix("positions:") {
            positions = names.split_whitespace().collect();
        } else if let Some(name) = line.strip_prefix("fn=") {
            function = Some(name);
        } else if line.starts_with("calls=") {
            after_call = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
            let mut columns = line.split_whitespace();
            let mut at = None;
            for position in &positions {
                let column = columns.next()?;
                if *position == "instr" {
                    // Absolute, or relative to the line before
                    // (`--compress-pos=yes`).
                    address = match column.as_bytes()[0] {
                        b'*' => address,
                        b'+' => address.wrapping_add(number(&column[1..])?),
                        b'-' => address.wrapping_sub(number(&column[1..])?),
                        _ => number(column)?,
                    };
                    at = Some(address);
                }
            }
            if std::mem::take(&mut after_call) {
                return None;
            }
            let cost = columns.next().and_then(|n| n.parse::<u64>().ok())?;
            return Some((function, at, cost));
        }
        None
    })
}

/// A number of a dump's position column: decimal or `0x` hexadecimal.
fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Instructions of each function's own (not of what it calls) in a dump
/// written with `--compress-strings=no`, most first.
pub fn self_costs(text: &str) -> Vec<(String, u64)> {
    let mut costs: HashMap<&str, u64> = HashMap::new();
    for (function, _, cost) in cost_lines(text) {
        if let Some(function) = function {
            *costs.entry(function).or_default() += cost;
        }
    }
    let mut costs: Vec<(String, u64)> = costs.into_iter().map(|(f, c)| (f.to_owned(), c)).collect();
    costs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    costs
}

/// The code `ops` operations ran, as the number of 64-byte lines of code
/// that at least `ops` instructions were fetched from: lines an operation
/// runs through, on average, rather than those of rare paths. `None`
/// without instruction addresses in the dump.
///
/// What the instruction cache has to hold for one operation: when this
/// is well above its size (32 KiB, 512 lines), every operation refetches
/// most of its code from the next level.
fn code_lines(text: &str, ops: u64) -> Option<u64> {
    let mut per_line: HashMap<u64, u64> = HashMap::new();
    let mut addressed = false;
    for (_, at, cost) in cost_lines(text) {
        if let Some(at) = at {
            addressed = true;
            *per_line.entry(at / 64).or_default() += cost;
        }
    }
    addressed.then(|| per_line.values().filter(|&&cost| cost >= ops).count() as u64)
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
        assert_eq!(
            dumped_counts(&std::fs::read_to_string(dump).unwrap()),
            Some(HashMap::from([("Ir".to_string(), 12345)]))
        );
    }

    #[test]
    fn reads_every_event_of_a_cache_simulation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("callgrind.out.2");
        std::fs::write(
            &path,
            "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nfn=main\n0 5 1 1 0 1 0 0 0 0\n\
             summary: 100 40 30 2 7 3 1 5 2\n",
        )
        .unwrap();
        let counts = dumped_counts(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(counts["Ir"], 100);
        assert_eq!(counts["D1mr"] + counts["D1mw"], 10);
        assert_eq!(counts["DLmr"] + counts["DLmw"], 7);
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

    #[test]
    fn self_costs_skip_the_address_column() {
        let dump = "events: Ir I1mr\npositions: instr line\nfn=main\n0x1000 3 7 1\n\
                    cfn=work\ncalls=1 0x2000 9\n0x1004 3 500 0\nfn=work\n0x2000 9 30 0\n";
        assert_eq!(
            self_costs(dump),
            [("work".to_owned(), 30), ("main".to_owned(), 7)]
        );
    }

    #[test]
    fn code_lines_count_the_lines_run_once_per_operation() {
        // 10 operations. Line 0x1000/64 is run through 10 times in all
        // (7 + 3, two instructions of it): counted. Line 0x1040/64 only
        // 9 times: a rare path, not counted. The call's inclusive cost at
        // 0x1080 is not code of that line. Line 0x2000/64: 40, counted.
        let dump = "events: Ir\npositions: instr line\nfn=main\n0x1000 1 7\n0x103c 1 3\n\
                    0x1040 2 9\ncfn=work\ncalls=10 0x2000 5\n0x1080 3 400\n\
                    fn=work\n0x2000 5 40\n";
        assert_eq!(code_lines(dump, 10), Some(2));
        // Relative positions (`--compress-pos=yes`) give the same lines.
        let relative = "events: Ir\npositions: instr line\nfn=main\n0x1000 1 7\n+60 * 3\n\
                        +4 +1 9\nfn=work\n0x2000 5 40\n";
        assert_eq!(code_lines(relative, 10), Some(2));
        // Without addresses there is nothing to count.
        assert_eq!(code_lines("events: Ir\nfn=main\n1 5\n", 1), None);
    }
}
