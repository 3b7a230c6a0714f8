//! Per-target health: a circuit breaker and latency averages.
//!
//! One [`Health`] per (provider, model), shared by every route naming that pair and kept
//! across config reloads by the [`HealthRegistry`], so a provider that is down is known to be
//! down whichever route reaches it.
//!
//! The breaker counts outcomes in a sliding window made of one-second buckets. It opens when
//! the window holds at least `min_requests` outcomes and the failed share reaches
//! `error_ratio`; after `cooldown` it lets `half_open_probes` requests through; one probe
//! succeeding closes it, one failing opens it again for another cooldown.
//!
//! In a fleet, another replica's opening arrives as [`Health::force_open`] (the gateway
//! carries it through Redis); this crate knows nothing of how.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Breaker settings (`[breaker]` in the config), the same for every target.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    pub window: Duration,
    pub min_requests: u32,
    pub error_ratio: f64,
    pub cooldown: Duration,
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            window: Duration::from_secs(30),
            min_requests: 10,
            error_ratio: 0.5,
            cooldown: Duration::from_secs(15),
            half_open_probes: 1,
        }
    }
}

/// The breaker's state as `GET /v1/status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Whether a request may go to a target now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Yes,
    /// A half-open probe: its outcome decides the breaker's next state.
    Probe,
    /// Open: try again after this long.
    No(Duration),
}

/// A read-only picture of one target's health.
#[derive(Debug, Clone)]
pub struct HealthSnapshot {
    pub state: BreakerState,
    pub requests_in_window: u32,
    pub failures_in_window: u32,
    pub latency_ewma_ms: Option<f64>,
    pub ttft_ewma_ms: Option<f64>,
    /// While open: time until half-open probes are let through.
    pub retry_in: Option<Duration>,
    pub opened_total: u64,
}

const EWMA_ALPHA: f64 = 0.3;

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    second: u64,
    ok: u32,
    failed: u32,
}

#[derive(Debug)]
struct State {
    mode: Mode,
    buckets: Vec<Bucket>,
    latency_ewma: Option<f64>,
    ttft_ewma: Option<f64>,
    opened_total: u64,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32 },
}

/// One target's breaker and latency averages.
#[derive(Debug)]
pub struct Health {
    label: String,
    config: BreakerConfig,
    epoch: Instant,
    state: Mutex<State>,
}

impl Health {
    pub fn new(label: impl Into<String>, config: BreakerConfig) -> Self {
        let slots = config.window.as_secs().max(1) as usize;
        Health {
            label: label.into(),
            config,
            epoch: Instant::now(),
            state: Mutex::new(State {
                mode: Mode::Closed,
                buckets: vec![Bucket::default(); slots],
                latency_ewma: None,
                ttft_ewma: None,
                opened_total: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another request panicked mid-update; the counters are
        // still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks to send one request at `now`.
    pub fn admit(&self, now: Instant) -> Admit {
        let mut s = self.lock();
        match s.mode {
            Mode::Closed => Admit::Yes,
            Mode::Open { until } if now < until => Admit::No(until - now),
            Mode::Open { .. } => {
                s.mode = Mode::HalfOpen { in_flight: 1 };
                tracing::info!(target = %self.label, "circuit half-open: sending a probe");
                Admit::Probe
            }
            Mode::HalfOpen { in_flight } if in_flight < self.config.half_open_probes => {
                s.mode = Mode::HalfOpen {
                    in_flight: in_flight + 1,
                };
                Admit::Probe
            }
            Mode::HalfOpen { .. } => Admit::No(Duration::from_millis(100)),
        }
    }

    /// A request that was admitted but never sent (skipped before the call): gives a probe
    /// slot back.
    pub fn release(&self, admit: Admit) {
        if admit == Admit::Probe {
            let mut s = self.lock();
            if let Mode::HalfOpen { in_flight } = s.mode {
                s.mode = Mode::HalfOpen {
                    in_flight: in_flight.saturating_sub(1),
                };
            }
        }
    }

    /// Records a success; `latency` is the whole answer (or the headers, for streams) and
    /// `ttft` the first streamed byte.
    pub fn success(&self, now: Instant, latency: Duration, ttft: Option<Duration>) {
        let mut s = self.lock();
        self.count(&mut s, now, true);
        let ms = latency.as_secs_f64() * 1000.0;
        match ttft {
            Some(t) => s.ttft_ewma = Some(ewma(s.ttft_ewma, t.as_secs_f64() * 1000.0)),
            None => s.latency_ewma = Some(ewma(s.latency_ewma, ms)),
        }
        if let Mode::HalfOpen { .. } = s.mode {
            s.mode = Mode::Closed;
            // The failures that opened it are history now.
            s.buckets.iter_mut().for_each(|b| *b = Bucket::default());
            tracing::warn!(target = %self.label, "circuit closed: the probe succeeded");
        }
    }

    /// Records a failure that says something about the target's health (not a client error).
    pub fn failure(&self, now: Instant) {
        let mut s = self.lock();
        self.count(&mut s, now, false);
        match s.mode {
            Mode::HalfOpen { .. } => {
                s.mode = Mode::Open {
                    until: now + self.config.cooldown,
                };
                s.opened_total += 1;
                tracing::warn!(target = %self.label, cooldown = ?self.config.cooldown, "circuit re-opened: the probe failed");
            }
            Mode::Closed => {
                let (total, failed) = self.window(&s, now);
                if total >= self.config.min_requests
                    && f64::from(failed) >= self.config.error_ratio * f64::from(total)
                {
                    s.mode = Mode::Open {
                        until: now + self.config.cooldown,
                    };
                    s.opened_total += 1;
                    tracing::warn!(
                        target = %self.label,
                        failed,
                        total,
                        cooldown = ?self.config.cooldown,
                        "circuit opened"
                    );
                }
            }
            Mode::Open { .. } => {}
        }
    }

    /// Opens the breaker for `open_for` because another replica of a fleet opened its own
    /// (unless it is already open at least that long). Not counted in `opened_total`, which
    /// counts this replica's own openings: those are the ones it announces.
    pub fn force_open(&self, now: Instant, open_for: Duration) {
        let mut s = self.lock();
        let until = now + open_for;
        if matches!(s.mode, Mode::Open { until: u } if u >= until) {
            return;
        }
        s.mode = Mode::Open { until };
        tracing::warn!(target = %self.label, cooldown = ?open_for, "circuit opened: another replica opened it");
    }

    pub fn snapshot(&self, now: Instant) -> HealthSnapshot {
        let s = self.lock();
        let (total, failed) = self.window(&s, now);
        let (state, retry_in) = match s.mode {
            Mode::Closed => (BreakerState::Closed, None),
            Mode::Open { until } if now < until => (BreakerState::Open, Some(until - now)),
            // Cooled down: the next request is a probe.
            Mode::Open { .. } | Mode::HalfOpen { .. } => (BreakerState::HalfOpen, None),
        };
        HealthSnapshot {
            state,
            requests_in_window: total,
            failures_in_window: failed,
            latency_ewma_ms: s.latency_ewma,
            ttft_ewma_ms: s.ttft_ewma,
            retry_in,
            opened_total: s.opened_total,
        }
    }

    /// The latency average the least-latency strategy ranks by.
    pub fn ewma_ms(&self, stream: bool) -> Option<f64> {
        let s = self.lock();
        if stream {
            s.ttft_ewma.or(s.latency_ewma)
        } else {
            s.latency_ewma.or(s.ttft_ewma)
        }
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }

    fn count(&self, s: &mut State, now: Instant, ok: bool) {
        let sec = self.second(now);
        let n = s.buckets.len() as u64;
        let Some(b) = s.buckets.get_mut((sec % n) as usize) else {
            return;
        };
        if b.second != sec {
            *b = Bucket {
                second: sec,
                ok: 0,
                failed: 0,
            };
        }
        if ok {
            b.ok += 1;
        } else {
            b.failed += 1;
        }
    }

    fn window(&self, s: &State, now: Instant) -> (u32, u32) {
        let sec = self.second(now);
        let n = s.buckets.len() as u64;
        s.buckets
            .iter()
            .filter(|b| b.second + n > sec && b.second <= sec)
            .fold((0, 0), |(t, f), b| (t + b.ok + b.failed, f + b.failed))
    }
}

fn ewma(prev: Option<f64>, sample: f64) -> f64 {
    match prev {
        Some(p) => p + EWMA_ALPHA * (sample - p),
        None => sample,
    }
}

/// Every target's [`Health`], by `provider/model`, surviving config reloads.
#[derive(Debug, Default)]
pub struct HealthRegistry {
    map: Mutex<HashMap<String, Arc<Health>>>,
}

impl HealthRegistry {
    /// Every `provider/model` and its health (the fleet shares breaker openings by this name).
    pub fn entries(&self) -> Vec<(String, Arc<Health>)> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.iter().map(|(k, h)| (k.clone(), h.clone())).collect()
    }

    /// The health of `provider/model` if a target names it.
    pub fn find(&self, label: &str) -> Option<Arc<Health>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(label).cloned()
    }

    /// The health of `provider/model`; a changed breaker config starts it afresh.
    pub fn get(&self, provider: &str, model: &str, config: &BreakerConfig) -> Arc<Health> {
        let key = format!("{provider}/{model}");
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&key) {
            Some(h) if h.config == *config => h.clone(),
            _ => {
                let h = Arc::new(Health::new(key.clone(), config.clone()));
                map.insert(key, h.clone());
                h
            }
        }
    }
}

#[cfg(test)]
mod fleet_tests {
    use super::*;

    #[test]
    fn force_open_opens_for_the_time_given_without_counting_an_own_opening() {
        let h = Health::new("sim/m", BreakerConfig::default());
        let now = Instant::now();
        h.force_open(now, Duration::from_secs(10));
        assert_eq!(h.admit(now), Admit::No(Duration::from_secs(10)));
        let snap = h.snapshot(now);
        assert_eq!(snap.state, BreakerState::Open);
        assert_eq!(snap.opened_total, 0);
        // A shorter remote opening does not shorten a longer one.
        h.force_open(now, Duration::from_secs(2));
        assert_eq!(h.admit(now), Admit::No(Duration::from_secs(10)));
        // After it, the next request is a probe, as after any opening.
        assert_eq!(h.admit(now + Duration::from_secs(11)), Admit::Probe);
    }

    #[test]
    fn the_registry_lists_and_finds_health_by_provider_and_model() {
        let r = HealthRegistry::default();
        let h = r.get("sim", "m", &BreakerConfig::default());
        assert!(Arc::ptr_eq(&r.find("sim/m").unwrap(), &h));
        assert!(r.find("sim/other").is_none());
        assert_eq!(r.entries().len(), 1);
    }
}
