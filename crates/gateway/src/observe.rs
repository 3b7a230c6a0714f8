//! The observer hook: what the pipeline tells an observer of its traffic, and when.
//!
//! Evaluation (capture sampling, shadow traffic: the `switchyard-evaluation` crate) sits
//! beside the request path, not inside it. The gateway knows only these traits: at assembly
//! an [`Observer`] builds one [`RouteObserver`] per route from the config; before the upstream
//! call the pipeline asks the route's observer whether this request is sampled (usually not,
//! which costs one lookup); once the answer is complete (for a stream, when the tee ends) it
//! hands the sampled request its [`Answer`] and finished record. Nothing an observer does can
//! delay, alter or fail the client's answer. Must never know how evaluation stores or scores.

use crate::config::{Config, ConfigError, ProviderConfig};
use crate::reply::RequestContext;
use bytes::Bytes;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_catalog::{Catalog, ModelEntry};
use switchyard_ledger::{Record, Recorder};
use switchyard_providers::Provider;

/// Watches the gateway's traffic; installed once, at assembly (`Gateway::build_with`).
pub trait Observer: Send + Sync {
    /// The observer of route `view.index()`, or `None` when the route has nothing to observe.
    /// Problems are pushed with their config path; called by check, build and every reload.
    fn route(
        &self,
        view: &RouteView<'_>,
        problems: &mut Vec<ConfigError>,
    ) -> Option<Arc<dyn RouteObserver>>;
    /// Called once a config is valid, before it goes live (build and each reload): opens
    /// whatever the config's observing needs. `recorder` takes the observer's own records.
    fn start(&self, config: &Config, recorder: &Recorder) -> Result<(), String>;
    /// Counters since start, as JSON (`/v1/status` shows them as `evaluation`).
    fn status(&self) -> Option<Value>;
    /// Waits until everything queued so far is stored.
    fn flush(&self);
    /// Stores what is queued and stops.
    fn shutdown(&self);
    /// Background calls still running (shadow traffic).
    fn in_flight(&self) -> usize;
}

/// One route's observer, rebuilt with every config.
pub trait RouteObserver: Send + Sync {
    /// Decides, before the upstream call, whether this chat request is observed. `workload` is
    /// the one the ledger will record (the caller's, else the route's).
    fn sample(&self, ctx: &RequestContext, workload: Option<&str>) -> Option<Box<dyn Observation>>;
}

/// A sampled request, waiting for its answer.
pub trait Observation: Send {
    /// The answer is complete and `rec` is the record the ledger gets. Must not block.
    fn finished(self: Box<Self>, answer: Answer, rec: &Record);
}

/// The client dialect of an observed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    Anthropic,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::OpenAi => "openai",
            Dialect::Anthropic => "anthropic",
        }
    }
}

/// A finished answer as an observer sees it: the client's request and what came back.
pub struct Answer {
    pub dialect: Dialect,
    /// The client's request body.
    pub body: Bytes,
    pub output: Output,
}

/// What came back, in the shape the gateway had it.
pub enum Output {
    /// A whole answer in OpenAI's chat-completion shape.
    OpenAi(Bytes),
    /// A whole Anthropic Messages answer.
    Anthropic(Bytes),
    /// A streamed answer's text and tool calls, as the tee kept them.
    Streamed(switchyard_eval::Output),
}

/// What an observer may read about one route while a config is assembled.
pub struct RouteView<'a> {
    pub(crate) config: &'a Config,
    pub(crate) index: usize,
    pub(crate) providers: &'a HashMap<String, (Arc<dyn Provider>, &'a ProviderConfig)>,
    pub(crate) catalog: &'a Catalog,
}

impl RouteView<'_> {
    pub fn config(&self) -> &Config {
        self.config
    }

    /// The route's position in `config().routes`.
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn catalog(&self) -> &Catalog {
        self.catalog
    }

    /// The adapter of a configured provider (none when it failed to build; that problem is
    /// already reported).
    pub fn provider(&self, name: &str) -> Option<Arc<dyn Provider>> {
        self.providers.get(name).map(|(p, _)| p.clone())
    }

    /// The catalog entry that prices `model` on provider `name`, as a route target's would.
    pub fn pricing(&self, name: &str, model: &str) -> Option<ModelEntry> {
        let (_, pc) = self.providers.get(name)?;
        crate::build::price_entry(self.catalog, pc, model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Gateway;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const CAPTURING: &str = r#"
[providers.local]
kind = "vllm"
base_url = "http://127.0.0.1:9"
[[routes]]
name = "r"
targets = [{ provider = "local", model = "m" }]
[routes.capture]
rate = 0.5
[[routes]]
name = "plain"
targets = [{ provider = "local", model = "m" }]
"#;

    /// Counts the routes it is asked about and observes none.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Observer for Counting {
        fn route(
            &self,
            _: &RouteView<'_>,
            _: &mut Vec<ConfigError>,
        ) -> Option<Arc<dyn RouteObserver>> {
            self.0.fetch_add(1, Ordering::Relaxed);
            None
        }
        fn start(&self, _: &Config, _: &Recorder) -> Result<(), String> {
            Ok(())
        }
        fn status(&self) -> Option<Value> {
            None
        }
        fn flush(&self) {}
        fn shutdown(&self) {}
        fn in_flight(&self) -> usize {
            0
        }
    }

    #[test]
    fn a_route_that_captures_is_refused_when_no_observer_is_installed() {
        let config = Config::from_toml(CAPTURING).unwrap();
        let err = Gateway::check(&config, &|_| None).unwrap_err().to_string();
        assert!(
            err.contains("routes[0].capture") && err.contains("switchyard-evaluation"),
            "{err}"
        );
        assert!(!err.contains("routes[1]"), "{err}");
    }

    #[test]
    fn the_installed_observer_is_asked_about_every_configured_route() {
        let config = Config::from_toml(CAPTURING).unwrap();
        let counting = Counting::default();
        let routes = Gateway::check_with(&config, &|_| None, Some(&counting)).unwrap();
        assert_eq!(routes, 2);
        assert_eq!(counting.0.load(Ordering::Relaxed), 2);
    }
}
