//! The SQLite backend's row readers.

use crate::store::{CaptureCells, RunCells, from_ms, json_of};
use crate::{DatasetInfo, ShadowResult, StoreError};
use serde_json::Value;

pub(super) fn read_capture(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaptureCells> {
    Ok(CaptureCells {
        id: r.get(0)?,
        ts_ms: r.get(1)?,
        workload: r.get(2)?,
        route: r.get(3)?,
        provider: r.get(4)?,
        model: r.get(5)?,
        key_id: r.get(6)?,
        team: r.get(7)?,
        tags: r.get(8)?,
        dialect: r.get(9)?,
        request: r.get(10)?,
        output_text: r.get(11)?,
        tool_calls: r.get(12)?,
        cost_usd: r.get(13)?,
        latency_ms: r.get(14)?,
        input_tokens: r.get(15)?,
        output_tokens: r.get(16)?,
    })
}

pub(super) fn read_dataset(r: &rusqlite::Row<'_>) -> rusqlite::Result<(DatasetInfo, String)> {
    Ok((
        DatasetInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            version: r.get(2)?,
            created: from_ms(r.get(3)?),
            source: r.get(4)?,
            workload: r.get(5)?,
            item_count: r.get::<_, i64>(6)?.max(0) as usize,
            scorers: Value::Null,
        },
        r.get(7)?,
    ))
}

pub(super) fn with_scorers(
    (info, scorers): (DatasetInfo, String),
) -> Result<DatasetInfo, StoreError> {
    Ok(DatasetInfo {
        scorers: json_of(&scorers, &format!("dataset {}", info.id))?,
        ..info
    })
}

pub(super) fn read_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunCells> {
    Ok(RunCells {
        id: r.get(0)?,
        created_ms: r.get(1)?,
        dataset_id: r.get(2)?,
        workload: r.get(3)?,
        candidate: r.get(4)?,
        baseline: r.get(5)?,
        verdict: r.get(6)?,
        report: r.get(7)?,
    })
}

/// A shadow result from `SHADOW_COLUMNS` starting at column `at`.
pub(super) fn read_shadow(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<ShadowResult> {
    Ok(ShadowResult {
        ts: from_ms(r.get(at)?),
        workload: r.get(at + 1)?,
        route: r.get(at + 2)?,
        primary_model: r.get(at + 3)?,
        candidate: r.get(at + 4)?,
        primary_score: r.get(at + 5)?,
        candidate_score: r.get(at + 6)?,
        primary_cost_usd: r.get(at + 7)?,
        candidate_cost_usd: r.get(at + 8)?,
        primary_latency_ms: r.get(at + 9)?,
        candidate_latency_ms: r.get(at + 10)?,
        detail: r.get(at + 11)?,
        request_id: r.get(at + 12)?,
    })
}
