#!/usr/bin/env bash
# Strategy engine speed on a PostgreSQL ledger (issue #13, "Measured": `strategy report` on
# 10M records ≤ 3 s), with the same commands on a SQLite ledger of the same records as the
# baseline of the same run.
#
# Generates RECORDS per-request records (default 1,000,000) over 90 days with `switchyard
# strategy generate-ledger --ledger postgres://…` into a scratch schema (written through the
# PostgreSQL sink in 10,000-record batches, rollups included), runs ANALYZE, then times
# `strategy spend` and `strategy report` with hyperfine when present, else best of RUNS with
# bash's clock. The schema is dropped on exit. SQLITE_BASELINE=0 skips the SQLite half.
#
# EXPAND=N (default 1) then multiplies the PostgreSQL ledger N-fold in SQL, for sizes the
# sink cannot write in the time at hand (~10,000 records/s, release): every request is copied
# N-1 times under new request ids (same times and usage) and every rollup and feature-profile
# count and sum is multiplied by N, so the rollups still agree with the requests. The
# SQLite baseline keeps RECORDS.
#
#   PG (default postgres://postgres@127.0.0.1:5432/test): the server and database to use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RECORDS="${RECORDS:-1000000}"
RUNS="${RUNS:-5}"
PG="${PG:-postgres://postgres@127.0.0.1:5432/test}"
SQLITE_BASELINE="${SQLITE_BASELINE:-1}"
if [[ -z "${SWITCHYARD_BIN:-}" ]]; then
    cargo build --release --locked -p switchyard-cli >&2
    SWITCHYARD_BIN="${CARGO_TARGET_DIR:-target}/release/switchyard"
fi
WORK="$(mktemp -d -t switchyard-strategy-pg-bench.XXXXXX)"
SCHEMA="sy_bench_$$_$(date +%s)"
psql "$PG" -qc "CREATE SCHEMA $SCHEMA" >&2
trap 'psql "$PG" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >&2 || true; rm -rf "$WORK"' EXIT
sep='?'; [[ "$PG" == *\?* ]] && sep='&'
LEDGER="${PG}${sep}options=-csearch_path%3D${SCHEMA}"

# time_cmds NAME LEDGER: times spend and report against LEDGER; prints markdown rows.
time_cmds() {
    local name="$1" ledger="$2"
    local spend=("$SWITCHYARD_BIN" strategy spend --ledger "$ledger" --by model --period month)
    local report=("$SWITCHYARD_BIN" strategy report --ledger "$ledger" --format html -o "$WORK/r.html" --snapshot "$WORK/s.json")
    if command -v hyperfine >/dev/null; then
        hyperfine --warmup 1 --runs "$RUNS" --export-markdown "$WORK/h.md" \
            -n "$name: strategy spend" "$(printf '%q ' "${spend[@]}") >/dev/null" \
            -n "$name: strategy report (html)" "$(printf '%q ' "${report[@]}") 2>/dev/null" >&2
        tail -n +3 "$WORK/h.md"
    else
        for cmd in spend report; do
            declare -n argv="$cmd"
            local best=999
            for _ in $(seq "$RUNS"); do
                local t0 t1 t
                t0=$(date +%s.%N); "${argv[@]}" >/dev/null 2>&1; t1=$(date +%s.%N)
                t=$(echo "$t1 - $t0" | bc)
                best=$(echo "if ($t < $best) $t else $best" | bc)
            done
            echo "| $name: strategy $cmd | best of $RUNS: ${best}s |"
        done
    fi
}

echo "==> generating $RECORDS records into PostgreSQL schema $SCHEMA" >&2
start=$(date +%s.%N)
"$SWITCHYARD_BIN" strategy generate-ledger --ledger "$LEDGER" --records "$RECORDS" >&2
gen=$(echo "$(date +%s.%N) - $start" | bc)
EXPAND="${EXPAND:-1}"
if (( EXPAND > 1 )); then
    echo "==> expanding to $(( RECORDS * EXPAND )) records in SQL" >&2
    cols=$(psql "$PG" -Atc "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '$SCHEMA' AND table_name = 'requests' AND column_name <> 'id'")
    rename="request_id || '_' || k"
    copy=${cols/request_id/"$rename"}
    sums="requests, errors, streamed, estimated, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost_usd, latency_ms_sum, ttft_ms_sum, ttft_count, overhead_us_sum, latency_count, overhead_count, exact_hits, exact_saved_usd, semantic_hits, semantic_saved_usd"
    set_sums=$(tr -d ' ' <<<"$sums" | tr ',' '\n' | sed "s/.*/& = & * $EXPAND/" | paste -sd, -)
    psql "$PG" -v ON_ERROR_STOP=1 -q >&2 <<SQL
SET search_path = $SCHEMA;
INSERT INTO requests ($cols) SELECT $copy FROM requests CROSS JOIN generate_series(1, $EXPAND - 1) AS k;
UPDATE rollup_hourly SET $set_sums;
UPDATE workload_features SET requests = requests * $EXPAND;
UPDATE prompt_prefixes SET requests = requests * $EXPAND, prefix_tokens = prefix_tokens * $EXPAND, cached_requests = cached_requests * $EXPAND;
SQL
fi
psql "$PG" -qc "SET search_path = $SCHEMA; ANALYZE" >&2
pg_size=$(psql "$PG" -Atc "SELECT pg_size_pretty(SUM(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$SCHEMA' AND c.relkind IN ('r', 'm')")
rollup_rows=$(psql "$PG" -Atc "SELECT COUNT(*) FROM $SCHEMA.rollup_hourly")
rollup_requests=$(psql "$PG" -Atc "SELECT SUM(requests) FROM $SCHEMA.rollup_hourly")
requests=$(psql "$PG" -Atc "SELECT COUNT(*) FROM $SCHEMA.requests")
echo "PostgreSQL: $requests records, generated in ${gen}s; $pg_size (tables and indexes); rollup_hourly $rollup_rows rows counting $rollup_requests requests" >&2
echo "| command | $(command -v hyperfine >/dev/null && echo 'mean [ms] | min [ms] | max [ms] | relative' || echo 'time') |"
time_cmds postgres "$LEDGER"

if [[ "$SQLITE_BASELINE" == 1 ]]; then
    echo "==> generating the same $RECORDS records into SQLite" >&2
    start=$(date +%s.%N)
    "$SWITCHYARD_BIN" strategy generate-ledger --ledger "$WORK/ledger.db" --records "$RECORDS" >&2
    sgen=$(echo "$(date +%s.%N) - $start" | bc)
    echo "SQLite: generated in ${sgen}s; $(du -h "$WORK/ledger.db" | cut -f1)" >&2
    time_cmds sqlite "$WORK/ledger.db"
fi
echo "records: $RECORDS (PostgreSQL: x$EXPAND); PostgreSQL $(psql "$PG" -Atc 'SHOW server_version'): generated in ${gen}s, $pg_size; machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
