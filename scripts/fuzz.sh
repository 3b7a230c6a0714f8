#!/usr/bin/env bash
# The fuzz targets in fuzz/ (their own cargo workspace), built and run with cargo-fuzz on the
# stable toolchain. What each target checks and the figures of the long local runs:
# docs/testing.md.
#
#   scripts/fuzz.sh ci [RUNS]        build every target, run each for RUNS inputs (default
#                                    20000, seed 1) from a copy of its checked-in corpus;
#                                    fails on any crash, hang or OOM
#   scripts/fuzz.sh run TARGET [ARG…] build, then run TARGET on fuzz/corpus/TARGET (new inputs
#                                    are kept there); ARGs go to libFuzzer, e.g.
#                                    -max_total_time=600 -timeout=2 -rss_limit_mb=2048
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"

# No sanitizer: the project forbids unsafe code, so what fuzzing finds here is panics, hangs,
# slow inputs and broken round trips, and plain coverage-guided builds need no nightly.
# RUSTC_BOOTSTRAP is harmless then; it lets `--sanitizer address` work on stable too.
export RUSTC_BOOTSTRAP=1
FLAGS=(--sanitizer none --release --debug-assertions)

if ! command -v cargo-fuzz >/dev/null; then
    echo "cargo-fuzz is missing: install it with \`cargo install --locked cargo-fuzz\`" >&2
    exit 1
fi

mode="${1:-ci}"
shift || true

echo "==> cargo fuzz build (every target)"
cargo fuzz build "${FLAGS[@]}"

case "$mode" in
run)
    target="$1"
    shift
    exec cargo fuzz run "${FLAGS[@]}" "$target" "corpus/$target" -- "$@"
    ;;
ci)
    # A fixed seed and a fixed number of runs: the same tree gives the same inputs on any
    # machine, however busy, so a submission that passed here passes in CI. Finding new
    # bugs is the long local runs' job (docs/testing.md); CI re-checks the corpus (every
    # finding is in it) and a deterministic walk around it.
    runs="${1:-20000}"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    passed=0
    failed=0
    for target in $(cargo fuzz list); do
        mkdir -p "$work/$target" "$work/artifacts/$target"
        echo "==> fuzz $target (${runs} runs, seed 1, corpus: $(ls "corpus/$target" | wc -l) inputs)"
        # New inputs go to the scratch dir: the checked-in corpus stays as committed.
        if cargo fuzz run "${FLAGS[@]}" "$target" "$work/$target" "corpus/$target" -- \
            -seed=1 -runs="$runs" -max_total_time=300 -timeout=2 -rss_limit_mb=2048 -max_len=65536 \
            -artifact_prefix="$work/artifacts/$target/" -print_final_stats=1 \
            >"$work/$target.log" 2>&1; then
            passed=$((passed + 1))
            grep -E '^stat::number_of_executed_units' "$work/$target.log" || true
        else
            failed=$((failed + 1))
            echo "!! $target failed; the last lines of its log, then the input that failed:"
            tail -n 40 "$work/$target.log"
            for f in "$work/artifacts/$target"/*; do
                [ -e "$f" ] && echo "--- $f (base64)" && base64 -w 0 "$f" && echo
            done
        fi
    done
    echo "fuzz: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    ;;
*)
    echo "usage: scripts/fuzz.sh ci [RUNS] | run TARGET [libFuzzer args]" >&2
    exit 2
    ;;
esac
