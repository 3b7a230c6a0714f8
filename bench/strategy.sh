#!/usr/bin/env bash
# Strategy engine speed on a large ledger.
#
# Generates a ledger of RECORDS per-request records (default 1,000,000) over 90 days with
# `switchyard strategy generate-ledger`, then times `strategy spend` and `strategy report`
# with hyperfine (Debian package) when present, else with bash's `time` over RUNS runs.
# Targets (issue #3): report < 2 s, spend < 0.5 s on a 1M-record ledger.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RECORDS="${RECORDS:-1000000}"
RUNS="${RUNS:-5}"
if [[ -z "${SWITCHYARD_BIN:-}" ]]; then
    cargo build --release --locked -p switchyard-cli >&2
    SWITCHYARD_BIN="${CARGO_TARGET_DIR:-target}/release/switchyard"
fi
WORK="$(mktemp -d -t switchyard-strategy-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
LEDGER="$WORK/ledger.db"

echo "==> generating $RECORDS records" >&2
start=$(date +%s.%N)
"$SWITCHYARD_BIN" strategy generate-ledger --ledger "$LEDGER" --records "$RECORDS" >&2
gen=$(echo "$(date +%s.%N) - $start" | bc)
size=$(du -h "$LEDGER" | cut -f1)
echo "generated in ${gen}s; ledger $size" >&2

spend=("$SWITCHYARD_BIN" strategy spend --ledger "$LEDGER" --by model --period month)
report=("$SWITCHYARD_BIN" strategy report --ledger "$LEDGER" --format html -o "$WORK/r.html" --snapshot "$WORK/s.json")
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$RUNS" --export-markdown "$WORK/h.md" \
        -n "strategy spend" "${spend[*]} >/dev/null" \
        -n "strategy report (html)" "${report[*]} 2>/dev/null" >&2
    cat "$WORK/h.md"
else
    for name in spend report; do
        declare -n cmd="$name"
        best=999
        for _ in $(seq "$RUNS"); do
            t0=$(date +%s.%N); "${cmd[@]}" >/dev/null 2>&1; t1=$(date +%s.%N)
            t=$(echo "$t1 - $t0" | bc)
            best=$(echo "if ($t < $best) $t else $best" | bc)
        done
        echo "| strategy $name | best of $RUNS: ${best}s |"
    done
fi
echo "records: $RECORDS, ledger size: $size, machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
