//! CI smoke test: the whole harness in `--quick` mode (one round, tiny
//! sizes, debug build). It checks that every scenario and contender
//! produced numbers and that every answer was the expected one; it checks
//! no performance threshold, as timings on a shared CI machine mean
//! nothing.

use std::process::Command;

#[test]
fn quick_run_measures_every_scenario() {
    let out = tempfile::tempdir().expect("temp dir");
    // Output is kept and shown only on failure, to keep CI logs short.
    let run = Command::new(env!("CARGO_BIN_EXE_gateway-bench"))
        .arg("--quick")
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run gateway-bench");
    assert!(
        run.status.success(),
        "gateway-bench --quick failed ({}):\n{}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );

    let json = std::fs::read_to_string(out.path().join("results.json")).expect("results.json");
    let report: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let summaries = report["summaries"].as_array().expect("summaries");
    for (scenario, contenders) in [
        ("unary", 7),
        ("sse", 5),
        ("websocket", 5),
        ("ndjson", 5),
        ("short-streams", 4),
        ("h2", 3),
    ] {
        let rows: Vec<_> = summaries
            .iter()
            .filter(|s| s["scenario"] == scenario)
            .collect();
        let mut names: Vec<&str> = rows
            .iter()
            .map(|s| s["contender"].as_str().unwrap())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), contenders, "{scenario}: {names:?}");
        for row in rows {
            assert!(
                row["throughput"].as_f64().unwrap_or(0.0) > 0.0,
                "{scenario}: no throughput: {row}"
            );
            assert_eq!(row["errors"], 0, "{scenario}: {row}");
            // Every contender with a gateway process has its CPU time read.
            if row["contender"] != "Tonic" {
                assert!(row["gateway_cpu_us"].is_number(), "{scenario}: {row}");
            }
        }
    }
    // The HTTP/2 scenario runs every case (HTTP/1.1 beside h2) for every
    // contender.
    let h2_cases: std::collections::BTreeSet<&str> = summaries
        .iter()
        .filter(|s| s["scenario"] == "h2")
        .map(|s| s["case"].as_str().unwrap())
        .collect();
    assert_eq!(
        h2_cases.into_iter().collect::<Vec<_>>(),
        [
            "sse h1.1",
            "sse h2",
            "unary h1.1",
            "unary h2 1 conn",
            "unary h2 8 conns"
        ]
    );
    let generator = &report["generator"];
    assert!(
        generator["median_ms"].as_f64().unwrap_or(0.0) > 0.0,
        "{generator}"
    );
    assert!(
        generator["output_lines"].as_u64().unwrap_or(0) > 0,
        "{generator}"
    );

    // The pinned runs need `taskset` and two cores (the CI machine has
    // both); where they ran, both contenders ran for both bodies, with the
    // gateway's system time read.
    let pinned: Vec<_> = summaries
        .iter()
        .filter(|s| s["scenario"] == "unary-pinned")
        .collect();
    if taskset_works() {
        let mut seen: Vec<String> = pinned
            .iter()
            .map(|s| format!("{} {}", s["case"].as_str().unwrap(), s["contender"]))
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            [
                "10KiB \"GenDirect\"",
                "10KiB \"GenInProcess\"",
                "small \"GenDirect\"",
                "small \"GenInProcess\""
            ]
        );
        for row in &pinned {
            assert!(row["throughput"].as_f64().unwrap_or(0.0) > 0.0, "{row}");
            assert_eq!(row["errors"], 0, "{row}");
            assert!(row["gateway_system_us"].is_number(), "{row}");
        }
    }

    let markdown = std::fs::read_to_string(out.path().join("results.md")).expect("results.md");
    for heading in [
        "### Unary",
        "### SSE",
        "### WebSocket",
        "### Chunked NDJSON",
        "### Short streams",
        "### HTTP/2 clients",
        "### Generator",
    ] {
        assert!(markdown.contains(heading), "{heading} missing:\n{markdown}");
    }
    let svg = std::fs::read_to_string(out.path().join("benchmarks.svg")).expect("benchmarks.svg");
    assert!(svg.starts_with("<svg"), "not an SVG");
}

/// Whether this machine can pin processes to cores 0 and 1 (what the
/// harness checks before its pinned runs).
fn taskset_works() -> bool {
    ["0", "1"].iter().all(|core| {
        Command::new("taskset")
            .args(["-c", core, "true"])
            .status()
            .is_ok_and(|s| s.success())
    })
}
