//! Appending on PostgreSQL: records in multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING`
//! (so a re-sent record is skipped and only new ones reach the rollups), then the touched
//! rollup, feature-profile and prefix cells as multi-row upserts that add in SQL, all in one
//! transaction. Cells are written in key order so concurrent writers lock them in the same
//! order and cannot deadlock each other.

use super::PgStore;
use crate::rollup::{Rollup, hour_label};
use crate::{LedgerError, Record, RecordSink};
use postgres::Transaction;
use postgres::types::ToSql;
use std::collections::HashMap;

type Param = Box<dyn ToSql + Sync + Send>;

/// PostgreSQL takes at most 65,535 parameters per statement.
const MAX_PARAMS: usize = 60_000;

/// `(…), (…)` for `rows` rows of `casts.len()` parameters, numbered from 1; each parameter
/// followed by its cast (`""` for none).
fn values(rows: usize, casts: &[&str]) -> String {
    let mut out = String::with_capacity(rows * casts.len() * 8);
    let mut n = 0;
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ",(" });
        for (i, cast) in casts.iter().enumerate() {
            n += 1;
            if i > 0 {
                out.push(',');
            }
            out.push('$');
            out.push_str(&n.to_string());
            out.push_str(cast);
        }
        out.push(')');
    }
    out
}

/// Runs `head VALUES … tail` over `rows` in chunks under the parameter limit; returns every
/// row the statements returned.
fn insert_rows(
    tx: &mut Transaction<'_>,
    (head, tail): (&str, &str),
    casts: &[&str],
    rows: Vec<Vec<Param>>,
) -> Result<Vec<postgres::Row>, LedgerError> {
    let per = (MAX_PARAMS / casts.len()).max(1);
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Param>> = rows.by_ref().take(per).collect();
        let sql = format!("{head} VALUES {} {tail}", values(chunk.len(), casts));
        let params: Vec<&(dyn ToSql + Sync)> = chunk
            .iter()
            .flatten()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        out.extend(tx.query(sql.as_str(), &params)?);
    }
    Ok(out)
}

const MONEY: &str = "::text::numeric";

fn money(m: Option<switchyard_primitives::Money>) -> Param {
    Box::new(m.map(|c| c.decimal().normalize().to_string()))
}

fn record_params(r: &Record) -> Vec<Param> {
    let i = |v: u64| -> Param { Box::new(v as i64) };
    vec![
        Box::new(r.request_id.clone()),
        Box::new(r.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        Box::new(r.ts.timestamp_millis()),
        Box::new(r.kind.as_str().to_string()),
        Box::new(r.workload.clone()),
        Box::new(crate::columns::tags(&r.tags)),
        Box::new(r.key_id.clone()),
        Box::new(r.team.clone()),
        Box::new(r.route.clone()),
        Box::new(r.provider.clone()),
        Box::new(r.model.clone()),
        Box::new(i32::from(r.status)),
        Box::new(r.error_class.clone()),
        Box::new(r.streamed),
        Box::new(r.shadow),
        Box::new(r.features.clone()),
        i(r.usage.input),
        i(r.usage.cached_input),
        i(r.usage.cache_write),
        i(r.usage.cache_write_1h),
        i(r.usage.output),
        i(r.usage.reasoning),
        money(r.cost_usd),
        Box::new(r.price_version.clone()),
        Box::new(r.latency_ms),
        Box::new(r.ttft_ms),
        i(r.overhead_us),
        Box::new(r.usage_estimated),
        Box::new(crate::columns::attempts(&r.attempts)),
        i(r.request_count.max(1)),
        Box::new(r.source.clone()),
        Box::new(r.prefix.map(|p| p.hex())),
        Box::new(r.prefix.map(|p| p.tokens as i64)),
        Box::new(r.cascade.as_ref().map(|c| i64::from(c.tier))),
        money(r.cascade.as_ref().and_then(|c| c.baseline_usd)),
        Box::new(r.cache.clone()),
        money(r.saved_usd),
        Box::new(r.batch),
        Box::new(r.fingerprint.map(crate::Fingerprint::hex)),
        money(r.routing_baseline_usd),
        money(r.cascade.as_ref().and_then(|c| c.judged_usd)),
    ]
}

const RECORD_HEAD: &str = "INSERT INTO requests (request_id, ts, ts_ms, kind, workload, tags, key_id, team, route, provider, model, status, error_class, streamed, shadow, features, input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd, price_version, latency_ms, ttft_ms, overhead_us, usage_estimated, attempts, request_count, source, prefix_hash, prefix_tokens, cascade_tier, cascade_baseline_usd, cache, saved_usd, batch, fingerprint, routing_baseline_usd, cascade_judged_usd)";

fn record_casts() -> Vec<&'static str> {
    let mut casts = vec![""; 41];
    for money_col in [22, 34, 36, 39, 40] {
        casts[money_col] = MONEY;
    }
    casts
}

/// Inserts the batch; returns the records that were new (once each, in batch order).
fn insert_records<'a>(
    tx: &mut Transaction<'_>,
    batch: &'a [Record],
) -> Result<Vec<&'a Record>, LedgerError> {
    let rows = batch.iter().map(record_params).collect();
    let returned = insert_rows(
        tx,
        (
            RECORD_HEAD,
            "ON CONFLICT (request_id) DO NOTHING RETURNING request_id",
        ),
        &record_casts(),
        rows,
    )?;
    let mut new: HashMap<String, ()> = returned
        .iter()
        .map(|r| (r.get::<_, String>(0), ()))
        .collect();
    Ok(batch
        .iter()
        .filter(|r| new.remove(&r.request_id).is_some())
        .collect())
}

const ROLLUP_HEAD: &str = "INSERT INTO rollup_hourly AS t (hour, workload, route, provider, model, key_id, team, shadow, requests, errors, streamed, estimated, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost_usd, latency_ms_sum, ttft_ms_sum, ttft_count, overhead_us_sum, latency_count, overhead_count, exact_hits, exact_saved_usd, semantic_hits, semantic_saved_usd)";

const ROLLUP_TAIL: &str = "ON CONFLICT (hour, workload, route, provider, model, key_id, team, shadow) DO UPDATE SET
  requests = t.requests + excluded.requests, errors = t.errors + excluded.errors,
  streamed = t.streamed + excluded.streamed, estimated = t.estimated + excluded.estimated,
  input_tokens = t.input_tokens + excluded.input_tokens,
  cached_input_tokens = t.cached_input_tokens + excluded.cached_input_tokens,
  cache_write_tokens = t.cache_write_tokens + excluded.cache_write_tokens,
  output_tokens = t.output_tokens + excluded.output_tokens,
  reasoning_tokens = t.reasoning_tokens + excluded.reasoning_tokens,
  cost_usd = t.cost_usd + excluded.cost_usd,
  latency_ms_sum = t.latency_ms_sum + excluded.latency_ms_sum,
  ttft_ms_sum = t.ttft_ms_sum + excluded.ttft_ms_sum, ttft_count = t.ttft_count + excluded.ttft_count,
  overhead_us_sum = t.overhead_us_sum + excluded.overhead_us_sum,
  latency_count = t.latency_count + excluded.latency_count,
  overhead_count = t.overhead_count + excluded.overhead_count,
  exact_hits = t.exact_hits + excluded.exact_hits,
  exact_saved_usd = t.exact_saved_usd + excluded.exact_saved_usd,
  semantic_hits = t.semantic_hits + excluded.semantic_hits,
  semantic_saved_usd = t.semantic_saved_usd + excluded.semantic_saved_usd";

fn merge_rollup(tx: &mut Transaction<'_>, rollup: Rollup<'_>) -> Result<(), LedgerError> {
    let mut cells: Vec<_> = rollup.cells.into_iter().collect();
    cells.sort_by(|a, b| a.0.cmp(&b.0));
    let rows: Vec<Vec<Param>> = cells
        .into_iter()
        .map(|(k, c)| -> Vec<Param> {
            let s = |v: &str| -> Param { Box::new(v.to_string()) };
            vec![
                Box::new(hour_label(k.0)),
                s(k.1),
                s(k.2),
                s(k.3),
                s(k.4),
                s(k.5),
                s(k.6),
                Box::new(k.7),
                Box::new(c.requests),
                Box::new(c.errors),
                Box::new(c.streamed),
                Box::new(c.estimated),
                Box::new(c.usage.input as i64),
                Box::new(c.usage.cached_input as i64),
                Box::new(c.usage.cache_write as i64),
                Box::new(c.usage.output as i64),
                Box::new(c.usage.reasoning as i64),
                money(Some(c.cost)),
                Box::new(c.latency_ms),
                Box::new(c.ttft_ms),
                Box::new(c.ttft_count),
                Box::new(c.overhead_us),
                Box::new(c.latency_count),
                Box::new(c.overhead_count),
                Box::new(c.exact.0),
                money(Some(c.exact.1)),
                Box::new(c.semantic.0),
                money(Some(c.semantic.1)),
            ]
        })
        .collect();
    let mut casts = vec![""; 28];
    for m in [17, 25, 27] {
        casts[m] = MONEY;
    }
    insert_rows(tx, (ROLLUP_HEAD, ROLLUP_TAIL), &casts, rows)?;
    merge_profiles(tx, rollup.profiles)?;
    merge_prefixes(tx, rollup.prefixes)
}

fn merge_profiles(
    tx: &mut Transaction<'_>,
    profiles: HashMap<(&str, &str, bool), (i64, i64)>,
) -> Result<(), LedgerError> {
    let mut rows: Vec<_> = profiles.into_iter().collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let rows = rows
        .into_iter()
        .map(|((w, f, shadow), (n, max))| -> Vec<Param> {
            vec![
                Box::new(w.to_string()),
                Box::new(f.to_string()),
                Box::new(shadow),
                Box::new(n),
                Box::new(max),
            ]
        })
        .collect();
    let head = "INSERT INTO workload_features AS t (workload, features, shadow, requests, max_prompt_tokens)";
    let tail = "ON CONFLICT (workload, features, shadow) DO UPDATE SET requests = t.requests + excluded.requests, max_prompt_tokens = GREATEST(t.max_prompt_tokens, excluded.max_prompt_tokens)";
    insert_rows(tx, (head, tail), &[""; 5], rows).map(|_| ())
}

fn merge_prefixes(
    tx: &mut Transaction<'_>,
    cells: crate::prefix::PrefixCells,
) -> Result<(), LedgerError> {
    let mut rows: Vec<_> = cells.0.into_iter().collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let rows = rows
        .into_iter()
        .map(
            |((hour, w, p, m, hash, shadow), (n, tokens, cached))| -> Vec<Param> {
                vec![
                    Box::new(hour),
                    Box::new(w),
                    Box::new(p),
                    Box::new(m),
                    Box::new(hash),
                    Box::new(shadow),
                    Box::new(n),
                    Box::new(tokens),
                    Box::new(cached),
                ]
            },
        )
        .collect();
    let head = "INSERT INTO prompt_prefixes AS t (hour, workload, provider, model, prefix_hash, shadow, requests, prefix_tokens, cached_requests)";
    let tail = "ON CONFLICT (hour, workload, provider, model, prefix_hash, shadow) DO UPDATE SET requests = t.requests + excluded.requests, prefix_tokens = t.prefix_tokens + excluded.prefix_tokens, cached_requests = t.cached_requests + excluded.cached_requests";
    insert_rows(tx, (head, tail), &[""; 9], rows).map(|_| ())
}

impl RecordSink for PgStore {
    fn append(&mut self, batch: &[Record]) -> Result<usize, LedgerError> {
        if batch.is_empty() {
            return Ok(0);
        }
        self.with(|c| {
            let mut tx = c.transaction()?;
            let new = insert_records(&mut tx, batch)?;
            let mut rollup = Rollup::default();
            for r in new.iter().copied() {
                rollup.add(r);
            }
            merge_rollup(&mut tx, rollup)?;
            tx.commit()?;
            Ok(new.len())
        })
    }
}
