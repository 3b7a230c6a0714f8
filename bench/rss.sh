#!/usr/bin/env bash
# Resident memory of the gateway, idle and under load, split into what the binary's own pages
# take (file-backed: the executable and its libraries) and what the process allocated
# (anonymous: heap, allocator arenas, thread stacks).
#
# One command: `bench/rss.sh`. For each mode of MODES and each body of BODIES (bench/bodies.py),
# it starts `switchyard sim --fast` and one gateway (bench/lib.sh `write_gateway`), reads
# /proc/<pid>/smaps_rollup once the gateway is ready, loads it with wrk at each concurrency of
# LEVELS for DURATION seconds, and reads it again. Rows go to stdout as a markdown table.
# Environment: MODES ("open keyed"), BODIES ("chat500 rag8k"), LEVELS ("1 64"), DURATION (4),
# SWITCHYARD_BIN (default: build target/release/switchyard), GATEWAY_ENV (extra environment for
# the gateway, e.g. "MIMALLOC_ALLOW_THP=1" to compare allocator settings).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

MODES="${MODES:-open keyed}"
BODIES="${BODIES:-chat500 rag8k}"
LEVELS="${LEVELS:-1 64}"
DURATION="${DURATION:-4}"

BIN="$(release_bin)"
need_tools wrk:wrk

bench_workdir rss

mkdir -p "$WORK/gw" && python3 bench/bodies.py "$WORK/gw" chat >/dev/null
"$BIN" sim --listen 127.0.0.1:0 --fast >"$WORK/sim.out" 2>"$WORK/sim.log" &
PIDS+=($!)
SIM_URL="$(wait_for_url "$WORK/sim.out" '^switchyard sim listening on http://' "$!" sim)"

# mib PID FIELD: a smaps_rollup field in MiB (Rss, Anonymous).
mib() { awk -v f="$2:" '$1 == f {printf "%.1f", $2 / 1024}' "/proc/$1/smaps_rollup"; }

echo "| mode | body | c | req/s | RSS MiB | anonymous MiB | file-backed MiB |"
echo "|:--|:--|--:|--:|--:|--:|--:|"
for mode in $MODES; do
    for body in $BODIES; do
        for c in $LEVELS; do
            dir="$WORK/$mode-$body-$c"
            write_gateway "$mode" "$SIM_URL" "$dir"
            # shellcheck disable=SC2086 # GATEWAY_ENV is a list of NAME=value words
            env ${GATEWAY_ENV:-} "$BIN" serve --config "$dir/switchyard.toml" >"$dir.out" 2>"$WORK/gw.log" &
            pid=$!
            PIDS+=("$pid")
            url="$(wait_for_url "$dir.out" '^switchyard listening on http://' "$pid" gw)"
            wait_ready "$url"
            if [[ "$c" == "${LEVELS%% *}" ]]; then
                rss="$(mib "$pid" Rss)" anon="$(mib "$pid" Anonymous)"
                echo "| $mode | idle | 0 | – | $rss | $anon | $(awk -v r="$rss" -v a="$anon" 'BEGIN {printf "%.1f", r - a}') |"
            fi
            auth=""
            [[ -f "$dir/key" ]] && auth="wrk.headers[\"Authorization\"] = \"Bearer $(cat "$dir/key")\""
            cat >"$dir.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
$auth
local f = assert(io.open("$WORK/gw/$body.json", "rb"))
wrk.body = f:read("*a")
f:close()
LUA
            rps="$(wrk -t$((c < 2 ? c : 2)) -c"$c" -d"${DURATION}s" -s "$dir.lua" "$url/v1/chat/completions" |
                awk '/^Requests\/sec/ {printf "%.0f", $2}')"
            rss="$(mib "$pid" Rss)" anon="$(mib "$pid" Anonymous)"
            echo "| $mode | $body | $c | $rps | $rss | $anon | $(awk -v r="$rss" -v a="$anon" 'BEGIN {printf "%.1f", r - a}') |"
            kill "$pid"
            wait "$pid" 2>/dev/null || true
        done
    done
done
