//! The generic format: CSV or JSON Lines with the documented columns (docs/import.md).
//! `switchyard ledger export` writes a superset of them, so its output imports back as it was:
//! rows that name their `source` are ledger records and are taken verbatim (never re-priced).

use super::columns::Known;
use super::fields::{self, opt};
use super::pricing::Tier;
use super::table::Row;
use super::{Context, blank, derive_id};
use crate::export::decode_tags;
use crate::{Attempt, Record, RecordKind};
use serde_json::Value;

/// The documented columns: those `ledger export --format csv` writes, and `requests`.
const COLUMNS: Known = Known {
    read: &[
        "request_id",
        "ts",
        "kind",
        "workload",
        "tags",
        "key_id",
        "team",
        "route",
        "provider",
        "model",
        "status",
        "error_class",
        "streamed",
        "shadow",
        "features",
        "input_tokens",
        "cached_input_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cost_usd",
        "price_version",
        "latency_ms",
        "ttft_ms",
        "overhead_us",
        "usage_estimated",
        "attempts",
        "request_count",
        "source",
        "prefix_hash",
        "prefix_tokens",
        "cascade_tier",
        "cascade_baseline_usd",
        "cache",
        "saved_usd",
        "batch",
        "fingerprint",
        "routing_baseline_usd",
        "cascade_judged_usd",
        "requests",
    ],
    irrelevant: &[],
};

/// A serialised ledger record (a line of `ledger export --format jsonl`).
const RECORD: Known = Known {
    read: &[
        "request_id",
        "ts",
        "kind",
        "workload",
        "tags",
        "key_id",
        "team",
        "route",
        "provider",
        "model",
        "attempts",
        "status",
        "error_class",
        "streamed",
        "shadow",
        "features",
        "usage",
        "usage.input",
        "usage.cached_input",
        "usage.cache_write",
        "usage.cache_write_1h",
        "usage.output",
        "usage.reasoning",
        "cost_usd",
        "price_version",
        "latency_ms",
        "ttft_ms",
        "overhead_us",
        "usage_estimated",
        "request_count",
        "source",
        "prefix",
        "prefix.hash",
        "prefix.tokens",
        "cascade",
        "cascade.tier",
        "cascade.baseline_usd",
        "cascade.judged_usd",
        "cache",
        "saved_usd",
        "batch",
        "fingerprint",
        "routing_baseline_usd",
    ],
    irrelevant: &[],
};

pub(crate) const KNOWN: &[&Known] = &[&COLUMNS, &RECORD];

pub(crate) fn parse(rows: &[Row], jsonl: bool, cx: &mut Context<'_>) -> Vec<Record> {
    let source = if jsonl { "import:jsonl" } else { "import:csv" };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        // A line of `ledger export --format jsonl` is a serialised Record.
        let is_record = jsonl && row.fields.get("usage").is_some_and(Value::is_object);
        cx.columns
            .check_row(if is_record { &RECORD } else { &COLUMNS }, row, jsonl);
        if is_record {
            match serde_json::from_value::<Record>(Value::Object(row.fields.clone())) {
                Ok(r) => out.push(r),
                Err(e) => {
                    cx.check(&row.at, vec![format!("is not a ledger record: {e}")]);
                }
            }
            continue;
        }
        if let Some(r) = record(row, source, cx) {
            out.push(r);
        }
    }
    out
}

fn record(row: &Row, source: &str, cx: &mut Context<'_>) -> Option<Record> {
    let mut errs = Vec::new();
    let ts = match row.text("ts") {
        Some(s) => opt(Some(s), "ts", fields::timestamp, &mut errs),
        None => {
            errs.push("ts is required (RFC 3339 or YYYY-MM-DD)".into());
            None
        }
    };
    let count = |name: &str, required: bool, errs: &mut Vec<String>| match row.text(name) {
        Some(s) => opt(Some(s), name, fields::count, errs).unwrap_or(0),
        None if required => {
            errs.push(format!("{name} is required (a whole number; 0 if none)"));
            0
        }
        None => 0,
    };
    let input = count("input_tokens", true, &mut errs);
    let output = count("output_tokens", true, &mut errs);
    let cached = count("cached_input_tokens", false, &mut errs);
    let cache_write = count("cache_write_tokens", false, &mut errs);
    let cache_write_1h = count("cache_write_1h_tokens", false, &mut errs);
    let reasoning = count("reasoning_tokens", false, &mut errs);
    let status = opt(row.text("status"), "status", fields::status, &mut errs).unwrap_or(200);
    let requests = opt(
        row.text_any(&["requests", "request_count"]),
        "requests",
        fields::count,
        &mut errs,
    )
    .unwrap_or(1);
    if requests == 0 {
        errs.push("requests must be at least 1 (the number of requests the row stands for)".into());
    }
    let provider = row.text("provider").or_else(|| cx.opts.provider.clone());
    let model = row.text("model");
    let verbatim = row.text("source").is_some();
    if (200..300).contains(&status) && !verbatim {
        if provider.is_none() {
            errs.push("provider is required (openai, anthropic, …), or pass --provider".into());
        }
        if model.is_none() {
            errs.push("model is required".into());
        }
    }
    let kind = match row.text("kind").as_deref() {
        None | Some("chat") => RecordKind::Chat,
        Some("embedding") => RecordKind::Embedding,
        Some(k) => {
            errs.push(format!("kind {k:?} is not chat or embedding"));
            RecordKind::Chat
        }
    };
    let tags = tags(row, &mut errs);
    let attempts = attempts(row, &mut errs);
    // An unparseable ts is already an error; the epoch only keeps the other checks going.
    let mut r = blank(source, ts.unwrap_or_default());
    r.kind = kind;
    r.provider = provider;
    r.model = model;
    r.status = status;
    r.request_count = requests.max(1);
    r.tags = tags;
    r.attempts = attempts;
    r.usage.input = input;
    r.usage.output = output;
    r.usage.cached_input = cached;
    r.usage.cache_write = cache_write;
    r.usage.cache_write_1h = cache_write_1h;
    r.usage.reasoning = reasoning;
    r.workload = row.text("workload").or_else(|| cx.opts.workload.clone());
    r.route = row.text("route").unwrap_or_default();
    r.key_id = row.text("key_id");
    r.team = row.text("team");
    r.error_class = row.text("error_class");
    r.features = row.text("features").unwrap_or_default();
    r.price_version = row.text("price_version");
    r.cost_usd = opt(row.text("cost_usd"), "cost_usd", fields::money, &mut errs);
    r.cache = row.text("cache");
    r.saved_usd = opt(row.text("saved_usd"), "saved_usd", fields::money, &mut errs);
    r.routing_baseline_usd = opt(
        row.text("routing_baseline_usd"),
        "routing_baseline_usd",
        fields::money,
        &mut errs,
    );
    r.latency_ms = opt(
        row.text("latency_ms"),
        "latency_ms",
        fields::millis,
        &mut errs,
    )
    .unwrap_or(0.0);
    r.ttft_ms = opt(row.text("ttft_ms"), "ttft_ms", fields::millis, &mut errs);
    r.overhead_us = opt(
        row.text("overhead_us"),
        "overhead_us",
        fields::count,
        &mut errs,
    )
    .unwrap_or(0);
    let flag = |name: &str, errs: &mut Vec<String>| {
        opt(row.text(name), name, fields::flag, errs).unwrap_or(false)
    };
    r.streamed = flag("streamed", &mut errs);
    r.shadow = flag("shadow", &mut errs);
    r.usage_estimated = flag("usage_estimated", &mut errs);
    r.batch = flag("batch", &mut errs);
    r.cascade = cascade(row, &mut errs);
    r.fingerprint = row.text("fingerprint").and_then(|f| {
        let parsed = crate::Fingerprint::parse(&f);
        if parsed.is_none() {
            errs.push(format!("fingerprint {f:?} is not 32 hex digits"));
        }
        parsed
    });
    if let Some(s) = row.text("source") {
        r.source = s;
    }
    r.prefix = prefix(row, &mut errs);
    if !cx.check(&row.at, errs) {
        return None;
    }
    r.request_id = row.text("request_id").unwrap_or_else(|| id_of(row, source));
    if !verbatim {
        cx.price(&mut r, Tier::AveragePrompt, false);
    }
    Some(r)
}

/// `prefix_hash` (16 hex digits) and `prefix_tokens`, as `ledger export --format csv` writes
/// them; both or neither.
fn prefix(row: &Row, errs: &mut Vec<String>) -> Option<crate::PromptPrefix> {
    let (hash, tokens) = (row.text("prefix_hash"), row.text("prefix_tokens"));
    if hash.is_none() && tokens.is_none() {
        return None;
    }
    let hash = hash.and_then(|h| u64::from_str_radix(&h, 16).ok());
    let tokens = tokens.and_then(|t| t.parse::<u64>().ok());
    match (hash, tokens) {
        (Some(hash), Some(tokens)) => Some(crate::PromptPrefix { hash, tokens }),
        _ => {
            errs.push(
                "prefix_hash (16 hex digits) and prefix_tokens (a whole number) go together".into(),
            );
            None
        }
    }
}

/// `cascade_tier` (a whole number from 1), `cascade_baseline_usd` and `cascade_judged_usd`
/// (decimals, may be empty), as `ledger export --format csv` writes them for requests a
/// cascade route served.
fn cascade(row: &Row, errs: &mut Vec<String>) -> Option<crate::CascadeMark> {
    let tier = row.text("cascade_tier")?;
    let Ok(tier) = tier.parse::<u32>() else {
        errs.push(format!("cascade_tier {tier:?} is not a whole number"));
        return None;
    };
    let baseline_usd = opt(
        row.text("cascade_baseline_usd"),
        "cascade_baseline_usd",
        fields::money,
        errs,
    );
    let judged_usd = opt(
        row.text("cascade_judged_usd"),
        "cascade_judged_usd",
        fields::money,
        errs,
    );
    Some(crate::CascadeMark {
        tier,
        baseline_usd,
        judged_usd,
    })
}

/// Every field of the row, in column-name order: the same row always gets the same id.
fn id_of(row: &Row, source: &str) -> String {
    let mut names: Vec<&String> = row.fields.keys().collect();
    names.sort();
    let values: Vec<String> = names
        .iter()
        .map(|n| row.text(n).unwrap_or_default())
        .collect();
    let mut parts: Vec<&str> = Vec::with_capacity(names.len() * 2);
    for (n, v) in names.iter().zip(&values) {
        parts.push(n);
        parts.push(v);
    }
    derive_id(source, &parts)
}

/// `k=v;k=v` text, or in JSON an array of `[k, v]` pairs or an object.
fn tags(row: &Row, errs: &mut Vec<String>) -> Vec<(String, String)> {
    match row.fields.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => decode_tags(s),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        Some(v @ Value::Array(_)) => match serde_json::from_value(v.clone()) {
            Ok(t) => t,
            Err(_) => {
                errs.push(
                    "tags must be k=v;k=v, an object, or an array of [key, value] pairs".into(),
                );
                Vec::new()
            }
        },
        Some(_) => {
            errs.push("tags must be k=v;k=v, an object, or an array of [key, value] pairs".into());
            Vec::new()
        }
    }
}

fn attempts(row: &Row, errs: &mut Vec<String>) -> Vec<Attempt> {
    match row.json("attempts") {
        Ok(None) => Vec::new(),
        Ok(Some(v)) => serde_json::from_value(v).unwrap_or_else(|e| {
            errs.push(format!(
                "attempts is not a list of attempts as the export writes them ({e})"
            ));
            Vec::new()
        }),
        Err(e) => {
            errs.push(e);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_columns_are_exactly_what_export_writes_plus_requests() {
        let mut exported: Vec<&str> = crate::export::CSV_HEADER.split(',').collect();
        exported.push("requests");
        assert_eq!(COLUMNS.read, exported.as_slice());
    }

    #[test]
    fn the_known_record_fields_are_exactly_what_a_record_serialises_to() {
        let mut r = super::super::blank("x", chrono::DateTime::default());
        // Optional members are left out when empty: fill them so every name shows.
        r.prefix = Some(crate::PromptPrefix { hash: 1, tokens: 2 });
        r.cascade = Some(crate::CascadeMark {
            tier: 1,
            baseline_usd: None,
            judged_usd: Some(switchyard_primitives::Money::ZERO),
        });
        r.fingerprint = Some(crate::Fingerprint(3));
        r.routing_baseline_usd = Some(switchyard_primitives::Money::ZERO);
        let Ok(Value::Object(v)) = serde_json::to_value(&r) else {
            panic!("a record serialises to an object");
        };
        let mut names: Vec<String> = Vec::new();
        for (k, val) in &v {
            names.push(k.clone());
            if let Value::Object(inner) = val {
                names.extend(inner.keys().map(|c| format!("{k}.{c}")));
            }
        }
        names.sort();
        let mut known: Vec<String> = RECORD.read.iter().map(|s| s.to_string()).collect();
        known.sort();
        assert_eq!(names, known);
    }
}
