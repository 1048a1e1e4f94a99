//! The scaling benchmark in its quick mode, as a smoke test: both setups
//! run, every subscriber opens its stream and gets the messages of its
//! room. No timing is checked. Needs redis-server, like the chat example's
//! Redis tests; `SKIP_REDIS_TESTS=1` skips it.

#![allow(missing_docs)]

use std::process::Command;

#[test]
fn quick_run_delivers_every_message() {
    if std::env::var("SKIP_REDIS_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("skipped: SKIP_REDIS_TESTS=1");
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_scaling-bench"))
        .arg("--quick")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for setup in [
        "## baseline: 1 instance, rooms in memory",
        "## 2 instances on one Redis",
    ] {
        let section = stdout
            .split(setup)
            .nth(1)
            .unwrap_or_else(|| panic!("no {setup:?} in:\n{stdout}"));
        let delivered: Vec<u64> = section
            .split("delivered in the window: ")
            .nth(1)
            .and_then(|rest| rest.split(" events (about ").next())
            .into_iter()
            .chain(
                section
                    .split(" events (about ")
                    .nth(1)
                    .and_then(|rest| rest.split(" expected)").next()),
            )
            .map(|n| n.parse().unwrap())
            .collect();
        let [got, expected] = delivered[..] else {
            panic!("no delivery line in:\n{section}");
        };
        // Messages posted at the window's edges may fall on either side.
        assert!(
            got * 10 >= expected * 9 && got <= expected * 11 / 10,
            "{got} of {expected}:\n{section}"
        );
        assert!(section.contains(", 0 subscribers failed"), "{section}");
    }
}
