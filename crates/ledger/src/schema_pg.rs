//! The PostgreSQL text of each migration step in `schema.rs` (same versions, same tables and
//! columns). Differences from SQLite, all deliberate: booleans are `BOOLEAN`; money is
//! `NUMERIC` (exact, so the rollup's sums are atomic `+` in SQL and two replicas writing the
//! same cell cannot lose an update); `BIGSERIAL` ids; `BYTEA` for file contents.

pub(crate) const V1: &str = r#"
    CREATE TABLE requests (
        id BIGSERIAL PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        ts TEXT NOT NULL,
        ts_ms BIGINT NOT NULL,
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
        streamed BOOLEAN NOT NULL,
        shadow BOOLEAN NOT NULL DEFAULT FALSE,
        features TEXT NOT NULL DEFAULT '',
        input_tokens BIGINT NOT NULL,
        cached_input_tokens BIGINT NOT NULL,
        cache_write_tokens BIGINT NOT NULL,
        cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL,
        reasoning_tokens BIGINT NOT NULL,
        cost_usd NUMERIC,
        price_version TEXT,
        latency_ms DOUBLE PRECISION NOT NULL,
        ttft_ms DOUBLE PRECISION,
        overhead_us BIGINT NOT NULL,
        usage_estimated BOOLEAN NOT NULL,
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
        shadow BOOLEAN NOT NULL,
        requests BIGINT NOT NULL,
        errors BIGINT NOT NULL,
        streamed BIGINT NOT NULL,
        estimated BIGINT NOT NULL,
        input_tokens BIGINT NOT NULL,
        cached_input_tokens BIGINT NOT NULL,
        cache_write_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        reasoning_tokens BIGINT NOT NULL,
        cost_usd NUMERIC NOT NULL,
        latency_ms_sum DOUBLE PRECISION NOT NULL,
        ttft_ms_sum DOUBLE PRECISION NOT NULL,
        ttft_count BIGINT NOT NULL,
        overhead_us_sum BIGINT NOT NULL,
        PRIMARY KEY (hour, workload, route, provider, model, key_id, team, shadow)
    );
"#;

pub(crate) const V2: &str = r#"
    ALTER TABLE requests ADD COLUMN request_count BIGINT NOT NULL DEFAULT 1;
    ALTER TABLE requests ADD COLUMN source TEXT NOT NULL DEFAULT 'gateway';
    ALTER TABLE rollup_hourly ADD COLUMN latency_count BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE rollup_hourly ADD COLUMN overhead_count BIGINT NOT NULL DEFAULT 0;
    UPDATE rollup_hourly SET latency_count = requests, overhead_count = requests;
"#;

pub(crate) const V3: &str = r#"
    CREATE TABLE workload_features (
        workload TEXT NOT NULL,
        features TEXT NOT NULL,
        shadow BOOLEAN NOT NULL,
        requests BIGINT NOT NULL,
        max_prompt_tokens BIGINT NOT NULL,
        PRIMARY KEY (workload, features, shadow)
    );
    INSERT INTO workload_features
    SELECT COALESCE(workload, ''), features, shadow, SUM(request_count),
           MAX((input_tokens + cached_input_tokens + cache_write_tokens) / GREATEST(request_count, 1))
    FROM requests WHERE status < 400 GROUP BY 1, 2, 3;
"#;

pub(crate) const V4: &str = r#"
    ALTER TABLE requests ADD COLUMN prefix_hash TEXT;
    ALTER TABLE requests ADD COLUMN prefix_tokens BIGINT;
    CREATE TABLE prompt_prefixes (
        hour TEXT NOT NULL,
        workload TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        prefix_hash TEXT NOT NULL,
        shadow BOOLEAN NOT NULL,
        requests BIGINT NOT NULL,
        prefix_tokens BIGINT NOT NULL,
        cached_requests BIGINT NOT NULL,
        PRIMARY KEY (hour, workload, provider, model, prefix_hash, shadow)
    );
"#;

pub(crate) const V5: &str = r#"
    ALTER TABLE requests ADD COLUMN cascade_tier BIGINT;
    ALTER TABLE requests ADD COLUMN cascade_baseline_usd NUMERIC;
    CREATE INDEX requests_cascade ON requests (ts_ms) WHERE cascade_tier IS NOT NULL;
"#;

pub(crate) const V6: &str = r#"
    ALTER TABLE requests ADD COLUMN cache TEXT;
    ALTER TABLE requests ADD COLUMN saved_usd NUMERIC;
    ALTER TABLE rollup_hourly ADD COLUMN exact_hits BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE rollup_hourly ADD COLUMN exact_saved_usd NUMERIC NOT NULL DEFAULT 0;
    ALTER TABLE rollup_hourly ADD COLUMN semantic_hits BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE rollup_hourly ADD COLUMN semantic_saved_usd NUMERIC NOT NULL DEFAULT 0;
"#;

pub(crate) const V7: &str = r#"
    ALTER TABLE requests ADD COLUMN batch BOOLEAN NOT NULL DEFAULT FALSE;
    CREATE TABLE batch_files (
        id TEXT PRIMARY KEY,
        owner TEXT,
        purpose TEXT NOT NULL,
        filename TEXT NOT NULL,
        bytes BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        content BYTEA NOT NULL
    );
    CREATE TABLE batch_jobs (
        id TEXT PRIMARY KEY,
        owner TEXT,
        seq BIGINT NOT NULL,
        endpoint TEXT NOT NULL,
        input_file_id TEXT NOT NULL,
        completion_window TEXT NOT NULL,
        metadata TEXT,
        status TEXT NOT NULL,
        output_file_id TEXT,
        error_file_id TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        in_progress_at BIGINT,
        finalizing_at BIGINT,
        completed_at BIGINT,
        failed_at BIGINT,
        cancelling_at BIGINT,
        cancelled_at BIGINT,
        expired_at BIGINT,
        errors TEXT
    );
    CREATE INDEX batch_jobs_seq ON batch_jobs(seq);
    CREATE TABLE batch_lines (
        batch_id TEXT NOT NULL,
        line BIGINT NOT NULL,
        custom_id TEXT,
        state TEXT NOT NULL,
        body TEXT,
        result TEXT,
        upstream TEXT,
        PRIMARY KEY (batch_id, line)
    );
"#;

pub(crate) const V8: &str = r#"
    CREATE INDEX requests_batch ON requests (ts_ms) WHERE batch;
"#;

pub(crate) const V9: &str = r#"
    ALTER TABLE requests ADD COLUMN fingerprint TEXT;
    CREATE INDEX requests_fingerprint ON requests (fingerprint, route, ts_ms)
        WHERE fingerprint IS NOT NULL;
"#;

pub(crate) const V10: &str = r#"
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
        version BIGINT NOT NULL
    );
    INSERT INTO virtual_keys_version (singleton, version) VALUES (1, 0) ON CONFLICT DO NOTHING;
"#;

pub(crate) const V11: &str = r#"
    ALTER TABLE batch_lines ADD COLUMN claimed_by TEXT;
    ALTER TABLE batch_lines ADD COLUMN lease_until_ms BIGINT;
    CREATE INDEX batch_lines_claimed ON batch_lines (claimed_by) WHERE claimed_by IS NOT NULL;
"#;

pub(crate) const V12: &str = r#"
    CREATE TABLE ledger_copies (
        source TEXT NOT NULL,
        section TEXT NOT NULL,
        last_id BIGINT NOT NULL,
        note TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (source, section)
    );
"#;

pub(crate) const V13: &str = r#"
    ALTER TABLE requests ADD COLUMN routing_baseline_usd NUMERIC;
    CREATE INDEX requests_routing ON requests (ts_ms) WHERE routing_baseline_usd IS NOT NULL;
"#;

pub(crate) const V14: &str = r#"
    ALTER TABLE requests ADD COLUMN cascade_judged_usd NUMERIC;
"#;

pub(crate) const V15: &str = r#"
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        response TEXT NOT NULL,
        input_items TEXT NOT NULL,
        conversation TEXT NOT NULL
    );
    CREATE INDEX responses_expiry ON responses (expires_at);
"#;
