#!/usr/bin/env bash
# The project's one test command: Rust unit/integration tests, then the real-SDK
# end-to-end tests against a freshly built binary. Extra arguments go to pytest.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> cargo test"
cargo test --workspace --locked

# The SDK tests drive the binary as a user would, so build exactly that binary.
echo "==> cargo build (switchyard-cli)"
cargo build --locked -p switchyard-cli

# Respect a relocated target dir; an explicit SWITCHYARD_BIN wins.
export SWITCHYARD_BIN="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-target}/debug/switchyard}"

echo "==> SDK tests (${SWITCHYARD_BIN})"
python3 -m pip install -q --disable-pip-version-check -r tests/sdk/requirements.txt
# The openai npm package, pinned by tests/npm/package-lock.json.
npm ci --prefix tests/npm --no-audit --no-fund --silent
python3 -m pytest -q tests/sdk "$@"
