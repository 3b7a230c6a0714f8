#!/usr/bin/env bash
# Dashboard API server time on a large ledger (issue #14 item 5).
#
# Generates RECORDS per-request records (default 1,000,000) over 90 days with
# `switchyard strategy generate-ledger` into a SQLite file, then, with EXPAND=N (default 10),
# multiplies it N-fold in SQL as bench/strategy_pg.sh does for PostgreSQL: every request copied
# N-1 times under new request ids (same times and usage), every rollup and feature-profile
# count and sum multiplied by N, so the rollups agree with the requests (10,000,000 records by
# default). Then serves it with `switchyard serve` (a master key, no providers) and times each
# endpoint a dashboard page calls with curl (`time_total`, best and median of RUNS, default 5),
# one request at a time.
#
#   SWITCHYARD_BIN: the binary (else the release build is built first).
#   LEDGER: the ledger file to use; generated there (and kept afterwards) when it does not
#           exist yet, reused as it is when it does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RECORDS="${RECORDS:-1000000}"
EXPAND="${EXPAND:-10}"
RUNS="${RUNS:-5}"
if [[ -z "${SWITCHYARD_BIN:-}" ]]; then
    cargo build --release --locked -p switchyard-cli >&2
    SWITCHYARD_BIN="${CARGO_TARGET_DIR:-target}/release/switchyard"
fi
WORK="$(mktemp -d -t switchyard-dashboard-bench.XXXXXX)"
SERVER=""
trap '[[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT

LEDGER="${LEDGER:-$WORK/ledger.db}"
if [[ ! -e "$LEDGER" ]]; then
    echo "==> generating $RECORDS records" >&2
    start=$(date +%s.%N)
    "$SWITCHYARD_BIN" strategy generate-ledger --ledger "$LEDGER" --records "$RECORDS" >&2
    echo "generated in $(echo "$(date +%s.%N) - $start" | bc)s" >&2
    if (( EXPAND > 1 )); then
        echo "==> expanding to $(( RECORDS * EXPAND )) records in SQL" >&2
        start=$(date +%s.%N)
        cols=$(sqlite3 "$LEDGER" "SELECT group_concat(name, ', ') FROM pragma_table_info('requests') WHERE name <> 'id'")
        copy=${cols/request_id/"request_id || '_' || k"}
        counts="requests errors streamed estimated input_tokens cached_input_tokens cache_write_tokens output_tokens reasoning_tokens latency_ms_sum ttft_ms_sum ttft_count overhead_us_sum latency_count overhead_count exact_hits semantic_hits"
        set_counts=$(for c in $counts; do printf '%s = %s * %s, ' "$c" "$c" "$EXPAND"; done)
        # Money is decimal text: multiplied and written back with fixed decimals.
        set_money=$(for c in cost_usd exact_saved_usd semantic_saved_usd; do printf "%s = printf('%%.10f', %s * %s), " "$c" "$c" "$EXPAND"; done)
        sqlite3 "$LEDGER" >&2 <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
WITH RECURSIVE k(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM k WHERE k < $EXPAND - 1)
INSERT INTO requests ($cols) SELECT $copy FROM requests CROSS JOIN k;
UPDATE rollup_hourly SET ${set_counts}${set_money%, };
UPDATE workload_features SET requests = requests * $EXPAND;
UPDATE prompt_prefixes SET requests = requests * $EXPAND, prefix_tokens = prefix_tokens * $EXPAND, cached_requests = cached_requests * $EXPAND;
ANALYZE;
SQL
        echo "expanded in $(echo "$(date +%s.%N) - $start" | bc)s" >&2
    fi
fi
requests=$(sqlite3 "$LEDGER" "SELECT COUNT(*) FROM requests")
rollup=$(sqlite3 "$LEDGER" "SELECT COUNT(*) || ' rows counting ' || SUM(requests) FROM rollup_hourly")
size=$(du -h "$LEDGER" | cut -f1)
echo "ledger: $requests records, $size; rollup_hourly $rollup requests" >&2

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
KEY="bench-master-key-0123456789"
cat > "$WORK/switchyard.toml" <<TOML
[ledger]
path = "$LEDGER"
TOML
SWITCHYARD_MASTER_KEY="$KEY" "$SWITCHYARD_BIN" serve -c "$WORK/switchyard.toml" --listen "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# A cursor 50 pages (2,500 rows) deep, to show a deep page costs what the first one does.
cursor=""
for _ in $(seq 50); do
    cursor=$(curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/dashboard/requests?limit=50${cursor:+&after=$cursor}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next"] or "")')
done
workload=$(sqlite3 "$LEDGER" "SELECT workload FROM rollup_hourly GROUP BY 1 ORDER BY SUM(requests) LIMIT 1")

ENDPOINTS=(
    "Overview (by provider)|/v1/dashboard/overview?by=provider"
    "Overview (by workload)|/v1/dashboard/overview?by=workload"
    "Traffic (today)|/v1/dashboard/traffic?days=1"
    "Traffic (30 days)|/v1/dashboard/traffic?days=30"
    "Requests (first page)|/v1/dashboard/requests?limit=50"
    "Requests (page 51)|/v1/dashboard/requests?limit=50&after=$cursor"
    "Requests (rarest workload, errors)|/v1/dashboard/requests?limit=50&workload=$workload&status=error"
    "Keys|/v1/dashboard/keys"
    "Strategy: report data|/v1/strategy/report"
    "Strategy: deprecations|/v1/strategy/deprecations"
    "Strategy: price shock|/v1/dashboard/shock?provider=openai&factor=2"
    "Strategy: report (Markdown)|/v1/dashboard/report?format=markdown"
    "Evaluation|/v1/dashboard/evaluation"
)
echo "| page: endpoint | best | median | status |"
echo "|---|--:|--:|---|"
for e in "${ENDPOINTS[@]}"; do
    name="${e%%|*}"; path="${e#*|}"
    times=()
    for _ in $(seq "$RUNS"); do
        out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT$path")
        code="${out%% *}"
        times+=("${out#* }")
    done
    sorted=($(printf '%s\n' "${times[@]}" | sort -n))
    best=$(echo "${sorted[0]} * 1000" | bc)
    median=$(echo "${sorted[$(( RUNS / 2 ))]} * 1000" | bc)
    printf '| %s: `%s` | %.0f ms | %.0f ms | %s |\n' "$name" "${path%%\?*}" "$best" "$median" "$code"
done
echo "records: $requests, ledger $size, binary $SWITCHYARD_BIN, machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
