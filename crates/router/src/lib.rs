//! Layer 3: the router — which targets a route tries, in what order, and what happened.
//!
//! Owns the route table; per route, the [`Strategy`] that orders targets ([`plan`]), the fit
//! check that skips targets whose context window or capabilities cannot take the request, the
//! per-target circuit breakers and latency averages ([`health`]), the per-target timeouts, and
//! the retry loop: a plain `for` over the planned targets collecting every failure, so the
//! final error can list each attempt, repeated after a backoff when a whole round failed.
//! Must never know about axum, the ledger, or prices (targets carry opaque metadata `M`;
//! costs arrive as plain numbers in each target's [`Profile`]).

mod health;
mod plan;
pub mod rng;
mod unfit;

pub use health::{Admit, BreakerConfig, BreakerState, Health, HealthRegistry, HealthSnapshot};
pub use plan::{Needs, Profile, Skip, Strategy};
pub use unfit::explain as explain_unfit;

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use switchyard_providers::{
    CacheTtl, ErrorClass, Payload, PromptCache, Provider, ProviderError, ProviderRequest,
    ProviderResponse, ResponseBody,
};

/// The minimum cacheable prefix of a model the catalog gives none for: Anthropic's figure
/// for most Sonnet and Opus models, and OpenAI's for all.
const DEFAULT_MIN_CACHE_TOKENS: u64 = 1024;

/// One place a route can send a request.
pub struct Target<M> {
    pub provider: Arc<dyn Provider>,
    /// The provider's model name.
    pub model: String,
    /// Relative share under the weighted strategy.
    pub weight: u32,
    /// Whole-attempt limit (for streams: until the stream ends). `None`: the provider's own.
    pub timeout: Option<Duration>,
    /// Streams only: the first byte must arrive within this, or the next target is tried.
    pub ttft_timeout: Option<Duration>,
    /// What the catalog says the model can take.
    pub profile: Profile,
    /// Shared with every route that names the same provider and model.
    pub health: Arc<Health>,
    /// Whatever the layer above attaches (pricing identity …).
    pub meta: M,
}

/// How a route retries once every target in its plan has failed.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Further rounds over the plan after the first.
    pub retries: u32,
    /// Backoff before round n+1 is drawn uniformly from `[0, min(max, base * 2^n)]`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A `Retry-After` longer than this is not waited out: the client gets the 429 instead.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 1,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before round `round + 1`: exponential with full jitter, never shorter than
    /// the earliest `Retry-After` seen.
    pub fn backoff(&self, round: u32, retry_after: Option<Duration>) -> Duration {
        let cap = self
            .backoff_base
            .saturating_mul(1u32.checked_shl(round).unwrap_or(u32::MAX))
            .min(self.backoff_max);
        let jittered = cap.mul_f64(rng::unit());
        retry_after.map_or(jittered, |r| r.max(jittered))
    }
}

/// A logical model name and the targets behind it.
pub struct Route<M> {
    pub name: String,
    pub targets: Vec<Target<M>>,
    pub strategy: Strategy,
    pub retry: RetryPolicy,
    /// Features adapters may drop instead of refusing (`"*"`: any).
    pub allow_drop: Vec<String>,
    /// Anthropic targets get automatic prompt-cache breakpoints with this TTL.
    pub prompt_cache_ttl: Option<CacheTtl>,
}

/// One try at one target.
#[derive(Debug, Clone)]
pub struct AttemptLog {
    pub target: usize,
    pub provider: String,
    pub model: String,
    /// Time until the upstream's answer (the first streamed byte for streams, the whole body
    /// otherwise).
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

/// A target passed over without being called.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub target: usize,
    pub provider: String,
    pub model: String,
    pub reason: Skip,
}

/// A target answered.
pub struct Success {
    pub response: ProviderResponse,
    pub target: usize,
    pub attempts: Vec<AttemptLog>,
    pub skipped: Vec<Skipped>,
    /// Time spent in backoff between rounds.
    pub waited: Duration,
    /// Streams: time from this attempt's start to the first byte.
    pub ttft: Option<Duration>,
}

/// No target answered; `last` is the error that ended the loop.
pub struct Exhausted {
    pub attempts: Vec<AttemptLog>,
    pub skipped: Vec<Skipped>,
    pub last: Option<ProviderError>,
    pub waited: Duration,
    /// Every eligible target's circuit was open: the soonest one lets a probe through after
    /// this long.
    pub circuit_open: Option<Duration>,
}

impl<M> Route<M> {
    /// Tries targets in strategy order, skipping those that cannot take the request or whose
    /// circuit is open, until one answers or a failure is not worth retrying elsewhere (a
    /// client error would fail the same way on every target). When a whole round fails with
    /// retryable errors, waits (backoff, `Retry-After`) and goes round again, `retries` times.
    pub async fn execute(&self, payload: Payload<'_>, needs: &Needs) -> Result<Success, Exhausted> {
        self.execute_among(payload, needs, None).await
    }

    /// A cascade's tiers for this request: the targets that fit it, in the strategy's order
    /// (cheapest first unless the route keeps its config order). Targets that do not fit are
    /// left out, so a tier is never asked what it cannot take.
    pub fn tiers(&self, needs: &Needs) -> Vec<usize> {
        let fitting = (0..self.targets.len())
            .filter(|&i| self.targets[i].profile.fit(needs).is_ok())
            .collect();
        plan::order(self.strategy, &self.targets, fitting, needs)
    }

    /// [`Route::execute`] on the one target `tier` (with the route's retries, timeouts and
    /// breaker), for a cascade that checks each tier's answer before asking the next.
    pub async fn execute_tier(
        &self,
        tier: usize,
        payload: Payload<'_>,
        needs: &Needs,
    ) -> Result<Success, Exhausted> {
        self.execute_among(payload, needs, Some(tier)).await
    }

    async fn execute_among(
        &self,
        payload: Payload<'_>,
        needs: &Needs,
        only: Option<usize>,
    ) -> Result<Success, Exhausted> {
        let mut attempts = Vec::with_capacity(self.targets.len());
        let mut skipped = Vec::new();
        let mut eligible = Vec::with_capacity(self.targets.len());
        for (i, t) in self.targets.iter().enumerate() {
            if only.is_some_and(|o| o != i) {
                continue;
            }
            match t.profile.fit(needs) {
                Ok(()) => eligible.push(i),
                Err(reason) => skipped.push(Skipped {
                    target: i,
                    provider: t.provider.name().to_string(),
                    model: t.model.clone(),
                    reason,
                }),
            }
        }
        let mut last = None;
        let mut waited = Duration::ZERO;
        let mut circuit_open = None;
        for round in 0..=self.retry.retries {
            let mut worth_retrying = false;
            let mut retry_after: Option<Duration> = None;
            let mut soonest_probe: Option<Duration> = None;
            let mut called = false;
            for idx in plan::order(self.strategy, &self.targets, eligible.clone(), needs) {
                let t = &self.targets[idx];
                let admit = t.health.admit(Instant::now());
                if let Admit::No(wait) = admit {
                    soonest_probe = Some(soonest_probe.map_or(wait, |s: Duration| s.min(wait)));
                    if round == 0 {
                        skipped.push(Skipped {
                            target: idx,
                            provider: t.provider.name().to_string(),
                            model: t.model.clone(),
                            reason: Skip::CircuitOpen,
                        });
                    }
                    continue;
                }
                called = true;
                let cache = PromptCache {
                    anthropic: self.prompt_cache_ttl,
                    min_tokens: 0,
                    openai_key: needs.cache_key.as_deref(),
                };
                let (result, elapsed, ttft) = attempt(t, payload, &self.allow_drop, cache).await;
                let mut log = AttemptLog {
                    target: idx,
                    provider: t.provider.name().to_string(),
                    model: t.model.clone(),
                    elapsed,
                    error: None,
                };
                match result {
                    Ok(response) => {
                        t.health.success(Instant::now(), elapsed, ttft);
                        attempts.push(log);
                        return Ok(Success {
                            response,
                            target: idx,
                            attempts,
                            skipped,
                            waited,
                            ttft,
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
                        let unsupported = matches!(e, ProviderError::Unsupported { .. });
                        if e.is_retryable() {
                            t.health.failure(Instant::now());
                            worth_retrying = true;
                            if let Some(ra) = e.retry_after() {
                                retry_after = Some(retry_after.map_or(ra, |r| r.min(ra)));
                            }
                        } else {
                            t.health.release(admit);
                        }
                        let stop = !e.is_retryable() && !unsupported;
                        last = Some(e);
                        if stop {
                            return Err(Exhausted {
                                attempts,
                                skipped,
                                last,
                                waited,
                                circuit_open,
                            });
                        }
                    }
                }
            }
            if !called {
                circuit_open = soonest_probe;
            }
            let wait = if called {
                if !worth_retrying {
                    break;
                }
                self.retry.backoff(round, retry_after)
            } else {
                match soonest_probe {
                    Some(w) => w,
                    None => break,
                }
            };
            if round == self.retry.retries || wait > self.retry.max_retry_after {
                break;
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
        Err(Exhausted {
            attempts,
            skipped,
            last,
            waited,
            circuit_open,
        })
    }

    /// Every target's health, for `GET /v1/status`.
    pub fn status(&self) -> Vec<(&Target<M>, HealthSnapshot)> {
        let now = Instant::now();
        self.targets
            .iter()
            .map(|t| (t, t.health.snapshot(now)))
            .collect()
    }
}

/// One call to one target under its timeouts. For streams, waits for the first byte, so a
/// stream that fails before sending anything counts as a failed attempt and the next target
/// can still be tried.
async fn attempt<M>(
    t: &Target<M>,
    payload: Payload<'_>,
    allow_drop: &[String],
    mut prompt_cache: PromptCache<'_>,
) -> (
    Result<ProviderResponse, ProviderError>,
    Duration,
    Option<Duration>,
) {
    let started = Instant::now();
    let deadline = t
        .timeout
        .map(|d| tokio::time::Instant::from_std(started + d));
    let timeout_error = |after: Duration| ProviderError::Timeout {
        provider: t.provider.name().to_string(),
        after,
    };
    prompt_cache.min_tokens = t
        .profile
        .min_cache_tokens
        .unwrap_or(DEFAULT_MIN_CACHE_TOKENS);
    let send = t.provider.send(ProviderRequest {
        payload,
        model: &t.model,
        allow_drop,
        prompt_cache,
    });
    let result = match (deadline, t.timeout) {
        (Some(dl), Some(after)) => match tokio::time::timeout_at(dl, send).await {
            Ok(r) => r,
            Err(_) => Err(timeout_error(after)),
        },
        _ => send.await,
    };
    let mut response = match result {
        Ok(r) => r,
        Err(e) => return (Err(e), started.elapsed(), None),
    };
    let mut stream = match std::mem::replace(&mut response.body, ResponseBody::Full(Bytes::new())) {
        ResponseBody::Stream(s) => s,
        whole => {
            response.body = whole;
            return (Ok(response), started.elapsed(), None);
        }
    };
    let first_deadline = match (t.ttft_timeout, t.timeout) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let first = async {
        loop {
            match stream.next().await {
                Some(Ok(b)) if b.is_empty() => continue,
                other => return other,
            }
        }
    };
    let first = match first_deadline {
        Some(after) => {
            match tokio::time::timeout_at(tokio::time::Instant::from_std(started + after), first)
                .await
            {
                Ok(f) => f,
                Err(_) => Some(Err(timeout_error(after))),
            }
        }
        None => first.await,
    };
    let elapsed = started.elapsed();
    match first {
        Some(Ok(bytes)) => {
            response.body = ResponseBody::Stream(Box::pin(Guarded {
                first: Some(bytes),
                inner: stream,
                deadline: deadline.map(|dl| Box::pin(tokio::time::sleep_until(dl))),
                timeout: t.timeout.unwrap_or_default(),
                provider: t.provider.name().to_string(),
                health: t.health.clone(),
                done: false,
            }));
            (Ok(response), elapsed, Some(elapsed))
        }
        Some(Err(e)) => (Err(e), elapsed, None),
        None => (
            Err(ProviderError::Stream {
                provider: t.provider.name().to_string(),
                message: "the stream ended before sending anything".into(),
            }),
            elapsed,
            None,
        ),
    }
}

/// The rest of a stream after its first byte: ends it with a timeout error at the target's
/// deadline, and counts a break against the target's health.
struct Guarded {
    first: Option<Bytes>,
    inner: BoxStream<'static, Result<Bytes, ProviderError>>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    timeout: Duration,
    provider: String,
    health: Arc<Health>,
    done: bool,
}

impl Stream for Guarded {
    type Item = Result<Bytes, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        if let Some(dl) = this.deadline.as_mut()
            && dl.as_mut().poll(cx).is_ready()
        {
            this.done = true;
            this.health.failure(Instant::now());
            return Poll::Ready(Some(Err(ProviderError::Timeout {
                provider: std::mem::take(&mut this.provider),
                after: this.timeout,
            })));
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                this.health.failure(Instant::now());
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            other => other,
        }
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
