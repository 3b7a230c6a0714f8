//! The Redis store's health: whether the last operation reached the server, the last error
//! (scrubbed of the URL's password), the server's evictions, and the background tick that
//! checks the server so the state (and the connection) recovers even without traffic.
//!
//! State changes are logged once per transition (down, then back), never once per operation,
//! so a Redis outage under load does not flood the log.

use super::Inner;
use crate::StoreState;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, Weak};
use std::time::Duration;

/// Not yet connected: operations try (so a fresh store works at once).
const UNKNOWN: u8 = 0;
/// The last operation or tick reached Redis.
const UP: u8 = 1;
/// The last one failed: operations fail at once until the health tick reaches Redis again.
const DOWN: u8 = 2;

pub(super) struct Health {
    state: AtomicU8,
    last_error: Mutex<Option<String>>,
    /// The URL's password, replaced by `***` wherever it would appear in a message.
    secret: Option<String>,
    evictions: Mutex<Evictions>,
    policy_checked: AtomicBool,
}

/// The server's `evicted_keys` counter, turned into "evicted since this store opened" (a
/// server restart resets the counter, so the count carries across it).
#[derive(Default)]
struct Evictions {
    last_seen: Option<u64>,
    total: u64,
}

impl Health {
    pub(super) fn new(secret: Option<String>) -> Self {
        Health {
            state: AtomicU8::new(UNKNOWN),
            last_error: Mutex::new(Some("not connected yet".to_owned())),
            secret,
            evictions: Mutex::default(),
            policy_checked: AtomicBool::new(false),
        }
    }

    pub(super) fn succeeded(&self) {
        // The common case costs one atomic load: only a change takes the lock.
        if self.state.load(Ordering::Relaxed) == UP {
            return;
        }
        let before = self.state.swap(UP, Ordering::Relaxed);
        if before != UP {
            *lock(&self.last_error) = None;
        }
        if before == DOWN {
            tracing::info!(store = "redis", "cache store reachable again");
        }
    }

    /// Whether operations should fail at once (the store is known to be down).
    pub(super) fn is_down(&self) -> bool {
        self.state.load(Ordering::Relaxed) == DOWN
    }

    /// Why the store is down, for an operation refused without trying.
    pub(super) fn down_reason(&self) -> String {
        lock(&self.last_error)
            .clone()
            .unwrap_or_else(|| "redis is unreachable".to_owned())
    }

    /// Records a failure; returns the secret-free message for the caller's error.
    pub(super) fn failed(&self, message: &str) -> String {
        let message = match self.secret.as_deref() {
            Some(secret) => message.replace(secret, "***"),
            None => message.to_owned(),
        };
        *lock(&self.last_error) = Some(message.clone());
        if self.state.swap(DOWN, Ordering::Relaxed) != DOWN {
            // A new connection will be made: check the server's memory policy again.
            self.policy_checked.store(false, Ordering::Relaxed);
            tracing::warn!(store = "redis", error = %message, "cache store unavailable; requests go to the providers until it is back");
        }
        message
    }

    pub(super) fn state(&self) -> StoreState {
        let healthy = self.state.load(Ordering::Relaxed) == UP;
        StoreState {
            kind: "redis",
            healthy,
            entries: None,
            bytes: None,
            evictions: lock(&self.evictions).total,
            last_error: if healthy {
                None
            } else {
                lock(&self.last_error).clone()
            },
        }
    }

    fn saw_evicted_keys(&self, now: u64) {
        let mut seen = lock(&self.evictions);
        match seen.last_seen {
            Some(last) if now >= last => seen.total += now - last,
            Some(_) => seen.total += now,
            None => {}
        }
        seen.last_seen = Some(now);
    }

    /// Warns (once per connection) when the server has no size bound or never evicts: the
    /// cache then grows until Redis refuses writes.
    fn check_policy(&self, memory_info: &str) {
        self.policy_checked.store(true, Ordering::Relaxed);
        let max = info_field(memory_info, "maxmemory").unwrap_or("0");
        let policy = info_field(memory_info, "maxmemory_policy").unwrap_or("noeviction");
        if max == "0" || policy == "noeviction" {
            tracing::warn!(
                store = "redis",
                maxmemory = max,
                maxmemory_policy = policy,
                "the Redis cache has no eviction bound: set `maxmemory` and `maxmemory-policy allkeys-lru` (docs/caching.md)"
            );
        }
    }
}

impl Inner {
    /// One health tick: reads the server's eviction counter (which also reconnects a dropped
    /// connection and records the outcome, so a down store comes back) and, once per
    /// connection, its memory policy.
    async fn check(&self) {
        let mut stats = redis::cmd("INFO");
        stats.arg("stats");
        let Ok(text) = self.exec::<String>(&stats).await else {
            return;
        };
        if let Some(n) = info_field(&text, "evicted_keys").and_then(|v| v.parse().ok()) {
            self.health.saw_evicted_keys(n);
        }
        if !self.health.policy_checked.load(Ordering::Relaxed) {
            let mut memory = redis::cmd("INFO");
            memory.arg("memory");
            if let Ok(text) = self.exec::<String>(&memory).await {
                self.health.check_policy(&text);
            }
        }
    }
}

/// Starts the health tick; it ends when the store is dropped.
pub(super) fn spawn(inner: Weak<Inner>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = inner.upgrade() else {
                return;
            };
            inner.check().await;
        }
    });
}

/// The value of `field:` in an `INFO` reply.
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name == field).then(|| value.trim())
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Health is plain data: a panic elsewhere cannot leave it inconsistent in a way that matters.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_message_never_carries_the_password() {
        let health = Health::new(Some("hunter2".to_owned()));
        let message = health.failed("auth failed for hunter2 at redis://:hunter2@h:1");
        assert!(!message.contains("hunter2"), "{message}");
        assert!(
            !health
                .state()
                .last_error
                .unwrap_or_default()
                .contains("hunter2")
        );
        assert!(!health.state().healthy);
        assert!(health.is_down());
        assert!(!health.down_reason().contains("hunter2"));
        health.succeeded();
        assert!(health.state().healthy && !health.is_down());
        assert_eq!(health.state().last_error, None);
    }

    #[test]
    fn evictions_count_from_open_and_carry_across_a_server_restart() {
        let health = Health::new(None);
        health.saw_evicted_keys(100);
        assert_eq!(health.state().evictions, 0, "the first reading is the base");
        health.saw_evicted_keys(104);
        assert_eq!(health.state().evictions, 4);
        health.saw_evicted_keys(3); // the server restarted: its counter began again
        assert_eq!(health.state().evictions, 7);
    }

    #[test]
    fn info_fields_are_read_by_exact_name() {
        let info =
            "# Memory\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:allkeys-lru\r\n";
        assert_eq!(info_field(info, "maxmemory"), Some("0"));
        assert_eq!(info_field(info, "maxmemory_policy"), Some("allkeys-lru"));
        assert_eq!(info_field(info, "evicted_keys"), None);
    }
}
