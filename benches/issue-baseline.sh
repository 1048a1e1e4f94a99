#!/usr/bin/env bash
# Builds the benchmark harness as it was when the direct-call targets of
# issue 15 were set (commit 0485dc6, 2026-11-30 10:18, the last one before
# that issue's work), so that its in-process path runs beside today's
# contenders in the same run:
#
#   benches/issue-baseline.sh
#   GATEWAY_BENCH_ISSUE_BASELINE=target/issue-baseline/release/gateway-bench \
#     cargo run --release -p gateway-bench -- --only unary
#
# The old harness compiled the runtime's `metrics` feature into every
# contender; it is left out here, so that the old in-process path is
# measured as users build it by default, like every other contender.
# Prints the executable's path. Needs the git history (not a shallow clone).
set -euo pipefail
cd "$(dirname "$0")/.."
commit=0485dc6
source_dir=target/issue-baseline-src
target_dir=$PWD/target/issue-baseline
if [ ! -e "$source_dir/.git" ]; then
    git worktree add --force --detach "$source_dir" "$commit" >&2
fi
sed -i 's|gateway-runtime = { path = "../gateway-runtime", features = \["metrics"\] }|gateway-runtime = { path = "../gateway-runtime" }|' \
    "$source_dir/benches/Cargo.toml"
if grep -q 'features = \["metrics"\]' "$source_dir/benches/Cargo.toml"; then
    echo "issue-baseline.sh: could not leave the metrics feature out" >&2
    exit 1
fi
(cd "$source_dir" && CARGO_TARGET_DIR="$target_dir" cargo build --release -p gateway-bench --bin gateway-bench >&2)
echo "$target_dir/release/gateway-bench"
