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

# The dashboard in a real browser (tests/ui): Debian's chromium driven by playwright-core,
# pinned by tests/ui/package-lock.json (no browser download). Screenshots land in
# target/ui-screenshots (the CI artifacts). `.ci/run` installs chromium when it is missing.
echo "==> dashboard browser tests (tests/ui)"
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || { echo "==> ${CHROMIUM:-/usr/bin/chromium} is missing: apt-get install -y chromium" >&2; exit 1; }
npm ci --prefix tests/ui --no-audit --no-fund --silent
UI_SCREENSHOTS="${UI_SCREENSHOTS:-${CARGO_TARGET_DIR:-target}/ui-screenshots}" npm test --prefix tests/ui
