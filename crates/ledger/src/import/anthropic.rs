//! Anthropic's Admin API exports: `GET /v1/organizations/usage_report/messages` pages,
//! optionally mixed with `GET /v1/organizations/cost_report` pages in the same array.
//!
//! The usage report has no request count, so each result is one record with
//! `request_count` 1 (summaries count results, not requests, for these rows). Tokens are
//! already disjoint: uncached input, cache reads, cache writes (5-minute and 1-hour), output.
//! `workspace_id` becomes the team, `api_key_id` the key. Cost report amounts are in cents.

use super::columns::Known;
use super::costs::{self, CostLine};
use super::pricing::Tier;
use super::report::{self, Item, count, text};
use super::{Context, blank, fields};
use crate::Record;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use switchyard_primitives::{Money, TokenUsage};

const SOURCE: &str = "import:anthropic";

/// The counting fields of usage and cost results (text fields are dimensions, not checked).
const FIELDS: Known = Known {
    read: &[
        "uncached_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
        "cache_creation",
        "cache_creation.ephemeral_5m_input_tokens",
        "cache_creation.ephemeral_1h_input_tokens",
        "cache_creation_5m_input_tokens",
        "cache_creation_1h_input_tokens",
        "server_tool_use",
        "server_tool_use.web_search_requests",
        "amount",
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
        if item.result.get("amount").is_some() {
            lines.extend(cost(item, cx));
        } else if item.result.get("uncached_input_tokens").is_some() {
            records.extend(usage(item, cx));
        } else {
            let msg = "is neither a usage result (uncached_input_tokens, …) nor a cost result (amount); export usage_report/messages or cost_report";
            cx.check(&item.at, vec![msg.into()]);
        }
    }
    let unmatched = costs::allocate(&mut records, &lines);
    if !unmatched.is_zero() {
        cx.notes.push(format!(
            "${unmatched} of billed cost matched no usage result (web search, code execution, or days missing from the usage report) and was not imported"
        ));
    }
    if !records.is_empty() {
        cx.notes.push(
            "Anthropic's usage report has no request counts: each result is imported as one request".into(),
        );
    }
    records
}

fn starting_at(item: &Item<'_>, errs: &mut Vec<String>) -> DateTime<Utc> {
    match text(item.bucket, "starting_at").map(|s| fields::timestamp(&s)) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            errs.push(format!("the bucket's starting_at: {e}"));
            DateTime::default()
        }
        None => {
            errs.push("the bucket has no starting_at".into());
            DateTime::default()
        }
    }
}

fn usage(item: &Item<'_>, cx: &mut Context<'_>) -> Option<Record> {
    let res = item.result;
    let mut errs = Vec::new();
    let ts = starting_at(item, &mut errs);
    let uncached = count(res, "uncached_input_tokens", true, &mut errs);
    let cache_read = count(res, "cache_read_input_tokens", false, &mut errs);
    let output = count(res, "output_tokens", true, &mut errs);
    // Nested as the API documents it; flat names as some client libraries flatten it.
    let creation = res.get("cache_creation").cloned().unwrap_or(Value::Null);
    let write_5m = count(&creation, "ephemeral_5m_input_tokens", false, &mut errs)
        + count(res, "cache_creation_5m_input_tokens", false, &mut errs);
    let write_1h = count(&creation, "ephemeral_1h_input_tokens", false, &mut errs)
        + count(res, "cache_creation_1h_input_tokens", false, &mut errs);
    let tool_use = res.get("server_tool_use").cloned().unwrap_or(Value::Null);
    let web_searches = count(&tool_use, "web_search_requests", false, &mut errs);
    if !cx.check(&item.at, errs) {
        return None;
    }
    if uncached + cache_read + write_5m + write_1h + output == 0 && web_searches == 0 {
        return None;
    }
    let mut r = blank(SOURCE, ts);
    r.request_id = report::id(SOURCE, item, &["starting_at", "ending_at"]);
    r.provider = Some("anthropic".into());
    r.model = text(res, "model");
    r.workload = cx.opts.workload.clone();
    r.team = text(res, "workspace_id");
    r.key_id = text(res, "api_key_id");
    r.usage = TokenUsage {
        input: uncached,
        cached_input: cache_read,
        cache_write: write_5m + write_1h,
        cache_write_1h: write_1h,
        output,
        reasoning: 0,
    };
    for dim in [
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
        "account_id",
    ] {
        if let Some(v) = text(res, dim) {
            r.tags.push((dim.into(), v));
        }
    }
    if web_searches > 0 {
        r.tags
            .push(("web_search_requests".into(), web_searches.to_string()));
    }
    // The report says which context window the requests used; without it, standard pricing.
    let long = text(res, "context_window").is_some_and(|w| w != "0-200k");
    let batch = text(res, "service_tier").as_deref() == Some("batch");
    cx.price(&mut r, Tier::Long(long), batch);
    Some(r)
}

/// A cost report result: `amount` is a decimal string in cents (`"123.45"` is $1.2345).
fn cost(item: &Item<'_>, cx: &mut Context<'_>) -> Option<CostLine> {
    let res = item.result;
    let mut errs = Vec::new();
    let day = starting_at(item, &mut errs).date_naive();
    let currency = text(res, "currency").unwrap_or_else(|| "USD".into());
    if !currency.eq_ignore_ascii_case("usd") {
        errs.push(format!(
            "currency is {currency:?}; only USD costs can be imported"
        ));
    }
    let cents = match text(res, "amount") {
        Some(a) => fields::opt(Some(a), "amount", fields::money, &mut errs),
        None => {
            errs.push("amount is missing".into());
            None
        }
    };
    if !cx.check(&item.at, errs) {
        return None;
    }
    Some(CostLine {
        day,
        scope: text(res, "workspace_id"),
        model: text(res, "model"),
        amount: Money::new(cents?.decimal() / Decimal::from(100)),
    })
}
