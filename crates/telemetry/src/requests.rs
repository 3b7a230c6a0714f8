//! Per-request series, fed from each ledger record as it is handed to the recorder.
//!
//! One map lookup per record finds its [`Series`] (route × provider × model × workload ×
//! outcome × operation, every part a bounded [`Sym`]); the series holds pre-resolved handles
//! to the GenAI histograms it reports to, so the rest is atomic adds. A series is created
//! once, under a write lock, the first time its labels are seen.

use crate::histogram::{DURATION_BUCKETS, Histogram, TOKEN_BUCKETS, TPOT_BUCKETS, TTFT_BUCKETS};
use crate::labels::{HashMap, Labels, Sym};
use rust_decimal::prelude::ToPrimitive;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use switchyard_ledger::{CACHE_EXACT, CACHE_SEMANTIC, Record, RecordKind};
use switchyard_primitives::Money;

/// `outcome` label values: `ok`, `cache_hit`, the gateway's error classes, `other`.
pub const OUTCOMES: &[&str] = &[
    "ok",
    "cache_hit",
    "invalid_request",
    "unknown_route",
    "body_too_large",
    "body_timeout",
    "unauthorized",
    "forbidden",
    "rate_limited",
    "budget_exceeded",
    "rate_limit_exceeded",
    "governance_unavailable",
    "upstream_rejected",
    "upstream_timeout",
    "upstream_error",
    "circuit_open",
    "no_target_fits",
    "context_length_exceeded",
    "shutting_down",
    "client_disconnected",
    "stream_error",
    "other",
];
const OK: u8 = 0;
const CACHE_HIT: u8 = 1;

/// `gen_ai_operation_name` values, by [`RecordKind`].
pub const OPERATIONS: &[&str] = &["chat", "embeddings"];

/// `gen_ai_token_type` values, disjoint as the ledger prices them.
pub const TOKEN_TYPES: &[&str] = &[
    "input",
    "cached_input",
    "cache_write",
    "output",
    "reasoning",
];

/// `lever` values of `switchyard_saved_usd_total`.
pub const LEVERS: &[&str] = &["exact", "semantic", "batch", "cascade", "routing"];
const EXACT: usize = 0;
const SEMANTIC: usize = 1;
const BATCH: usize = 2;
const CASCADE: usize = 3;
const ROUTING: usize = 4;

fn outcome(rec: &Record) -> u8 {
    match rec.error_class.as_deref() {
        None if rec.cache.is_some() => CACHE_HIT,
        None if rec.status < 400 => OK,
        None => (OUTCOMES.len() - 1) as u8,
        Some(class) => OUTCOMES
            .iter()
            .position(|o| *o == class)
            .unwrap_or(OUTCOMES.len() - 1) as u8,
    }
}

pub(crate) fn nanos(m: Money) -> u64 {
    (m.decimal() * rust_decimal::Decimal::from(1_000_000_000u64))
        .round()
        .to_u64()
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct GenAiKey {
    pub provider: Sym,
    /// What the client asked for: the route (`gen_ai_request_model`).
    pub request: Sym,
    /// The model that answered (`gen_ai_response_model`).
    pub response: Sym,
    pub op: u8,
}

/// The GenAI histograms of one provider × request model × response model × operation.
pub(crate) struct GenAi {
    pub tokens: [Histogram; 5],
    pub ttft: Histogram,
    pub tpot: Histogram,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SeriesKey {
    pub route: Sym,
    pub provider: Sym,
    pub model: Sym,
    pub workload: Sym,
    pub outcome: u8,
    pub op: u8,
}

pub(crate) struct Series {
    pub requests: AtomicU64,
    pub cost_nanos: AtomicU64,
    pub saved_nanos: [AtomicU64; 5],
    /// A `lowest-cost` pick that cost more than the route's baseline target.
    pub overspend_nanos: AtomicU64,
    genai: Arc<GenAi>,
    duration: Arc<Histogram>,
}

fn get_or_insert<K: Hash + Eq + Copy, V>(
    map: &RwLock<HashMap<K, Arc<V>>>,
    key: K,
    make: impl FnOnce() -> V,
) -> Arc<V> {
    if let Some(v) = map.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return v.clone();
    }
    let mut w = map.write().unwrap_or_else(|p| p.into_inner());
    w.entry(key).or_insert_with(|| Arc::new(make())).clone()
}

pub(crate) fn snapshot<K: Copy + Ord, V>(map: &RwLock<HashMap<K, Arc<V>>>) -> Vec<(K, Arc<V>)> {
    let mut v: Vec<(K, Arc<V>)> = map
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    v.sort_by_key(|(k, _)| *k);
    v
}

#[derive(Default)]
pub(crate) struct Requests {
    pub series: RwLock<HashMap<SeriesKey, Arc<Series>>>,
    pub genai: RwLock<HashMap<GenAiKey, Arc<GenAi>>>,
    /// Keyed by the GenAI labels and the outcome (its `error_type` when not a success).
    pub durations: RwLock<HashMap<(GenAiKey, u8), Arc<Histogram>>>,
    /// Shadow (evaluation) calls: spend and count by route, apart from production.
    pub shadow: RwLock<HashMap<Sym, Arc<[AtomicU64; 2]>>>,
}

impl Requests {
    fn series(&self, key: SeriesKey) -> Arc<Series> {
        get_or_insert(&self.series, key, || {
            let g = GenAiKey {
                provider: key.provider,
                request: key.route,
                response: key.model,
                op: key.op,
            };
            let outcome = if key.outcome <= CACHE_HIT {
                OK
            } else {
                key.outcome
            };
            Series {
                requests: AtomicU64::new(0),
                cost_nanos: AtomicU64::new(0),
                saved_nanos: Default::default(),
                overspend_nanos: AtomicU64::new(0),
                genai: get_or_insert(&self.genai, g, || GenAi {
                    tokens: std::array::from_fn(|_| Histogram::new(TOKEN_BUCKETS)),
                    ttft: Histogram::new(TTFT_BUCKETS),
                    tpot: Histogram::new(TPOT_BUCKETS),
                }),
                duration: get_or_insert(&self.durations, (g, outcome), || {
                    Histogram::new(DURATION_BUCKETS)
                }),
            }
        })
    }

    pub fn record(&self, labels: &Labels, rec: &Record) {
        let route = labels.route(&rec.route);
        if rec.shadow {
            let cell = get_or_insert(&self.shadow, route, Default::default);
            cell[0].fetch_add(1, Ordering::Relaxed);
            if let Some(c) = rec.cost_usd {
                cell[1].fetch_add(nanos(c), Ordering::Relaxed);
            }
            return;
        }
        let key = SeriesKey {
            route,
            provider: labels.provider(rec.provider.as_deref()),
            model: labels.model(rec.model.as_deref()),
            workload: labels.workload(rec.workload.as_deref()),
            outcome: outcome(rec),
            op: match rec.kind {
                RecordKind::Chat | RecordKind::Responses => 0,
                RecordKind::Embedding => 1,
            },
        };
        let s = self.series(key);
        s.requests
            .fetch_add(rec.request_count.max(1), Ordering::Relaxed);
        if let Some(c) = rec.cost_usd {
            s.cost_nanos.fetch_add(nanos(c), Ordering::Relaxed);
        }
        savings(&s, rec);
        if rec.latency_ms > 0.0 {
            s.duration.observe(rec.latency_ms / 1000.0);
        }
        if rec.cache.is_none() {
            observe_tokens(&s.genai, rec);
        }
    }
}

fn observe_tokens(g: &GenAi, rec: &Record) {
    let u = &rec.usage;
    if u.total() == 0 {
        return;
    }
    let kinds = [
        u.input,
        u.cached_input,
        u.cache_write,
        u.output,
        u.reasoning,
    ];
    for (i, n) in kinds.into_iter().enumerate() {
        // Input and output are always reported for an answer with usage (OpenTelemetry's two
        // required types); the others only when the provider used them.
        if n > 0 || i == 0 || i == 3 {
            g.tokens[i].observe(n as f64);
        }
    }
    let Some(ttft) = rec.ttft_ms.filter(|_| rec.streamed && rec.status < 400) else {
        return;
    };
    g.ttft.observe(ttft / 1000.0);
    let generated = u.completion_total();
    if generated > 1 && rec.latency_ms > ttft {
        g.tpot
            .observe((rec.latency_ms - ttft) / 1000.0 / (generated - 1) as f64);
    }
}

fn savings(s: &Series, rec: &Record) {
    let add = |lever: usize, m: Money| {
        s.saved_nanos[lever].fetch_add(nanos(m), Ordering::Relaxed);
    };
    if let Some(saved) = rec.saved_usd {
        match rec.cache.as_deref() {
            Some(CACHE_EXACT) => add(EXACT, saved),
            Some(CACHE_SEMANTIC) => add(SEMANTIC, saved),
            _ if rec.batch => add(BATCH, saved),
            _ => {}
        }
    }
    let Some(cost) = rec.cost_usd else { return };
    if let Some(base) = rec.cascade.as_ref().and_then(|c| c.baseline_usd) {
        if base.decimal() > cost.decimal() {
            add(CASCADE, base - cost);
        }
    }
    if let Some(base) = rec.routing_baseline_usd {
        if base.decimal() >= cost.decimal() {
            add(ROUTING, base - cost);
        } else {
            s.overspend_nanos
                .fetch_add(nanos(cost - base), Ordering::Relaxed);
        }
    }
}

impl Series {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}
