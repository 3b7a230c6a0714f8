//! Reading whole records back from PostgreSQL (`ledger export`, conformance tests).

use super::reads::money;
use crate::{CascadeMark, LedgerError, PromptPrefix, Record, RecordKind};
use chrono::{DateTime, Utc};
use postgres::Row;
use switchyard_primitives::TokenUsage;

pub(crate) const COLUMNS: &str = "request_id, ts, kind, workload, tags, key_id, team, route, provider, model, status, error_class, streamed, shadow, features, input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd::text, price_version, latency_ms, ttft_ms, overhead_us, usage_estimated, attempts, request_count, source, prefix_hash, prefix_tokens, cascade_tier, cascade_baseline_usd::text, cache, saved_usd::text, batch, fingerprint, routing_baseline_usd::text, cascade_judged_usd::text";

fn corrupt(what: &str, e: &dyn std::fmt::Display) -> LedgerError {
    LedgerError::Corrupt(format!("{what}: {e}"))
}

fn optional_money(
    text: Option<String>,
) -> Result<Option<switchyard_primitives::Money>, LedgerError> {
    text.map(|t| money(Some(t))).transpose()
}

pub(crate) fn record(r: &Row) -> Result<Record, LedgerError> {
    let u = |i: usize| r.get::<_, i64>(i).max(0) as u64;
    let ts: String = r.get(1);
    let tags: String = r.get(4);
    let attempts: String = r.get(27);
    let kind: String = r.get(2);
    Ok(Record {
        request_id: r.get(0),
        ts: DateTime::parse_from_rfc3339(&ts)
            .map_err(|e| corrupt("ts", &e))?
            .with_timezone(&Utc),
        kind: RecordKind::parse(&kind),
        workload: r.get(3),
        tags: serde_json::from_str(&tags).map_err(|e| corrupt("tags", &e))?,
        key_id: r.get(5),
        team: r.get(6),
        route: r.get(7),
        provider: r.get(8),
        model: r.get(9),
        status: r.get::<_, i32>(10).clamp(0, i32::from(u16::MAX)) as u16,
        error_class: r.get(11),
        streamed: r.get(12),
        shadow: r.get(13),
        features: r.get(14),
        usage: TokenUsage {
            input: u(15),
            cached_input: u(16),
            cache_write: u(17),
            cache_write_1h: u(18),
            output: u(19),
            reasoning: u(20),
        },
        cost_usd: optional_money(r.get(21))?,
        price_version: r.get(22),
        latency_ms: r.get(23),
        ttft_ms: r.get(24),
        overhead_us: u(25),
        usage_estimated: r.get(26),
        attempts: serde_json::from_str(&attempts).map_err(|e| corrupt("attempts", &e))?,
        request_count: u(28).max(1),
        source: r.get(29),
        prefix: prefix(r.get(30), r.get(31)),
        cascade: cascade(
            r.get(32),
            optional_money(r.get(33))?,
            optional_money(r.get(39))?,
        ),
        cache: r.get(34),
        saved_usd: optional_money(r.get(35))?,
        batch: r.get(36),
        fingerprint: r
            .get::<_, Option<String>>(37)
            .as_deref()
            .and_then(crate::Fingerprint::parse),
        routing_baseline_usd: optional_money(r.get(38))?,
    })
}

fn prefix(hash: Option<String>, tokens: Option<i64>) -> Option<PromptPrefix> {
    Some(PromptPrefix {
        hash: u64::from_str_radix(&hash?, 16).ok()?,
        tokens: tokens?.max(0) as u64,
    })
}

fn cascade(
    tier: Option<i64>,
    baseline_usd: Option<switchyard_primitives::Money>,
    judged_usd: Option<switchyard_primitives::Money>,
) -> Option<CascadeMark> {
    Some(CascadeMark {
        tier: tier?.clamp(0, i64::from(u32::MAX)) as u32,
        baseline_usd,
        judged_usd,
    })
}
