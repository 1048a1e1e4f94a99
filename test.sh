#!/usr/bin/env bash
# Every test, on a fresh Debian machine with only the Rust toolchain: installs
# what the tests need when it is missing, then runs `cargo test --workspace
# --locked` and packages the two published crates (`cargo package`, which
# builds each from its .crate file). Idempotent: a second run installs
# nothing. Arguments are passed on to cargo test. .ci/run calls exactly this
# script.
#
#   chromium           Debian package: the chat example's browser test
#                      (skipped, and not installed, with SKIP_BROWSER_TESTS=1)
#   redis-server       Debian package: the chat example's Redis tests, which
#                      start their own server on a free loopback port
#                      (skipped, and not installed, with SKIP_REDIS_TESTS=1)
#   node, npm          Debian packages, to install buf
#   buf 1.75.0         npm @bufbuild/buf, into target/tools/npm
#   openapi-spec-      PyPI, pinned, in a venv under target/tools (python3 and
#   validator          its venv module from Debian when missing)
#   protoc-gen-prost,  cargo install --locked, pinned, into target/tools
#   protoc-gen-tonic   (the buf test runs them beside our plugin)
set -euo pipefail
cd "$(dirname "$0")"

BUF_VERSION=1.75.0
PROTOC_GEN_PROST_VERSION=0.5.0
PROTOC_GEN_TONIC_VERSION=0.5.0
tools="$PWD/target/tools"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

packages=()
if [ "${SKIP_BROWSER_TESTS:-}" != 1 ] && [ ! -x /usr/bin/chromium ]; then
    packages+=(chromium)
fi
if [ "${SKIP_REDIS_TESTS:-}" != 1 ] && [ ! -x /usr/bin/redis-server ]; then
    packages+=(redis-server)
fi
if ! command -v npm >/dev/null; then
    packages+=(nodejs npm)
fi
if [ ${#packages[@]} -gt 0 ]; then
    echo "test.sh: installing ${packages[*]}" >&2
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}"
fi

if [ "$("$tools/npm/node_modules/.bin/buf" --version 2>/dev/null)" != "$BUF_VERSION" ]; then
    echo "test.sh: installing buf $BUF_VERSION" >&2
    npm install --no-save --no-fund --no-audit --prefix "$tools/npm" "@bufbuild/buf@$BUF_VERSION"
fi

# The OpenAPI validator the document tests run (openapi-spec-validator from
# PyPI, in a venv under target/tools/).
tests/tools/openapi-validate.sh --install

# cargo install does nothing when the same version is already there.
cargo install --quiet --locked --root "$tools" \
    "protoc-gen-prost@$PROTOC_GEN_PROST_VERSION" \
    "protoc-gen-tonic@$PROTOC_GEN_TONIC_VERSION"

export PATH="$tools/bin:$tools/npm/node_modules/.bin:$PATH"
cargo test --workspace --locked "$@"

# Both published crates package and build alone, from their .crate files.
# A packaged crate leaves the workspace's dev profile behind; the same
# settings here let the build reuse the dependencies compiled above.
cargo package --locked --allow-dirty -p gateway-runtime -p protoc-gen-rust-gateway \
    --config 'profile.dev.debug="line-tables-only"' \
    --config 'profile.dev.package."*".debug=false'
