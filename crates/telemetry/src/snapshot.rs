//! State others own, read at scrape time and passed to [`crate::Metrics::encode`]: nothing
//! here is touched on the request path.

/// One target's circuit breaker (provider × model, shared by every route naming the pair).
#[derive(Debug, Clone)]
pub struct BreakerGauge {
    pub provider: String,
    pub model: String,
    /// `closed`, `half_open` or `open`.
    pub state: &'static str,
    /// Times it has opened since start.
    pub opened_total: u64,
}

/// One budget of one virtual key.
#[derive(Debug, Clone)]
pub struct BudgetGauge {
    pub key_id: String,
    /// `day`, `week` or `month`.
    pub period: &'static str,
    pub limit_usd: f64,
    pub spent_usd: f64,
    /// Held by requests in flight (their worst-case cost).
    pub reserved_usd: f64,
}

/// The ledger writer.
#[derive(Debug, Clone, Default)]
pub struct LedgerGauges {
    /// Records waiting for the writer.
    pub queued: u64,
    pub written: u64,
    pub failed_commits: u64,
    /// Records in the spool file, waiting for the store.
    pub spooled: u64,
    /// Records neither the store nor the spool took: lost if the process stops.
    pub in_memory: u64,
}

/// Evaluation's capture writer and shadow calls.
#[derive(Debug, Clone, Default)]
pub struct EvalCounters {
    pub captured: u64,
    pub captures_stored: u64,
    /// Captures dropped because the capture writer's queue was full.
    pub captures_dropped: u64,
    pub shadow_sent: u64,
    pub shadow_skipped_busy: u64,
    pub shadow_skipped_budget: u64,
    pub shadow_failed: u64,
}

/// Everything read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub breakers: Vec<BreakerGauge>,
    pub budgets: Vec<BudgetGauge>,
    pub ledger: LedgerGauges,
    pub eval: Option<EvalCounters>,
    /// The cache store's entries and bytes, when a route has a cache.
    pub cache_entries: Option<(u64, u64)>,
    /// The trace exporter's counters, when `[telemetry]` is on.
    pub traces: Option<crate::trace::TraceCounts>,
}
