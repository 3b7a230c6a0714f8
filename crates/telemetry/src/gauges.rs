//! The scrape's gauges and counters read from others' state (the [`crate::Snapshot`]):
//! breakers, budgets, the ledger writer, the cache store, evaluation.

use crate::encode::{Labels, Scrape, counters, gauges};
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Unit;

impl Scrape {
    pub(crate) fn scraped(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.snapshot;
        let breakers: Vec<(Labels<'_>, i64)> = s
            .breakers
            .iter()
            .map(|b| {
                let v = match b.state {
                    "open" => 2,
                    "half_open" => 1,
                    _ => 0,
                };
                (
                    vec![
                        ("provider", b.provider.as_str()),
                        ("model", b.model.as_str()),
                    ],
                    v,
                )
            })
            .collect();
        gauges(
            enc,
            (
                "switchyard_breaker_state",
                "Circuit breaker per target: 0 closed, 1 half-open, 2 open.",
                None,
            ),
            &breakers,
        )?;
        let opened: Vec<(Labels<'_>, u64)> = s
            .breakers
            .iter()
            .map(|b| {
                (
                    vec![
                        ("provider", b.provider.as_str()),
                        ("model", b.model.as_str()),
                    ],
                    b.opened_total,
                )
            })
            .collect();
        counters(
            enc,
            (
                "switchyard_breaker_opened",
                "Times each target's breaker opened since start.",
                None,
            ),
            &opened,
        )?;
        let dollars = Unit::Other("usd".into());
        let budget = |f: fn(&crate::BudgetGauge) -> f64| -> Vec<(Labels<'_>, f64)> {
            s.budgets
                .iter()
                .map(|b| (vec![("key", b.key_id.as_str()), ("period", b.period)], f(b)))
                .collect()
        };
        gauges(
            enc,
            (
                "switchyard_budget_remaining",
                "What is left of each virtual key's budget this period (limit minus spent minus reserved), in US dollars.",
                Some(&dollars),
            ),
            &budget(|b| (b.limit_usd - b.spent_usd - b.reserved_usd).max(0.0)),
        )?;
        gauges(
            enc,
            (
                "switchyard_budget_reserved",
                "Held by each key's requests in flight (their worst-case cost), in US dollars.",
                Some(&dollars),
            ),
            &budget(|b| b.reserved_usd),
        )?;
        gauges(
            enc,
            (
                "switchyard_budget_limit",
                "Each key's budget for the period, in US dollars.",
                Some(&dollars),
            ),
            &budget(|b| b.limit_usd),
        )?;
        self.ledger(enc)
    }

    fn ledger(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.snapshot;
        let l = &s.ledger;
        let one = |v: u64| vec![(Labels::new(), v)];
        gauges(
            enc,
            (
                "switchyard_ledger_queue_depth",
                "Records waiting for the ledger writer.",
                None,
            ),
            &one(l.queued),
        )?;
        counters(
            enc,
            (
                "switchyard_ledger_records_written",
                "Records the ledger store took.",
                None,
            ),
            &one(l.written),
        )?;
        counters(
            enc,
            (
                "switchyard_ledger_failed_commits",
                "Commits the ledger store refused (the records went to the spool).",
                None,
            ),
            &one(l.failed_commits),
        )?;
        gauges(
            enc,
            (
                "switchyard_ledger_spooled_records",
                "Records in the spool file, waiting for the store.",
                None,
            ),
            &one(l.spooled),
        )?;
        gauges(
            enc,
            (
                "switchyard_ledger_unsaved_records",
                "Records neither the store nor the spool took: lost if the process stops.",
                None,
            ),
            &one(l.in_memory),
        )?;
        if let Some((entries, bytes)) = s.cache_entries {
            gauges(
                enc,
                (
                    "switchyard_cache_entries",
                    "Answers in the response cache store.",
                    None,
                ),
                &one(entries),
            )?;
            gauges(
                enc,
                (
                    "switchyard_cache_store",
                    "Size of the response cache store.",
                    Some(&Unit::Bytes),
                ),
                &one(bytes),
            )?;
        }
        if let Some(t) = &s.traces {
            let rows = vec![
                (vec![("result", "exported")], t.exported),
                (vec![("result", "dropped")], t.dropped),
                (vec![("result", "failed")], t.failed),
            ];
            counters(
                enc,
                (
                    "switchyard_trace_spans",
                    "Trace spans the collector accepted, dropped because the export queue was full, or lost in a failed export.",
                    None,
                ),
                &rows,
            )?;
        }
        let Some(e) = &s.eval else { return Ok(()) };
        let rows = vec![
            (vec![("result", "captured")], e.captured),
            (vec![("result", "stored")], e.captures_stored),
            (vec![("result", "dropped")], e.captures_dropped),
        ];
        counters(
            enc,
            (
                "switchyard_captures",
                "Requests captured for evaluation, stored by the capture writer, or dropped because its queue was full.",
                None,
            ),
            &rows,
        )?;
        let rows = vec![
            (vec![("result", "sent")], e.shadow_sent),
            (vec![("result", "skipped_busy")], e.shadow_skipped_busy),
            (vec![("result", "skipped_budget")], e.shadow_skipped_budget),
            (vec![("result", "failed")], e.shadow_failed),
        ];
        counters(
            enc,
            (
                "switchyard_shadow_requests",
                "Shadow calls sent, skipped (concurrency or daily spend cap) or failed.",
                None,
            ),
            &rows,
        )
    }
}
