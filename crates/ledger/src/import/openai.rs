//! OpenAI's Admin API exports: `GET /v1/organization/usage/completions` (and `/embeddings`)
//! pages, optionally mixed with `GET /v1/organization/costs` pages in the same array.
//!
//! Each usage result is one record standing for `num_model_requests` requests at the bucket's
//! start. `input_tokens` includes `input_cached_tokens` (split as for a chat response).
//! `project_id` becomes the team, `api_key_id` the key.

use super::columns::Known;
use super::costs::{self, CostLine};
use super::pricing::Tier;
use super::report::{self, Item, count, text};
use super::{Context, blank, fields};
use crate::{Record, RecordKind};
use chrono::{DateTime, Utc};
use serde_json::Value;
use switchyard_primitives::TokenUsage;

const SOURCE: &str = "import:openai";
const COMPLETIONS: &str = "organization.usage.completions.result";
const EMBEDDINGS: &str = "organization.usage.embeddings.result";
const COSTS: &str = "organization.costs.result";

/// The counting fields of usage and cost results (text fields are dimensions, not checked).
const FIELDS: Known = Known {
    read: &[
        "input_tokens",
        "output_tokens",
        "input_cached_tokens",
        "input_audio_tokens",
        "output_audio_tokens",
        "num_model_requests",
        "amount",
        "amount.value",
    ],
    irrelevant: &[],
};

pub(crate) const KNOWN: &[&Known] = &[&FIELDS];

pub(crate) fn parse(doc: &Value, cx: &mut Context<'_>) -> Vec<Record> {
    let (items, problems) = report::items(doc);
    for (at, message) in problems {
        cx.check(&at, vec![message]);
    }
    let mut records = Vec::new();
    let mut lines = Vec::new();
    for item in &items {
        cx.columns.check_result(&FIELDS, item.result, &item.at);
        match item.result.get("object").and_then(Value::as_str) {
            Some(COMPLETIONS) => records.extend(usage(item, RecordKind::Chat, cx)),
            Some(EMBEDDINGS) => records.extend(usage(item, RecordKind::Embedding, cx)),
            Some(COSTS) => lines.extend(cost(item, cx)),
            other => {
                let msg = format!(
                    "object {other:?} is not supported; export /v1/organization/usage/completions, /usage/embeddings or /costs"
                );
                cx.check(&item.at, vec![msg]);
            }
        }
    }
    if records.iter().any(|r| r.model.is_none()) {
        cx.notes.push(
            "some usage results name no model (the export was not grouped by model), so they cannot be priced; export with group_by=model".into(),
        );
    }
    let unmatched = costs::allocate(&mut records, &lines);
    if !unmatched.is_zero() {
        cx.notes.push(format!(
            "${unmatched} of billed cost matched no usage result (other line items, or days missing from the usage export) and was not imported"
        ));
    }
    records
}

fn bucket_start(item: &Item<'_>, name: &str, errs: &mut Vec<String>) -> DateTime<Utc> {
    let t = item
        .bucket
        .get(name)
        .and_then(Value::as_i64)
        .and_then(|s| DateTime::from_timestamp(s, 0));
    t.unwrap_or_else(|| {
        errs.push(format!(
            "the bucket's {name} is not a Unix timestamp in seconds"
        ));
        DateTime::default()
    })
}

fn usage(item: &Item<'_>, kind: RecordKind, cx: &mut Context<'_>) -> Option<Record> {
    let res = item.result;
    let mut errs = Vec::new();
    let ts = bucket_start(item, "start_time", &mut errs);
    let input = count(res, "input_tokens", true, &mut errs);
    let output = count(res, "output_tokens", kind == RecordKind::Chat, &mut errs);
    let cached = count(res, "input_cached_tokens", false, &mut errs);
    let requests = count(res, "num_model_requests", true, &mut errs);
    let audio_in = count(res, "input_audio_tokens", false, &mut errs);
    let audio_out = count(res, "output_audio_tokens", false, &mut errs);
    let batch = res.get("batch").and_then(Value::as_bool).unwrap_or(false);
    if !cx.check(&item.at, errs) || (requests == 0 && input == 0 && output == 0) {
        return None;
    }
    let mut r = blank(SOURCE, ts);
    r.request_id = report::id(SOURCE, item, &["start_time", "end_time"]);
    r.kind = kind;
    r.request_count = requests.max(1);
    r.provider = Some("openai".into());
    r.model = text(res, "model");
    r.workload = cx.opts.workload.clone();
    r.team = text(res, "project_id");
    r.key_id = text(res, "api_key_id");
    r.usage = TokenUsage::from_openai(input, cached, output, 0);
    if let Some(u) = text(res, "user_id") {
        r.tags.push(("openai_user".into(), u));
    }
    if batch {
        r.tags.push(("batch".into(), "true".into()));
    }
    if let Some(t) = text(res, "service_tier") {
        r.tags.push(("service_tier".into(), t));
    }
    for (name, n) in [
        ("input_audio_tokens", audio_in),
        ("output_audio_tokens", audio_out),
    ] {
        if n > 0 {
            r.tags.push((name.into(), n.to_string()));
        }
    }
    cx.price(&mut r, Tier::AveragePrompt, batch);
    Some(r)
}

/// A costs result: `amount.value` in `amount.currency` (only USD is accepted); the model is
/// the part of `line_item` before the first `, ` (`gpt-4o-2024-08-06, input`).
fn cost(item: &Item<'_>, cx: &mut Context<'_>) -> Option<CostLine> {
    let res = item.result;
    let mut errs = Vec::new();
    let day = bucket_start(item, "start_time", &mut errs).date_naive();
    let amount = res.get("amount");
    let currency = amount
        .and_then(|a| text(a, "currency"))
        .unwrap_or_else(|| "usd".into());
    if !currency.eq_ignore_ascii_case("usd") {
        errs.push(format!(
            "amount.currency is {currency:?}; only USD costs can be imported"
        ));
    }
    let value = match amount.and_then(|a| text(a, "value")) {
        Some(v) => fields::opt(Some(v), "amount.value", fields::money, &mut errs),
        None => {
            errs.push("amount.value is missing".into());
            None
        }
    };
    if !cx.check(&item.at, errs) {
        return None;
    }
    let model = text(res, "line_item").map(|l| match l.split_once(", ") {
        Some((m, _)) => m.to_string(),
        None => l,
    });
    Some(CostLine {
        day,
        scope: text(res, "project_id"),
        model,
        amount: value?,
    })
}
