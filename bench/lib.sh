# Shared by the bench/*.sh scripts (source it; it defines
# functions only). Needs: $WORK (a temp dir the caller owns), $BIN (the switchyard binary).

# release_bin: $SWITCHYARD_BIN when set, else builds and prints target/release/switchyard.
release_bin() {
    if [[ -n "${SWITCHYARD_BIN:-}" ]]; then
        echo "$SWITCHYARD_BIN"
        return
    fi
    echo "==> cargo build --release -p switchyard-cli" >&2
    cargo build --release --locked -p switchyard-cli >&2
    echo "${CARGO_TARGET_DIR:-target}/release/switchyard"
}

# bench_workdir NAME: a private temp dir in $WORK and an empty $PIDS; on exit every process
# whose pid the caller added to PIDS is stopped (only those) and WORK is removed.
bench_workdir() {
    WORK="$(mktemp -d -t "switchyard-$1.XXXXXX")"
    PIDS=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}
bench_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}

# Wait until file $1 holds a line matching regex $2 (process $3, named $4); print its URL.
wait_for_url() {
    local file="$1" regex="$2" pid="$3" name="$4"
    for _ in $(seq 600); do
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

# wait_ready URL: until /readyz answers (a gateway under valgrind takes a while: minutes on a
# loaded machine; READY_TRIES tenths of a second, default 6000).
wait_ready() {
    for _ in $(seq "${READY_TRIES:-6000}"); do
        curl -fsS -o /dev/null "$1/readyz" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "gateway at $1 never became ready" >&2
    return 1
}

# wait_shared URL KEY: until the gateway's /v1/status shows fleet.mode "shared". Under
# valgrind the first connection to Redis can miss its 250 ms connect timeout; the replica then
# starts in the local fallback and retries at its next heartbeat, and a measurement taken
# meanwhile would count the fallback, not Redis. Fails after 90 s.
wait_shared() {
    local mode=""
    for _ in $(seq 900); do
        mode="$(curl -fsS -H "authorization: Bearer $2" "$1/v1/status" 2>/dev/null |
            python3 -c 'import json,sys; print(json.load(sys.stdin).get("fleet", {}).get("mode", ""))' 2>/dev/null || true)"
        [[ "$mode" == shared ]] && return 0
        sleep 0.1
    done
    echo "the gateway at $1 never reached Redis (fleet.mode = ${mode:-unknown}); the fleet figures would measure the fallback" >&2
    return 1
}

# write_gateway MODE SIM_URL DIR [stable]: the gateway config for a benchmark mode in DIR
# (DIR/switchyard.toml, ledger DIR/switchyard.db) and, for keyed modes, a key in DIR/key.
#   open  - no virtual keys: the gateway is open; ledger on.
#   keyed - one virtual key with a daily budget, an rpm and a tpm limit; ledger on.
#   full  - keyed, plus capture of 1% of the route's requests into the eval store.
#   cached - keyed, plus the exact response cache on the route (in-process store, key scope,
#            temperature > 0 allowed since the bodies set none): after the warm-up every
#            request is a hit; with BENCH_HEADERS="cache-control: no-cache" every request is
#            a miss that computes the key and writes the answer (docs/caching.md).
#   cache-miss - cached's config; bench/instructions.sh sends every request of this mode with
#            `cache-control: no-cache`, so each is a miss that computes the key, goes upstream
#            and writes its answer: `MODES="keyed cache-miss"` measures a miss against the
#            cache off in one run.
#   metrics - keyed, plus [metrics] (GET /metrics on the main listener; every request
#             counted; docs/observability.md).
#   traced - metrics, plus [telemetry] traces exported to $OTLP_URL (bench/otlp_sink.py): one
#            server span and one attempt span per request; stable: a batch every 10 requests,
#            never on the timer (docs/observability.md#traces).
#   fleet - keyed, with the counters in Redis ([fleet] redis_url = $FLEET_REDIS, default
#           redis://127.0.0.1:6379, under a prefix of its own): one Redis round trip per
#           request to admit, one pipelined settlement after it (docs/deployment.md).
# "stable" (the instruction counts): the ledger commits every 10 records and never on its
# timer, keys are never polled, so what runs per request does not depend on wall time.
write_gateway() {
    local mode="$1" sim="$2" dir="$3" stable="${4:-}"
    mkdir -p "$dir"
    local ledger="" admin="" capture=""
    if [[ "$stable" == stable ]]; then
        ledger=$'batch_size = 10\nflush_interval_ms = 3600000'
        admin=$'[admin]\nkey_poll_ms = 3600000'
    fi
    if [[ "$mode" == full ]]; then
        capture=$'[routes.capture]\nrate = 0.01\nmax_per_day = 1000000'
    fi
    if [[ "$mode" == cached || "$mode" == cache-miss ]]; then
        capture=$'[routes.cache]\nallow_temperature = true\nallow_length = true'
    fi
    local metrics=""
    [[ "$mode" == metrics || "$mode" == traced ]] && metrics="[metrics]"
    if [[ "$mode" == traced ]]; then
        metrics+=$'\n[telemetry]\notlp_endpoint = "'"${OTLP_URL:?traced mode needs OTLP_URL (bench/otlp_sink.py)}"'"'
        [[ "$stable" == stable ]] && metrics+=$'\nbatch_size = 10\nbatch_interval_ms = 600000'
    fi
    local fleet=""
    if [[ "$mode" == fleet ]]; then
        fleet="[fleet]"$'\n'"redis_url = \"${FLEET_REDIS:-redis://127.0.0.1:6379}\""$'\n'"prefix = \"switchyard:bench:$$:$RANDOM:\""
        # Stable: no heartbeat or reconcile during the measurement (its keys expire in Redis),
        # and a timeout valgrind's slowness cannot reach (a timeout would measure the fallback).
        [[ "$stable" == stable ]] && fleet+=$'\nheartbeat_ms = 60000\nreconcile_interval_ms = 86400000\ntimeout_ms = 10000'
    fi
    cat >"$dir/switchyard.toml" <<TOML
[server]
listen = "127.0.0.1:0"

[ledger]
path = "$dir/switchyard.db"
$ledger

$admin

$fleet

$metrics

[providers.sim]
kind = "openai-compatible"
base_url = "$sim/v1"
# The sim speaks the Responses API: the responses* bodies measure the passthrough, as chat
# bodies measure chat's (a chat body never reaches /responses).
responses_api = true

[[routes]]
name = "chat"
workload = "bench"
[[routes.targets]]
provider = "sim"
model = "gpt-4o-mini"
$capture
TOML
    rm -f "$dir/key"
    if [[ "$mode" != open ]]; then
        "$BIN" keys create --ledger "$dir/switchyard.db" --team bench --budget day=1000000 \
            --rpm 100000000 --tpm 1000000000 --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' >"$dir/key"
    fi
}

# CPU ticks (utime + stime) of process $1 so far.
ticks_of() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
hwm_kib_of() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# wait_written URL KEY N [TRIES]: until the gateway's /v1/status shows at least N ledger
# records written, reading it up to TRIES times 0.1 s apart (default 1200). Under valgrind the
# ledger's writer thread can be scheduled late, so a commit the warm-up (or a body) triggered
# could otherwise land in the next measurement's window and be counted there.
wait_written() {
    local n=""
    for _ in $(seq "${4:-1200}"); do
        n="$(curl -fsS ${2:+-H "authorization: Bearer $2"} "$1/v1/status" 2>/dev/null |
            python3 -c 'import json,sys; print(json.load(sys.stdin).get("ledger", {}).get("written", 0))' 2>/dev/null || true)"
        [[ -n "$n" && "$n" -ge "$3" ]] && return 0
        sleep 0.1
    done
    echo "the gateway at $1 wrote ${n:-no} ledger records, expected $3" >&2
    return 1
}

# need_wrk_nginx: installs wrk and nginx-light with apt-get when missing (as root), else says
# how and exits.
need_wrk_nginx() { need_tools wrk:wrk nginx:nginx-light; }

# need_tools COMMAND:PACKAGE...: installs each missing command's Debian package when run as
# root with apt-get, else says how and exits.
need_tools() {
    local tool
    for tool in "$@"; do
        command -v "${tool%%:*}" >/dev/null && continue
        if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
            apt-get install -y "${tool#*:}" >&2
        else
            echo "${tool%%:*} is not installed (Debian: apt-get install -y ${tool#*:})" >&2
            exit 1
        fi
    done
}

# pin_cpus WHAT: from PIN (auto|0|1), GATEWAY_CPU and LOAD_CPU sets on_gateway_cpu and
# on_load_cpu (taskset prefixes, empty when not pinned) and placement (a sentence naming
# WHAT, the servers measured).
pin_cpus() {
    if [[ "$PIN" == auto ]]; then
        if command -v taskset >/dev/null && (($(nproc) >= 2)); then PIN=1; else PIN=0; fi
    fi
    on_gateway_cpu=()
    on_load_cpu=()
    placement="not pinned"
    if [[ "$PIN" == 1 ]]; then
        on_gateway_cpu=(taskset -c "$GATEWAY_CPU")
        on_load_cpu=(taskset -c "$LOAD_CPU")
        placement="$1 on CPU $GATEWAY_CPU; sim and wrk on CPU $LOAD_CPU"
    fi
}
