#!/usr/bin/env bash
# The fleet budget check (issue #13): 3 `switchyard serve` replicas on one ledger and one key with a
# hard daily budget ($0.05), [fleet] on the Redis at 127.0.0.1:6379 under a prefix of its own (deleted
# at the end); 300 concurrent requests spread over the replicas (gpt-4o, max_tokens 2000: a worst
# case of ~$0.02, so two fit in flight). Prints the answers, each replica's fleet mode, the ledger's
# spend against the budget (the overspend, goal 0) and the holds left in Redis (goal 0).
#   bench/fleet_budget.sh      (needs target/debug/switchyard: cargo build -p switchyard-cli)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${SWITCHYARD_BIN:-target/debug/switchyard}"
W="$(mktemp -d -t sy-fleet3.XXXXXX)"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$W"' EXIT
PREFIX="switchyard:fleet3:$$:"
"$BIN" sim --listen 127.0.0.1:0 >"$W/sim.out" 2>"$W/sim.log" & PIDS+=($!)
for _ in $(seq 100); do grep -q "listening on" "$W/sim.out" 2>/dev/null && break; sleep 0.1; done
SIM="$(grep -oE 'http://[^ ]+' "$W/sim.out" | head -1)"
cat >"$W/sy.toml" <<TOML
[server]
listen = "127.0.0.1:0"
[ledger]
path = "$W/ledger.db"
[fleet]
redis_url = "redis://127.0.0.1:6379"
prefix = "$PREFIX"
[providers.sim]
kind = "openai-compatible"
base_url = "$SIM/v1"
[[routes]]
name = "chat"
[[routes.targets]]
provider = "sim"
model = "gpt-4o"
TOML
KEY="$("$BIN" keys create --ledger "$W/ledger.db" --budget day=0.05 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
URLS=()
for r in 1 2 3; do
  "$BIN" serve --config "$W/sy.toml" >"$W/gw$r.out" 2>"$W/gw$r.log" & PIDS+=($!)
  for _ in $(seq 300); do grep -q "listening on" "$W/gw$r.out" 2>/dev/null && break; sleep 0.1; done
  URLS+=("$(grep -oE 'http://[^ ]+' "$W/gw$r.out" | head -1)")
done
python3 - "$KEY" "${URLS[@]}" <<'PY'
import json, sys, threading, http.client, urllib.parse, collections
key, urls = sys.argv[1], sys.argv[2:]
out = collections.Counter(); lock = threading.Lock()
def one(i):
    u = urllib.parse.urlsplit(urls[i % 3])
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    body = json.dumps({"model": "chat", "max_tokens": 2000, "messages": [{"role": "user", "content": f"Write about {i}."}]})
    c.request("POST", "/v1/chat/completions", body, {"authorization": f"Bearer {key}", "content-type": "application/json"})
    r = c.getresponse(); data = json.loads(r.read() or b"{}")
    with lock: out[(r.status, (data.get("error") or {}).get("code"))] += 1
ts = [threading.Thread(target=one, args=(i,)) for i in range(300)]
[t.start() for t in ts]; [t.join() for t in ts]
print("answers:", dict(out))
for u in urls:
    uu = urllib.parse.urlsplit(u); c = http.client.HTTPConnection(uu.hostname, uu.port)
    c.request("GET", "/v1/status", headers={"authorization": f"Bearer {key}"}); f = json.loads(c.getresponse().read())["fleet"]
    print(u, "mode", f["mode"], "replicas", f["replicas"], "fallback", f["fallback_admissions"])
PY
sleep 1.5
for p in "${PIDS[@]:1}"; do kill $p; done; wait "${PIDS[@]:1}" 2>/dev/null || true
python3 - "$W/ledger.db" <<'PY'
import sqlite3, sys, decimal
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT cost_usd FROM requests WHERE key_id IS NOT NULL AND cost_usd IS NOT NULL").fetchall()
spent = sum(decimal.Decimal(r[0]) for r in rows)
print("ledger spend", spent, "budget 0.05", "overspend", max(decimal.Decimal(0), spent - decimal.Decimal("0.05")))
PY
echo "redis holds left:"; for k in $(redis-cli --scan --pattern "${PREFIX}k*:b:*"); do redis-cli hgetall "$k" | paste - - | tr '\n' ' '; echo; done
redis-cli --scan --pattern "${PREFIX}*" | xargs -r redis-cli del >/dev/null
