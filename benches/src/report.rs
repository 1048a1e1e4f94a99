//! Medians of the rounds, ratios against the baselines of the same run,
//! the issue's targets, and the files: `results.json` (every run),
//! `results.md` (the tables) and `benchmarks.svg` (the plot).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cli::{Options, Plan};
use crate::contender::Contender;
use crate::scenarios::Record;
use crate::scenarios::build_cost::BuildCostResult;
use crate::scenarios::generator::GeneratorResult;

/// The median of a contender's rounds in one case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub case: String,
    pub concurrency: usize,
    pub contender: Contender,
    pub rounds: usize,
    pub throughput: f64,
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub gateway_cpu_us: Option<f64>,
    /// The gateway's CPU per operation split into user and system time
    /// (`/proc/PID/stat`, 10 ms ticks; absent in older results).
    #[serde(default)]
    pub gateway_user_us: Option<f64>,
    #[serde(default)]
    pub gateway_system_us: Option<f64>,
    pub backend_cpu_us: Option<f64>,
    /// The load generator's CPU per operation (absent in older results).
    #[serde(default)]
    pub load_cpu_us: Option<f64>,
    pub gateway_rss_kib: Option<f64>,
    pub rss_per_stream_kib: Option<f64>,
    /// (max − min) / median over the rounds, of throughput and gateway CPU.
    pub throughput_spread: Option<f64>,
    pub gateway_cpu_spread: Option<f64>,
    /// Errors summed over the rounds.
    pub errors: u64,
    pub note: String,
    /// Gateway instructions per operation (instructions scenario).
    #[serde(default)]
    pub instructions_per_op: Option<f64>,
    /// Simulated cache misses per operation (instructions scenario with
    /// the cache simulated): first-level data, last-level.
    #[serde(default)]
    pub d1_misses_per_op: Option<f64>,
    #[serde(default)]
    pub ll_misses_per_op: Option<f64>,
    /// Simulated instruction cache misses per operation, and the code an
    /// operation runs (KiB of 64-byte lines run at least once per
    /// operation), with the cache simulated.
    #[serde(default)]
    pub i1_misses_per_op: Option<f64>,
    #[serde(default)]
    pub code_kib_per_op: Option<f64>,
}

/// One of the issue's targets, evaluated on this run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub what: String,
    pub goal: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub date: String,
    pub command: String,
    pub profile: String,
    pub cores: usize,
    /// `/proc/loadavg` when the run started and ended: other work on the
    /// machine shows here.
    pub load_before: String,
    pub load_after: String,
    pub rounds: usize,
    pub quick: bool,
    pub duration_s: f64,
    pub summaries: Vec<Summary>,
    pub generator: Option<GeneratorResult>,
    /// The build-cost scenario (only when asked for: it takes minutes).
    #[serde(default)]
    pub build_cost: Option<BuildCostResult>,
    pub targets: Vec<Target>,
    pub records: Vec<Record>,
}

impl Report {
    pub fn new(
        options: &Options,
        plan: &Plan,
        records: Vec<Record>,
        generator: Option<GeneratorResult>,
        elapsed: Duration,
        load_before: String,
    ) -> Report {
        let summaries = summarize(&records);
        let targets = targets(&summaries, generator.as_ref());
        let args: Vec<String> = std::env::args().skip(1).collect();
        Report {
            date: today(),
            command: format!(
                "cargo run --release -p gateway-bench --{}",
                args.iter().map(|a| format!(" {a}")).collect::<String>()
            )
            .trim_end_matches(" --")
            .to_string(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            load_before,
            load_after: load_average(),
            rounds: plan.rounds,
            quick: options.quick,
            duration_s: elapsed.as_secs_f64(),
            summaries,
            generator,
            build_cost: None,
            targets,
            records,
        }
    }

    /// Adds the build-cost scenario's result and its targets.
    pub fn with_build_cost(mut self, result: Option<BuildCostResult>) -> Report {
        if let Some(b) = &result {
            build_cost_targets(&mut self.targets, b);
        }
        self.build_cost = result;
        self
    }

    /// The summary of one contender in one case.
    pub fn get(
        &self,
        scenario: &str,
        case: &str,
        concurrency: usize,
        contender: Contender,
    ) -> Option<&Summary> {
        find(&self.summaries, scenario, case, concurrency, contender)
    }
}

fn find<'a>(
    summaries: &'a [Summary],
    scenario: &str,
    case: &str,
    concurrency: usize,
    contender: Contender,
) -> Option<&'a Summary> {
    summaries.iter().find(|s| {
        s.scenario == scenario
            && s.case == case
            && s.concurrency == concurrency
            && s.contender == contender
    })
}

/// `/proc/loadavg`'s first three fields.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Today's date (UTC), from the system clock.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Howard Hinnant's days-to-civil.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// Median of every metric over the rounds, per (scenario, case,
/// concurrency, contender), in the order the cases first ran.
fn summarize(records: &[Record]) -> Vec<Summary> {
    let mut groups: BTreeMap<(usize, Contender), Vec<&Record>> = BTreeMap::new();
    let mut order: Vec<(String, String, usize)> = Vec::new();
    for r in records {
        let key = (r.scenario.clone(), r.case.clone(), r.concurrency);
        let index = order.iter().position(|k| *k == key).unwrap_or_else(|| {
            order.push(key);
            order.len() - 1
        });
        groups.entry((index, r.contender)).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|((index, contender), runs)| {
            let (scenario, case, concurrency) = order[index].clone();
            let m =
                |f: fn(&Record) -> Option<f64>| median(runs.iter().filter_map(|r| f(r)).collect());
            let spread = |f: fn(&Record) -> Option<f64>| {
                let values: Vec<f64> = runs.iter().filter_map(|r| f(r)).collect();
                let (lo, hi) = values
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                ratio(Some(hi - lo), median(values)).filter(|_| runs.len() > 1)
            };
            Summary {
                scenario,
                case,
                concurrency,
                contender,
                rounds: runs.len(),
                throughput: m(|r| Some(r.throughput)).unwrap_or(0.0),
                p50_us: m(|r| r.p50_us),
                p99_us: m(|r| r.p99_us),
                gateway_cpu_us: m(|r| r.gateway_cpu_us),
                gateway_user_us: m(|r| Some(r.gateway_cpu_stat_us? - r.gateway_system_us?)),
                gateway_system_us: m(|r| r.gateway_system_us),
                backend_cpu_us: m(|r| r.backend_cpu_us),
                load_cpu_us: m(|r| r.load_cpu_us),
                gateway_rss_kib: m(|r| r.gateway_rss_kib),
                rss_per_stream_kib: m(|r| r.rss_per_stream_kib),
                throughput_spread: spread(|r| Some(r.throughput)),
                gateway_cpu_spread: spread(|r| r.gateway_cpu_us),
                instructions_per_op: m(|r| r.instructions_per_op),
                d1_misses_per_op: m(|r| r.d1_misses_per_op),
                ll_misses_per_op: m(|r| r.ll_misses_per_op),
                i1_misses_per_op: m(|r| r.i1_misses_per_op),
                code_kib_per_op: m(|r| r.code_kib_per_op),
                errors: runs.iter().map(|r| r.errors).sum(),
                note: runs
                    .iter()
                    .map(|r| r.note.as_str())
                    .find(|n| !n.is_empty())
                    .unwrap_or("")
                    .to_string(),
            }
        })
        .collect()
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn check(
    targets: &mut Vec<Target>,
    what: String,
    goal: &str,
    value: Option<f64>,
    unit: &str,
    ok: impl Fn(f64) -> bool,
) {
    if let Some(v) = value {
        targets.push(Target {
            what,
            goal: goal.into(),
            measured: format!("{v:.2}{unit}"),
            met: ok(v),
        });
    }
}

/// The issue's targets, as ratios against this run's baselines.
fn targets(summaries: &[Summary], generator: Option<&GeneratorResult>) -> Vec<Target> {
    use Contender::*;
    let mut out = Vec::new();
    let cases: Vec<(String, String, usize)> = {
        let mut seen = Vec::new();
        for s in summaries {
            let key = (s.scenario.clone(), s.case.clone(), s.concurrency);
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen
    };
    let main_connections = cases
        .iter()
        .filter(|(s, c, _)| s == "unary" && c == "10KiB")
        .map(|k| k.2)
        .max();
    for (scenario, case, n) in &cases {
        let get = |c| find(summaries, scenario, case, *n, c);
        if scenario == "unary-pinned" {
            if let Some(direct) = get(GenDirect) {
                // The direct-call targets again, with the gateway alone on
                // one core and the load generator on the other.
                let label = format!("unary {case} ×{n}, gateway pinned to one core");
                direct_targets(
                    &mut out,
                    &label,
                    get(GenInProcess),
                    get(IssueInProcess),
                    direct,
                );
            }
            continue;
        }
        let (Some(generated), hand, inproc) = (get(GenRemote), get(Hand), get(GenInProcess)) else {
            continue;
        };
        match scenario.as_str() {
            // The main comparison runs at the 10 KiB body's connection
            // count; the sweep points only feed the plot.
            "unary" if Some(*n) == main_connections => {
                let Some(hand) = hand else { continue };
                let label = |t: &str| format!("unary {case} ×{n}: {t}");
                check(
                    &mut out,
                    label("gateway CPU/request vs hand-written"),
                    "≤ 1.00×",
                    ratio(generated.gateway_cpu_us, hand.gateway_cpu_us),
                    "×",
                    |v| v <= 1.0,
                );
                check(
                    &mut out,
                    label("requests/s vs hand-written"),
                    "≥ 0.95×",
                    ratio(Some(generated.throughput), Some(hand.throughput)),
                    "×",
                    |v| v >= 0.95,
                );
                check(
                    &mut out,
                    label("p99 vs hand-written"),
                    "≤ 1.10×",
                    ratio(generated.p99_us, hand.p99_us),
                    "×",
                    |v| v <= 1.1,
                );
                if let Some(metered) = get(GenRemoteMetrics) {
                    check(
                        &mut out,
                        label("gateway CPU/request with the metrics recorder vs without"),
                        "≤ 1.03×",
                        ratio(metered.gateway_cpu_us, generated.gateway_cpu_us),
                        "×",
                        |v| v <= 1.03,
                    );
                }
                if let Some(inproc) = inproc {
                    check(
                        &mut out,
                        label("in-process requests/s vs remote"),
                        "≥ 2.00×",
                        ratio(Some(inproc.throughput), Some(generated.throughput)),
                        "×",
                        |v| v >= 2.0,
                    );
                }
                if let Some(direct) = get(GenDirect) {
                    let label = format!("unary {case} ×{n}");
                    direct_targets(&mut out, &label, inproc, get(IssueInProcess), direct);
                }
            }
            "sse" | "websocket" => {
                let Some(hand) = hand else { continue };
                let unit = if scenario == "sse" {
                    "events/s"
                } else {
                    "messages/s"
                };
                check(
                    &mut out,
                    format!("{scenario} ×{n}: {unit} vs hand-written"),
                    "≥ 0.90×",
                    ratio(Some(generated.throughput), Some(hand.throughput)),
                    "×",
                    |v| v >= 0.9,
                );
                if scenario == "sse" {
                    check(
                        &mut out,
                        format!("sse ×{n}: gateway CPU/event vs hand-written"),
                        "≤ 1.05×",
                        ratio(generated.gateway_cpu_us, hand.gateway_cpu_us),
                        "×",
                        |v| v <= 1.05,
                    );
                }
                let largest = cases.iter().filter(|k| k.0 == "sse").map(|k| k.2).max();
                if scenario == "sse" && Some(*n) == largest {
                    check(
                        &mut out,
                        format!("sse ×{n}: gateway memory per open stream"),
                        "≤ 16 KiB",
                        generated.rss_per_stream_kib,
                        " KiB",
                        |v| v <= 16.0,
                    );
                }
            }
            "ndjson" => {
                let Some(hand) = hand else { continue };
                check(
                    &mut out,
                    format!("ndjson {case}: gateway CPU/message vs hand-written"),
                    "≤ 1.05×",
                    ratio(generated.gateway_cpu_us, hand.gateway_cpu_us),
                    "×",
                    |v| v <= 1.05,
                );
            }
            "short-streams" => {
                let Some(hand) = hand else { continue };
                check(
                    &mut out,
                    format!("short streams, {case} ×{n}: gateway CPU/stream vs hand-written"),
                    "≤ 1.05×",
                    ratio(generated.gateway_cpu_us, hand.gateway_cpu_us),
                    "×",
                    |v| v <= 1.05,
                );
            }
            _ => {}
        }
    }
    if let Some(g) = generator {
        check(
            &mut out,
            format!(
                "generator: {} methods in {} services",
                g.methods, g.services
            ),
            "< 1000 ms",
            Some(g.median_ms),
            " ms",
            |v| v < 1000.0,
        );
    }
    out
}

/// Direct calls against the in-process path of this run and, when it
/// ran, against the in-process path of the issue's time (the targets'
/// own baseline): requests/s ≥ 1.40×, gateway CPU per request ≤ 0.70×.
fn direct_targets(
    out: &mut Vec<Target>,
    label: &str,
    inproc: Option<&Summary>,
    at_issue: Option<&Summary>,
    direct: &Summary,
) {
    for (baseline, against) in [
        (inproc, "in-process"),
        (at_issue, "the in-process path of the issue's time"),
    ] {
        let Some(baseline) = baseline else { continue };
        check(
            out,
            format!("{label}: direct requests/s vs {against}"),
            "≥ 1.40×",
            ratio(Some(direct.throughput), Some(baseline.throughput)),
            "×",
            |v| v >= 1.4,
        );
        check(
            out,
            format!("{label}: direct gateway CPU/request vs {against}"),
            "≤ 0.70×",
            ratio(direct.gateway_cpu_us, baseline.gateway_cpu_us),
            "×",
            |v| v <= 0.7,
        );
    }
}

/// The issue's build-cost targets: the gateway adds at most 0.5× prost +
/// tonic's compile time (lib + bin, CPU time) and 4 MB to the stripped
/// binary.
fn build_cost_targets(out: &mut Vec<Target>, b: &BuildCostResult) {
    let profiles = ["debug", "release"];
    for profile in profiles {
        if b.total("plain", profile).1 > 0.0 {
            check(
                out,
                format!("build cost ({profile}): gateway adds × prost + tonic's compile time"),
                "≤ 0.5×",
                Some(b.added(profile)),
                "×",
                |v| v <= 0.5,
            );
        }
    }
    if b.plain_binary_bytes > 0 && b.steps.iter().any(|s| s.profile == "release") {
        let added = (b.gateway_binary_bytes as f64 - b.plain_binary_bytes as f64) / 1e6;
        check(
            out,
            "build cost: gateway adds to the stripped release binary".into(),
            "≤ 4 MB",
            Some(added),
            " MB",
            |v| v <= 4.0,
        );
    }
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// ` (±N %)`: half the rounds' range, relative to the median.
fn spread(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!(" (±{:.0} %)", v * 50.0))
}

fn times(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2}×"))
}

/// The tables, in Markdown.
pub fn markdown(report: &Report) -> String {
    use Contender::*;
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(
        w,
        "Run {}: `{}` ({} build), {} cores, {} round(s) per contender, {:.0} s in all; load average {} before, {} after.\n",
        report.date,
        report.command,
        report.profile,
        report.cores,
        report.rounds,
        report.duration_s,
        report.load_before,
        report.load_after
    );
    let cases = |scenario: &str| -> Vec<(String, usize)> {
        let mut seen = Vec::new();
        for s in report.summaries.iter().filter(|s| s.scenario == scenario) {
            let key = (s.case.clone(), s.concurrency);
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen
    };

    let unary = cases("unary");
    if !unary.is_empty() {
        let main_n = unary.iter().filter(|k| k.0 == "10KiB").map(|k| k.1).max();
        let _ = writeln!(
            w,
            "### Unary `POST /v1/echo`\n\n\
             | body | conns | contender | req/s (spread) | × hand | p50 µs | p99 µs | p99 × hand | gateway CPU µs/req (spread) | × hand | backend CPU µs/req | total CPU µs/req | load generator CPU µs/req |\n\
             |---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (case, n) in unary.iter().filter(|k| Some(k.1) == main_n) {
            let hand = report.get("unary", case, *n, Hand);
            for c in crate::contender::ALL {
                let Some(s) = report.get("unary", case, *n, *c) else {
                    continue;
                };
                let total = match (s.gateway_cpu_us, s.backend_cpu_us) {
                    (None, None) => None,
                    (g, b) => Some(g.unwrap_or(0.0) + b.unwrap_or(0.0)),
                };
                let _ = writeln!(
                    w,
                    "| {case} | {n} | {} | {}{} | {} | {} | {} | {} | {}{} | {} | {} | {} | {} |{}",
                    c.name(),
                    num(Some(s.throughput)),
                    spread(s.throughput_spread),
                    times(ratio(Some(s.throughput), hand.map(|h| h.throughput))),
                    num(s.p50_us),
                    num(s.p99_us),
                    times(ratio(s.p99_us, hand.and_then(|h| h.p99_us))),
                    num(s.gateway_cpu_us),
                    spread(s.gateway_cpu_spread),
                    times(ratio(s.gateway_cpu_us, hand.and_then(|h| h.gateway_cpu_us))),
                    num(s.backend_cpu_us),
                    num(total),
                    num(s.load_cpu_us),
                    errors(s)
                );
            }
        }
        let sweep: Vec<usize> = {
            let mut n: Vec<usize> = unary
                .iter()
                .filter(|k| k.0 == "small")
                .map(|k| k.1)
                .collect();
            n.sort();
            n
        };
        let _ = writeln!(
            w,
            "\nRequests/s against connections (small body):\n\n\
             | conns | generated-remote | generated-in-process | hand-written | tonic-direct |\n\
             |---:|---:|---:|---:|---:|"
        );
        for n in sweep {
            let cell = |c| num(report.get("unary", "small", n, c).map(|s| s.throughput));
            let _ = writeln!(
                w,
                "| {n} | {} | {} | {} | {} |",
                cell(GenRemote),
                cell(GenInProcess),
                cell(Hand),
                cell(Tonic)
            );
        }
        let _ = writeln!(w);
    }

    let pinned = cases("unary-pinned");
    if !pinned.is_empty() {
        let _ = writeln!(
            w,
            "### Unary, gateway pinned to one core\n\n\
             The gateway on the first core (one tokio worker), the load generator on the second.\n\n\
             | body | conns | contender | req/s (spread) | × in-process | p50 µs | p99 µs | gateway CPU µs/req (spread) | × in-process | gateway user · system µs/req | load generator CPU µs/req |\n\
             |---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (case, n) in &pinned {
            let inproc = report.get("unary-pinned", case, *n, GenInProcess);
            for c in crate::contender::ALL {
                let Some(s) = report.get("unary-pinned", case, *n, *c) else {
                    continue;
                };
                let _ = writeln!(
                    w,
                    "| {case} | {n} | {} | {} | {} | {} · {} | {} |{}",
                    c.name(),
                    closed_loop_cells(s, inproc),
                    gateway_cpu_cells(s, inproc),
                    num(s.gateway_user_us),
                    num(s.gateway_system_us),
                    num(s.load_cpu_us),
                    errors(s)
                );
            }
        }
        let _ = writeln!(w);
    }

    let sse = cases("sse");
    if !sse.is_empty() {
        let _ = writeln!(
            w,
            "### SSE fan-out\n\n\
             | streams | rate/stream | contender | events/s | × hand | gateway CPU µs/event | × hand | gateway RSS KiB/stream | gateway RSS MiB |\n\
             |---:|---|---|---:|---:|---:|---:|---:|---:|"
        );
        for (case, n) in &sse {
            let hand = report.get("sse", case, *n, Hand);
            for c in crate::contender::ALL {
                let Some(s) = report.get("sse", case, *n, *c) else {
                    continue;
                };
                let _ = writeln!(
                    w,
                    "| {n} | {case} | {} | {} | {} | {} | {} | {} | {} |{}",
                    c.name(),
                    num(Some(s.throughput)),
                    times(ratio(Some(s.throughput), hand.map(|h| h.throughput))),
                    num(s.gateway_cpu_us),
                    times(ratio(s.gateway_cpu_us, hand.and_then(|h| h.gateway_cpu_us))),
                    num(s.rss_per_stream_kib),
                    num(s.gateway_rss_kib.map(|k| k / 1024.0)),
                    errors(s)
                );
            }
        }
        let _ = writeln!(w);
    }

    let ws = cases("websocket");
    if !ws.is_empty() {
        let _ = writeln!(
            w,
            "### WebSocket bidi echo\n\n\
             | conns | contender | msgs/s | × hand | p50 µs | p99 µs | p99 × hand | gateway CPU µs/msg | × hand | backend CPU µs/msg |\n\
             |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (case, n) in &ws {
            let hand = report.get("websocket", case, *n, Hand);
            for c in crate::contender::ALL {
                let Some(s) = report.get("websocket", case, *n, *c) else {
                    continue;
                };
                let _ = writeln!(
                    w,
                    "| {n} | {} | {} | {} | {} | {} | {} | {} | {} | {} |{}",
                    c.name(),
                    num(Some(s.throughput)),
                    times(ratio(Some(s.throughput), hand.map(|h| h.throughput))),
                    num(s.p50_us),
                    num(s.p99_us),
                    times(ratio(s.p99_us, hand.and_then(|h| h.p99_us))),
                    num(s.gateway_cpu_us),
                    times(ratio(s.gateway_cpu_us, hand.and_then(|h| h.gateway_cpu_us))),
                    num(s.backend_cpu_us),
                    errors(s)
                );
            }
        }
        let _ = writeln!(w);
    }

    let nd = cases("ndjson");
    if !nd.is_empty() {
        let _ = writeln!(
            w,
            "### Chunked NDJSON, one stream\n\n\
             | direction | contender | msgs/s | × tonic | gateway CPU µs/msg | × hand | backend CPU µs/msg |\n\
             |---|---|---:|---:|---:|---:|---:|"
        );
        for (case, n) in &nd {
            let floor = report.get("ndjson", case, *n, Tonic);
            let hand = report.get("ndjson", case, *n, Hand);
            for c in crate::contender::ALL {
                let Some(s) = report.get("ndjson", case, *n, *c) else {
                    continue;
                };
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} | {} | {} | {} |{}",
                    if case == "down" {
                        "server stream ↓"
                    } else {
                        "client stream ↑"
                    },
                    c.name(),
                    num(Some(s.throughput)),
                    times(ratio(Some(s.throughput), floor.map(|f| f.throughput))),
                    num(s.gateway_cpu_us),
                    times(ratio(s.gateway_cpu_us, hand.and_then(|h| h.gateway_cpu_us))),
                    num(s.backend_cpu_us),
                    errors(s)
                );
            }
        }
        let _ = writeln!(w);
    }

    let short = cases("short-streams");
    if !short.is_empty() {
        let _ = writeln!(
            w,
            "### Short streams, ten messages each\n\n\
             | case | conns | contender | streams/s | × hand | p50 µs | p99 µs | gateway CPU µs/stream | × hand | backend CPU µs/stream | load generator CPU µs/stream |\n\
             |---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (case, n) in &short {
            let hand = report.get("short-streams", case, *n, Hand);
            for c in crate::contender::ALL {
                let Some(s) = report.get("short-streams", case, *n, *c) else {
                    continue;
                };
                let _ = writeln!(
                    w,
                    "| {case} | {n} | {} | {} | {} | {} | {} |{}",
                    c.name(),
                    closed_loop_cells(s, hand),
                    gateway_cpu_cells(s, hand),
                    num(s.backend_cpu_us),
                    num(s.load_cpu_us),
                    errors(s)
                );
            }
        }
        let _ = writeln!(w);
    }

    let instructions = cases("instructions");
    if !instructions.is_empty() {
        let _ = writeln!(
            w,
            "### Instructions per operation (callgrind)\n\n\
             The gateway process under callgrind: unary requests (small body, the concurrency \
             column is connections), SSE events (the concurrency column is open streams) and \
             whole 10-message streams read back to back (`short`, per stream; the concurrency \
             column is connections). \
             `ndjson down` is one stream of 100 000 messages, per message. \
             In-process contenders include the service's instructions. With the cache \
             simulated (`GATEWAY_BENCH_CACHE_SIM=1`, a 1 MiB last-level cache): data misses \
             per operation in the first level and in the last level, instruction misses \
             in the first level (32 KiB, 8-way), and the code an operation runs (KiB of \
             64-byte lines of code run at least once per operation on average).\n\n\
             | case | concurrency | contender | ops/s under callgrind | gateway instructions/op | × hand | D1 misses/op | × hand | LL misses/op | × hand | I1 misses/op | × hand | code KiB/op | × hand |\n\
             |---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (case, n) in &instructions {
            let hand = report.get("instructions", case, *n, Hand);
            for c in crate::contender::ALL {
                let Some(s) = report.get("instructions", case, *n, *c) else {
                    continue;
                };
                let versus = |f: fn(&Summary) -> Option<f64>| times(ratio(f(s), hand.and_then(f)));
                let _ = writeln!(
                    w,
                    "| {case} | {n} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |{}",
                    c.name(),
                    num(Some(s.throughput)),
                    num(s.instructions_per_op),
                    versus(|s| s.instructions_per_op),
                    num(s.d1_misses_per_op),
                    versus(|s| s.d1_misses_per_op),
                    num(s.ll_misses_per_op),
                    versus(|s| s.ll_misses_per_op),
                    num(s.i1_misses_per_op),
                    versus(|s| s.i1_misses_per_op),
                    num(s.code_kib_per_op),
                    versus(|s| s.code_kib_per_op),
                    errors(s)
                );
            }
        }
        let _ = writeln!(w);
    }

    let h2 = cases("h2");
    if !h2.is_empty() {
        let _ = writeln!(
            w,
            "### HTTP/2 clients beside HTTP/1.1\n\n\
             Unary: small body, the concurrency column is requests in flight; SSE: open \
             streams at the SSE scenario's rate, ops are events.\n\n\
             | case | concurrency | contender | ops/s | × hand | p99 µs | gateway CPU µs/op | × hand | gateway RSS KiB/stream |\n\
             |---|---:|---|---:|---:|---:|---:|---:|---:|"
        );
        for (case, n) in &h2 {
            let hand = report.get("h2", case, *n, Hand);
            for c in crate::contender::ALL {
                let Some(s) = report.get("h2", case, *n, *c) else {
                    continue;
                };
                let _ = writeln!(
                    w,
                    "| {case} | {n} | {} | {} | {} | {} | {} | {} | {} |{}",
                    c.name(),
                    num(Some(s.throughput)),
                    times(ratio(Some(s.throughput), hand.map(|h| h.throughput))),
                    num(s.p99_us),
                    num(s.gateway_cpu_us),
                    times(ratio(s.gateway_cpu_us, hand.and_then(|h| h.gateway_cpu_us))),
                    num(s.rss_per_stream_kib),
                    errors(s)
                );
            }
        }
        let _ = writeln!(w);
    }

    if let Some(g) = &report.generator {
        let list = |values: &[f64]| {
            values
                .iter()
                .map(|v| format!("{v:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            w,
            "### Generator\n\n\
             | services | methods | messages | median ms | rounds ms | median CPU ms | rounds CPU ms | generated lines | syn + prettyplease over the whole output, ms |\n\
             |---:|---:|---:|---:|---|---:|---|---:|---:|\n\
             | {} | {} | {} | {:.1} | {} | {:.0} | {} | {} | {:.0} |\n",
            g.services,
            g.methods,
            g.messages,
            g.median_ms,
            list(&g.rounds_ms),
            g.median_cpu_ms,
            list(&g.rounds_cpu_ms),
            g.output_lines,
            g.format_ms
        );
    }

    if let Some(b) = &report.build_cost {
        build_cost_table(w, b);
    }

    if !report.targets.is_empty() {
        let _ = writeln!(
            w,
            "### Targets\n\n| target | goal | measured | |\n|---|---|---:|---|"
        );
        for t in &report.targets {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} |",
                t.what,
                t.goal,
                t.measured,
                if t.met { "met" } else { "**missed**" }
            );
        }
    }
    md
}

/// The build-cost table: lib and bin of each crate and profile, wall and
/// CPU seconds, and the binary sizes.
fn build_cost_table(w: &mut String, b: &BuildCostResult) {
    let _ = writeln!(
        w,
        "### Build cost\n\n\
         {} packages, {} methods, {} messages, {} bindings ({} streaming); \
         {} lines of prost + tonic code, {} lines of gateway code.\n\n\
         | profile | step | prost + tonic s (CPU) | + gateway s (CPU) | gateway adds |\n\
         |---|---|---:|---:|---:|",
        b.packages,
        b.methods,
        b.messages,
        b.bindings,
        b.streaming,
        b.prost_tonic_lines,
        b.gateway_lines
    );
    for profile in ["debug", "release"] {
        if b.total("plain", profile).1 == 0.0 {
            continue;
        }
        for target in ["lib", "bin"] {
            let (pw, pc) = b.step("plain", profile, target);
            let (gw, gc) = b.step("gateway", profile, target);
            let _ = writeln!(
                w,
                "| {profile} | {target} | {pw:.1} ({pc:.1}) | {gw:.1} ({gc:.1}) | {:.2}× |",
                (gc - pc) / pc.max(1e-9)
            );
        }
        let (pw, pc) = b.total("plain", profile);
        let (gw, gc) = b.total("gateway", profile);
        let _ = writeln!(
            w,
            "| {profile} | **lib + bin** | {pw:.1} ({pc:.1}) | {gw:.1} ({gc:.1}) | **{:.2}×** |",
            b.added(profile)
        );
    }
    let mb = |bytes: u64| bytes as f64 / 1e6;
    let _ = writeln!(
        w,
        "\nServer binary{}: {:.1} MB with prost + tonic, {:.1} MB with the gateway (+{:.1} MB).\n",
        if b.steps.iter().any(|s| s.profile == "release") {
            " (release, stripped)"
        } else {
            " (debug)"
        },
        mb(b.plain_binary_bytes),
        mb(b.gateway_binary_bytes),
        mb(b.gateway_binary_bytes) - mb(b.plain_binary_bytes)
    );
}

/// A closed-loop row's throughput cells: operations per second with their
/// spread, against `base`, then p50 and p99.
fn closed_loop_cells(s: &Summary, base: Option<&Summary>) -> String {
    format!(
        "{}{} | {} | {} | {}",
        num(Some(s.throughput)),
        spread(s.throughput_spread),
        times(ratio(Some(s.throughput), base.map(|b| b.throughput))),
        num(s.p50_us),
        num(s.p99_us)
    )
}

/// A row's gateway CPU cells: per operation with its spread, against `base`.
fn gateway_cpu_cells(s: &Summary, base: Option<&Summary>) -> String {
    format!(
        "{}{} | {}",
        num(s.gateway_cpu_us),
        spread(s.gateway_cpu_spread),
        times(ratio(s.gateway_cpu_us, base.and_then(|b| b.gateway_cpu_us)))
    )
}

fn errors(s: &Summary) -> String {
    if s.errors == 0 {
        String::new()
    } else {
        format!(" {} errors: {}", s.errors, s.note)
    }
}

/// Writes `results.json`, `results.md` and `benchmarks.svg` to `dir`, and
/// the tables to stdout.
pub fn write(report: &Report, dir: &Path) {
    std::fs::create_dir_all(dir).expect("create the output directory");
    let md = markdown(report);
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(report).expect("serializable"),
    )
    .expect("write results.json");
    std::fs::write(dir.join("results.md"), &md).expect("write results.md");
    if let Err(e) = crate::plot::svg(report, &dir.join("benchmarks.svg")) {
        eprintln!("plot: {e}");
    }
    println!("{md}");
    eprintln!("written to {}", dir.display());
}
