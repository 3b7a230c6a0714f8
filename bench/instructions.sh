#!/usr/bin/env bash
# Instructions per request under valgrind's callgrind: the gateway's stable cost figure, and
# the CI regression guard.
#
#   bench/instructions.sh            print "mode body instructions_per_request" for each cell
#   bench/instructions.sh --check    compare with bench/instructions.json; exit 1 if a cell grew
#                                    by more than TOLERANCE % (default 10)
#   bench/instructions.sh --update   measure and rewrite bench/instructions.json
## Modes are bench/lib.sh's (open, keyed, full, cached, metrics, fleet) plus `cache-miss`: the
# `cached` gateway with every request sent with `cache-control: no-cache` (a miss that computes
# the key, goes upstream and writes the answer), so `MODES="keyed cache-miss"` gives the cost of
# a miss against the cache off in one run.
#
# Method: one gateway per mode runs under callgrind in front of `switchyard sim --fast`
# (fixed seed) with the "stable" settings of bench/lib.sh (the ledger commits every 10 records,
# never on a timer; keys are never polled). WARMUP_REQUESTS requests of every body warm it up
# (connection pools, lazy statics, allocator); then, for each body, `callgrind_control --zero`
# clears the counters,
# REQUESTS requests are sent one after another over one keep-alive connection, and
# `callgrind_control --dump` writes the count: total instructions / REQUESTS, all threads.
# Nothing is timed, so a busy machine changes how long it takes, not the figure.
#
# Environment: SWITCHYARD_BIN (default target/debug/switchyard; the recorded figures are for
# the debug build that CI already has), MODES (default "keyed"), BODIES (default: all seven of
# bench/bodies.py; responses500/responses500s go to /v1/responses), REQUESTS (20), WARMUP_REQUESTS (10), TOLERANCE (10), FIGURES
# (bench/instructions.json), KEEP (a directory to keep the callgrind dumps in, for
# callgrind_annotate).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

ACTION="${1:-print}"
BIN="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-target}/debug/switchyard}"
MODES="${MODES:-keyed}"
BODIES="${BODIES:-tiny chat500 rag8k tools5 stream200 responses500 responses500s}"
REQUESTS="${REQUESTS:-20}"
WARMUP_REQUESTS="${WARMUP_REQUESTS:-10}"
TOLERANCE="${TOLERANCE:-10}"
FIGURES="${FIGURES:-bench/instructions.json}"
[[ -x "$BIN" ]] || { echo "no executable at $BIN (cargo build -p switchyard-cli)" >&2; exit 1; }
command -v valgrind >/dev/null || {
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y valgrind >&2
    else
        echo "valgrind is not installed (Debian: apt-get install -y valgrind)" >&2
        exit 1
    fi
}

WORK="$(mktemp -d -t switchyard-instr.XXXXXX)"
SIM_PID=""
GW_PID=""
cleanup() {
    for pid in "$GW_PID" "$SIM_PID" "${SINK_PID:-}"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    done
    for pid in "$GW_PID" "$SIM_PID" "${SINK_PID:-}"; do
        [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 bench/bodies.py "$WORK" chat
"$BIN" sim --listen 127.0.0.1:0 --fast >"$WORK/sim.out" 2>"$WORK/sim.log" &
SIM_PID=$!
SIM_URL="$(wait_for_url "$WORK/sim.out" '^switchyard sim listening on http://' "$SIM_PID" sim)"
SINK_PID=""
if [[ " $MODES " == *" traced "* ]]; then
    python3 bench/otlp_sink.py >"$WORK/sink.out" 2>"$WORK/sink.log" &
    SINK_PID=$!
    OTLP_URL="$(wait_for_url "$WORK/sink.out" '^otlp sink listening on http://' "$SINK_PID" otlp-sink)"
    export OTLP_URL
fi

# path_of BODY: the endpoint a body is sent to (the responses* bodies use the Responses API).
path_of() { case "$1" in responses*) echo /v1/responses ;; *) echo /v1/chat/completions ;; esac; }

# total_of DUMP: the instruction total of a callgrind dump.
total_of() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }

# measure_mode MODE: prints "MODE BODY N" for each body.
measure_mode() {
    local mode="$1" dir="$WORK/$1"
    write_gateway "$mode" "$SIM_URL" "$dir" stable
    local key=""
    [[ -s "$dir/key" ]] && key="$(cat "$dir/key")"
    valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$dir/callgrind.out" \
        "$BIN" serve --config "$dir/switchyard.toml" >"$WORK/gateway.out" 2>"$WORK/gateway.log" &
    GW_PID=$!
    local url
    url="$(wait_for_url "$WORK/gateway.out" '^switchyard listening on http://' "$GW_PID" gateway)"
    wait_ready "$url"
    if [[ "$mode" == fleet ]]; then wait_shared "$url" "$key" || return 1; fi
    local body
    # Warm every body up first, so what the first measured body finds (pools, caches, the
    # allocator's pages, SQLite's) is what every later one finds.
    local written=0 headers="${BENCH_HEADERS:-}"
    [[ "$mode" == cache-miss ]] && headers="cache-control: no-cache${headers:+;$headers}"
    for body in $BODIES; do
        BENCH_HEADERS="$headers" python3 bench/client.py "$url$(path_of "$body")" "$WORK/$body.json" "$WARMUP_REQUESTS" "$key" >/dev/null
        written=$((written + WARMUP_REQUESTS))
    done
    # Each measured window holds its own requests' ledger commits and no one else's (the
    # stable config commits every 10 records): the warm-up's commits are waited for before
    # the first zero (up to 10 s); after a body's requests the writer is given two seconds (a
    # sleep, which adds no instructions, unlike polling /v1/status inside the window), and
    # after the dump one status read says on stderr when a commit did not land inside the
    # window. The writer is woken when the queue reaches exactly `batch_size`, so a writer
    # scheduled late under valgrind takes a larger batch and the rest waits for the next one:
    # the figures stay within a few per cent, not exact, which the guard's 10% allows.
    wait_written "$url" "$key" "$written" 100 ||
        echo "note: the warm-up's records were not all committed before the first window" >&2
    for body in $BODIES; do
        callgrind_control --zero "$GW_PID" >/dev/null 2>&1
        BENCH_HEADERS="$headers" python3 bench/client.py "$url$(path_of "$body")" "$WORK/$body.json" "$REQUESTS" "$key" >/dev/null
        written=$((written + REQUESTS))
        sleep "${COMMIT_WAIT:-2}"
        callgrind_control --dump="$mode-$body" "$GW_PID" >/dev/null 2>&1
        wait_written "$url" "$key" "$written" 1 2>/dev/null ||
            echo "note: $mode/$body: some of its ledger records were not committed inside its window" >&2
        local dump
        dump="$(ls -t "$dir"/callgrind.out.* | head -n1)"
        [[ -n "${KEEP:-}" ]] && mkdir -p "$KEEP" && cp "$dump" "$KEEP/callgrind.$mode-$body"
        echo "$mode $body $(($(total_of "$dump") / REQUESTS))"
    done
    kill "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
    GW_PID=""
}

results="$WORK/results.txt"
for mode in $MODES; do
    measure_mode "$mode" | tee -a "$results"
done

case "$ACTION" in
print) ;;
--update)
    python3 - "$results" "$FIGURES" "$BIN" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
doc = {
    "about": "Instructions per request under callgrind (bench/instructions.sh). Update with "
             "bench/instructions.sh --update, and say why in the commit message.",
    "binary": sys.argv[3].split("/")[-2],
    "figures": {f"{m}/{b}": int(n) for m, b, n in rows},
}
json.dump(doc, open(sys.argv[2], "w"), indent=2)
open(sys.argv[2], "a").write("\n")
PY
    echo "wrote $FIGURES" >&2
    ;;
--check)
    python3 - "$results" "$FIGURES" "$TOLERANCE" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
want = json.load(open(sys.argv[2]))["figures"]
tol = float(sys.argv[3])
failed = 0
for m, b, n in rows:
    cell, n = f"{m}/{b}", int(n)
    if cell not in want:
        print(f"{cell}: {n} (no recorded figure; add it with bench/instructions.sh --update)")
        continue
    change = (n - want[cell]) / want[cell] * 100
    verdict = "ok"
    if change > tol:
        verdict, failed = f"FAILED: grew more than {tol:g}%", failed + 1
    elif change < -tol:
        verdict = "ok, and faster: record it with bench/instructions.sh --update"
    print(f"{cell}: {n} instructions/request, recorded {want[cell]} ({change:+.1f}%) {verdict}")
print(f"{len(rows) - failed} passed, {failed} failed")
if failed:
    print("A request got more expensive. Find the cause with callgrind_annotate "
          "(KEEP=dir bench/instructions.sh); if the cost is deliberate, run "
          "bench/instructions.sh --update and give the reason in the commit message.")
sys.exit(1 if failed else 0)
PY
    ;;
*)
    echo "unknown action $ACTION (use --check, --update or nothing)" >&2
    exit 2
    ;;
esac
