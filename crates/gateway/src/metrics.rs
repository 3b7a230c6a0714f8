//! The gateway's side of `[metrics]`: the registry built at assembly (its tap installed on
//! the recorder by assembly, beside the tracer's, so every ledger record is counted), the label sets refreshed from each
//! config, the per-reply report (stage times, cache outcome), and the scrape, which reads the
//! breakers, budgets, ledger writer and evaluation counters at that moment.

use crate::cache::Outcome;
use crate::stages::Stage;
use crate::{Config, Gateway, Live, Reply};
use chrono::Utc;
use rust_decimal::prelude::ToPrimitive;
use std::collections::BTreeSet;
use switchyard_primitives::{Money, Secret};
use switchyard_telemetry::{
    BreakerGauge, BudgetGauge, CacheResult, EvalCounters, Known, LedgerGauges, Metrics, Options,
    Snapshot,
};

/// Stage label values, in pipeline order.
const STAGE_NAMES: [&str; Stage::ALL.len()] = {
    let mut names = [""; Stage::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Stage::ALL[i].as_str();
        i += 1;
    }
    names
};

/// Keys exported with budget gauges, at most (each adds three series per budget).
const MAX_BUDGET_KEYS: usize = 1_000;

/// The registry and scrape token, when `[metrics]` is on.
pub(crate) struct State {
    pub metrics: Metrics,
    pub config: crate::config::MetricsConfig,
    pub token: Option<Secret>,
}

pub(crate) fn start(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Option<State> {
    let mc = config.metrics.clone()?;
    let metrics = Metrics::new(Options {
        max_workloads: mc.max_workloads,
        stages: &STAGE_NAMES,
    });
    let token = mc
        .token_env
        .as_deref()
        .and_then(env)
        .map(|t| Secret::new(t.trim().to_string()));
    Some(State {
        metrics,
        config: mc,
        token,
    })
}

/// The label values a config declares: its routes (exposed catalog models included), the
/// providers and models its targets name, and the workloads its routes set.
pub(crate) fn known(live: &Live) -> Known {
    let mut providers = BTreeSet::new();
    let mut models = BTreeSet::new();
    for r in live.routes.iter() {
        for t in &r.targets {
            providers.insert(t.provider.name().to_string());
            models.insert(t.model.clone());
        }
    }
    let workloads: BTreeSet<String> = live
        .route_meta
        .values()
        .filter_map(|m| m.workload.clone())
        .collect();
    Known {
        routes: live.routes.names().to_vec(),
        providers: providers.into_iter().collect(),
        models: models.into_iter().collect(),
        workloads: workloads.into_iter().collect(),
    }
}

fn usd(m: Money) -> f64 {
    m.decimal().to_f64().unwrap_or(0.0)
}

fn count(v: &serde_json::Value, key: &str) -> u64 {
    v.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

impl Gateway {
    fn metrics_state(&self) -> Option<&State> {
        self.inner.metrics.as_ref()
    }

    /// `[metrics]` as started (`None`: metrics are off); fixed until a restart.
    pub fn metrics_config(&self) -> Option<&crate::config::MetricsConfig> {
        self.metrics_state().map(|s| &s.config)
    }

    /// The scrape token, when `[metrics] token_env` names one.
    pub fn metrics_token(&self) -> Option<&Secret> {
        self.metrics_state()?.token.as_ref()
    }

    /// The registry, for what else reports to it (traces, the dashboard).
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics_state().map(|s| &s.metrics)
    }

    /// Refreshes the bounded label sets from the config now in force.
    pub(crate) fn configure_metrics(&self) {
        if let Some(m) = self.metrics() {
            m.configure(&known(&self.live()));
        }
    }

    /// Counts one reply's stage times and cache outcome (the edge's requests only).
    pub(crate) fn observe_reply(&self, reply: &Reply) {
        let Some(m) = self.metrics() else { return };
        let meta = &reply.meta;
        m.observe_stages(meta.stages.iter().map(|(_, d)| d), meta.overhead);
        if let Some(c) = meta.cache {
            let result = match c {
                Outcome::Hit => CacheResult::Hit,
                Outcome::SemanticHit { .. } => CacheResult::HitSemantic,
                Outcome::Miss => CacheResult::Miss,
                Outcome::Bypass => CacheResult::Bypass,
            };
            m.observe_cache(&meta.route, result);
        }
    }

    /// Every metric as OpenMetrics text (`switchyard_telemetry::CONTENT_TYPE`), or `None`
    /// when `[metrics]` is off.
    pub fn metrics_text(&self) -> Option<String> {
        let m = self.metrics()?;
        Some(m.encode(self.scrape_snapshot()))
    }

    fn scrape_snapshot(&self) -> Snapshot {
        let s = self.inner.recorder.stats();
        let ledger = LedgerGauges {
            queued: self.inner.recorder.queued() as u64,
            written: s.written,
            failed_commits: s.failed_commits,
            spooled: s.spooled,
            in_memory: s.in_memory,
        };
        let eval = self.eval_counters().map(|v| EvalCounters {
            captured: count(&v, "captured"),
            captures_stored: count(&v, "captures_stored"),
            captures_dropped: count(&v, "captures_dropped"),
            shadow_sent: count(&v, "shadow_sent"),
            shadow_skipped_busy: count(&v, "shadow_skipped_busy"),
            shadow_skipped_budget: count(&v, "shadow_skipped_budget"),
            shadow_failed: count(&v, "shadow_failed"),
        });
        let cache_entries = self
            .cache_store()
            .filter(|_| self.live().any_cache)
            .map(|c| {
                let v = c.status_json();
                (count(&v, "entries"), count(&v, "bytes"))
            });
        Snapshot {
            breakers: self.breaker_gauges(),
            budgets: self.budget_gauges(),
            ledger,
            eval,
            cache_entries,
            traces: self.traces().map(|t| t.counts()),
        }
    }

    /// One gauge per provider × model (a breaker is shared by every route naming the pair).
    fn breaker_gauges(&self) -> Vec<BreakerGauge> {
        let live = self.live();
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for r in live.routes.iter() {
            for (t, h) in r.status() {
                if seen.insert((t.provider.name().to_string(), t.model.clone())) {
                    out.push(BreakerGauge {
                        provider: t.provider.name().to_string(),
                        model: t.model.clone(),
                        state: h.state.as_str(),
                        opened_total: h.opened_total,
                    });
                }
            }
        }
        out
    }

    /// Each live key's budgets as this replica counts them (with `[fleet]`, Redis holds the
    /// shared figures; these are the local view).
    fn budget_gauges(&self) -> Vec<BudgetGauge> {
        let now = Utc::now();
        let gov = &self.governance().governor;
        let mut out = Vec::new();
        for key in gov.handles().iter().take(MAX_BUDGET_KEYS) {
            let Some(u) = gov.snapshot(key.id(), now) else {
                continue;
            };
            out.extend(u.budgets.iter().map(|b| BudgetGauge {
                key_id: u.key_id.clone(),
                period: b.period.as_str(),
                limit_usd: usd(b.limit_usd),
                spent_usd: usd(b.spent_usd),
                reserved_usd: usd(b.reserved_usd),
            }));
        }
        out
    }
}
