//! LiteLLM spend logs: the proxy's `LiteLLM_SpendLogs` table, exported as CSV, JSON Lines or
//! a JSON array (the `/spend/logs` response). One row per request, so `request_count` is 1
//! and LiteLLM's `request_id` is kept as ours.
//!
//! LiteLLM's `prompt_tokens` includes cached and cache-write tokens and `completion_tokens`
//! includes reasoning (OpenAI's convention); the split comes from `metadata.usage_object`
//! when the proxy logged it.

use super::columns::Known;
use super::fields::{self, opt};
use super::pricing::Tier;
use super::table::Row;
use super::{Context, blank};
use crate::{Record, RecordKind};
use serde_json::Value;

const SOURCE: &str = "import:litellm";

/// The `LiteLLM_SpendLogs` columns read, and those known and left out: totals derivable from
/// the read ones, request and response bodies, routing and client details.
const COLUMNS: Known = Known {
    read: &[
        "request_id",
        "call_type",
        "api_key",
        "spend",
        "prompt_tokens",
        "completion_tokens",
        "startTime",
        "endTime",
        "request_duration_ms",
        "completionStartTime",
        "model",
        "model_group",
        "custom_llm_provider",
        "user",
        "metadata",
        "cache_hit",
        "request_tags",
        "team_id",
        "end_user",
        "status",
    ],
    irrelevant: &[
        "total_tokens",
        "model_id",
        "api_base",
        "cache_key",
        "organization_id",
        "requester_ip_address",
        "messages",
        "response",
        "session_id",
        "proxy_server_request",
        "mcp_namespaced_tool_name",
        "mcp_tool_call_metadata",
        "agent_id",
        "vector_store_request_metadata",
    ],
};

pub(crate) const KNOWN: &[&Known] = &[&COLUMNS];

pub(crate) fn parse(rows: &[Row], jsonl: bool, cx: &mut Context<'_>) -> Vec<Record> {
    for row in rows {
        cx.columns.check_row(&COLUMNS, row, jsonl);
    }
    rows.iter().filter_map(|row| record(row, cx)).collect()
}

fn record(row: &Row, cx: &mut Context<'_>) -> Option<Record> {
    let mut errs = Vec::new();
    let request_id = row.text("request_id");
    if request_id.is_none() {
        errs.push("request_id is required (LiteLLM's primary key)".into());
    }
    let start = match row.text("startTime") {
        Some(s) => opt(Some(s), "startTime", fields::timestamp, &mut errs),
        None => {
            errs.push("startTime is required".into());
            None
        }
    };
    let end = opt(row.text("endTime"), "endTime", fields::timestamp, &mut errs);
    let first = opt(
        row.text("completionStartTime"),
        "completionStartTime",
        fields::timestamp,
        &mut errs,
    );
    let prompt = opt(
        row.text("prompt_tokens"),
        "prompt_tokens",
        fields::count,
        &mut errs,
    )
    .unwrap_or(0);
    let completion = opt(
        row.text("completion_tokens"),
        "completion_tokens",
        fields::count,
        &mut errs,
    )
    .unwrap_or(0);
    let spend = opt(row.text("spend"), "spend", fields::money, &mut errs);
    let metadata = row.json("metadata").unwrap_or_else(|e| {
        errs.push(e);
        None
    });
    let tags = tags(row, metadata.as_ref(), &mut errs);
    let (status, error_class) = outcome(row, metadata.as_ref(), &mut errs);
    let (provider, model) = provider_and_model(row, cx, status, &mut errs);

    let start = start.unwrap_or_default();
    let mut r = blank(SOURCE, start);
    if let (Some(end), true) = (end, row.text("request_duration_ms").is_none()) {
        let ms = (end - start).num_microseconds().unwrap_or(0) as f64 / 1000.0;
        if ms < 0.0 {
            errs.push("endTime is before startTime".into());
        }
        r.latency_ms = ms.max(0.0);
    }
    if let Some(ms) = opt(
        row.text("request_duration_ms"),
        "request_duration_ms",
        fields::millis,
        &mut errs,
    ) {
        r.latency_ms = ms;
    }
    // LiteLLM sets completionStartTime to endTime when nothing streamed: only an earlier
    // first chunk is a time to first token.
    if let (Some(first), Some(end)) = (first, end) {
        if first < end && first >= start {
            r.ttft_ms = Some((first - start).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
    }
    if !cx.check(&row.at, errs) {
        return None;
    }
    r.request_id = request_id.unwrap_or_default();
    r.kind = match row.text("call_type") {
        Some(c) if c.contains("embedding") => RecordKind::Embedding,
        _ => RecordKind::Chat,
    };
    r.provider = provider;
    r.model = model;
    r.route = row.text("model_group").unwrap_or_default();
    r.key_id = row.text("api_key");
    r.team = row.text("team_id");
    r.workload = cx.opts.workload.clone();
    r.status = status;
    r.error_class = error_class;
    r.tags = tags;
    r.usage = usage(prompt, completion, metadata.as_ref());
    r.cost_usd = spend;
    cx.price(&mut r, Tier::AveragePrompt, false);
    Some(r)
}

/// `custom_llm_provider`, else `--provider`, else the `provider/` prefix of `model`; the
/// model loses that prefix (LiteLLM writes `azure/gpt-4o` for some deployments).
fn provider_and_model(
    row: &Row,
    cx: &Context<'_>,
    status: u16,
    errs: &mut Vec<String>,
) -> (Option<String>, Option<String>) {
    let raw_model = row.text("model");
    let prefix = raw_model
        .as_deref()
        .and_then(|m| m.split_once('/'))
        .map(|(p, _)| p.to_string());
    let provider = row
        .text("custom_llm_provider")
        .or_else(|| cx.opts.provider.clone())
        .or(prefix);
    let model = raw_model.map(|m| match (&provider, m.split_once('/')) {
        (Some(p), Some((pre, rest))) if pre == p => rest.to_string(),
        _ => m,
    });
    if (200..300).contains(&status) {
        if provider.is_none() {
            errs.push(
                "custom_llm_provider is empty and model has no provider/ prefix; pass --provider"
                    .into(),
            );
        }
        if model.is_none() {
            errs.push("model is required for a successful request".into());
        }
    }
    (provider, model)
}

/// `status` (`success`/`failure`, also in `metadata.status`); a failure takes its HTTP code
/// and class from `metadata.error_information` when logged, else 500.
fn outcome(row: &Row, metadata: Option<&Value>, errs: &mut Vec<String>) -> (u16, Option<String>) {
    let word = row
        .text("status")
        .or_else(|| metadata?.get("status")?.as_str().map(str::to_string));
    let failed = match word.as_deref() {
        None | Some("success") => false,
        Some("failure") => true,
        Some(w) => {
            errs.push(format!("status {w:?} is not success or failure"));
            false
        }
    };
    if !failed {
        return (200, None);
    }
    let info = metadata.and_then(|m| m.get("error_information"));
    let code = info
        .and_then(|i| i.get("error_code"))
        .and_then(|c| {
            c.as_str()
                .map(str::to_string)
                .or_else(|| c.as_u64().map(|n| n.to_string()))
        })
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| (400..600).contains(c))
        .unwrap_or(500);
    let class = info
        .and_then(|i| i.get("error_class"))
        .and_then(Value::as_str)
        .map(str::to_string);
    (code, class)
}

/// Splits LiteLLM's inclusive counts with the details in `metadata.usage_object`.
fn usage(
    prompt: u64,
    completion: u64,
    metadata: Option<&Value>,
) -> switchyard_primitives::TokenUsage {
    let u = metadata.and_then(|m| {
        m.get("usage_object")
            .or_else(|| m.get("additional_usage_values"))
    });
    let n = |path: &[&str]| -> u64 {
        let mut v = u;
        for p in path {
            v = v.and_then(|x| x.get(*p));
        }
        v.and_then(Value::as_u64).unwrap_or(0)
    };
    let cached =
        n(&["prompt_tokens_details", "cached_tokens"]).max(n(&["cache_read_input_tokens"]));
    let written = n(&["cache_creation_input_tokens"]);
    let reasoning = n(&["completion_tokens_details", "reasoning_tokens"]);
    let mut usage =
        switchyard_primitives::TokenUsage::from_openai(prompt, cached, completion, reasoning);
    usage.cache_write = written.min(usage.input);
    usage.input -= usage.cache_write;
    usage
}

/// `request_tags` (`["jobID:42", "prod"]` → `jobID=42`, `tag=prod`), the free-form
/// `metadata.spend_logs_metadata`, `user`, `end_user`, and LiteLLM cache hits.
fn tags(row: &Row, metadata: Option<&Value>, errs: &mut Vec<String>) -> Vec<(String, String)> {
    let mut tags = Vec::new();
    match row.json("request_tags") {
        Ok(Some(Value::Array(items))) => {
            for t in items.iter().filter_map(Value::as_str) {
                let pair = t.split_once(':').or_else(|| t.split_once('=')).map_or_else(
                    || ("tag".to_string(), t.to_string()),
                    |(k, v)| (k.into(), v.into()),
                );
                tags.push(pair);
            }
        }
        Ok(None) => {}
        Ok(Some(_)) => errs.push("request_tags must be a JSON array of strings".into()),
        Err(e) => errs.push(e),
    }
    if let Some(Value::Object(m)) = metadata.and_then(|m| m.get("spend_logs_metadata")) {
        for (k, v) in m {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            tags.push((k.clone(), v));
        }
    }
    for col in ["user", "end_user"] {
        if let Some(v) = row.text(col) {
            tags.push((col.to_string(), v));
        }
    }
    if row
        .text("cache_hit")
        .is_some_and(|c| c.eq_ignore_ascii_case("true"))
    {
        tags.push(("litellm_cache_hit".into(), "true".into()));
    }
    tags
}
