#!/usr/bin/env bash
# Gateway overhead on realistic traffic, next to nginx proxy_pass in the same run.
#
# One command: `nice bench/overhead.sh`. For each body of bench/bodies.py (tiny, a 500-token
# chat, an 8k-token RAG prompt, 5 tools, a 200-chunk stream) and each concurrency level, wrk
# loads nginx `proxy_pass` (the floor for any HTTP proxy here) and then the gateway in each
# mode, all in front of one `switchyard sim --fast` (zero latency, fixed seed, realistic answer
# sizes):
#   open  - no virtual keys, ledger on
#   keyed - a virtual key with a daily budget, rpm and tpm limits, ledger on
#   full  - keyed, plus capture sampling at 1% into the eval store
# A row is the proxy's CPU µs per request (utime+stime of the process over the run / requests)
# and its ratio to nginx's in the same run. For the stream: the time to first byte at c=1
# (median of TTFB_REQUESTS sequential requests, direct vs through each proxy) and CPU per chunk.
# Then the stable figure: instructions per request under callgrind for every body and mode
# (bench/instructions.sh on the same binary), with the top frames of each mode's 500-token
# profile (callgrind_annotate). The report goes to stdout and bench/results/.
#
# CPU placement (PIN=auto: on 2+ CPUs): proxies on CPU $GATEWAY_CPU, sim and wrk on $LOAD_CPU.
# Environment: DURATION (s per wrk cell, 5), LEVELS ("1 64"), WARMUP (s, 1), BODIES, MODES,
# TTFB_REQUESTS (200), CALLGRIND (auto: when valgrind is installed; 0 skips it),
# SWITCHYARD_BIN (default: build target/release/switchyard), SIM_BIN (the simulator's binary,
# default SWITCHYARD_BIN), PIN, GATEWAY_CPU, LOAD_CPU.
# Installs wrk and nginx-light with apt-get when they are missing and it runs as root.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

DURATION="${DURATION:-5}"
LEVELS="${LEVELS:-1 64}"
WARMUP="${WARMUP:-1}"
BODIES="${BODIES:-tiny chat500 rag8k tools5 stream200}"
MODES="${MODES:-open keyed full}"
TTFB_REQUESTS="${TTFB_REQUESTS:-200}"
PIN="${PIN:-auto}"
GATEWAY_CPU="${GATEWAY_CPU:-1}"
LOAD_CPU="${LOAD_CPU:-0}"

BIN="$(release_bin)"
[[ -x "$BIN" ]] || { echo "no executable at $BIN" >&2; exit 1; }

need_wrk_nginx
pin_cpus proxies

bench_workdir bench

python3 bench/bodies.py "$WORK" gpt-4o-mini  # direct and nginx: the upstream's model name
mkdir -p "$WORK/gw" && python3 bench/bodies.py "$WORK/gw" chat  # the gateway: the route

"${on_load_cpu[@]}" "${SIM_BIN:-$BIN}" sim --listen 127.0.0.1:0 --fast >"$WORK/sim.out" 2>"$WORK/sim.log" &
PIDS+=($!)
SIM_URL="$(wait_for_url "$WORK/sim.out" '^switchyard sim listening on http://' "$!" sim)"

declare -A GW_URL GW_PID
for mode in $MODES; do
    write_gateway "$mode" "$SIM_URL" "$WORK/$mode"
    "${on_gateway_cpu[@]}" "$BIN" serve --config "$WORK/$mode/switchyard.toml" \
        >"$WORK/$mode.out" 2>"$WORK/$mode.log" &
    PIDS+=($!)
    GW_PID[$mode]=$!  # taskset execs the binary, so this is the gateway's own pid
    GW_URL[$mode]="$(wait_for_url "$WORK/$mode.out" '^switchyard listening on http://' "$!" "$mode")"
    wait_ready "${GW_URL[$mode]}"
done

# nginx cannot listen on port 0; pick a free port first.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_buffer_size 64k;
  upstream sim { server ${SIM_URL#http://}; keepalive 128; }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
"${on_gateway_cpu[@]}" nginx -c "$WORK/nginx.conf" -p "$WORK" >"$WORK/nginx.out" 2>&1 &
PIDS+=($!)
NGINX_URL="http://127.0.0.1:$port"
NGINX_WORKER=""
for _ in $(seq 50); do
    NGINX_WORKER="$(pgrep -P "${PIDS[-1]}" | head -n1 || true)"
    [[ -n "$NGINX_WORKER" ]] && curl -s -o /dev/null "$NGINX_URL/healthz" && break
    sleep 0.1
done
[[ -n "$NGINX_WORKER" ]] || { echo "nginx did not start" >&2; cat "$WORK/nginx.log" >&2; exit 1; }

# write_lua NAME BODY_FILE [KEY]: a wrk script; done() prints one machine-readable line.
write_lua() {
    local auth=""
    [[ -n "${3:-}" ]] && auth="wrk.headers[\"Authorization\"] = \"Bearer $3\""
    cat >"$WORK/$1.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
$auth
local f = assert(io.open("$2", "rb"))
wrk.body = f:read("*a")
f:close()
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
LUA
}

# run_wrk URL LUA CONNS SECONDS -> "requests duration_us p50_us p99_us errors"
run_wrk() {
    local c="$3" out="$WORK/wrk.txt"
    "${on_load_cpu[@]}" wrk -t$((c < 2 ? c : 2)) -c"$c" -d"$4s" --latency -s "$WORK/$2.lua" \
        "$1/v1/chat/completions" >"$out" || { cat "$out" >&2; return 1; }
    sed -n 's/^RESULT //p' "$out" | grep . || { echo "wrk printed no RESULT:" >&2; cat "$out" >&2; return 1; }
}

# cell TARGET URL LUA PID C NGINX_CPU CHUNKS -> a table row; prints its CPU µs/req on fd 3.
cell() {
    local target="$1" url="$2" lua="$3" pid="$4" c="$5" base="$6" chunks="$7"
    local t0 t1 req dur p50 p99 err
    t0="$(ticks_of "$pid")"
    read -r req dur p50 p99 err <<<"$(run_wrk "$url" "$lua" "$c" "$DURATION")"
    t1="$(ticks_of "$pid")"
    awk -v t="$target" -v c="$c" -v req="$req" -v dur="$dur" -v p50="$p50" -v p99="$p99" \
        -v err="$err" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v base="$base" \
        -v hwm="$(hwm_kib_of "$pid")" -v chunks="$chunks" -v body="$BODY" 'BEGIN {
            cpu = req > 0 ? ticks / hz * 1e6 / req : 0
            ratio = t ~ /^nginx/ ? "1×" : (base > 0 ? sprintf("%.2f×", cpu / base) : "–")
            per = chunks > 0 ? sprintf(" (%.2f/chunk)", cpu / chunks) : ""
            printf "| %s | %d | %s | %.0f | %d | %d | %.1f%s | %s | %.1f | %d |\n",
                body, c, t, req / (dur / 1e6), p50, p99, cpu, per, ratio, hwm / 1024, err
            printf "%.3f\n", cpu > "/dev/stderr"
        }' 2>"$WORK/cpu"
}

rows=()
declare -A RATIO PEAK TTFB_ADDED
for BODY in $BODIES; do
    write_lua "direct-$BODY" "$WORK/$BODY.json"
    for mode in $MODES; do write_lua "$mode-$BODY" "$WORK/gw/$BODY.json" "$(cat "$WORK/$mode/key" 2>/dev/null || true)"; done
    chunks=0
    if [[ "$BODY" == stream* ]]; then
        chunks="$(python3 bench/client.py "$NGINX_URL/v1/chat/completions" "$WORK/$BODY.json" 1 | sed 's/.*chunks=//')"
    fi
    echo "==> $BODY: warm-up (${WARMUP}s per proxy)" >&2
    run_wrk "$NGINX_URL" "direct-$BODY" 16 "$WARMUP" >/dev/null
    for mode in $MODES; do run_wrk "${GW_URL[$mode]}" "$mode-$BODY" 16 "$WARMUP" >/dev/null; done
    for c in $LEVELS; do
        echo "==> $BODY c=$c: nginx, then $MODES (${DURATION}s each)" >&2
        rows+=("$(cell "nginx proxy_pass" "$NGINX_URL" "direct-$BODY" "$NGINX_WORKER" "$c" 0 "$chunks")")
        base="$(cat "$WORK/cpu")"
        for mode in $MODES; do
            rows+=("$(cell "gateway, $mode" "${GW_URL[$mode]}" "$mode-$BODY" "${GW_PID[$mode]}" "$c" "$base" "$chunks")")
            RATIO[$BODY/$mode/$c]="$(awk -v a="$(cat "$WORK/cpu")" -v b="$base" 'BEGIN { printf "%.2f×", (b > 0 ? a / b : 0) }')"
            PEAK[$BODY/$mode]="$(hwm_kib_of "${GW_PID[$mode]}" | awk '{ printf "%.1f", $1 / 1024 }')"
        done
    done
done

# Time to first byte of the stream at c=1, sequential requests over one connection.
ttfb_rows=()
if [[ " $BODIES " == *" stream200 "* ]]; then
    echo "==> stream200 TTFB (${TTFB_REQUESTS} requests each)" >&2
    ttfb_of() { python3 bench/client.py "$1/v1/chat/completions" "$2" "$TTFB_REQUESTS" "${3:-}" | sed 's/.*ttfb_us=\([0-9]*\).*/\1/'; }
    direct="$(ttfb_of "$SIM_URL" "$WORK/stream200.json")"
    nginx_t="$(ttfb_of "$NGINX_URL" "$WORK/stream200.json")"
    ttfb_rows+=("| direct to the sim | $direct | – |" "| nginx proxy_pass | $nginx_t | $((nginx_t - direct)) |")
    for mode in $MODES; do
        t="$(ttfb_of "${GW_URL[$mode]}" "$WORK/gw/stream200.json" "$(cat "$WORK/$mode/key" 2>/dev/null || true)")"
        ttfb_rows+=("| gateway, $mode | $t | $((t - direct)) |")
        TTFB_ADDED[$mode]="$((t - direct)) µs (nginx $((nginx_t - direct)))"
    done
fi
declare -A RSS
for mode in $MODES; do RSS[$mode]="$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/${GW_PID[$mode]}/status")"; done

instr=""
profile=""
if [[ "${CALLGRIND:-auto}" != 0 ]] && command -v valgrind >/dev/null; then
    echo "==> callgrind: instructions per request, every body and mode" >&2
    mkdir -p "$WORK/cg"
    instr="$( (SWITCHYARD_BIN="$BIN" MODES="$MODES" BODIES="$BODIES" KEEP="$WORK/cg" bench/instructions.sh ||
        echo "callgrind failed" >&2) | awk '{printf "| %s | %s | %d |\n", $2, $1, $3}')"
    for mode in $MODES; do
        [[ -f "$WORK/cg/callgrind.$mode-chat500" ]] || continue
        profile+=$'\n'"#### $mode, chat500 (inclusive; the project's frames and the parsers, top 25)"$'\n\n```\n'
        profile+="$(callgrind_annotate --inclusive=yes "$WORK/cg/callgrind.$mode-chat500" 2>/dev/null |
            grep -E '^ *[0-9,]+ \(' | grep -E 'switchyard_|serde|hyper::proto|rusqlite|tiktoken' |
            head -n 25 | cut -c1-180 || true)"
        profile+=$'\n```\n'
    done
fi

# The issue's goal table, row by row (a cell not measured in this run shows "–").
goal_row() { # LABEL BODY MODE GOAL
    local r1="${RATIO[$2/$3/1]:-–}" r64="${RATIO[$2/$3/64]:-–}"
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$4" "$r1" "$r64" "${PEAK[$2/$3]:-–}"
}
goals="$(
    goal_row "no keys, chat500" chat500 open "≤ 1.3×, ≤ 30 MiB"
    goal_row "keys + budgets + rpm/tpm, chat500" chat500 keyed "≤ 1.5×, ≤ 30 MiB"
    goal_row "8k-token body (rag8k), keys" rag8k keyed "≤ 1.5×, ≤ 30 MiB"
    for mode in $MODES; do
        printf '| streaming, 200 chunks, %s: TTFB added at c=1 | ≤ 100 µs | %s | | %s |\n' \
            "$mode" "${TTFB_ADDED[$mode]:-–}" "${PEAK[stream200/$mode]:-–}"
    done
)"

commit="$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)"
cpu_model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
cat >"$WORK/report.md" <<EOF
# Switchyard gateway overhead — $(date -u +%Y-%m-%dT%H:%MZ)

- commit: \`$commit\`$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)'), binary: \`$BIN\`, sim: \`${SIM_BIN:-$BIN}\`
- machine: ${cpu_model:-unknown CPU}, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $placement
- load: wrk, keep-alive, threads = min(c, 2), ${DURATION}s per cell after a ${WARMUP}s warm-up;
  upstream \`switchyard sim --fast\`; bodies from bench/bodies.py; nginx $(nginx -v 2>&1 | sed 's:.*/::'), one worker

Issue #11's goals (CPU µs/req as a multiple of nginx's in the same run; peak RSS of that
gateway when the row's cells ended):

| goal | target | c=1 | c=64 | peak RSS MiB |
|:--|:--|--:|--:|--:|
$goals

| body | c | target | req/s | p50 µs | p99 µs | CPU µs/req | × nginx | peak RSS MiB | errors |
|:--|--:|:--|--:|--:|--:|--:|--:|--:|--:|
$(printf '%s\n' "${rows[@]}")

Resident memory after the run (VmRSS): $(for m in $MODES; do printf '%s %s MiB; ' "$m" "${RSS[$m]}"; done)

Streaming (stream200), time to first byte at c=1, median µs:

| path | TTFB µs | added µs |
|:--|--:|--:|
$(printf '%s\n' "${ttfb_rows[@]}")

Instructions per request (callgrind, same binary, bench/instructions.sh):

| body | mode | instructions/request |
|:--|:--|--:|
$instr
$profile
EOF

mkdir -p bench/results
out="bench/results/overhead-$(date +%F-%H%M).md"
cp "$WORK/report.md" "$out"
cat "$out"
echo "written to $out" >&2
