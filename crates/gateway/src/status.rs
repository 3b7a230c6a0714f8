//! `GET /v1/status`: every route's strategy and each target's breaker and latency averages.

use crate::Gateway;
use serde_json::{Value, json};

impl Gateway {
    /// The health of every target of every route, as JSON.
    pub fn status_json(&self) -> Value {
        let live = self.live();
        let routes: Vec<Value> = live
            .routes
            .iter()
            .map(|r| {
                let targets: Vec<Value> = r
                    .status()
                    .into_iter()
                    .map(|(t, h)| {
                        json!({
                            "provider": t.provider.name(),
                            "model": t.model,
                            "weight": t.weight,
                            "breaker": h.state.as_str(),
                            "requests_in_window": h.requests_in_window,
                            "failures_in_window": h.failures_in_window,
                            "latency_ewma_ms": h.latency_ewma_ms.map(round1),
                            "ttft_ewma_ms": h.ttft_ewma_ms.map(round1),
                            "retry_in_s": h.retry_in.map(|d| round1(d.as_secs_f64())),
                            "opened_total": h.opened_total,
                        })
                    })
                    .collect();
                json!({
                    "name": r.name,
                    "strategy": r.strategy.as_str(),
                    "retries": r.retry.retries,
                    "targets": targets,
                })
            })
            .collect();
        let mut v = json!({
            "ready": self.is_ready(),
            "config_generation": live.generation,
            "routes": routes,
            "ledger": self.ledger_status_json(),
        });
        if let (Some(o), Some(f)) = (v.as_object_mut(), self.fleet_status_json()) {
            o.insert("fleet".into(), f);
        }
        if let (Some(o), Some(e)) = (v.as_object_mut(), self.eval_counters()) {
            o.insert("evaluation".into(), e);
        }
        if let (Some(o), Some(c)) = (v.as_object_mut(), self.cache_store()) {
            let mut cache = c.status_json();
            let semantic: serde_json::Map<String, serde_json::Value> = live
                .route_meta
                .iter()
                .filter_map(|(name, m)| {
                    let s = m.cache.as_ref()?.semantic.as_ref()?;
                    Some((name.clone(), s.status_json()))
                })
                .collect();
            if let (Some(c), false) = (cache.as_object_mut(), semantic.is_empty()) {
                c.insert("semantic".into(), semantic.into());
            }
            o.insert("cache".into(), cache);
        }
        v
    }
}

impl Gateway {
    /// The recorder's state: `ok`, `spooling` (the store refuses writes; records wait in the
    /// spool file) or `memory` (neither the store nor the spool takes them: lost on a stop).
    fn ledger_status_json(&self) -> Value {
        let s = self.inner.recorder.stats();
        let state = if s.in_memory > 0 {
            "memory"
        } else if s.spooled > 0 || s.last_error.is_some() {
            "spooling"
        } else {
            "ok"
        };
        let (spool, spool_error) = match &s.spool {
            Ok(p) => (Some(p.display().to_string()), None),
            Err(e) => (None, Some(e.clone())),
        };
        json!({
            "state": state,
            "written": s.written,
            "failed_commits": s.failed_commits,
            "spooled": s.spooled,
            "spool_bytes": s.spool_bytes,
            "replayed": s.replayed,
            "in_memory": s.in_memory,
            "spool": spool,
            "spool_error": spool_error,
            "last_error": s.last_error,
        })
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
