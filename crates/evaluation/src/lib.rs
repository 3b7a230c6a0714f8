//! Layer 5: evaluation beside the request path, behind the gateway's observer hook.
//!
//! - capture: a sample of live requests and answers, redacted, to the eval store;
//! - shadow traffic: a sample mirrored to candidate models after the client's answer is
//!   complete, scored against the primary's answer, recorded as shadow spend ([`shadow`]);
//! - [`replay`]: a dataset sent through the gateway's own pipeline to a candidate (and a
//!   baseline) route, scored, and compared with paired statistics.
//!
//! The gateway knows only `switchyard_gateway::observe`: [`Evaluation`] is its [`Observer`],
//! installed at assembly ([`build`], as the `switchyard` binary does). The only work on the
//! request path is the sampling draw, and for a sampled request keeping its body. Must never
//! know HTTP; the scoring itself is `switchyard-eval`'s.

mod grade;
mod plan;
pub mod replay;
mod routes;
mod runtime;
mod score;
mod shadow;

pub use grade::LOCAL_EMBEDDINGS;
pub use replay::{Dataset, ReplayError, ReplayOptions, RunReport, replay};

use runtime::{EvalRuntime, Shared};
use serde_json::Value;
use std::sync::Arc;
use switchyard_gateway::observe::{Observer, RouteObserver, RouteView};
use switchyard_gateway::{BuildError, Built, Config, ConfigError, Gateway};
use switchyard_ledger::Recorder;

/// Capture and shadow traffic for every route that asks for them.
#[derive(Default)]
pub struct Evaluation {
    shared: Arc<Shared>,
}

/// The observer to install at assembly.
pub fn observer() -> Arc<dyn Observer> {
    Arc::new(Evaluation::default())
}

/// A gateway with evaluation installed: what `switchyard serve` runs.
pub fn build(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Result<Built, BuildError> {
    Gateway::build_with(config, env, Some(observer()))
}

/// Checks a config as [`build`] would, evaluation settings included.
pub fn check(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Result<usize, BuildError> {
    Gateway::check_with(config, env, Some(&Evaluation::default()))
}

impl Observer for Evaluation {
    fn route(
        &self,
        view: &RouteView<'_>,
        problems: &mut Vec<ConfigError>,
    ) -> Option<Arc<dyn RouteObserver>> {
        let re = routes::route_eval(&self.shared, view, problems)?;
        Some(Arc::new(routes::Hook(re)))
    }

    /// Opens the eval store the first time a config captures or shadows.
    fn start(&self, config: &Config, recorder: &Recorder) -> Result<(), String> {
        let _ = self.shared.recorder.set(recorder.clone());
        let wanted = config
            .routes
            .iter()
            .any(|r| r.capture.is_some() || !r.shadow.is_empty());
        if wanted && self.shared.runtime.get().is_none() {
            let _ = self.shared.runtime.set(EvalRuntime::open(config)?);
        }
        Ok(())
    }

    fn status(&self) -> Option<Value> {
        Some(self.shared.runtime.get()?.counters_json())
    }

    fn flush(&self) {
        if let Some(rt) = self.shared.runtime.get() {
            rt.flush();
        }
    }

    fn shutdown(&self) {
        if let Some(rt) = self.shared.runtime.get() {
            rt.shutdown();
        }
    }

    fn in_flight(&self) -> usize {
        self.shared.runtime.get().map_or(0, EvalRuntime::in_flight)
    }
}
