#!/usr/bin/env bash
# The semantic cache's lookup cost end to end through the gateway, with an embeddings route as
# the embedder (issue #12, "Measured": the path crates/semantic's examples cannot measure).
#
# One command: `nice bench/semantic_route.sh`. Two gateways in front of one
# `switchyard sim --fast` (its embeddings: deterministic 1536-dimension unit vectors, so
# distinct questions never come near each other and every lookup scans the whole partition):
#   semantic - `cached` mode (bench/lib.sh) plus [routes.cache.semantic] with embedder = an
#              embeddings route on the sim (text-embedding-3-small), precision i8
#   exact    - the same route with the exact cache only (the baseline)
# The semantic gateway's index is filled to each SIZES entry with distinct questions (wrk,
# c=16); then MEASURE fresh questions (exact misses, semantic misses) go one after another over
# one keep-alive connection to each gateway. A row: the gateway's CPU µs per request
# (utime+stime / requests), the median wall time, and the difference to the exact-only
# gateway: what one semantic lookup costs in the gateway (the in-process call of the
# embeddings route, its ledger record, the scan and guards, the insert of the fresh answer);
# the sim's own CPU is not in it. Memory: the semantic gateway's RSS growth per entry while
# filling. Wall time on a shared machine is noisy: the report prints the load average. Each
# row is also printed to stderr when measured. The fill sends `x-switchyard-cache: refresh`:
# a refresh skips the lookup but embeds and indexes the fresh answer (docs/caching.md), so
# filling is linear in the entries (a plain request is itself a lookup over the index so far,
# which made a 100,000-entry fill quadratic: it had reached 33,000 entries after 8 minutes).
#
# Environment: SIZES ("10000 100000"), MEASURE (300), SWITCHYARD_BIN (default: build
# target/release/switchyard). Installs wrk with apt-get when missing and run as root.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

SIZES="${SIZES:-10000 100000}"
MEASURE="${MEASURE:-300}"
BIN="$(release_bin)"
[[ -x "$BIN" ]] || { echo "no executable at $BIN" >&2; exit 1; }
command -v wrk >/dev/null || {
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y wrk >&2
    else
        echo "wrk is not installed (Debian: apt-get install -y wrk)" >&2
        exit 1
    fi
}

WORK="$(mktemp -d -t switchyard-semroute.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
max_size=0
for n in $SIZES; do ((n <= max_size)) || max_size=$n; done

"$BIN" sim --listen 127.0.0.1:0 --fast >"$WORK/sim.out" 2>"$WORK/sim.log" &
PIDS+=($!)
SIM_URL="$(wait_for_url "$WORK/sim.out" '^switchyard sim listening on http://' "$!" sim)"

declare -A GW_URL GW_PID KEY
for mode in semantic exact; do
    write_gateway cached "$SIM_URL" "$WORK/$mode"
    if [[ "$mode" == semantic ]]; then
        cat >>"$WORK/$mode/switchyard.toml" <<TOML
[routes.cache.semantic]
embedder = "embed"
precision = "i8"
max_entries = $((max_size + 10 * MEASURE + 1000))
max_bytes = 4294967296

[[routes]]
name = "embed"
[[routes.targets]]
provider = "sim"
model = "text-embedding-3-small"
TOML
    fi
    "$BIN" serve --config "$WORK/$mode/switchyard.toml" >"$WORK/$mode.out" 2>"$WORK/$mode.log" &
    PIDS+=($!)
    GW_PID[$mode]=$!
    GW_URL[$mode]="$(wait_for_url "$WORK/$mode.out" '^switchyard listening on http://' "$!" "$mode")"
    wait_ready "${GW_URL[$mode]}"
    KEY[$mode]="$(cat "$WORK/$mode/key")"
done

entries() {
    curl -fsS -H "authorization: Bearer ${KEY[semantic]}" "${GW_URL[semantic]}/v1/status" |
        python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["cache"]["semantic"]["chat"]["entries"])'
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/${GW_PID[semantic]}/status"; }

# fill N: distinct questions until the index holds N entries (each wrk thread its own
# numbers, each round its own prefix); rounds are timed from the rate of the one before, so
# the index ends a little above N (the rows give the count measured).
fill() {
    local want="$1" have secs=2 before round=0
    have="$(entries)"
    while ((have < want)); do
        round=$((round + 1))
        cat >"$WORK/fill.lua" <<LUA
local counter = 0
local threads = {}
function setup(thread) thread:set("id", #threads); table.insert(threads, thread) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${KEY[semantic]}"
wrk.headers["x-switchyard-cache"] = "refresh"
function request()
  counter = counter + 1
  local body = string.format('{"model":"chat","max_tokens":16,"messages":[{"role":"user","content":"Fill question %d-%d-%d-%d: what does order %d say about shipping to zone %d?"}]}', $$, $round, id or 0, counter, counter * 7, counter % 97)
  return wrk.format(nil, nil, nil, body)
end
LUA
        before="$have"
        wrk -t2 -c16 -d"${secs}s" -s "$WORK/fill.lua" "${GW_URL[semantic]}/v1/chat/completions" >"$WORK/fill.txt" ||
            { cat "$WORK/fill.txt" >&2; return 1; }
        have="$(entries)"
        ((have > before)) || { echo "the index did not grow:" >&2; cat "$WORK/fill.txt" >&2; return 1; }
        secs=$(( (want - have) * secs / (have - before) + 1 ))
        ((secs <= 60)) || secs=60
    done
    return 0
}

# measure MODE TAG: MEASURE fresh questions, sequential; prints "cpu_us p50_us".
measure() {
    local mode="$1" t0 t1 out
    t0="$(ticks_of "${GW_PID[$mode]}")"
    out="$(python3 - "${GW_URL[$mode]}" "${KEY[$mode]}" "$MEASURE" "$2" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
url, key, n, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
u = urllib.parse.urlsplit(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
h = {"content-type": "application/json", "authorization": f"Bearer {key}"}
walls = []
for i in range(n):
    q = f"Measured question {tag}-{i}: can I return item {i * 13} bought on day {i % 28} of month {i % 12}?"
    body = json.dumps({"model": "chat", "max_tokens": 16, "messages": [{"role": "user", "content": q}]})
    t = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body, h)
    r = conn.getresponse()
    r.read()
    walls.append(time.perf_counter() - t)
    if r.status != 200 or r.getheader("x-switchyard-cache") != "miss":
        sys.exit(f"answer {i}: status {r.status}, x-switchyard-cache {r.getheader('x-switchyard-cache')}")
print(int(statistics.median(walls) * 1e6))
PY
)"
    t1="$(ticks_of "${GW_PID[$mode]}")"
    awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$MEASURE" -v p50="$out" \
        'BEGIN { printf "%.1f %d\n", t / hz * 1e6 / n, p50 }'
}

rows=()
rss0="$(rss_kib)"
e0="$(entries)"
for n in $SIZES; do
    echo "==> filling the semantic index to $n entries" >&2
    fill "$n"
    have="$(entries)"
    rss="$(rss_kib)"
    echo "==> $have entries: $MEASURE fresh questions to each gateway" >&2
    read -r sem_cpu sem_p50 <<<"$(measure semantic "s$n")"
    read -r ex_cpu ex_p50 <<<"$(measure exact "e$n")"
    rows+=("$(awk -v n="$have" -v sc="$sem_cpu" -v sp="$sem_p50" -v ec="$ex_cpu" -v ep="$ex_p50" \
        -v grow=$((rss - rss0)) -v e0="$e0" 'BEGIN {
            printf "| %d | %.1f | %.1f | %.1f | %d | %d | %d | %.0f |\n", n, sc, ec, sc - ec, sp, ep, sp - ep,
                (n > e0 ? grow * 1024 / (n - e0) : 0)
        }')")
    echo "${rows[-1]}" >&2
done

commit="$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)"
cpu_model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
cat >"$WORK/report.md" <<EOF
# Semantic lookup through an embeddings route — $(date -u +%Y-%m-%dT%H:%MZ)

- commit: \`$commit\`$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)'), binary: \`$BIN\`
- machine: ${cpu_model:-unknown CPU}, $(nproc) CPUs, load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)
- embedder: the route \`embed\` (sim, text-embedding-3-small, 1536 dimensions), precision i8; $MEASURE fresh questions per cell, sequential

| entries | CPU µs/req, semantic | CPU µs/req, exact only | semantic added | p50 µs, semantic | p50 µs, exact only | added | RSS bytes/entry |
|--:|--:|--:|--:|--:|--:|--:|--:|
$(printf '%s\n' "${rows[@]}")
EOF
mkdir -p bench/results
out="bench/results/semantic-route-$(date +%F-%H%M).md"
cp "$WORK/report.md" "$out"
cat "$out"
echo "written to $out" >&2
