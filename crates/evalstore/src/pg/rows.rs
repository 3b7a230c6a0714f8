//! The PostgreSQL backend's rows: column lists, readers and (idempotent) inserts, shared by
//! the store's own writes and a copy's.

use crate::copy::Row;
use crate::store::{CaptureCells, RunCells, capture_texts, from_ms, json_of, ms};
use crate::{Capture, DatasetInfo, RunRecord, ShadowResult, StoreError};
use postgres::GenericClient;

pub(super) const CAPTURE_COLUMNS: &str = "id, ts_ms, workload, route, provider, model, key_id, team, tags, dialect, request, output_text, tool_calls, cost_usd::TEXT, latency_ms, input_tokens, output_tokens";
const CAPTURE_INSERT: &str = "INSERT INTO captures (id, ts_ms, workload, route, provider, model, key_id, team, tags, dialect, request, output_text, tool_calls, cost_usd, latency_ms, input_tokens, output_tokens)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::TEXT::NUMERIC, $15, $16, $17)
     ON CONFLICT DO NOTHING";
pub(super) const DATASET_COLUMNS: &str =
    "id, name, version, created_ms, source, workload, item_count, scorers";
pub(super) const RUN_COLUMNS: &str =
    "id, created_ms, dataset_id, workload, candidate, baseline, verdict, report";
pub(super) const SHADOW_COLUMNS: &str = "ts_ms, workload, route, primary_model, candidate, primary_score, candidate_score, primary_cost_usd, candidate_cost_usd, primary_latency_ms, candidate_latency_ms, detail, request_id";

pub(super) fn read_capture(r: &postgres::Row) -> CaptureCells {
    CaptureCells {
        id: r.get(0),
        ts_ms: r.get(1),
        workload: r.get(2),
        route: r.get(3),
        provider: r.get(4),
        model: r.get(5),
        key_id: r.get(6),
        team: r.get(7),
        tags: r.get(8),
        dialect: r.get(9),
        request: r.get(10),
        output_text: r.get(11),
        tool_calls: r.get(12),
        cost_usd: r.get(13),
        latency_ms: r.get(14),
        input_tokens: r.get(15),
        output_tokens: r.get(16),
    }
}

pub(super) fn read_dataset(r: &postgres::Row) -> Result<DatasetInfo, StoreError> {
    let id: String = r.get(0);
    Ok(DatasetInfo {
        scorers: json_of(&r.get::<_, String>(7), &format!("dataset {id}"))?,
        name: r.get(1),
        version: r.get(2),
        created: from_ms(r.get(3)),
        source: r.get(4),
        workload: r.get(5),
        item_count: r.get::<_, i64>(6).max(0) as usize,
        id,
    })
}

pub(super) fn read_run(r: &postgres::Row) -> RunCells {
    RunCells {
        id: r.get(0),
        created_ms: r.get(1),
        dataset_id: r.get(2),
        workload: r.get(3),
        candidate: r.get(4),
        baseline: r.get(5),
        verdict: r.get(6),
        report: r.get(7),
    }
}

pub(super) fn read_shadow(r: &postgres::Row, at: usize) -> ShadowResult {
    ShadowResult {
        ts: from_ms(r.get(at)),
        workload: r.get(at + 1),
        route: r.get(at + 2),
        primary_model: r.get(at + 3),
        candidate: r.get(at + 4),
        primary_score: r.get(at + 5),
        candidate_score: r.get(at + 6),
        primary_cost_usd: r.get(at + 7),
        candidate_cost_usd: r.get(at + 8),
        primary_latency_ms: r.get(at + 9),
        candidate_latency_ms: r.get(at + 10),
        detail: r.get(at + 11),
        request_id: r.get(at + 12),
    }
}

pub(super) fn insert_capture(
    c: &mut impl GenericClient,
    cap: &Capture,
) -> Result<u64, postgres::Error> {
    let [tags, request, tool_calls] = capture_texts(cap);
    c.execute(
        CAPTURE_INSERT,
        &[
            &cap.id,
            &ms(cap.ts),
            &cap.workload,
            &cap.route,
            &cap.provider,
            &cap.model,
            &cap.key_id,
            &cap.team,
            &tags,
            &cap.dialect,
            &request,
            &cap.output_text,
            &tool_calls,
            &cap.cost_usd.map(|m| m.to_string()),
            &cap.latency_ms,
            &(cap.input_tokens as i64),
            &(cap.output_tokens as i64),
        ],
    )
}

pub(super) fn insert_dataset(
    c: &mut impl GenericClient,
    d: &DatasetInfo,
) -> Result<u64, postgres::Error> {
    c.execute(
        &format!(
            "INSERT INTO datasets ({DATASET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
        ),
        &[
            &d.id,
            &d.name,
            &d.version,
            &ms(d.created),
            &d.source,
            &d.workload,
            &(d.item_count as i64),
            &d.scorers.to_string(),
        ],
    )
}

pub(super) fn insert_run(
    c: &mut impl GenericClient,
    run: &RunRecord,
    ignore: bool,
) -> Result<u64, postgres::Error> {
    let tail = if ignore {
        " ON CONFLICT DO NOTHING"
    } else {
        ""
    };
    c.execute(
        &format!("INSERT INTO runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8){tail}"),
        &[
            &run.id,
            &ms(run.created),
            &run.dataset_id,
            &run.workload,
            &run.candidate,
            &run.baseline,
            &run.verdict,
            &run.report.to_string(),
        ],
    )
}

/// Inserts a shadow result, idempotently (by `request_id`, and by `id` when given: a copy
/// keeps the source's ids).
pub(super) fn insert_shadow(
    c: &mut impl GenericClient,
    id: Option<i64>,
    s: &ShadowResult,
) -> Result<u64, postgres::Error> {
    let (cols, id_value) = match id {
        Some(_) => ("id, ", "$14, "),
        None => ("", ""),
    };
    let sql = format!(
        "INSERT INTO shadow_results ({cols}{SHADOW_COLUMNS})
         VALUES ({id_value}$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING"
    );
    let ts = ms(s.ts);
    let mut args: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![
        &ts,
        &s.workload,
        &s.route,
        &s.primary_model,
        &s.candidate,
        &s.primary_score,
        &s.candidate_score,
        &s.primary_cost_usd,
        &s.candidate_cost_usd,
        &s.primary_latency_ms,
        &s.candidate_latency_ms,
        &s.detail,
        &s.request_id,
    ];
    if let Some(id) = id.as_ref() {
        args.push(id);
    }
    c.execute(&sql, &args)
}

pub(super) fn insert_row(c: &mut impl GenericClient, row: &Row) -> Result<u64, postgres::Error> {
    match row {
        Row::Capture(cap) => insert_capture(c, cap),
        Row::Dataset(d) => insert_dataset(c, d),
        Row::DatasetItem {
            dataset_id,
            idx,
            item,
        } => c.execute(
            "INSERT INTO dataset_items (dataset_id, idx, item) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[dataset_id, idx, item],
        ),
        Row::Run(r) => insert_run(c, r, true),
        Row::Shadow { id, result } => insert_shadow(c, Some(*id), result),
    }
}
