//! Fleet governance: budgets, rate limits and key-change notices shared by every replica
//! through one Redis (`[fleet] redis_url`). Without it nothing here runs and the
//! [`Governor`](crate::Governor) enforces in-process as before.
//!
//! The [`Governor`](crate::Governor) still owns the keys (authentication, settings); a
//! [`Fleet`] owns their counters:
//!
//! - **admit** is one Lua script, one round trip: it expires dead leases, checks `rpm` (GCRA,
//!   the same bucket as in-process), `tpm` (a 60-second window of 1-second buckets plus the
//!   prompts in flight) and every budget (`spent + reserved + worst_case <= limit` for the
//!   hard ones), and only if all pass takes the request, holds the worst case and records a
//!   lease (expiry `lease` from now) naming what it holds;
//! - **settle** swaps the hold for the actual cost in the period containing the settlement
//!   time. Settlements are queued and ride in the next admission's pipeline (or are sent by a
//!   background task after `settle_delay`), so they cost the request no wait and, under load,
//!   no round trip of their own; a lease that expired first still has its spend counted;
//! - **heartbeat** (every `heartbeat`): each replica refreshes its entry in a set of live
//!   replicas (an entry older than three heartbeats is dead), reads the key-change version
//!   (the polling fallback for the pub/sub notice), and probes Redis after a failure;
//! - **reconcile** (on start and every `reconcile_every`): each budget's `spent` is raised to
//!   the ledger's figure if the ledger saw more (a Redis that restarted empty), and the
//!   difference is reported as drift.
//!
//! When Redis is unreachable each replica enforces locally with its share of what was left
//! (`(limit - last seen used) / live replicas`, `rpm` and `tpm` divided the same way), logs
//! once per heartbeat and counts its fallback admissions; with `fail_closed` it refuses
//! instead. Spend settled and requests admitted meanwhile are added to Redis when it is back.
//! A Redis that only times out is not an outage yet (the call may still run there): the link
//! is suspect, hard budgets are refused and `rpm` shares start empty (see `link`, `fallback`),
//! but a request caught by a short stall waits for its call's late reply or for the probe and
//! is judged by Redis (see `judge`, `late`).
//!
//! Circuit breakers are shared too: an opening is written to a hash every replica polls
//! ([`Fleet::announce_breaker`], [`Fleet::open_breakers`]).
//!
//! Time is the caller's `now` (as in-process), so replicas need synchronised clocks (NTP);
//! skew shifts a rate window by the skew, never a budget.

mod breakers;
mod fallback;
mod heartbeat;
mod judge;
mod keys;
mod late;
mod link;
mod prepared;
mod reconcile;
mod scripts;
mod settle;
mod shared;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fault;
#[cfg(test)]
mod tests_slow;

pub(crate) use fallback::FallbackHold;
pub(crate) use prepared::Prepared;
pub use reconcile::{Drift, Reading, readings};
pub(crate) use settle::SharedHold;

use chrono::{DateTime, Utc};
use link::Link;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use switchyard_primitives::Money;
use tokio::sync::{Notify, watch};

/// How a fleet connects, names its keys and behaves when Redis is out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetOptions {
    /// Prepended to every key and channel (`switchyard:gov:` by default).
    pub prefix: String,
    /// This replica's name in the live set (unique per process).
    pub replica_id: String,
    /// How long a reservation holds budget if its replica never settles it. Must exceed the
    /// longest request (a route's total timeout, a long stream).
    pub lease: Duration,
    /// The heartbeat and health-probe interval; a replica silent for three is not counted.
    pub heartbeat: Duration,
    /// The longest one Redis operation may take before the replica falls back.
    pub op_timeout: Duration,
    pub connect_timeout: Duration,
    /// Refuse requests (503) while Redis is unreachable instead of enforcing a local share.
    pub fail_closed: bool,
    /// How often budget counters are compared with (and raised to) the ledger's spend.
    pub reconcile_every: Duration,
    /// How long a settlement waits for the next admission's round trip to carry it before it
    /// is sent on its own (the hold stays counted meanwhile, so this never admits more).
    pub settle_delay: Duration,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            prefix: "switchyard:gov:".into(),
            replica_id: default_replica_id(),
            lease: Duration::from_secs(600),
            heartbeat: Duration::from_secs(1),
            op_timeout: Duration::from_millis(100),
            connect_timeout: Duration::from_millis(250),
            fail_closed: false,
            reconcile_every: Duration::from_secs(60),
            settle_delay: Duration::from_millis(20),
        }
    }
}

/// `host-pid-random`, unique per process.
fn default_replica_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "replica".into());
    let mut bytes = [0u8; 4];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        u32::from_be_bytes(bytes)
    )
}

/// Opening the fleet failed (the URL, never an unreachable server: that is a fallback state).
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("fleet.redis_url: {0}")]
    Url(String),
    #[error("the fleet must be opened inside the tokio runtime")]
    NoRuntime,
}

/// Whether this replica currently enforces through Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetMode {
    /// Budgets and limits are enforced in Redis, shared by the fleet.
    Shared,
    /// A Redis call failed or timed out and a probe is confirming the outage (at most one
    /// `timeout_ms`); requests are judged against this replica's local share meanwhile.
    Suspect,
    /// Redis is unreachable: this replica enforces its share locally.
    Fallback,
    /// Redis is unreachable and `fail_closed` is set: requests with limits are refused.
    Refusing,
}

/// What `/v1/status` shows about the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct FleetStatus {
    pub mode: FleetMode,
    pub replica: String,
    /// Live replicas at the last heartbeat (the divisor of fallback shares).
    pub replicas: u64,
    pub last_error: Option<String>,
    /// Requests admitted against a local share since start.
    pub fallback_admissions: u64,
    /// Requests refused because Redis was unreachable (`fail_closed`).
    pub unavailable_refusals: u64,
    /// `rpm` slots given back because the admission that took them answered too late to be
    /// used (a key with only an `rpm` limit; see the `late` module).
    pub late_refunds: u64,
    /// Settlements waiting to reach Redis (spend counted while it was out).
    pub deferred_settlements: u64,
    pub last_reconcile: Option<DateTime<Utc>>,
    /// Budgets whose Redis counter differed from the ledger at the last reconcile.
    pub drift: Vec<Drift>,
}

/// The fleet's shared state in one Redis.
#[derive(Clone)]
pub struct Fleet {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("replica", &self.inner.opts.replica_id)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) conn: ConnectionManager,
    client: redis::Client,
    pub(crate) opts: FleetOptions,
    pub(crate) link: Link,
    pub(crate) outage: Mutex<fallback::Outage>,
    pub(crate) known: Mutex<fallback::Known>,
    /// Whether any local share exists (so a shared admission need not look for its key's).
    pub(crate) shares_live: std::sync::atomic::AtomicBool,
    /// When Redis last came back after an outage (see [`Fleet::reconcile`]).
    pub(crate) recovered_at: Mutex<Option<std::time::Instant>>,
    replicas: AtomicU64,
    fallback_admissions: AtomicU64,
    unavailable_refusals: AtomicU64,
    pub(crate) late_refunds: AtomicU64,
    /// Late admission replies still awaited, and their wake-up (see `late`).
    pub(crate) late_pending: AtomicU64,
    pub(crate) late_done: Notify,
    /// The scripts were loaded into the server (the first heartbeat that reached it).
    pub(crate) scripts_loaded: std::sync::atomic::AtomicBool,
    /// Settlements waiting for the next admission's round trip (or the settlement task).
    settles: Mutex<Vec<settle::Settle>>,
    settle_wake: Arc<Notify>,
    keys_version: watch::Sender<u64>,
    report: Mutex<reconcile::Report>,
}

impl Fleet {
    /// A fleet on the Redis `url` names. Connects lazily: a Redis that is down now only puts
    /// the replica in fallback. Starts the heartbeat, settlement and key-notice tasks on the
    /// current tokio runtime; they end when the last clone of the fleet is dropped.
    pub fn open(url: &str, opts: FleetOptions) -> Result<Fleet, FleetError> {
        let client = link::client(url)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(FleetError::NoRuntime);
        }
        // Every call is bounded by `op_timeout` where it is made; the connection's own bound
        // is longer so a timed-out admission's reply can still be read (see `late`).
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(opts.connect_timeout))
            .set_response_timeout(Some(late::LATE_WAIT.max(opts.op_timeout)))
            .set_number_of_retries(0);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| FleetError::Url(link::scrub(url, &e.to_string())))?;
        let inner = Arc::new(Inner {
            conn,
            client,
            link: Link::new(link::password(url)),
            outage: Mutex::default(),
            known: Mutex::default(),
            shares_live: Default::default(),
            recovered_at: Mutex::default(),
            replicas: AtomicU64::new(1),
            fallback_admissions: AtomicU64::new(0),
            unavailable_refusals: AtomicU64::new(0),
            late_refunds: AtomicU64::new(0),
            late_pending: AtomicU64::new(0),
            late_done: Notify::new(),
            scripts_loaded: Default::default(),
            settles: Mutex::default(),
            settle_wake: Arc::default(),
            keys_version: watch::channel(0).0,
            report: Mutex::default(),
            opts,
        });
        settle::spawn_settler(Arc::downgrade(&inner));
        heartbeat::spawn(Arc::downgrade(&inner));
        keys::spawn_listener(Arc::downgrade(&inner));
        Ok(Fleet { inner })
    }

    /// Runs one heartbeat now (tests, and start-up so the first requests know the fleet).
    pub async fn beat(&self, now: DateTime<Utc>) -> bool {
        heartbeat::beat(&self.inner, now).await
    }

    pub fn options(&self) -> &FleetOptions {
        &self.inner.opts
    }

    /// The fleet's state for `/v1/status`.
    pub fn status(&self) -> FleetStatus {
        let i = &self.inner;
        let report = lock(&i.report).clone();
        FleetStatus {
            mode: i.mode(),
            replica: i.opts.replica_id.clone(),
            replicas: i.replicas(),
            last_error: i.link.last_error(),
            fallback_admissions: i.fallback_admissions.load(Ordering::Relaxed),
            unavailable_refusals: i.unavailable_refusals.load(Ordering::Relaxed),
            late_refunds: i.late_refunds.load(Ordering::Relaxed),
            deferred_settlements: lock(&i.outage).deferred_count(),
            last_reconcile: report.at,
            drift: report.drift,
        }
    }

    /// Leaves the live set (a graceful stop), so the others' shares grow at once.
    pub async fn leave(&self) {
        let mut cmd = redis::cmd("ZREM");
        cmd.arg(self.inner.replicas_key())
            .arg(&self.inner.opts.replica_id);
        let _ = self.inner.exec::<u64>(&cmd).await;
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Wakes the settlement task so it sees the fleet is gone and ends.
        self.settle_wake.notify_one();
    }
}

impl Inner {
    pub(crate) fn mode(&self) -> FleetMode {
        match (
            self.link.is_up(),
            self.link.is_down(),
            self.opts.fail_closed,
        ) {
            (true, _, _) => FleetMode::Shared,
            (false, _, true) => FleetMode::Refusing,
            (false, false, false) => FleetMode::Suspect,
            (false, true, false) => FleetMode::Fallback,
        }
    }

    pub(crate) fn replicas(&self) -> u64 {
        self.replicas.load(Ordering::Relaxed).max(1)
    }

    fn replicas_key(&self) -> String {
        format!("{}replicas", self.opts.prefix)
    }

    fn keys_version_key(&self) -> String {
        format!("{}keys:version", self.opts.prefix)
    }

    fn breakers_key(&self) -> String {
        format!("{}breakers", self.opts.prefix)
    }

    fn keys_channel(&self) -> String {
        format!("{}keys:changed", self.opts.prefix)
    }

    /// The hash of one budget period, named by its start so a new period starts from zero.
    pub(crate) fn budget_key(
        &self,
        key_id: &str,
        period: crate::Period,
        now: DateTime<Utc>,
    ) -> String {
        let start = period.start(now).timestamp_millis();
        prepared::budget_hash(&self.opts.prefix, key_id, period, start)
    }

    /// Runs a pipeline of script calls within `timeout`; if the server lost its scripts (a
    /// restart), nothing ran: load them all and send it again.
    pub(crate) async fn pipeline<T: redis::FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
        timeout: Duration,
    ) -> Option<T> {
        let mut conn = self.conn.clone();
        let outcome = match tokio::time::timeout(timeout, pipe.query_async::<T>(&mut conn)).await {
            Ok(Err(e)) if scripts::is_noscript(&e) => {
                let mut load = redis::pipe();
                for s in scripts::all() {
                    load.add_command(s.load_cmd()).ignore();
                }
                let _ = tokio::time::timeout(timeout, load.query_async::<()>(&mut conn)).await;
                tokio::time::timeout(timeout, pipe.query_async::<T>(&mut conn)).await
            }
            other => other,
        };
        self.link.outcome(outcome, timeout)
    }

    /// Runs one command within the operation timeout, recording the outcome in the link.
    pub(crate) async fn exec<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Option<T> {
        let mut conn = self.conn.clone();
        let outcome = tokio::time::timeout(self.opts.op_timeout, cmd.query_async::<T>(&mut conn));
        self.link.outcome(outcome.await, self.opts.op_timeout)
    }
}

/// Nano-dollars, rounded up: a hold or a charge is never smaller than the amount.
pub(crate) fn nano(m: Money) -> i64 {
    let scaled = (m.decimal() * rust_decimal::Decimal::from(1_000_000_000u64)).ceil();
    i64::try_from(scaled).unwrap_or(i64::MAX)
}

/// Dollars from nano-dollars.
pub(crate) fn usd(nano: i64) -> Money {
    Money::new(rust_decimal::Decimal::new(nano, 9).normalize())
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How long a budget hash lives: to the end of its period plus a day, so late settlements
/// and reconciles still find it.
pub(crate) fn budget_ttl_ms(period: crate::Period, now: DateTime<Utc>) -> i64 {
    (period.next_start(now) - now).num_milliseconds().max(0) + 86_400_000
}
