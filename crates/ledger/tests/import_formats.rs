//! `ledger import`, one format at a time: each fixture's fields, tokens and costs as mapped.
#![cfg(test)]

mod common;

use chrono::{TimeZone, Utc};
use common::{catalog, fixture, parse_auto, usd};
use std::str::FromStr;
use switchyard_ledger::Record;
use switchyard_ledger::import::{ImportFormat, ImportOptions, parse};
use switchyard_primitives::{Money, TokenUsage};

fn tag<'a>(r: &'a Record, k: &str) -> Option<&'a str> {
    r.tags
        .iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
}

#[test]
fn generic_csv_maps_columns_and_prices_rows_without_a_cost() {
    let (format, recs) = parse_auto(&fixture("generic.csv"));
    assert_eq!(format, ImportFormat::Generic);
    assert_eq!(recs.len(), 4);
    let agg = &recs[0];
    assert_eq!(agg.ts, Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap());
    assert_eq!(agg.request_count, 100);
    assert_eq!(agg.source, "import:csv");
    assert_eq!(agg.workload.as_deref(), Some("batch-summaries"));
    assert_eq!(agg.route, "summarize");
    assert_eq!(agg.team.as_deref(), Some("ml"));
    assert_eq!(agg.key_id.as_deref(), Some("key_1"));
    assert_eq!(tag(agg, "env"), Some("prod"));
    assert_eq!(agg.latency_ms, 850.0);
    // 1M input at $0.15 + 100k output at $0.60 per million.
    assert_eq!(agg.cost_usd, usd("0.21"));
    assert_eq!(
        agg.price_version.as_deref(),
        Some("openai/gpt-4o-mini@2024-07-18")
    );
    assert!(agg.request_id.starts_with("imp_"));
    // A given cost is kept as written.
    assert_eq!(recs[1].cost_usd, usd("0.0135"));
    assert_eq!(tag(&recs[1], "note"), Some("a,b"));
    assert_eq!(
        recs[2].ts,
        Utc.with_ymd_and_hms(2026, 1, 6, 10, 30, 0).unwrap()
    );
    assert_eq!(
        recs[2].cost_usd, None,
        "the catalog has no selfhosted/llama-3-70b"
    );
    assert_eq!(recs[3].status, 429);
}

#[test]
fn litellm_csv_maps_spend_tokens_latency_and_tags() {
    let p = parse(
        &fixture("litellm_spend_logs.csv"),
        &ImportOptions::default(),
        &catalog(),
    )
    .unwrap();
    assert_eq!(p.format, ImportFormat::Litellm);
    let r = &p.records[0];
    assert_eq!(
        r.request_id,
        "chatcmpl-9f3c1a7e-6b2d-4c1e-9a51-0d2f7b8e4a10"
    );
    assert_eq!(r.source, "import:litellm");
    assert_eq!(r.cost_usd, usd("0.00042"), "spend is taken as the cost");
    assert_eq!(
        (r.usage.input, r.usage.cached_input, r.usage.output),
        (600, 400, 300)
    );
    assert_eq!(r.latency_ms, 1500.0);
    assert_eq!(r.ttft_ms, Some(350.0));
    assert_eq!(r.route, "support-bot");
    assert_eq!(r.team.as_deref(), Some("team-support"));
    assert!(
        r.key_id
            .as_deref()
            .is_some_and(|k| k.starts_with("88dc28d0"))
    );
    assert_eq!(tag(r, "jobID"), Some("214590dsff09fds"));
    assert_eq!(tag(r, "tag"), Some("prod"));
    assert_eq!(tag(r, "ticket"), Some("T-1"));
    assert_eq!(tag(r, "end_user"), Some("cust-42"));

    let r = &p.records[1];
    assert_eq!(r.provider.as_deref(), Some("anthropic"));
    assert_eq!(
        r.model.as_deref(),
        Some("claude-sonnet-4-5-20250929"),
        "provider prefix dropped"
    );
    assert_eq!(
        r.usage,
        TokenUsage {
            input: 5000,
            cached_input: 4000,
            cache_write: 1000,
            cache_write_1h: 0,
            output: 1000,
            reasoning: 0
        }
    );
    // No spend logged: priced from the catalog (5k×$3 + 4k×$0.30 + 1k×$3.75 + 1k×$15 per M).
    assert_eq!(r.cost_usd, usd("0.03495"));
    assert_eq!(r.latency_ms, 4250.0);
    assert_eq!(
        r.ttft_ms, None,
        "completionStartTime = endTime: nothing streamed"
    );

    let r = &p.records[2];
    assert_eq!(
        (r.status, r.error_class.as_deref()),
        (429, Some("RateLimitError"))
    );
}

#[test]
fn litellm_jsonl_reads_like_the_csv() {
    let csv = parse(
        &fixture("litellm_spend_logs.csv"),
        &ImportOptions::default(),
        &catalog(),
    )
    .unwrap();
    let (format, jsonl) = parse_auto(&fixture("litellm_spend_logs.jsonl"));
    assert_eq!(format, ImportFormat::Litellm);
    assert_eq!(jsonl.len(), 2);
    for (a, b) in jsonl.iter().zip(&csv.records) {
        assert_eq!(a, b);
    }
}

#[test]
fn openai_usage_buckets_become_aggregated_records() {
    let p = parse(
        &fixture("openai_usage.json"),
        &ImportOptions::default(),
        &catalog(),
    )
    .unwrap();
    assert_eq!(p.format, ImportFormat::Openai);
    assert_eq!(p.records.len(), 3, "the empty bucket adds nothing");
    let r = &p.records[0];
    assert_eq!(r.ts, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
    assert_eq!((r.request_count, r.source.as_str()), (50, "import:openai"));
    assert_eq!(
        (r.provider.as_deref(), r.model.as_deref()),
        (Some("openai"), Some("gpt-4o-mini-2024-07-18"))
    );
    assert_eq!(
        (r.team.as_deref(), r.key_id.as_deref()),
        (Some("proj_support"), Some("key_abc"))
    );
    // input_tokens includes the cached ones.
    assert_eq!(
        (r.usage.input, r.usage.cached_input, r.usage.output),
        (800_000, 200_000, 100_000)
    );
    assert_eq!(r.cost_usd, usd("0.195"));
    // Batch API usage gets the catalog's batch discount (50 %).
    assert_eq!(p.records[1].cost_usd, usd("0.45"));
    assert_eq!(tag(&p.records[1], "batch"), Some("true"));
    assert_eq!(p.records[2].cost_usd, None);
    assert_eq!(
        p.unpriced.iter().collect::<Vec<_>>(),
        ["openai/ft:gpt-4o-mini-2024-07-18:acme::a1b2c3"]
    );
}

#[test]
fn openai_costs_pages_replace_catalog_prices_where_they_match() {
    let p = parse(
        &fixture("openai_usage_and_costs.json"),
        &ImportOptions::default(),
        &catalog(),
    )
    .unwrap();
    assert_eq!(p.records.len(), 3);
    assert_eq!(
        p.records[0].cost_usd,
        usd("0.21"),
        "billed input + output line items"
    );
    assert_eq!(p.records[0].price_version, None);
    assert_eq!(
        p.records[1].cost_usd,
        usd("0.45"),
        "no line item for it: catalog price"
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("$1 of billed cost matched no usage")),
        "{:?}",
        p.notes
    );
}

#[test]
fn anthropic_usage_maps_cache_kinds_and_context_window_pricing() {
    let p = parse(
        &fixture("anthropic_usage.json"),
        &ImportOptions::default(),
        &catalog(),
    )
    .unwrap();
    assert_eq!(p.format, ImportFormat::Anthropic);
    assert_eq!(p.records.len(), 3);
    let r = &p.records[0];
    assert_eq!(
        (r.request_count, r.source.as_str()),
        (1, "import:anthropic")
    );
    assert_eq!(
        r.usage,
        TokenUsage {
            input: 1_000_000,
            cached_input: 2_000_000,
            cache_write: 300_000,
            cache_write_1h: 100_000,
            output: 50_000,
            reasoning: 0
        }
    );
    assert_eq!(r.team.as_deref(), Some("wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"));
    assert_eq!(r.key_id.as_deref(), Some("apikey_01Rj2N8SVvo6BePZj99NhmiT"));
    assert_eq!(tag(r, "web_search_requests"), Some("3"));
    // $3 + 2M×$0.30 + 200k×$3.75 + 100k×$6 (1 h writes) + 50k×$15, per million.
    assert_eq!(r.cost_usd, usd("5.7"));
    // The 200k-1M window is priced at the long-context tier: 1M×$6 + 100k×$22.50.
    assert_eq!(p.records[1].cost_usd, usd("8.25"));
    // Batch tier: half price.
    assert_eq!(p.records[2].cost_usd, usd("1.5"));
    assert!(p.notes.iter().any(|n| n.contains("no request counts")));
}

#[test]
fn anthropic_cost_report_amounts_are_cents_spread_over_matching_usage() {
    let p = parse(
        &fixture("anthropic_usage_and_cost.json"),
        &ImportOptions::default(),
        &catalog(),
    )
    .unwrap();
    let billed: Money = p.records[..2].iter().filter_map(|r| r.cost_usd).sum();
    assert_eq!(
        billed,
        Money::from_str("6").unwrap(),
        "600.00 cents over the two matching rows"
    );
    // In proportion to their catalog cost (5.70 : 8.25).
    assert!(p.records[0].cost_usd < p.records[1].cost_usd);
    assert_eq!(
        p.records[2].cost_usd,
        usd("1.5"),
        "other workspace: catalog price"
    );
    assert!(
        p.notes.iter().any(|n| n.contains("$0.3 of billed cost")),
        "{:?}",
        p.notes
    );
}

#[test]
fn a_forced_format_that_does_not_fit_the_file_says_what_to_do() {
    let opts = ImportOptions {
        format: Some(ImportFormat::Openai),
        ..Default::default()
    };
    let err = parse(&fixture("generic.csv"), &opts, &catalog()).unwrap_err();
    assert!(err.to_string().contains("JSON response"), "{err}");
}
