//! Ordered, append-only schema migrations. Never edit a shipped migration; add a new one.
//!
//! Each step has an explicit version, so branches developed in parallel can each claim a
//! number (9 is the savings work's; 10 is the virtual keys'; 11 the batch line claims; 12 is
//! `ledger copy`'s; 13 the routing lever's); a database gets every step it
//! has not applied yet, in version order.

use crate::schema_pg as pg;
use rusqlite::Connection;

/// One schema change, in each backend's SQL (PostgreSQL's in `schema_pg.rs`).
pub(crate) struct Step {
    pub(crate) version: i64,
    pub(crate) sqlite: &'static str,
    pub(crate) postgres: &'static str,
}

const fn step(version: i64, postgres: &'static str, sqlite: &'static str) -> Step {
    Step {
        version,
        sqlite,
        postgres,
    }
}

pub(crate) const STEPS: &[Step] = &[
    // 1: requests and their hourly rollup.
    step(
        1,
        pg::V1,
        r#"
    CREATE TABLE requests (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        ts TEXT NOT NULL,
        ts_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        workload TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        key_id TEXT,
        team TEXT,
        route TEXT NOT NULL,
        provider TEXT,
        model TEXT,
        status INTEGER NOT NULL,
        error_class TEXT,
        streamed INTEGER NOT NULL,
        shadow INTEGER NOT NULL DEFAULT 0,
        features TEXT NOT NULL DEFAULT '',
        input_tokens INTEGER NOT NULL,
        cached_input_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost_usd TEXT,
        price_version TEXT,
        latency_ms REAL NOT NULL,
        ttft_ms REAL,
        overhead_us INTEGER NOT NULL,
        usage_estimated INTEGER NOT NULL,
        attempts TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX requests_ts ON requests(ts_ms);
    CREATE TABLE rollup_hourly (
        hour TEXT NOT NULL,
        workload TEXT NOT NULL,
        route TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        key_id TEXT NOT NULL,
        team TEXT NOT NULL,
        shadow INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        streamed INTEGER NOT NULL,
        estimated INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        cached_input_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost_usd TEXT NOT NULL,
        latency_ms_sum REAL NOT NULL,
        ttft_ms_sum REAL NOT NULL,
        ttft_count INTEGER NOT NULL,
        overhead_us_sum INTEGER NOT NULL,
        PRIMARY KEY (hour, workload, route, provider, model, key_id, team, shadow)
    ) WITHOUT ROWID;
    "#,
    ),
    // 2: aggregated and imported records. A record may stand for many requests
    // (`request_count`) and says where it came from (`source`). The rollup counts the requests
    // whose latency was measured and those with a gateway overhead apart, so averages are not
    // diluted by imported buckets that carry no timings; every row before this migration came
    // from the gateway, so both counts start equal to `requests`.
    step(
        2,
        pg::V2,
        r#"
    ALTER TABLE requests ADD COLUMN request_count INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE requests ADD COLUMN source TEXT NOT NULL DEFAULT 'gateway';
    ALTER TABLE rollup_hourly ADD COLUMN latency_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup_hourly ADD COLUMN overhead_count INTEGER NOT NULL DEFAULT 0;
    UPDATE rollup_hourly SET latency_count = requests, overhead_count = requests;
    "#,
    ),
    // 3: each workload's feature profile (the features its successful requests used and its
    // largest prompt), maintained by the writer so lock-in analysis never scans requests.
    // Backfilled from the requests already recorded.
    step(
        3,
        pg::V3,
        r#"
    CREATE TABLE workload_features (
        workload TEXT NOT NULL,
        features TEXT NOT NULL,
        shadow INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        max_prompt_tokens INTEGER NOT NULL,
        PRIMARY KEY (workload, features, shadow)
    ) WITHOUT ROWID;
    INSERT INTO workload_features
    SELECT COALESCE(workload, ''), features, shadow, SUM(request_count),
           MAX((input_tokens + cached_input_tokens + cache_write_tokens) / MAX(request_count, 1))
    FROM requests WHERE status < 400 GROUP BY 1, 2, 3;
    "#,
    ),
    // 4: prompt caching. Each record's stable-prefix fingerprint (system prompt and tools)
    // and its estimated tokens, and per hour × workload × provider × model × fingerprint the
    // requests that sent it and those that engaged the provider's prompt cache, maintained by
    // the writer so the report finds repeated prefixes sent uncached without scanning requests.
    // Older records carry no fingerprint; nothing to backfill.
    step(
        4,
        pg::V4,
        r#"
    ALTER TABLE requests ADD COLUMN prefix_hash TEXT;
    ALTER TABLE requests ADD COLUMN prefix_tokens INTEGER;
    CREATE TABLE prompt_prefixes (
        hour TEXT NOT NULL,
        workload TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        prefix_hash TEXT NOT NULL,
        shadow INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        prefix_tokens INTEGER NOT NULL,
        cached_requests INTEGER NOT NULL,
        PRIMARY KEY (hour, workload, provider, model, prefix_hash, shadow)
    ) WITHOUT ROWID;
    "#,
    ),
    // 5: cascade routing. The tier that answered and the cost at the top tier's prices, on
    // the requests a cascade route served (NULL elsewhere); a partial index keeps the cascade
    // report off the rest of the table.
    step(
        5,
        pg::V5,
        r#"
    ALTER TABLE requests ADD COLUMN cascade_tier INTEGER;
    ALTER TABLE requests ADD COLUMN cascade_baseline_usd TEXT;
    CREATE INDEX requests_cascade ON requests (ts_ms) WHERE cascade_tier IS NOT NULL;
    "#,
    ),
    // 6: answers served from a cache. A record says which cache served it (`exact`,
    // `semantic`) and what the original answer would cost today (`saved_usd`, decimal text);
    // the rollup counts hits and sums savings per lever, so "savings by lever" stays
    // rollup-only. Rows before migration 6 were never cache hits.
    step(
        6,
        pg::V6,
        r#"
    ALTER TABLE requests ADD COLUMN cache TEXT;
    ALTER TABLE requests ADD COLUMN saved_usd TEXT;
    ALTER TABLE rollup_hourly ADD COLUMN exact_hits INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup_hourly ADD COLUMN exact_saved_usd TEXT NOT NULL DEFAULT '0';
    ALTER TABLE rollup_hourly ADD COLUMN semantic_hits INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup_hourly ADD COLUMN semantic_saved_usd TEXT NOT NULL DEFAULT '0';
    "#,
    ),
    // 7: batch (issue 12 item 5): requests sent as part of a batch, and the batch API's own
    // state: uploaded and produced files, batch jobs, and one row per input line so a
    // restart resumes a batch without re-running the lines already answered.
    step(
        7,
        pg::V7,
        r#"
    ALTER TABLE requests ADD COLUMN batch INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE batch_files (
        id TEXT PRIMARY KEY,
        owner TEXT,
        purpose TEXT NOT NULL,
        filename TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        content BLOB NOT NULL
    );
    CREATE TABLE batch_jobs (
        id TEXT PRIMARY KEY,
        owner TEXT,
        seq INTEGER NOT NULL,
        endpoint TEXT NOT NULL,
        input_file_id TEXT NOT NULL,
        completion_window TEXT NOT NULL,
        metadata TEXT,
        status TEXT NOT NULL,
        output_file_id TEXT,
        error_file_id TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        in_progress_at INTEGER,
        finalizing_at INTEGER,
        completed_at INTEGER,
        failed_at INTEGER,
        cancelling_at INTEGER,
        cancelled_at INTEGER,
        expired_at INTEGER,
        errors TEXT
    );
    CREATE INDEX batch_jobs_seq ON batch_jobs(seq);
    CREATE TABLE batch_lines (
        batch_id TEXT NOT NULL,
        line INTEGER NOT NULL,
        custom_id TEXT,
        state TEXT NOT NULL,
        body TEXT,
        result TEXT,
        upstream TEXT,
        PRIMARY KEY (batch_id, line)
    ) WITHOUT ROWID;
    "#,
    ),
    // 8: the batch lever (issue 12 items 5 and 7). A line a provider's batch API answered
    // carries `saved_usd` = its list price minus the discounted cost recorded; a line the
    // pipeline ran (list price) has none. A partial index keeps the savings query off the rest
    // of the table, as the cascade report's does.
    step(
        8,
        pg::V8,
        r#"
    CREATE INDEX requests_batch ON requests (ts_ms) WHERE batch = 1;
    "#,
    ),
    // 9: the savings ledger's "still on the table" (issue 12 item 6). Each gateway record's
    // request fingerprint (XXH3-128 of what determines the answer, 32 hex digits), so exact
    // duplicates of an earlier request on the same route that no cache answered can be found
    // and priced. The partial index serves that lookup (same fingerprint and route, an
    // earlier time) and costs nothing on records without a fingerprint. Older records carry
    // none; nothing to backfill.
    step(
        9,
        pg::V9,
        r#"
    ALTER TABLE requests ADD COLUMN fingerprint TEXT;
    CREATE INDEX requests_fingerprint ON requests (fingerprint, route, ts_ms)
        WHERE fingerprint IS NOT NULL;
    "#,
    ),
    // 10: virtual keys (governance's, SQL here since the store split): a key's digest, display
    // prefix, settings as JSON and lifecycle, and a counter every change bumps. `IF NOT
    // EXISTS`: files written before this step already hold the tables governance created.
    step(
        10,
        pg::V10,
        r#"
    CREATE TABLE IF NOT EXISTS virtual_keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at TEXT NOT NULL,
        rotated_at TEXT,
        revoked_at TEXT
    );
    CREATE TABLE IF NOT EXISTS virtual_keys_version (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        version INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO virtual_keys_version (singleton, version) VALUES (1, 0);
    "#,
    ),
    // 11: batch lines claimed with a lease (issue 13), so replicas sharing the batch tables
    // never run a line twice: the runner's owner id and when its claim runs out (Unix ms).
    // A line's claim is cleared when it is answered, so the partial index holds only the
    // lines in flight.
    step(
        11,
        pg::V11,
        r#"
    ALTER TABLE batch_lines ADD COLUMN claimed_by TEXT;
    ALTER TABLE batch_lines ADD COLUMN lease_until_ms INTEGER;
    CREATE INDEX batch_lines_claimed ON batch_lines (claimed_by) WHERE claimed_by IS NOT NULL;
    "#,
    ),
    // 12: `switchyard ledger copy` (issue 13 item 2). Per source ledger copied into this one
    // and per section, how far the copy got (`last_id`: the source's last record id copied)
    // and what it noted (the target's figures before the first run, for verification), so a
    // copy killed half-way continues where it stopped.
    step(
        12,
        pg::V12,
        r#"
    CREATE TABLE ledger_copies (
        source TEXT NOT NULL,
        section TEXT NOT NULL,
        last_id INTEGER NOT NULL,
        note TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (source, section)
    );
    "#,
    ),
    // 13: the routing lever (issue 12 item 6). On a request a cost-aware (`lowest-cost`) route
    // served: the same usage priced at the route's baseline target (its first configured
    // target) with the catalog in force, so the savings report can sum baseline minus paid.
    // The partial index keeps that sum on the routed rows. Older records carry none.
    step(
        13,
        pg::V13,
        r#"
    ALTER TABLE requests ADD COLUMN routing_baseline_usd TEXT;
    CREATE INDEX requests_routing ON requests (ts_ms) WHERE routing_baseline_usd IS NOT NULL;
    "#,
    ),
    // 14: what a cascade's judge checks cost (issue 12 item 4). Each judge call is a record of
    // its own on the judge route; the cascade request's record carries their sum too, so the
    // cascade report subtracts it from the saving against "always the top tier" without
    // finding the judge records (their tags are not indexed). It rides the cascade's partial
    // index; older records carry none (read as no judge spend).
    step(
        14,
        pg::V14,
        r#"
    ALTER TABLE requests ADD COLUMN cascade_judged_usd TEXT;
    "#,
    ),
    // 15: Responses API conversation state (issue 15): one row per stored response, the key
    // that made it (`''` for the master key or an open gateway), its expiry (the retention
    // setting), the response object, the request's input items and the whole conversation so
    // far as input items, so a `previous_response_id` is one lookup by primary key. Expired
    // rows are purged by `expires_at`.
    step(
        15,
        pg::V15,
        r#"
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        response TEXT NOT NULL,
        input_items TEXT NOT NULL,
        conversation TEXT NOT NULL
    );
    CREATE INDEX responses_expiry ON responses (expires_at);
    "#,
    ),
];

/// Applies every migration not yet applied, each in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    migrate_to(conn, latest())
}

/// Applies the migrations up to `target` (tests build older schemas with it).
pub(crate) fn migrate_to(conn: &mut Connection, target: i64) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    let applied: Vec<i64> = {
        let mut stmt = conn.prepare("SELECT version FROM schema_migrations")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    for s in STEPS {
        if applied.contains(&s.version) || s.version > target {
            continue;
        }
        let version = s.version;
        let tx = conn.transaction()?;
        tx.execute_batch(s.sqlite)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            rusqlite::params![version, chrono::Utc::now().to_rfc3339()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// The newest schema version this build knows.
pub(crate) fn latest() -> i64 {
    STEPS.iter().map(|s| s.version).max().unwrap_or(0)
}
