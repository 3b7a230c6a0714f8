//! The eval store's tables and their migrations for both backends, from one ordered list
//! (PostgreSQL's text in `schema_pg.rs`). Never edit a shipped step; add a new one. Each
//! backend records what it applied in `eval_migrations`, apart from the ledger's
//! `schema_migrations`, so the two stores may share one database and migrate on their own.

use crate::schema_pg as pg;
use rusqlite::Connection;

/// One schema change, in each backend's SQL.
pub(crate) struct Step {
    pub(crate) version: i64,
    pub(crate) sqlite: &'static str,
    pub(crate) postgres: &'static str,
}

pub(crate) const STEPS: &[Step] = &[
    // 1: captures, immutable versioned datasets, replay runs and shadow results.
    Step {
        version: 1,
        postgres: pg::V1,
        sqlite: r#"
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
    },
    // 2: a shadow result's request id, unique, so one replayed from the spool is written once.
    Step {
        version: 2,
        postgres: pg::V2,
        sqlite: V2_SHADOW_REQUEST_ID,
    },
];

/// The same text on both backends (a nullable column; NULLs never conflict).
const V2_SHADOW_REQUEST_ID: &str = "
    ALTER TABLE shadow_results ADD COLUMN request_id TEXT;
    CREATE UNIQUE INDEX shadow_by_request ON shadow_results (request_id);
";

/// The newest version this build knows.
pub(crate) fn latest() -> i64 {
    STEPS.iter().map(|s| s.version).max().unwrap_or(0)
}

const TRACK: &str = "CREATE TABLE IF NOT EXISTS eval_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)";

/// Applies every SQLite step not yet applied, each in its own transaction; returns the
/// version found before.
pub(crate) fn migrate_sqlite(conn: &mut Connection) -> rusqlite::Result<i64> {
    conn.execute_batch(TRACK)?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM eval_migrations",
        [],
        |r| r.get(0),
    )?;
    for s in STEPS.iter().filter(|s| s.version > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(s.sqlite)?;
        tx.execute(
            "INSERT INTO eval_migrations (version, applied_ms) VALUES (?1, ?2)",
            rusqlite::params![s.version, chrono::Utc::now().timestamp_millis()],
        )?;
        tx.commit()?;
    }
    Ok(current)
}

/// Applies every PostgreSQL step not yet applied, in one transaction under an advisory lock
/// so replicas starting together migrate once; returns the version found before.
pub(crate) fn migrate_postgres(c: &mut postgres::Client) -> Result<i64, postgres::Error> {
    let mut tx = c.transaction()?;
    // Any constant (not the ledger's): the eval store's migration lock.
    tx.execute("SELECT pg_advisory_xact_lock(7468295320)", &[])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS eval_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
    )?;
    let current: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM eval_migrations", &[])?
        .get(0);
    for s in STEPS.iter().filter(|s| s.version > current) {
        tx.batch_execute(s.postgres)?;
        tx.execute(
            "INSERT INTO eval_migrations (version, applied_ms) VALUES ($1, $2)",
            &[&s.version, &chrono::Utc::now().timestamp_millis()],
        )?;
    }
    tx.commit()?;
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_sqlite_store_with_shadow_results_is_migrated_and_keeps_them() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(TRACK).unwrap();
        conn.execute_batch(STEPS[0].sqlite).unwrap();
        conn.execute(
            "INSERT INTO eval_migrations (version, applied_ms) VALUES (1, 0)",
            [],
        )
        .unwrap();
        conn.execute_batch(
            "INSERT INTO shadow_results (ts_ms, route, primary_model, candidate, primary_score, candidate_score, primary_latency_ms, candidate_latency_ms, detail)
             VALUES (1, 'r', 'm', 'c', 1, 0.5, 10, 9, ''), (2, 'r', 'm', 'c', 1, 0.5, 10, 9, '')",
        )
        .unwrap();
        assert_eq!(migrate_sqlite(&mut conn).unwrap(), 1, "found at version 1");
        assert_eq!(
            migrate_sqlite(&mut conn).unwrap(),
            latest(),
            "then up to date"
        );
        let rows: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM shadow_results WHERE request_id IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 2, "old results keep no request id and never conflict");
        let dup = "INSERT INTO shadow_results (ts_ms, route, primary_model, candidate, primary_score, candidate_score, primary_latency_ms, candidate_latency_ms, detail, request_id)
             VALUES (3, 'r', 'm', 'c', 1, 0.5, 10, 9, '', 'req_1')";
        conn.execute_batch(dup).unwrap();
        assert!(
            conn.execute_batch(dup).is_err(),
            "one result per request id"
        );
    }
}
