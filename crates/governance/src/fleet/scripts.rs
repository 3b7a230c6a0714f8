//! The Lua scripts that make each fleet operation one atomic step in Redis, and how they are
//! invoked (`EVALSHA`, falling back to `EVAL` when the server lost its script cache).
//!
//! Amounts are integer nano-dollars passed and stored as decimal text, so Redis adds them
//! with `HINCRBY` (exact, 64-bit) and Lua only compares them (doubles, exact below 2^53 nano
//! = $9 million per period). Keys of one virtual key share a hash tag (`k{id}`), and a lease
//! record names the budget hashes it holds, so an expired lease can be undone by the script
//! that finds it.

use redis::aio::ConnectionManager;
use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use std::sync::LazyLock;

/// Undoes one lease: its hold on each budget it names and its in-flight prompt tokens.
/// Returns the record, or false when there was none (already settled or expired). A record's
/// parts are `worst|prompt|budget hash…`, then `@rpm bucket@interval ms` when the key has
/// an `rpm` limit (what [`SETTLE`] gives back for an admission that timed out).
const RELEASE: &str = r"
local function release(lz, lh, tk, id)
  local rec = redis.call('HGET', lh, id)
  redis.call('ZREM', lz, id)
  if not rec then return false end
  redis.call('HDEL', lh, id)
  local parts = {}
  for p in string.gmatch(rec, '[^|]+') do parts[#parts + 1] = p end
  for i = 3, #parts do
    if string.sub(parts[i], 1, 1) ~= '@' and parts[1] ~= '0' and redis.call('HINCRBY', parts[i], 'reserved', '-' .. parts[1]) < 0 then
      redis.call('HSET', parts[i], 'reserved', '0')
    end
  end
  if parts[2] ~= '0' and redis.call('HINCRBY', tk, 'inflight', '-' .. parts[2]) < 0 then
    redis.call('HSET', tk, 'inflight', '0')
  end
  return rec
end
";

/// Admission. KEYS: 1 lease zset, 2 lease hash, 3 rpm TAT, 4 tpm window, 5.. budget hashes.
/// ARGV: 1 now_ms, 2 replica id, 3 sequence number (the reservation is `replica:seq`), 4 lease
/// deadline ms, 5 worst case (nano), 6 prompt tokens, 7 rpm (0: none), 8 tpm (0: none), 9
/// lease-record TTL ms, then per budget: limit (nano), hard (1/0), TTL ms.
/// Replies integers only (nothing to parse on the caller's side): `{0, tat, tokens_used,
/// spent_1, reserved_1, …}` when admitted, `{1, retry_ms}` for `rpm`, `{2, retry_ms}` for
/// `tpm`, `{3}` for a prompt larger than `tpm`, `{4, spent_1, reserved_1, …}` for a budget.
const ADMIT: &str = r"
local now = tonumber(ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 64)) do
  release(KEYS[1], KEYS[2], KEYS[4], id)
end
local rpm, tpm, prompt = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[6])
local tat = 0
if rpm > 0 then
  tat = tonumber(redis.call('GET', KEYS[3]) or now)
  if tat < now then tat = now end
  if tat > now + 60000 then tat = now + 60000 end
  tat = tat + 60000 / rpm
  if tat - now > 60000 then return {1, math.ceil(tat - 60000 - now)} end
end
local used = 0
if tpm > 0 then
  if prompt > tpm then return {3} end
  local fields = redis.call('HGETALL', KEYS[4])
  local buckets, inflight = {}, 0
  for i = 1, #fields, 2 do
    local v = tonumber(fields[i + 1])
    if fields[i] == 'inflight' then
      inflight = math.max(v, 0)
    else
      local s = tonumber(fields[i])
      if (s + 1) * 1000 + 60000 <= now then
        redis.call('HDEL', KEYS[4], fields[i])
      else
        buckets[#buckets + 1] = {s, v}
        used = used + v
      end
    end
  end
  used = used + inflight
  if used + prompt > tpm then
    table.sort(buckets, function(a, b) return a[1] < b[1] end)
    local need, freed = used + prompt - tpm, 0
    for _, b in ipairs(buckets) do
      freed = freed + b[2]
      if freed >= need then return {2, (b[1] + 1) * 1000 + 60000 - now} end
    end
    return {2, 1000}
  end
  used = used + prompt
end
local worst, n = tonumber(ARGV[5]), #KEYS - 4
local out, over = {}, false
for i = 1, n do
  local spent = tonumber(redis.call('HGET', KEYS[4 + i], 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', KEYS[4 + i], 'reserved') or '0')
  if reserved < 0 then reserved = 0 end
  local base = 9 + (i - 1) * 3
  if ARGV[base + 2] == '1' and spent + reserved + worst > tonumber(ARGV[base + 1]) then
    over = true
  end
  out[#out + 1] = spent
  out[#out + 1] = reserved
end
if over then
  table.insert(out, 1, 4)
  return out
end
if rpm > 0 then
  redis.call('SET', KEYS[3], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
end
local id = ARGV[2] .. ':' .. ARGV[3]
local rec = ARGV[5] .. '|' .. (tpm > 0 and ARGV[6] or '0')
for i = 1, n do
  local base = 9 + (i - 1) * 3
  out[2 * i] = redis.call('HINCRBY', KEYS[4 + i], 'reserved', ARGV[5])
  redis.call('PEXPIRE', KEYS[4 + i], ARGV[base + 3])
  rec = rec .. '|' .. KEYS[4 + i]
end
if rpm > 0 then rec = rec .. '|@' .. KEYS[3] .. '@' .. (60000 / rpm) end
if tpm > 0 then
  redis.call('HINCRBY', KEYS[4], 'inflight', ARGV[6])
  redis.call('PEXPIRE', KEYS[4], 120000)
end
if n > 0 or tpm > 0 then
  redis.call('HSET', KEYS[2], id, rec)
  redis.call('ZADD', KEYS[1], ARGV[4], id)
  redis.call('PEXPIRE', KEYS[1], ARGV[9])
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
end
table.insert(out, 1, used)
table.insert(out, 1, math.ceil(tat))
table.insert(out, 1, 0)
return out
";

/// Settlement (or release, with a zero cost). KEYS: 1 lease zset, 2 lease hash, 3 tpm window,
/// 4.. budget hashes of the periods containing the settlement time. ARGV: 1 replica id, 2
/// sequence number, 3 actual cost (nano), 4 tokens for the tpm window, 5 now_ms, 6 flags:
/// +1 when this is a resend of a settlement that may already have run (its first send timed
/// out): then it counts only if its lease is still held, so it is never counted twice; +2
/// when the admission timed out (the request was refused, or admitted and counted under a
/// local share): if it did run (its lease is still held), the `rpm` slot it took is given
/// back, once; 7.. TTL ms per budget hash. Replies 1 when the lease was still held, 0 when it had expired or the
/// admission never reached Redis (the spend counts either way, unless ARGV[6] is `1`).
const SETTLE: &str = r"
local held = release(KEYS[1], KEYS[2], KEYS[3], ARGV[1] .. ':' .. ARGV[2])
local flags = tonumber(ARGV[6])
if flags % 2 == 1 and not held then return 0 end
if held and flags >= 2 then
  local bucket, interval = string.match(held, '|@([^@]+)@([%d%.]+)$')
  local tat = bucket and tonumber(redis.call('GET', bucket) or '')
  if tat then
    local now = tonumber(ARGV[5])
    tat = tat - tonumber(interval)
    if tat > now then
      redis.call('SET', bucket, tostring(tat), 'PX', math.ceil(tat - now) + 1000)
    else
      redis.call('DEL', bucket)
    end
  end
end
for i = 4, #KEYS do
  if ARGV[3] ~= '0' then redis.call('HINCRBY', KEYS[i], 'spent', ARGV[3]) end
  redis.call('PEXPIRE', KEYS[i], ARGV[i + 3])
end
if ARGV[4] ~= '0' then
  redis.call('HINCRBY', KEYS[3], tostring(math.floor(tonumber(ARGV[5]) / 1000)), ARGV[4])
  redis.call('PEXPIRE', KEYS[3], 120000)
end
if held then return 1 end
return 0
";

/// Reconciliation of one budget hash. KEYS: 1 budget hash. ARGV: 1 spend to add (nano, what
/// a replica settled while Redis was out), 2 the ledger's spend for the period (nano, or -1
/// for none), 3 TTL ms. Adds first, then raises `spent` to the ledger's figure if that is
/// higher. Replies the `spent` seen before the ledger comparison.
const RECONCILE: &str = r"
if ARGV[1] ~= '0' then redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1]) end
local spent = redis.call('HGET', KEYS[1], 'spent') or '0'
if tonumber(ARGV[2]) > tonumber(spent) then redis.call('HSET', KEYS[1], 'spent', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return spent
";

/// Heartbeat. KEYS: 1 replicas zset, 2 key-change version. ARGV: 1 replica id, 2 now_ms,
/// 3 the oldest heartbeat still live. Replies `{live replicas, key version}`.
const HEARTBEAT: &str = r"
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], 86400000)
return {tostring(redis.call('ZCARD', KEYS[1])), redis.call('GET', KEYS[2]) or '0'}
";

/// Requests admitted under a local share while Redis was out, added to the shared `rpm`
/// bucket when it is back. KEYS: 1 rpm TAT. ARGV: 1 now_ms, 2 requests, 3 rpm. The arrival
/// time moves by one interval per request, at most to a full minute ahead (an empty bucket).
const TAKE: &str = r"
local now, n, rpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
tat = math.min(tat + n * 60000 / rpm, now + 60000)
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
return 1
";

/// Gives back the `rpm` slot an admission took when its reply came too late to be used (a
/// key with only an `rpm` limit leaves no lease record for [`SETTLE`] to find; see `late`).
/// KEYS: 1 rpm TAT. ARGV: 1 now_ms, 2 the interval (ms). The arrival time moves back one
/// interval; at or before `now` the bucket is full again and the key is deleted.
const REFUND: &str = r"
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if not tat then return 0 end
local now = tonumber(ARGV[1])
tat = tat - tonumber(ARGV[2])
if tat > now then
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
else
  redis.call('DEL', KEYS[1])
end
return 1
";

/// A script and its SHA-1, as `EVALSHA` names it.
pub(crate) struct Script {
    source: String,
    sha: String,
}

pub(crate) static ADMIT_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(RELEASE, ADMIT));
pub(crate) static SETTLE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(RELEASE, SETTLE));
pub(crate) static RECONCILE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new("", RECONCILE));
pub(crate) static HEARTBEAT_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new("", HEARTBEAT));
pub(crate) static TAKE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new("", TAKE));
pub(crate) static REFUND_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new("", REFUND));

impl Script {
    fn new(prelude: &str, body: &str) -> Self {
        let source = format!("{prelude}{body}");
        let sha = digest(&SHA1_FOR_LEGACY_USE_ONLY, source.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Script { source, sha }
    }

    /// `EVALSHA sha numkeys`, for the caller to add the keys and arguments to (no strings
    /// built on the way: names are borrowed, numbers written straight into the command).
    pub(crate) fn start(&self, numkeys: usize) -> redis::Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&self.sha).arg(numkeys);
        cmd
    }

    /// `EVALSHA sha numkeys keys… args…` (the command a pipeline carries).
    pub(crate) fn cmd(&self, keys: &[String], args: &[String]) -> redis::Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&self.sha).arg(keys.len()).arg(keys).arg(args);
        cmd
    }

    /// Loads the script into the server's cache (after a restart emptied it).
    pub(crate) fn load_cmd(&self) -> redis::Cmd {
        let mut cmd = redis::cmd("SCRIPT");
        cmd.arg("LOAD").arg(&self.source);
        cmd
    }

    /// Runs the script: `EVALSHA`, then `EVAL` with the source if the server does not have it.
    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        conn: &mut ConnectionManager,
        keys: &[String],
        args: &[String],
    ) -> redis::RedisResult<T> {
        match self.cmd(keys, args).query_async(conn).await {
            Err(e) if is_noscript(&e) => {
                let mut eval = redis::cmd("EVAL");
                eval.arg(&self.source).arg(keys.len()).arg(keys).arg(args);
                eval.query_async(conn).await
            }
            other => other,
        }
    }
}

/// Whether the server answered that it does not know a script's SHA.
pub(crate) fn is_noscript(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
}

/// Every script, for loading after a reconnect.
pub(crate) fn all() -> [&'static Script; 6] {
    [
        &ADMIT_SCRIPT,
        &SETTLE_SCRIPT,
        &RECONCILE_SCRIPT,
        &HEARTBEAT_SCRIPT,
        &TAKE_SCRIPT,
        &REFUND_SCRIPT,
    ]
}
