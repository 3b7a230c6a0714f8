//! Layer 4: the gateway pipeline, transport-agnostic.
//!
//! Request path: one `Gateway::run` of named stages (`pipeline`, timed in [`StageTimes`]), the
//! endpoint's codec (`codec`: OpenAI chat, embeddings, Anthropic Messages) supplying what differs:
//! 1. parse and validate the body in the client's dialect (`switchyard-protocol`);
//! 2. resolve the route (`router::RouteTable`), 404 listing the valid names;
//! 3. admit the caller's request (`governance`: route allowed, limits, the worst case reserved);
//! 4. ask the route's observer whether the request is sampled ([`observe`]);
//! 5. `Route::execute`: try targets in policy order, falling back on connect errors,
//!    timeouts, 429 and 5xx before any byte reached the client;
//! 6. read usage from the answer — whole, or teed from the stream as it passes ([`stream`]);
//!    an Anthropic target's answer to an Anthropic client is forwarded untranslated
//!    (`passthrough`); tokenise ([`tokens`]) when the upstream reports none;
//! 7. render it in the client's dialect, price it from the catalog at the request's
//!    timestamp, settle the reservation (`answered`);
//! 8. hand a sampled answer to its observation, and one [`switchyard_ledger::Record`] to the
//!    batching recorder (never waits).
//!
//! Config parsing ([`config`]) and assembly ([`build`]) also live here. Must never know axum,
//! nor how evaluation captures, shadows or scores (that is `switchyard-evaluation`).

mod admission;
mod answered;
mod attribution;
mod build;
pub mod cache;
mod cascade;
mod codec;
pub mod config;
mod content_chunk;
mod conversations;
mod deferred;
mod error;
mod failure;
mod fingerprint;
mod fleet;
mod governance;
mod judge;
// metrics: `[metrics]`, the Prometheus registry and its scrape (metrics.rs).
mod metrics;
// traces: `[telemetry]`, the OTLP tracer, its HTTP client and what a request tells it (traces.rs).
mod traces;
// batch: a chat line carried by a provider's native batch API.
mod native;
pub mod observe;
mod passthrough;
mod pipeline;
pub mod prompt_cache;
pub mod record;
mod reply;
mod reserve;
mod responses_api;
mod responses_list;
mod stages;
mod status;
mod stream;
pub mod tokens;
mod unfinished;

pub use build::{BuildError, Built, Reloaded};
pub use config::{Config, ConfigError, ConfigErrors};
pub use error::{ErrorKind, GatewayError};
pub use governance::{Admitted, Caller, KeyOpError};
pub use native::NativeLine;
pub use observe::{Observation, Observer, RouteObserver};
pub use pipeline::{Endpoint, Incoming};
pub use reply::{KeyLimits, Reply, ReplyBody, ReplyMeta, RequestContext};
pub use responses_api::Page;
pub use stages::{Stage, StageTimes};

pub use switchyard_governance::{Budget, KeyInfo, KeySpec, KeyUsage, Period};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use switchyard_catalog::{Catalog, ModelEntry};
use switchyard_ledger::Recorder;
use switchyard_router::{HealthRegistry, RouteTable};

/// What the gateway attaches to each route target.
#[derive(Debug, Clone)]
pub struct TargetMeta {
    /// The catalog entry that prices this target, if the catalog knows it.
    pub pricing: Option<Arc<ModelEntry>>,
}

/// What the gateway attaches to each route.
#[derive(Clone, Default)]
pub struct RouteMeta {
    pub workload: Option<String>,
    /// The route's observer (evaluation), when the route has anything to observe.
    pub(crate) observer: Option<Arc<dyn RouteObserver>>,
    /// OpenAI targets get a `prompt_cache_key` per workload (`[routes.prompt_cache]`).
    pub openai_cache_key: bool,
    /// A cascade route's checks (`strategy = "cascade"`).
    pub(crate) cascade: Option<Arc<cascade::CascadePolicy>>,
    /// The route's exact cache, when `[routes.cache]` turns it on.
    pub(crate) cache: Option<Arc<cache::RouteCache>>,
    /// `batchable = true`: nobody waits on its answers (the savings ledger's "still on the
    /// table").
    pub batchable: bool,
}

/// The assembled gateway. Cheap to clone; every clone shares one state.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    /// What a reload replaces as a whole; a request holds the `Arc` it started with, so an
    /// in-flight request finishes on the config it began under.
    live: RwLock<Arc<Live>>,
    /// Breakers and latency averages, kept across reloads.
    health: HealthRegistry,
    recorder: Recorder,
    server: config::ServerConfig,
    /// batch: `[batch]` (upload and line limits, concurrency); fixed until restart.
    batch: config::BatchConfig,
    accepting: AtomicBool,
    ledger_path: std::path::PathBuf,
    listen: std::net::SocketAddr,
    eval_store: std::path::PathBuf,
    /// Evaluation, when the assembly installed it (the `switchyard` binary does).
    observer: Option<Arc<dyn Observer>>,
    /// Virtual keys, budgets and rate limits (keys in the ledger file).
    governance: governance::Governance,
    /// Where `reload_from_source` reads the config (set by `serve`); reloads take turns.
    source: std::sync::Mutex<Option<ReloadSource>>,
    /// The exact cache's store, opened at start from `[cache]` (kept across reloads).
    cache: RwLock<Option<Arc<cache::Shared>>>,
    /// Embedders injected per route for the semantic cache (tests), in place of the
    /// configured one; kept across reloads.
    semantic_embedders: RwLock<HashMap<String, Arc<dyn switchyard_semantic::Embed>>>,
    cache_config: cache::config::StoreConfig,
    /// `[fleet]` as started (a reload reports a change, which needs a restart).
    fleet_config: Option<config::FleetConfig>,
    /// metrics: `[metrics]` as started, its registry and token; `None`: metrics are off.
    metrics: Option<metrics::State>,
    /// The Responses API's stored conversations, in the ledger's database.
    conversations: conversations::Conversations,
    /// traces: `[telemetry]` as started; `None`: no spans.
    traces: Option<switchyard_telemetry::trace::Traces>,
}

/// Resolves an environment variable (the process environment, or a test's map).
pub type EnvFn = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Command-line overrides (`--listen`) re-applied to every reloaded config.
pub type AdjustFn = Arc<dyn Fn(&mut Config) + Send + Sync>;

struct ReloadSource {
    path: std::path::PathBuf,
    env: EnvFn,
    /// `--listen` and other command-line overrides, applied to every reloaded config.
    adjust: Option<AdjustFn>,
}

/// Why a reload did not happen; the old config stays in force.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("no config file to reload from: the gateway was started without --config")]
    NoSource,
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// The reloadable part of the gateway.
pub struct Live {
    pub routes: RouteTable<TargetMeta>,
    pub route_meta: HashMap<String, RouteMeta>,
    pub catalog: Arc<Catalog>,
    pub strategy_api: bool,
    /// 1 at start, +1 per successful reload.
    pub generation: u64,
    /// The admin API's key, from the variable `[admin] master_key_env` names.
    pub master_key: Option<switchyard_primitives::Secret>,
    pub key_poll: std::time::Duration,
    /// Some route has `[routes.cache]`: embeddings requests look for per-item entries.
    pub any_cache: bool,
}

impl Gateway {
    pub fn max_body_bytes(&self) -> usize {
        self.inner.server.max_body_bytes
    }

    /// The `[server]` section the gateway was built with (connection limits and timeouts);
    /// a reload does not change it.
    pub fn server_config(&self) -> &config::ServerConfig {
        &self.inner.server
    }

    /// batch: the `[batch]` section the gateway was built with (a reload does not change it).
    pub fn batch_config(&self) -> &config::BatchConfig {
        &self.inner.batch
    }

    /// The config in force now.
    pub fn live(&self) -> Arc<Live> {
        self.inner
            .live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Route names a caller may use, sorted.
    pub fn route_names(&self) -> Vec<String> {
        self.live().routes.names().to_vec()
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.live().catalog.clone()
    }

    pub fn recorder(&self) -> &Recorder {
        &self.inner.recorder
    }

    /// The eval store (captures, datasets, runs, shadow results).
    pub fn eval_store_path(&self) -> std::path::PathBuf {
        self.inner.eval_store.clone()
    }

    /// The ledger file, for read-only consumers (the strategy API).
    pub fn ledger_path(&self) -> &std::path::Path {
        &self.inner.ledger_path
    }

    /// The routes configured `batchable = true`, for the savings ledger's "still on the table".
    pub fn batchable(&self) -> switchyard_ledger::Batchable {
        switchyard_ledger::Batchable {
            routes: self
                .live()
                .route_meta
                .iter()
                .filter(|(_, m)| m.batchable)
                .map(|(name, _)| name.clone())
                .collect(),
            workloads: Default::default(),
        }
    }

    /// Whether `[strategy] api = true` turned the `/v1/strategy/*` endpoints on.
    pub fn strategy_api(&self) -> bool {
        self.live().strategy_api
    }

    /// Where [`Gateway::reload_from_source`] reads the config.
    pub fn set_reload_source(
        &self,
        path: std::path::PathBuf,
        env: EnvFn,
        adjust: Option<AdjustFn>,
    ) {
        let mut s = self.inner.source.lock().unwrap_or_else(|p| p.into_inner());
        *s = Some(ReloadSource { path, env, adjust });
    }

    /// Re-reads the config file and swaps it in (SIGHUP, `POST /admin/reload`). In-flight
    /// requests finish on the config they started with; an invalid file changes nothing.
    pub fn reload_from_source(&self) -> Result<Reloaded, ReloadError> {
        // Held throughout, so two reloads cannot interleave.
        let source = self.inner.source.lock().unwrap_or_else(|p| p.into_inner());
        let Some(src) = source.as_ref() else {
            return Err(ReloadError::NoSource);
        };
        let text = std::fs::read_to_string(&src.path).map_err(|e| ReloadError::Read {
            path: src.path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut config =
            Config::from_toml(&text).map_err(|e| ReloadError::Invalid(e.to_string()))?;
        if let Some(adjust) = &src.adjust {
            adjust(&mut config);
        }
        let env = src.env.clone();
        let done = self
            .reload(&config, &|k| env(k))
            .map_err(|e| ReloadError::Invalid(e.to_string()))?;
        tracing::info!(
            generation = done.generation,
            routes = done.routes,
            "configuration reloaded"
        );
        for note in &done.notes {
            tracing::warn!("{note}");
        }
        Ok(done)
    }

    /// How often the server looks for key changes made by another process.
    pub fn key_poll(&self) -> std::time::Duration {
        self.live().key_poll
    }

    /// The admin API's master key, if one is set.
    pub fn master_key(&self) -> Option<switchyard_primitives::Secret> {
        self.live().master_key.clone()
    }

    /// Ready once assembled (config valid, ledger open) and until a stop begins.
    pub fn is_ready(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// Starts a graceful stop: new requests get 503, in-flight ones finish.
    pub fn begin_shutdown(&self) {
        self.inner.accepting.store(false, Ordering::Release);
    }

    /// Shadow calls still running.
    pub fn shadow_in_flight(&self) -> usize {
        self.inner.observer.as_ref().map_or(0, |o| o.in_flight())
    }

    /// Waits until every capture queued so far is stored (tests, shutdown).
    pub fn flush_eval(&self) {
        if let Some(o) = &self.inner.observer {
            o.flush();
        }
    }

    /// Stores what is queued and stops the capture writer.
    pub fn shutdown_eval(&self) {
        if let Some(o) = &self.inner.observer {
            o.shutdown();
        }
    }

    /// The exact cache's store (shared by every cache-enabled route).
    pub(crate) fn cache_store(&self) -> Option<Arc<cache::Shared>> {
        self.inner
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the exact cache's store (tests inject failing stores; embedders their own).
    /// Entries in the old store are no longer seen.
    pub fn set_cache_store(&self, store: Arc<dyn switchyard_cache::Store>) {
        let mut slot = self.inner.cache.write().unwrap_or_else(|p| p.into_inner());
        *slot = Some(cache::Shared::new(store));
    }

    /// Makes `route`'s semantic cache embed with `embedder` instead of its configured one
    /// (tests inject embedders whose vectors they control).
    pub fn set_semantic_embedder(
        &self,
        route: &str,
        embedder: Arc<dyn switchyard_semantic::Embed>,
    ) {
        let mut map = self
            .inner
            .semantic_embedders
            .write()
            .unwrap_or_else(|p| p.into_inner());
        map.insert(route.to_owned(), embedder);
    }

    pub(crate) fn injected_embedder(
        &self,
        route: &str,
    ) -> Option<Arc<dyn switchyard_semantic::Embed>> {
        let map = self
            .inner
            .semantic_embedders
            .read()
            .unwrap_or_else(|p| p.into_inner());
        map.get(route).cloned()
    }

    /// Capture and shadow counters since start, as JSON (for `/v1/status`).
    pub fn eval_counters(&self) -> Option<serde_json::Value> {
        self.inner.observer.as_ref()?.status()
    }
}

/// Constant-time equality of two secrets, so a comparison does not reveal how much of a
/// guess was right.
pub fn secret_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
