//! The evaluation runtime: the eval store writer, the shadow bounds (a semaphore and a daily
//! spend cap) and the counters `/v1/status` shows. Opened the first time a config captures or
//! shadows, and kept across reloads.

use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use switchyard_eval::Redactor;
use switchyard_evalstore::{Capture, CaptureWriter, CaptureWriterConfig};
use switchyard_gateway::Config;
use switchyard_ledger::Recorder;
use switchyard_primitives::Money;

/// What every route's observer shares: the runtime (once a config needs it) and the ledger
/// recorder that takes shadow records.
#[derive(Default)]
pub(crate) struct Shared {
    pub runtime: OnceLock<EvalRuntime>,
    pub recorder: OnceLock<Recorder>,
}

/// The eval store writer and the shadow bounds, shared by every route.
pub(crate) struct EvalRuntime {
    pub(crate) writer: CaptureWriter,
    pub(crate) shadow_slots: Arc<tokio::sync::Semaphore>,
    pub(crate) shadow_concurrency: usize,
    shadow_spend: Mutex<(NaiveDate, Money)>,
    shadow_max: Money,
    pub(crate) counters: EvalCounters,
}

/// What capture and shadowing have done since start.
#[derive(Debug, Default)]
pub struct EvalCounters {
    pub captured: AtomicU64,
    pub shadow_sent: AtomicU64,
    pub shadow_skipped_busy: AtomicU64,
    pub shadow_skipped_budget: AtomicU64,
    pub shadow_failed: AtomicU64,
}

impl EvalRuntime {
    pub(crate) fn open(config: &Config) -> Result<Self, String> {
        let redactor = Redactor::new(&config.eval.redact_patterns).map_err(|e| e.to_string())?;
        let redact: switchyard_evalstore::Redact = Box::new(move |c: &mut Capture| {
            redactor.redact_json(&mut c.request);
            c.output_text = redactor.redact(&c.output_text);
            redactor.redact_json(&mut c.tool_calls);
        });
        let path = config.eval.store_path(&config.ledger.path);
        let writer = CaptureWriter::spawn(
            &path,
            redact,
            CaptureWriterConfig {
                retention: config.eval.retention,
                capacity: config.eval.capture_queue,
                // Beside the ledger's: what the eval store refuses waits there for its return.
                spool_dir: Some(config.ledger.spool_dir()),
            },
        )
        .map_err(|e| e.to_string())?;
        Ok(EvalRuntime {
            writer,
            shadow_slots: Arc::new(tokio::sync::Semaphore::new(config.eval.shadow_concurrency)),
            shadow_concurrency: config.eval.shadow_concurrency,
            shadow_spend: Mutex::new((Utc::now().date_naive(), Money::ZERO)),
            shadow_max: config.eval.shadow_max_usd_per_day,
            counters: EvalCounters::default(),
        })
    }

    pub(crate) fn flush(&self) {
        self.writer.flush();
    }

    pub(crate) fn shutdown(&self) {
        self.writer.shutdown();
    }

    /// Whether today's shadow spend leaves room; adds `cost` when given.
    pub(crate) fn shadow_budget(&self, add: Option<Money>) -> bool {
        let mut s = self.shadow_spend.lock().unwrap_or_else(|p| p.into_inner());
        let today = Utc::now().date_naive();
        if s.0 != today {
            *s = (today, Money::ZERO);
        }
        if let Some(c) = add {
            s.1 = Money(s.1.0 + c.0);
        }
        s.1.0 < self.shadow_max.0
    }

    /// Capture and shadow counters since start, as JSON.
    pub(crate) fn counters_json(&self) -> Value {
        let c = &self.counters;
        let stats = self.writer.stats();
        json!({
            "captured": c.captured.load(Ordering::Relaxed),
            "captures_stored": stats.stored,
            "captures_dropped": stats.dropped,
            "eval_writes_failed": stats.failed,
            "eval_spooled": stats.spooled,
            "eval_replayed": stats.replayed,
            "shadow_sent": c.shadow_sent.load(Ordering::Relaxed),
            "shadow_skipped_busy": c.shadow_skipped_busy.load(Ordering::Relaxed),
            "shadow_skipped_budget": c.shadow_skipped_budget.load(Ordering::Relaxed),
            "shadow_failed": c.shadow_failed.load(Ordering::Relaxed),
        })
    }

    /// Shadow calls still running.
    pub(crate) fn in_flight(&self) -> usize {
        self.shadow_concurrency
            .saturating_sub(self.shadow_slots.available_permits())
    }
}
