//! The executable that serves `generated-remote-metrics`.
//!
//! The runtime's `metrics` feature is off by default, so the contenders
//! measure the runtime built without it, as users get it. The one contender
//! that measures the feature in use runs from `gateway-bench-recorded`
//! (`benches/recorded`): this same program with the feature compiled in.
//! It is built here, once per run, with the orchestrator's own profile.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The executable of `gateway-bench-recorded`: `GATEWAY_BENCH_RECORDED`
/// if set; this executable if it was built with the feature (a workspace
/// build enables it through `gateway-bench-recorded`); else built now with
/// cargo.
pub fn executable() -> PathBuf {
    static RECORDED: OnceLock<PathBuf> = OnceLock::new();
    RECORDED
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("GATEWAY_BENCH_RECORDED") {
                return path.into();
            }
            if cfg!(feature = "runtime-metrics") {
                return std::env::current_exe().expect("own executable");
            }
            build()
        })
        .clone()
}

/// Builds `gateway-bench-recorded` and returns the path cargo reports.
fn build() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "-p",
        "gateway-bench-recorded",
        "--message-format=json-render-diagnostics",
    ]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    eprintln!(
        "building gateway-bench-recorded (the runtime with its `metrics` feature) for {}",
        crate::contender::Contender::GenRemoteMetrics.name()
    );
    let mut child = command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run cargo to build gateway-bench-recorded");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut executable = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact"
            && message["target"]["name"] == "gateway-bench-recorded"
            && let Some(path) = message["executable"].as_str()
        {
            executable = Some(PathBuf::from(path));
        }
    }
    let status = child.wait().expect("cargo ran");
    assert!(
        status.success(),
        "`cargo build -p gateway-bench-recorded` failed ({status}); \
         set GATEWAY_BENCH_RECORDED to a built executable to skip the build"
    );
    executable.expect("cargo reported the executable of gateway-bench-recorded")
}
