#!/usr/bin/env bash
# Validates OpenAPI documents against the official OpenAPI 3.1 schema with
# openapi-spec-validator (PyPI; it also checks what the schema cannot: that
# references resolve, path parameters are declared, operation ids unique).
#
#   tests/tools/openapi-validate.sh FILE...
#   tests/tools/openapi-validate.sh --install    (install only, e.g. from a CI script)
#
# Installs the validator on first use into target/tools/ (a Python venv,
# pinned version), and python3 with its venv module from Debian packages when
# they are missing, so that `cargo test` works on a fresh machine. Safe to
# run from parallel tests: the install holds a lock.
set -euo pipefail

VERSION=0.9.0
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/tools/openapi-spec-validator-$VERSION"
validator="$venv/bin/openapi-spec-validator"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x "$validator" ]; then
    mkdir -p "$root/target/tools"
    exec 9>"$venv.lock"
    flock 9
    if [ ! -x "$validator" ]; then
        if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
            echo "openapi-validate.sh: installing python3, python3-venv" >&2
            as_root apt-get update >&2
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-venv >&2
        fi
        echo "openapi-validate.sh: installing openapi-spec-validator $VERSION" >&2
        rm -rf "$venv"
        python3 -m venv "$venv" >&2
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "openapi-spec-validator==$VERSION" >&2
    fi
    exec 9>&-
fi

if [ "${1:-}" = --install ]; then
    exit 0
fi
exec "$validator" --schema 3.1 "$@"
