//! Tables and their migrations.

use rusqlite::Connection;

const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    r#"
    CREATE TABLE captures (
        id TEXT PRIMARY KEY,
        ts_ms INTEGER NOT NULL,
        workload TEXT,
        route TEXT NOT NULL,
        provider TEXT,
        model TEXT,
        key_id TEXT,
        team TEXT,
        tags TEXT NOT NULL,
        dialect TEXT NOT NULL,
        request TEXT NOT NULL,
        output_text TEXT NOT NULL,
        tool_calls TEXT NOT NULL,
        cost_usd TEXT,
        latency_ms REAL NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL
    );
    CREATE INDEX captures_by_workload ON captures (workload, ts_ms);
    CREATE INDEX captures_by_ts ON captures (ts_ms);

    CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        source TEXT NOT NULL,
        workload TEXT,
        item_count INTEGER NOT NULL,
        scorers TEXT NOT NULL,
        UNIQUE (name, version)
    );
    CREATE TABLE dataset_items (
        dataset_id TEXT NOT NULL REFERENCES datasets (id),
        idx INTEGER NOT NULL,
        item TEXT NOT NULL,
        PRIMARY KEY (dataset_id, idx)
    );
    CREATE TRIGGER dataset_items_immutable_update BEFORE UPDATE ON dataset_items
    BEGIN SELECT RAISE(ABORT, 'datasets are immutable: create a new version'); END;
    CREATE TRIGGER dataset_items_immutable_delete BEFORE DELETE ON dataset_items
    BEGIN SELECT RAISE(ABORT, 'datasets are immutable: create a new version'); END;
    CREATE TRIGGER datasets_immutable_update BEFORE UPDATE ON datasets
    BEGIN SELECT RAISE(ABORT, 'datasets are immutable: create a new version'); END;

    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        created_ms INTEGER NOT NULL,
        dataset_id TEXT NOT NULL,
        workload TEXT,
        candidate TEXT NOT NULL,
        baseline TEXT NOT NULL,
        verdict TEXT NOT NULL,
        report TEXT NOT NULL
    );
    CREATE INDEX runs_by_candidate ON runs (workload, candidate, created_ms);

    CREATE TABLE shadow_results (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts_ms INTEGER NOT NULL,
        workload TEXT,
        route TEXT NOT NULL,
        primary_model TEXT NOT NULL,
        candidate TEXT NOT NULL,
        primary_score REAL NOT NULL,
        candidate_score REAL NOT NULL,
        primary_cost_usd REAL,
        candidate_cost_usd REAL,
        primary_latency_ms REAL NOT NULL,
        candidate_latency_ms REAL NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX shadow_by_candidate ON shadow_results (workload, candidate, ts_ms);
    "#,
)];

pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS eval_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)",
    )?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM eval_migrations",
        [],
        |r| r.get(0),
    )?;
    for (version, sql) in MIGRATIONS {
        if *version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO eval_migrations (version, applied_ms) VALUES (?1, ?2)",
            rusqlite::params![version, chrono::Utc::now().timestamp_millis()],
        )?;
        tx.commit()?;
    }
    Ok(())
}
