#!/usr/bin/env bash
# Gateway overhead benchmark.
#
# For each concurrency level we load the simulated provider twice with wrk: first
# directly (baseline), then through the gateway. The sim runs with --fast (zero
# latency), so whatever the gateway run adds over the baseline is the gateway's cost.
#
# CPU placement (PIN=auto, the default, on machines with 2+ CPUs):
#   gateway            -> CPU $GATEWAY_CPU (default 1), alone
#   sim + wrk          -> CPU $LOAD_CPU    (default 0), shared
# Why: on a small machine the load generator and the sim would otherwise steal cycles
# from the gateway at random, and the gateway's latency and CPU-per-request numbers
# would measure scheduler noise. Keeping sim+wrk on the same core in BOTH runs means the
# baseline and the gateway run see the same client/upstream setup; the gateway run only
# adds a process on its own core. Caveat: absolute req/s is bounded by the shared load
# core, so compare latency added and CPU µs/request rather than raw throughput.
# Set PIN=0 to disable pinning.
#
# If nginx is installed (Debian: apt-get install nginx-light) the same levels are also run
# through nginx as a plain keep-alive `proxy_pass` on the gateway's CPU: the floor for any HTTP
# proxy on this machine, measured in the same run. NGINX=0 skips it.
#
# KEYED=1 runs the gateway with a virtual key that has a daily budget and a request limit (so
# every request is authenticated, its prompt counted, its worst case reserved and settled), and
# wrk sends that key: the cost of governance on the request path.
#
# Environment: DURATION (s per run, default 10), LEVELS (default "1 16 64"), KEYED (0),
# WARMUP (s, default 2), SWITCHYARD_BIN (default target/release/switchyard; set it to
# skip the build), PIN, GATEWAY_CPU, LOAD_CPU.
set -euo pipefail
shopt -s inherit_errexit  # let failures inside $(...) stop the script too

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION="${DURATION:-10}"
LEVELS="${LEVELS:-1 16 64}"
WARMUP="${WARMUP:-2}"
PIN="${PIN:-auto}"
GATEWAY_CPU="${GATEWAY_CPU:-1}"
LOAD_CPU="${LOAD_CPU:-0}"

if [[ -z "${SWITCHYARD_BIN:-}" ]]; then
    echo "==> cargo build --release -p switchyard-cli" >&2
    cargo build --release --locked -p switchyard-cli
    SWITCHYARD_BIN="${CARGO_TARGET_DIR:-target}/release/switchyard"
fi
BIN="$SWITCHYARD_BIN"
[[ -x "$BIN" ]] || { echo "no executable at $BIN" >&2; exit 1; }

if ! command -v wrk >/dev/null; then
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y wrk >&2
    else
        echo "wrk is not installed (Debian: apt-get install -y wrk)" >&2
        exit 1
    fi
fi

if [[ "$PIN" == auto ]]; then
    if command -v taskset >/dev/null && (($(nproc) >= 2)); then PIN=1; else PIN=0; fi
fi
if [[ "$PIN" == 1 ]]; then
    on_gateway_cpu=(taskset -c "$GATEWAY_CPU")
    on_load_cpu=(taskset -c "$LOAD_CPU")
    placement="gateway on CPU $GATEWAY_CPU; sim and wrk on CPU $LOAD_CPU"
else
    on_gateway_cpu=()
    on_load_cpu=()
    placement="not pinned"
fi

WORK="$(mktemp -d -t switchyard-bench.XXXXXX)"
SIM_PID=""
GW_PID=""
NGINX_PID=""
cleanup() {
    # Only the processes this script started, by pid.
    for pid in "$GW_PID" "$SIM_PID" "$NGINX_PID"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    done
    for pid in "$GW_PID" "$SIM_PID" "$NGINX_PID"; do
        [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait until file $1 contains a line matching regex $2; print the first capture group.
wait_for_url() {
    local file="$1" regex="$2" pid="$3" name="$4"
    for _ in $(seq 300); do
        if [[ -s "$file" ]]; then
            local line
            line="$(grep -m1 -E "$regex" "$file" || true)"
            if [[ -n "$line" ]]; then
                grep -oE 'http://[^ ]+' <<<"$line" | sed 's:/*$::'
                return 0
            fi
        fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "$name did not start; its log:" >&2
    cat "$WORK/$name.log" >&2 || true
    return 1
}

# --- start the sim (zero latency) ------------------------------------------------
"${on_load_cpu[@]}" "$BIN" sim --listen 127.0.0.1:0 --fast >"$WORK/sim.out" 2>"$WORK/sim.log" &
SIM_PID=$!
SIM_URL="$(wait_for_url "$WORK/sim.out" '^switchyard sim listening on http://' "$SIM_PID" sim)"

# --- start the gateway, ledger on -------------------------------------------------
cat >"$WORK/switchyard.toml" <<EOF
[server]
listen = "127.0.0.1:0"

[ledger]
path = "$WORK/switchyard.db"

[providers.sim]
kind = "openai-compatible"
base_url = "$SIM_URL/v1"

[[routes]]
name = "chat"
workload = "bench"
[[routes.targets]]
provider = "sim"
model = "gpt-4o-mini"
EOF
AUTH_HEADER=""
if [[ "${KEYED:-0}" == 1 ]]; then
    key="$("$BIN" keys create --ledger "$WORK/switchyard.db" --team bench --budget day=1000000 --rpm 100000000 --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
    AUTH_HEADER="wrk.headers[\"Authorization\"] = \"Bearer $key\""
fi
"${on_gateway_cpu[@]}" "$BIN" serve --config "$WORK/switchyard.toml" >"$WORK/gateway.out" 2>"$WORK/gateway.log" &
GW_PID=$!  # taskset execs the binary, so this is the gateway's own pid
GW_URL="$(wait_for_url "$WORK/gateway.out" '^switchyard listening on http://' "$GW_PID" gateway)"
for _ in $(seq 300); do
    curl -fsS -o /dev/null "$GW_URL/readyz" && break
    sleep 0.1
done
curl -fsS -o /dev/null "$GW_URL/readyz" || { echo "gateway never became ready" >&2; cat "$WORK/gateway.log" >&2; exit 1; }

# --- nginx proxy_pass, for comparison (optional) ------------------------------------
NGINX_URL=""
NGINX_WORKER=""
if [[ "${NGINX:-auto}" != 0 ]] && command -v nginx >/dev/null; then
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
    NGINX_PID=$!
    for _ in $(seq 50); do
        NGINX_WORKER="$(pgrep -P "$NGINX_PID" | head -n1 || true)"
        [[ -n "$NGINX_WORKER" ]] && curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
        sleep 0.1
    done
    [[ -n "$NGINX_WORKER" ]] && NGINX_URL="http://127.0.0.1:$port"
fi

# --- wrk script -------------------------------------------------------------------
# One script per model. done() prints a machine-readable line so we never parse wrk's
# human output (which switches between us/ms/s units).
write_lua() {
    cat >"$WORK/$1.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
${2:-}
wrk.body = '{"model":"$1","messages":[{"role":"user","content":"Say hello"}]}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF
}
write_lua gpt-4o-mini  # direct: the sim accepts any model; use the upstream name
write_lua chat "$AUTH_HEADER"  # through the gateway: the route name (and the key, if KEYED=1)

# Gateway CPU time so far, in clock ticks (utime + stime, fields 14 and 15 of
# /proc/PID/stat; strip "pid (comm) " first since comm may contain spaces).
ticks_of() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
hwm_kib_of() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
gw_ticks() { ticks_of "$GW_PID"; }
gw_hwm_kib() { hwm_kib_of "$GW_PID"; }
CLK_TCK="$(getconf CLK_TCK)"

# run_wrk URL LUA CONNS SECONDS -> "requests duration_us p50_us p99_us errors"
run_wrk() {
    local url="$1" lua="$2" c="$3" secs="$4" threads
    threads=$((c < 2 ? c : 2))
    local out="$WORK/wrk-$(basename "$lua" .lua)-c$c.txt"
    "${on_load_cpu[@]}" wrk -t"$threads" -c"$c" -d"${secs}s" --latency -s "$WORK/$lua.lua" \
        "$url/v1/chat/completions" >"$out" || { cat "$out" >&2; return 1; }
    grep -q '^RESULT ' "$out" || { echo "wrk printed no RESULT line:" >&2; cat "$out" >&2; return 1; }
    sed -n 's/^RESULT //p' "$out" | tr ' ' '\n' | cut -d= -f2 | paste -sd' '
}

echo "==> warm-up (${WARMUP}s each)" >&2
run_wrk "$SIM_URL" gpt-4o-mini 16 "$WARMUP" >/dev/null
run_wrk "$GW_URL" chat 16 "$WARMUP" >/dev/null

rows=()
warn=""
for c in $LEVELS; do
    echo "==> c=$c direct (${DURATION}s)" >&2
    res="$(run_wrk "$SIM_URL" gpt-4o-mini "$c" "$DURATION")"
    read -r d_req d_dur d_p50 d_p99 d_err <<<"$res"

    echo "==> c=$c gateway (${DURATION}s)" >&2
    t0="$(gw_ticks)"
    res="$(run_wrk "$GW_URL" chat "$c" "$DURATION")"
    read -r g_req g_dur g_p50 g_p99 g_err <<<"$res"
    t1="$(gw_ticks)"
    hwm="$(gw_hwm_kib)"

    rows+=("$(awk -v c="$c" -v req="$d_req" -v dur="$d_dur" -v p50="$d_p50" -v p99="$d_p99" -v err="$d_err" \
        'BEGIN { printf "| %d | direct | %.0f | %d | %d | – | – | – | %d |", c, req / (dur / 1e6), p50, p99, err }')")
    rows+=("$(awk -v c="$c" -v req="$g_req" -v dur="$g_dur" -v p50="$g_p50" -v p99="$g_p99" -v err="$g_err" \
        -v dp50="$d_p50" -v ticks=$((t1 - t0)) -v hz="$CLK_TCK" -v hwm="$hwm" \
        'BEGIN {
            cpu = req > 0 ? ticks / hz * 1e6 / req : 0
            printf "| %d | gateway | %.0f | %d | %d | %+d | %.1f | %.1f | %d |",
                c, req / (dur / 1e6), p50, p99, p50 - dp50, cpu, hwm / 1024, err
        }')")
    if [[ -n "$NGINX_URL" ]]; then
        echo "==> c=$c nginx proxy_pass (${DURATION}s)" >&2
        t0="$(ticks_of "$NGINX_WORKER")"
        res="$(run_wrk "$NGINX_URL" gpt-4o-mini "$c" "$DURATION")"
        read -r n_req n_dur n_p50 n_p99 n_err <<<"$res"
        t1="$(ticks_of "$NGINX_WORKER")"
        rows+=("$(awk -v c="$c" -v req="$n_req" -v dur="$n_dur" -v p50="$n_p50" -v p99="$n_p99" -v err="$n_err" \
            -v dp50="$d_p50" -v ticks=$((t1 - t0)) -v hz="$CLK_TCK" -v hwm="$(hwm_kib_of "$NGINX_WORKER")" \
            'BEGIN {
                cpu = req > 0 ? ticks / hz * 1e6 / req : 0
                printf "| %d | nginx proxy_pass | %.0f | %d | %d | %+d | %.1f | %.1f | %d |",
                    c, req / (dur / 1e6), p50, p99, p50 - dp50, cpu, hwm / 1024, err
            }')")
    fi
    if ((d_err + g_err > 0)); then
        echo "WARNING: c=$c had errors (direct $d_err, gateway $g_err); see the logs" >&2
        warn="**Some runs had errors; their latency and throughput numbers are not comparable.**"
    fi
done

commit="$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)"
cpu_model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
report="$(
    cat <<EOF
# Switchyard gateway overhead — $(date -u +%Y-%m-%dT%H:%MZ)

- commit: \`$commit\`, binary: \`$BIN\`
- machine: ${cpu_model:-unknown CPU}, $(nproc) CPUs; $placement
- load: wrk, keep-alive, threads = min(c, 2), ${DURATION}s per run after a ${WARMUP}s warm-up;
  body \`{"model":…,"messages":[{"role":"user","content":"Say hello"}]}\`
- upstream: \`switchyard sim --fast\`; gateway ledger enabled (SQLite in a temp dir)$([[ "${KEYED:-0}" == 1 ]] && echo "; every request authenticated with a virtual key that has a daily budget and an rpm limit")

| c | target | req/s | p50 µs | p99 µs | p50 added µs | gw CPU µs/req | gw peak RSS MiB | errors |
|--:|:--|--:|--:|--:|--:|--:|--:|--:|
$(printf '%s\n' "${rows[@]}")
$warn

gw CPU µs/req: the proxy's (the gateway's, or the nginx worker's) utime+stime during the run (/proc/PID/stat, ${CLK_TCK} ticks/s)
divided by requests completed; includes ledger writes. Peak RSS is VmHWM, the high-water
mark since the gateway started, so it only grows from level to level.
EOF
)"

mkdir -p bench/results
out="bench/results/overhead-$(date +%F).md"
printf '%s\n' "$report" >"$out"
printf '%s\n' "$report"
echo "written to $out" >&2
