//! Layer 2: Switchyard's telemetry. Owns the Prometheus metrics: what is counted, the bounded
//! label sets ([`labels`]), the lock-free storage the request path writes to, and the
//! exposition (prometheus-client's OpenMetrics text encoder over our own collectors).
//!
//! Fed three ways, so nothing on the request path formats, allocates or locks a contended
//! lock:
//! - every ledger record, through the recorder's [`switchyard_ledger::Tap`] (requests, tokens,
//!   cost, savings by lever, GenAI latency histograms) and every ledger commit (flush latency);
//! - the pipeline's stage times and cache outcome per reply ([`Metrics::observe_stages`],
//!   [`Metrics::observe_cache`]);
//! - at scrape time, a [`Snapshot`] of state others own (breakers, budgets, ledger queue,
//!   capture and shadow counters), passed to [`Metrics::encode`].
//!
//! Must never know: HTTP, the gateway's types, how a route executes. Traces (OTLP) and the
//! dashboard are meant to read the same [`Metrics`] and records.

mod encode;
pub mod exposition;
mod gauges;
mod histogram;
pub mod labels;
mod requests;
mod snapshot;
pub mod trace;

pub use histogram::{
    DURATION_BUCKETS, OVERHEAD_BUCKETS, TOKEN_BUCKETS, TPOT_BUCKETS, TTFT_BUCKETS,
};
pub use labels::{Known, OTHER};
pub use requests::{LEVERS, OPERATIONS, OUTCOMES, TOKEN_TYPES};
pub use snapshot::{BreakerGauge, BudgetGauge, EvalCounters, LedgerGauges, Snapshot};

use histogram::Histogram;
use labels::{HashMap, Labels, Sym};
use requests::Requests;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchyard_ledger::Record;

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `result` label values of `switchyard_cache_requests_total`.
pub const CACHE_RESULTS: &[&str] = &["hit", "hit_semantic", "miss", "bypass"];

/// How the response cache answered one request on a route with a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheResult {
    Hit = 0,
    HitSemantic = 1,
    Miss = 2,
    Bypass = 3,
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct Options {
    /// Workloads past this many (not declared in the config) are labelled `other`.
    pub max_workloads: usize,
    /// The pipeline's stage names, in order: [`Metrics::observe_stages`] takes their times
    /// in this order. `total` is added after them.
    pub stages: &'static [&'static str],
}

/// The registry: cheap to clone, every clone shares one state.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    labels: Labels,
    requests: Requests,
    stages: &'static [&'static str],
    /// One per stage, then `total`.
    stage_times: Box<[Histogram]>,
    cache: RwLock<HashMap<Sym, Arc<[AtomicU64; 4]>>>,
    flush: Histogram,
    flushed_records: AtomicU64,
}

impl Metrics {
    pub fn new(options: Options) -> Self {
        Metrics {
            inner: Arc::new(Inner {
                labels: Labels::new(options.max_workloads),
                requests: Requests::default(),
                stages: options.stages,
                stage_times: (0..=options.stages.len())
                    .map(|_| Histogram::new(OVERHEAD_BUCKETS))
                    .collect(),
                cache: RwLock::default(),
                flush: Histogram::new(OVERHEAD_BUCKETS),
                flushed_records: AtomicU64::new(0),
            }),
        }
    }

    /// Sets the label values the config declares (at start and after every reload).
    pub fn configure(&self, known: &Known) {
        self.inner.labels.configure(known);
    }

    /// One finished request, as the ledger records it.
    pub fn record(&self, rec: &Record) {
        self.inner.requests.record(&self.inner.labels, rec);
    }

    /// The time each pipeline stage took (in [`Options::stages`] order; a stage that did not
    /// run is zero and not observed), and the request's whole overhead as `total`.
    pub fn observe_stages(&self, times: impl IntoIterator<Item = Duration>, total: Duration) {
        let h = &self.inner.stage_times;
        for (i, d) in times.into_iter().enumerate().take(self.inner.stages.len()) {
            if !d.is_zero() {
                h[i].observe(d.as_secs_f64());
            }
        }
        if let Some(t) = h.last() {
            t.observe(total.as_secs_f64());
        }
    }

    /// The response cache's answer on `route` (a route with a cache).
    pub fn observe_cache(&self, route: &str, result: CacheResult) {
        let sym = self.inner.labels.route(route);
        let cell = requests_cell(&self.inner.cache, sym);
        cell[result as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A [`switchyard_ledger::Tap`] to install on the recorder.
    pub fn tap(&self) -> Arc<dyn switchyard_ledger::Tap> {
        Arc::new(self.clone())
    }

    /// Every metric in the OpenMetrics text format ([`CONTENT_TYPE`]), with `snapshot`'s
    /// gauges.
    pub fn encode(&self, snapshot: Snapshot) -> String {
        encode::encode(self, snapshot)
    }
}

fn requests_cell(map: &RwLock<HashMap<Sym, Arc<[AtomicU64; 4]>>>, sym: Sym) -> Arc<[AtomicU64; 4]> {
    if let Some(c) = map.read().unwrap_or_else(|p| p.into_inner()).get(&sym) {
        return c.clone();
    }
    map.write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(sym)
        .or_default()
        .clone()
}

impl switchyard_ledger::Tap for Metrics {
    fn record(&self, record: &Record) {
        Metrics::record(self, record);
    }

    fn committed(&self, records: usize, took: Duration) {
        self.inner.flush.observe(took.as_secs_f64());
        self.inner
            .flushed_records
            .fetch_add(records as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
