//! Layer 3: the router — which targets a route tries, in what order, and what happened.
//!
//! Owns the route table, the per-route [`Policy`] that orders targets, and the fallback loop,
//! which is a plain `for` over the planned targets collecting every failure, so the final
//! error can list each attempt. Weighted, least-latency and cost-aware policies and circuit
//! breakers plug in as further `Policy` implementations and a health filter on the plan.
//! Must never know about axum, the ledger, or prices (targets carry opaque metadata `M`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_providers::{
    ErrorClass, Payload, Provider, ProviderError, ProviderRequest, ProviderResponse,
};

/// One place a route can send a request.
pub struct Target<M> {
    pub provider: Arc<dyn Provider>,
    /// The provider's model name.
    pub model: String,
    /// Whatever the layer above attaches (pricing identity, capabilities …).
    pub meta: M,
}

/// Orders a route's targets for one request.
pub trait Policy: Send + Sync {
    /// Indices into `targets`, in the order to try them.
    fn plan(&self, targets: usize) -> Vec<usize>;
    fn name(&self) -> &'static str;
}

/// Try the targets in the order configured.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fallback;

impl Policy for Fallback {
    fn plan(&self, targets: usize) -> Vec<usize> {
        (0..targets).collect()
    }
    fn name(&self) -> &'static str {
        "fallback"
    }
}

/// A logical model name and the targets behind it.
pub struct Route<M> {
    pub name: String,
    pub targets: Vec<Target<M>>,
    pub policy: Box<dyn Policy>,
    /// Features adapters may drop instead of refusing (`"*"`: any).
    pub allow_drop: Vec<String>,
}

/// One try at one target.
#[derive(Debug, Clone)]
pub struct AttemptLog {
    pub target: usize,
    pub provider: String,
    pub model: String,
    /// Time until the upstream's answer (headers for streams, whole body otherwise).
    pub elapsed: Duration,
    pub error: Option<AttemptError>,
}

#[derive(Debug, Clone)]
pub struct AttemptError {
    pub class: ErrorClass,
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    pub message: String,
}

/// A target answered.
pub struct Success {
    pub response: ProviderResponse,
    pub target: usize,
    pub attempts: Vec<AttemptLog>,
}

/// No target answered; `last` is the error that ended the loop.
pub struct Exhausted {
    pub attempts: Vec<AttemptLog>,
    pub last: Option<ProviderError>,
}

impl<M> Route<M> {
    /// Tries targets in policy order until one answers or a failure is not worth retrying
    /// elsewhere (a client error would fail the same way on every target).
    pub async fn execute(&self, payload: Payload<'_>) -> Result<Success, Exhausted> {
        let mut attempts = Vec::with_capacity(self.targets.len());
        let mut last = None;
        for idx in self.policy.plan(self.targets.len()) {
            let Some(t) = self.targets.get(idx) else {
                continue;
            };
            let started = Instant::now();
            let result = t
                .provider
                .send(ProviderRequest {
                    payload,
                    model: &t.model,
                    allow_drop: &self.allow_drop,
                })
                .await;
            let mut log = AttemptLog {
                target: idx,
                provider: t.provider.name().to_string(),
                model: t.model.clone(),
                elapsed: started.elapsed(),
                error: None,
            };
            match result {
                Ok(response) => {
                    attempts.push(log);
                    return Ok(Success {
                        response,
                        target: idx,
                        attempts,
                    });
                }
                Err(e) => {
                    tracing::debug!(route = %self.name, provider = %log.provider, model = %log.model, error = %e, "attempt failed");
                    log.error = Some(AttemptError {
                        class: e.class(),
                        status: e.status(),
                        retry_after: e.retry_after(),
                        message: e.to_string(),
                    });
                    attempts.push(log);
                    let retry = e.is_retryable();
                    last = Some(e);
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(Exhausted { attempts, last })
    }
}

/// Every route, by name.
pub struct RouteTable<M> {
    routes: HashMap<String, Arc<Route<M>>>,
    names: Vec<String>,
}

impl<M> RouteTable<M> {
    pub fn new(routes: Vec<Route<M>>) -> Self {
        let mut names: Vec<String> = routes.iter().map(|r| r.name.clone()).collect();
        names.sort();
        let routes = routes
            .into_iter()
            .map(|r| (r.name.clone(), Arc::new(r)))
            .collect();
        RouteTable { routes, names }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Route<M>>> {
        self.routes.get(name)
    }

    /// Route names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Route<M>>> {
        self.names.iter().filter_map(|n| self.routes.get(n))
    }
}

#[cfg(test)]
mod tests;
