#!/usr/bin/env bash
# An exact-cache hit served by the gateway, next to nginx serving a static file of the same
# size, in the same run (issue #12, "Measured").
#
# One command: `nice bench/cache_hit.sh`. For each body of bench/bodies.py (default chat500,
# tools5, stream200) and each concurrency level (default 1 16 64), wrk loads:
#   nginx static       - nginx serving the hit's exact response body from a file (GET)
#   gateway, hit       - `cached` mode (bench/lib.sh): every measured request is a hit
#   gateway, proxied   - `keyed` mode (the same key, budget and limits, no cache): the miss
#                        a hit replaces, forwarded to `switchyard sim --fast`
#   gateway, miss+store - `cached` mode with `Cache-Control: no-cache`: every request computes
#                        the key, goes upstream and stores the answer
# A row is the server process's CPU µs per request (utime+stime over the cell / requests; the
# simulator's CPU is not in it), req/s, p50 and p99. Wall-clock figures on a machine shared with
# other builds are noisy: the report prints the load average before and after.
#
# Environment: DURATION (s per cell, 5), WARMUP (s, 1), LEVELS ("1 16 64"), BODIES,
# SWITCHYARD_BIN (default: build target/release/switchyard), PIN (auto), GATEWAY_CPU (1),
# LOAD_CPU (0). Installs wrk and nginx-light with apt-get when missing and run as root.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

DURATION="${DURATION:-5}"
WARMUP="${WARMUP:-1}"
LEVELS="${LEVELS:-1 16 64}"
BODIES="${BODIES:-chat500 tools5 stream200}"
PIN="${PIN:-auto}"
GATEWAY_CPU="${GATEWAY_CPU:-1}"
LOAD_CPU="${LOAD_CPU:-0}"

BIN="$(release_bin)"
[[ -x "$BIN" ]] || { echo "no executable at $BIN" >&2; exit 1; }
need_wrk_nginx
pin_cpus servers

bench_workdir cachehit
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 bench/bodies.py "$WORK" chat
"${on_load_cpu[@]}" "$BIN" sim --listen 127.0.0.1:0 --fast >"$WORK/sim.out" 2>"$WORK/sim.log" &
PIDS+=($!)
SIM_URL="$(wait_for_url "$WORK/sim.out" '^switchyard sim listening on http://' "$!" sim)"

declare -A GW_URL GW_PID
for mode in keyed cached; do
    write_gateway "$mode" "$SIM_URL" "$WORK/$mode"
    "${on_gateway_cpu[@]}" "$BIN" serve --config "$WORK/$mode/switchyard.toml" \
        >"$WORK/$mode.out" 2>"$WORK/$mode.log" &
    PIDS+=($!)
    GW_PID[$mode]=$!
    GW_URL[$mode]="$(wait_for_url "$WORK/$mode.out" '^switchyard listening on http://' "$!" "$mode")"
    wait_ready "${GW_URL[$mode]}"
done
KEY="$(cat "$WORK/cached/key")"
KEYED_KEY="$(cat "$WORK/keyed/key")"

# The static files: each body's hit, as the gateway answers it (fills the cache too).
mkdir -p "$WORK/www"
for BODY in $BODIES; do
    for _ in 1 2; do
        curl -fsS -o "$WORK/www/$BODY" -H "content-type: application/json" \
            -H "authorization: Bearer $KEY" --data-binary "@$WORK/$BODY.json" \
            "${GW_URL[cached]}/v1/chat/completions"
    done
    hit="$(curl -fsS -o /dev/null -D - -H "content-type: application/json" \
        -H "authorization: Bearer $KEY" --data-binary "@$WORK/$BODY.json" \
        "${GW_URL[cached]}/v1/chat/completions" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-switchyard-cache" {print $2}')"
    [[ "$hit" == hit ]] || { echo "$BODY: the cached gateway answered x-switchyard-cache: ${hit:-none}, not hit" >&2; exit 1; }
done

# nginx's worker drops root: let it read the files (mktemp -d is private).
chmod o+rx "$WORK" "$WORK/www" && chmod o+r "$WORK"/www/*
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server {
    listen 127.0.0.1:$port;
    root $WORK/www;
  }
}
NGINX
"${on_gateway_cpu[@]}" nginx -c "$WORK/nginx.conf" -p "$WORK" >"$WORK/nginx.out" 2>&1 &
PIDS+=($!)
NGINX_URL="http://127.0.0.1:$port"
NGINX_WORKER=""
first="${BODIES%% *}"
for _ in $(seq 50); do
    NGINX_WORKER="$(pgrep -P "${PIDS[-1]}" | head -n1 || true)"
    [[ -n "$NGINX_WORKER" ]] && curl -fs -o /dev/null "$NGINX_URL/$first" && break
    sleep 0.1
done
curl -fsS -o /dev/null "$NGINX_URL/$first" || { echo "nginx did not serve $first" >&2; cat "$WORK/nginx.log" >&2; exit 1; }

# write_lua NAME METHOD BODY_FILE KEY [HEADER]: a wrk script; done() prints one line.
write_lua() {
    local body="" extra=""
    if [[ "$2" == POST ]]; then
        body="local f = assert(io.open(\"$3\", \"rb\")); wrk.body = f:read(\"*a\"); f:close()"
        extra="wrk.headers[\"Content-Type\"] = \"application/json\"; wrk.headers[\"Authorization\"] = \"Bearer $4\""
    fi
    [[ -n "${5:-}" ]] && extra+="; wrk.headers[\"${5%%:*}\"] = \"${5#*: }\""
    cat >"$WORK/$1.lua" <<LUA
wrk.method = "$2"
$extra
$body
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
        "$1" >"$out" || { cat "$out" >&2; return 1; }
    sed -n 's/^RESULT //p' "$out" | grep . || { echo "wrk printed no RESULT:" >&2; cat "$out" >&2; return 1; }
}

# cell LABEL URL LUA PID C -> a table row.
cell() {
    local t0 t1 req dur p50 p99 err
    t0="$(ticks_of "$4")"
    read -r req dur p50 p99 err <<<"$(run_wrk "$2" "$3" "$5" "$DURATION")"
    t1="$(ticks_of "$4")"
    awk -v t="$1" -v c="$5" -v req="$req" -v dur="$dur" -v p50="$p50" -v p99="$p99" \
        -v err="$err" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v body="$BODY" \
        -v size="$(stat -c %s "$WORK/www/$BODY")" 'BEGIN {
            cpu = req > 0 ? ticks / hz * 1e6 / req : 0
            printf "| %s | %d | %d | %s | %.0f | %d | %d | %.1f | %d |\n",
                body, size, c, t, req / (dur / 1e6), p50, p99, cpu, err
        }'
}

rows=()
chat="/v1/chat/completions"
for BODY in $BODIES; do
    write_lua "static-$BODY" GET "" ""
    write_lua "hit-$BODY" POST "$WORK/$BODY.json" "$KEY"
    write_lua "proxied-$BODY" POST "$WORK/$BODY.json" "$KEYED_KEY"
    write_lua "refresh-$BODY" POST "$WORK/$BODY.json" "$KEY" "Cache-Control: no-cache"
    targets=(
        "nginx static|$NGINX_URL/$BODY|static-$BODY|$NGINX_WORKER"
        "gateway, hit|${GW_URL[cached]}$chat|hit-$BODY|${GW_PID[cached]}"
        "gateway, proxied (cache off)|${GW_URL[keyed]}$chat|proxied-$BODY|${GW_PID[keyed]}"
        "gateway, miss + store|${GW_URL[cached]}$chat|refresh-$BODY|${GW_PID[cached]}"
    )
    echo "==> $BODY: warm-up (${WARMUP}s each)" >&2
    for t in "${targets[@]}"; do
        IFS='|' read -r _ url lua _ <<<"$t"
        run_wrk "$url" "$lua" 16 "$WARMUP" >/dev/null
    done
    for c in $LEVELS; do
        echo "==> $BODY c=$c (${DURATION}s per target)" >&2
        for t in "${targets[@]}"; do
            IFS='|' read -r label url lua pid <<<"$t"
            rows+=("$(cell "$label" "$url" "$lua" "$pid" "$c")")
        done
    done
done

commit="$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)"
cpu_model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
cat >"$WORK/report.md" <<EOF
# Exact-cache hit next to nginx serving the same bytes — $(date -u +%Y-%m-%dT%H:%MZ)

- commit: \`$commit\`$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)'), binary: \`$BIN\`
- machine: ${cpu_model:-unknown CPU}, $(nproc) CPUs, load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg); $placement
- wrk, keep-alive, threads = min(c, 2), ${DURATION}s per cell after a ${WARMUP}s warm-up; nginx $(nginx -v 2>&1 | sed 's:.*/::'), one worker, the hit's body as a static file (GET)

| body | bytes | c | server | req/s | p50 µs | p99 µs | CPU µs/req | errors |
|:--|--:|--:|:--|--:|--:|--:|--:|--:|
$(printf '%s\n' "${rows[@]}")
EOF
mkdir -p bench/results
out="bench/results/cache-hit-$(date +%F-%H%M).md"
cp "$WORK/report.md" "$out"
cat "$out"
echo "written to $out" >&2
