//! The demo's 90-day history: realistic past traffic written straight into the ledger, so
//! every `strategy` command has something to say on a fresh machine.
//!
//! Shape: six workloads with their own growth rates, weekday/weekend seasonality, a model
//! launch (support moves from gpt-5-mini to gpt-6.1-terra 40 days ago), and a deprecation
//! (extraction stays on gpt-4o-mini, whose retirement is announced). Rows are daily aggregates
//! per workload × team (`request_count` > 1), priced from the catalog at each day's prices.
//! Request ids are deterministic, so running the demo twice does not duplicate history.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use switchyard_catalog::Catalog;
use switchyard_ledger::{Attempt, AttemptOutcome, Record, RecordKind, RecordSink};
use switchyard_primitives::TokenUsage;

struct Workload {
    name: &'static str,
    route: &'static str,
    /// (provider, model) before and after `switch_day` days ago (None: never switches).
    models: [(&'static str, &'static str); 2],
    switch_days_ago: Option<i64>,
    /// Requests per weekday at the start of the window.
    base_requests: f64,
    monthly_growth: f64,
    input: u64,
    output: u64,
    cached_share: f64,
    features: &'static str,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "support",
        route: "support-chat",
        models: [("openai", "gpt-5-mini"), ("openai", "gpt-6.1-terra")],
        switch_days_ago: Some(40),
        base_requests: 9000.0,
        monthly_growth: 0.08,
        input: 900,
        output: 220,
        cached_share: 0.3,
        features: "tools",
    },
    Workload {
        name: "code-review",
        route: "code-review",
        models: [("openai", "gpt-6.2-sol"), ("openai", "gpt-6.2-sol")],
        switch_days_ago: None,
        base_requests: 1200.0,
        monthly_growth: 0.15,
        input: 6000,
        output: 450,
        cached_share: 0.2,
        features: "json_schema",
    },
    Workload {
        name: "summarization",
        route: "summarize",
        models: [
            ("mistral", "mistral-small-latest"),
            ("mistral", "mistral-small-latest"),
        ],
        switch_days_ago: None,
        base_requests: 4000.0,
        monthly_growth: 0.03,
        input: 3500,
        output: 180,
        cached_share: 0.0,
        features: "",
    },
    Workload {
        name: "classification",
        route: "classify",
        models: [
            ("groq", "llama-3.1-8b-instant"),
            ("groq", "llama-3.1-8b-instant"),
        ],
        switch_days_ago: None,
        base_requests: 20000.0,
        monthly_growth: 0.05,
        input: 120,
        output: 3,
        cached_share: 0.0,
        features: "",
    },
    Workload {
        name: "extraction",
        route: "extract",
        models: [("openai", "gpt-4o-mini"), ("openai", "gpt-4o-mini")],
        switch_days_ago: None,
        base_requests: 2500.0,
        monthly_growth: 0.0,
        input: 400,
        output: 60,
        cached_share: 0.0,
        features: "json_object",
    },
    Workload {
        name: "search-indexing",
        route: "embed",
        models: [
            ("openai", "text-embedding-3-small"),
            ("openai", "text-embedding-3-small"),
        ],
        switch_days_ago: None,
        base_requests: 15000.0,
        monthly_growth: 0.02,
        input: 350,
        output: 0,
        cached_share: 0.0,
        features: "",
    },
];

const TEAMS: &[(&str, f64)] = &[
    ("payments", 0.35),
    ("growth", 0.3),
    ("platform", 0.2),
    ("support-ops", 0.15),
];

/// Writes 90 days of history ending yesterday; returns the records written (new ones only).
pub fn write<S: RecordSink + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    today: NaiveDate,
) -> anyhow::Result<usize> {
    let mut batch = Vec::new();
    for days_ago in (1..=90i64).rev() {
        let day = today - Duration::days(days_ago);
        let season = match day.weekday() {
            Weekday::Sat | Weekday::Sun => 0.45,
            _ => 1.0,
        };
        for w in WORKLOADS {
            let months = (90 - days_ago) as f64 / 30.0;
            let volume = w.base_requests * season * (1.0 + w.monthly_growth).powf(months);
            let (provider, model) = match w.switch_days_ago {
                Some(s) if days_ago <= s => w.models[1],
                _ => w.models[0],
            };
            for (team, share) in TEAMS {
                let requests = (volume * share).round() as u64;
                if requests > 0 {
                    batch.push(record(w, (provider, model), (team, requests), day, catalog));
                }
            }
        }
    }
    Ok(store.append(&batch)?)
}

fn record(
    w: &Workload,
    (provider, model): (&str, &str),
    (team, requests): (&str, u64),
    day: NaiveDate,
    catalog: &Catalog,
) -> Record {
    let prompt = w.input * requests;
    let cached = (prompt as f64 * w.cached_share) as u64;
    let reasoning = if model.starts_with("gpt-6") || model.starts_with("gpt-5") {
        w.output / 4 * requests
    } else {
        0
    };
    let usage = TokenUsage {
        input: prompt - cached,
        cached_input: cached,
        output: w.output * requests,
        reasoning,
        ..Default::default()
    };
    let ts = Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap_or_default());
    let priced = catalog.get(provider, model).map(|m| {
        let p = m.price_at(day);
        (
            p.cost_for_requests(&usage, requests),
            format!("{}/{}@{}", m.provider, m.id, p.effective_from),
        )
    });
    Record {
        request_id: format!("hist_{day}_{}_{team}_{model}", w.name),
        ts,
        kind: if w.route == "embed" {
            RecordKind::Embedding
        } else {
            RecordKind::Chat
        },
        workload: Some(w.name.to_string()),
        tags: vec![
            ("team".into(), team.to_string()),
            ("env".into(), "history".into()),
        ],
        key_id: None,
        team: Some(team.to_string()),
        route: w.route.to_string(),
        provider: Some(provider.to_string()),
        model: Some(model.to_string()),
        attempts: vec![Attempt {
            provider: provider.into(),
            model: model.into(),
            outcome: AttemptOutcome::Ok,
            status: Some(200),
            latency_ms: 0,
            error: None,
        }],
        status: 200,
        error_class: None,
        streamed: false,
        shadow: false,
        features: w.features.to_string(),
        usage,
        cost_usd: priced.as_ref().map(|p| p.0),
        price_version: priced.map(|p| p.1),
        latency_ms: 0.0,
        ttft_ms: None,
        overhead_us: 0,
        usage_estimated: false,
        request_count: requests,
        source: "demo-history".into(),
        prefix: None,
        cascade: None,
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

/// `n` per-request records spread over the last `days` days, drawn from the same workload mix
/// (for benchmarks: a ledger of realistic shape at any size). Deterministic for a given `n`.
pub fn generate<S: RecordSink + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    n: u64,
    days: i64,
    today: NaiveDate,
) -> anyhow::Result<u64> {
    let mut x: u64 = 0x5157_4954_4348_5944; // splitmix64 state
    let mut next = || {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let start = Utc.from_utc_datetime(
        &(today - Duration::days(days))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default(),
    );
    let span_ms = days.max(1) * 86_400_000;
    let mut written = 0u64;
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        let w = &WORKLOADS[(next() % WORKLOADS.len() as u64) as usize];
        let (team, _) = TEAMS[(next() % TEAMS.len() as u64) as usize];
        let ts = start + Duration::milliseconds((next() % span_ms as u64) as i64);
        let day = ts.date_naive();
        let switched = w
            .switch_days_ago
            .is_some_and(|s| (today - day).num_days() <= s);
        let (provider, model) = w.models[usize::from(switched)];
        let mut r = record(w, (provider, model), (team, 1), day, catalog);
        r.request_id = format!("gen_{i:012}");
        r.ts = ts;
        r.source = "generated".into();
        r.latency_ms = 200.0 + (next() % 2000) as f64;
        batch.push(r);
        if batch.len() == 10_000 {
            written += store.append(&batch)? as u64;
            batch.clear();
        }
    }
    written += store.append(&batch)? as u64;
    Ok(written)
}
