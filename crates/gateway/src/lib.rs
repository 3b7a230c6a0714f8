//! Layer 4: the gateway pipeline, transport-agnostic.
//!
//! Request path, in order (each step lives in one module):
//! 1. parse and validate the body in the client's dialect (`switchyard-protocol`);
//! 2. resolve the route (`router::RouteTable`), 404 listing the valid names;
//! 3. `Route::execute`: try targets in policy order, falling back on connect errors,
//!    timeouts, 429 and 5xx before any byte reached the client;
//! 4. read usage from the answer — whole, or teed from the stream as it passes ([`stream`]);
//!    an Anthropic target's answer to an Anthropic client is forwarded untranslated
//!    (`passthrough`); tokenise ([`tokens`]) when the upstream reports none;
//! 5. price it from the catalog at the request's timestamp;
//! 6. hand one [`switchyard_ledger::Record`] to the batching recorder (never waits).
//!
//! Config parsing ([`config`]) and assembly ([`build`]) also live here. Must never know axum.

mod build;
pub mod config;
mod error;
mod messages;
mod passthrough;
mod pipeline;
mod record;
mod stream;
pub mod tokens;

pub use build::{BuildError, Built};
pub use config::{Config, ConfigError, ConfigErrors};
pub use error::{ErrorKind, GatewayError};
pub use pipeline::{Reply, ReplyBody, ReplyMeta, RequestContext};

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use switchyard_catalog::{Catalog, ModelEntry};
use switchyard_ledger::Recorder;
use switchyard_router::RouteTable;

/// What the gateway attaches to each route target.
#[derive(Debug, Clone)]
pub struct TargetMeta {
    /// The catalog entry that prices this target, if the catalog knows it.
    pub pricing: Option<Arc<ModelEntry>>,
}

/// What the gateway attaches to each route.
#[derive(Debug, Clone, Default)]
pub struct RouteMeta {
    pub workload: Option<String>,
}

/// The assembled gateway. Cheap to clone; every clone shares one state.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    routes: RouteTable<TargetMeta>,
    route_meta: HashMap<String, RouteMeta>,
    catalog: Arc<Catalog>,
    recorder: Recorder,
    max_body_bytes: usize,
    accepting: AtomicBool,
    ledger_path: std::path::PathBuf,
    strategy_api: bool,
}

impl Gateway {
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// Route names a caller may use, sorted.
    pub fn route_names(&self) -> &[String] {
        self.inner.routes.names()
    }

    pub fn routes(&self) -> &RouteTable<TargetMeta> {
        &self.inner.routes
    }

    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    pub fn recorder(&self) -> &Recorder {
        &self.inner.recorder
    }

    /// The ledger file, for read-only consumers (the strategy API).
    pub fn ledger_path(&self) -> &std::path::Path {
        &self.inner.ledger_path
    }

    /// Whether `[strategy] api = true` turned the `/v1/strategy/*` endpoints on.
    pub fn strategy_api(&self) -> bool {
        self.inner.strategy_api
    }

    /// Ready once assembled (config valid, ledger open) and until a stop begins.
    pub fn is_ready(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// Starts a graceful stop: new requests get 503, in-flight ones finish.
    pub fn begin_shutdown(&self) {
        self.inner.accepting.store(false, Ordering::Release);
    }
}
