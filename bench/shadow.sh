#!/usr/bin/env bash
# Client latency with shadow traffic on and off.
#
# One simulated upstream with a realistic time to first answer (SIM_TTFT_MS, default 20 ms),
# two gateways started from the same binary: one plain, one mirroring every request
# (rate 1.0) to a second model. wrk drives each in turn, OFF/ON/OFF/ON, so drift on the
# machine shows up as a difference between the two OFF runs (the noise floor). The mirror
# runs after each answer is complete, so client latency should not move beyond that noise.
#
# Environment: DURATION (s per run, default 10), CONNS (default 8), SIM_TTFT_MS (20),
# SWITCHYARD_BIN (default: build target/release/switchyard).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

DURATION="${DURATION:-10}"
CONNS="${CONNS:-8}"
SIM_TTFT_MS="${SIM_TTFT_MS:-20}"
BIN="$(release_bin)"
need_tools wrk:wrk

bench_workdir shadow

printf '[defaults]\nttft_ms = %s\ntokens_per_second = 0\n' "$SIM_TTFT_MS" >"$WORK/sim.toml"
"$BIN" sim --listen 127.0.0.1:0 --config "$WORK/sim.toml" >"$WORK/sim.out" 2>"$WORK/sim.log" &
PIDS+=($!)
SIM="$(wait_for_url "$WORK/sim.out" "^switchyard sim listening" "${PIDS[-1]}" sim)"

start_gateway() {  # name extra-toml
    cat >"$WORK/$1.toml" <<EOF
[server]
listen = "127.0.0.1:0"
[ledger]
path = "$WORK/$1.db"
[eval]
path = "$WORK/$1-eval.db"
shadow_concurrency = 8
shadow_max_usd_per_day = "1000"
[providers.sim]
kind = "openai"
base_url = "$SIM/v1"
api_key_env = "BENCH_KEY"
[[routes]]
name = "chat"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
$2
EOF
    BENCH_KEY=bench "$BIN" serve --config "$WORK/$1.toml" >"$WORK/$1.out" 2>"$WORK/$1.log" &
    PIDS+=($!)
    wait_for_url "$WORK/$1.out" "^switchyard listening" "${PIDS[-1]}" "$1"
}
OFF="$(start_gateway off "")"
ON="$(start_gateway on $'[[routes.shadow]]\nprovider = "sim"\nmodel = "gpt-4.1-mini"\nrate = 1.0')"

cat >"$WORK/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"chat","messages":[{"role":"user","content":"Summarise the refund policy in one line."}]}'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF
run() {  # url seconds -> "requests duration_us p50 p90 p99 errors"
    wrk -t2 -c"$CONNS" -d"${2}s" -s "$WORK/post.lua" "$1/v1/chat/completions" | sed -n 's/^RESULT //p'
}
run "$OFF" 2 >/dev/null; run "$ON" 2 >/dev/null

rows=()
for round in 1 2; do
    for mode in off on; do
        url="$OFF"; [[ $mode == on ]] && url="$ON"
        echo "==> round $round, shadow $mode (${DURATION}s)" >&2
        read -r req dur p50 p90 p99 err <<<"$(run "$url" "$DURATION")"
        rows+=("$(awk -v m="$mode" -v r="$round" -v req="$req" -v dur="$dur" -v a="$p50" -v b="$p90" -v c="$p99" -v e="$err" \
            'BEGIN { printf "| %d | %s | %.0f | %.2f | %.2f | %.2f | %d |", r, m, req / (dur / 1e6), a / 1000, b / 1000, c / 1000, e }')")
    done
done
sent="$(curl -fsS "$ON/v1/status" | python3 -c 'import json,sys; e=json.load(sys.stdin).get("evaluation",{}); print(e.get("shadow_sent",0), e.get("shadow_skipped_busy",0))')"

cat <<EOF
# Shadow traffic and client latency — $(date -u +%Y-%m-%dT%H:%MZ)

- commit \`$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)\`, $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)); not pinned
- upstream: \`switchyard sim\` with ttft ${SIM_TTFT_MS} ms; wrk -t2 -c${CONNS}, ${DURATION}s per run, OFF/ON alternated twice
- ON mirrors every request (rate 1.0) to a second model, shadow_concurrency 8; shadow calls sent / skipped as busy: ${sent}

| round | shadow | req/s | p50 ms | p90 ms | p99 ms | errors |
|--:|:--|--:|--:|--:|--:|--:|
$(printf '%s\n' "${rows[@]}")
EOF
