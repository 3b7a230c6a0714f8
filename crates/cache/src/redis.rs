//! The shared store: answers kept in Redis, so every gateway of a fleet serves what any one
//! of them stored.
//!
//! Each value is one Redis string under `prefix + key.hex()`, written with `SET … PX <ttl>`;
//! Redis expires it. The size bound is Redis's own (`maxmemory` with an LRU or LFU policy,
//! docs/caching.md): this store counts nothing itself, and reports the server's evictions.
//!
//! A store that is down must never stall a request: every operation is bounded by
//! `op_timeout` and fails as [`StoreError::Unavailable`]; once one has failed, operations fail
//! at once without trying until the background health tick reaches Redis again (the
//! connection, redis-rs's `ConnectionManager` with no retries of its own, is re-made by that
//! tick), so the store recovers without being rebuilt. Its state (healthy,
//! the last error) is what `/v1/status` shows; no password from the URL appears in it.
//! Must never know what the bytes hold or how keys are derived.

mod health;
#[cfg(test)]
mod tests;

use crate::{Key, OpenError, Store, StoreError, StoreFuture, StoreState};
use bytes::Bytes;
use health::Health;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::time::Duration;

/// How a Redis store connects and names its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// Prepended to every key (`switchyard:cache:` by default), so one Redis can hold several
    /// caches or other data, and a test can isolate itself.
    pub prefix: String,
    /// The longest a connection attempt may take.
    pub connect_timeout: Duration,
    /// The longest one operation may take before it fails as unavailable.
    pub op_timeout: Duration,
    /// How often the background task checks the server (and reconnects if needed).
    pub health_interval: Duration,
}

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "switchyard:cache:";

impl Default for RedisOptions {
    fn default() -> Self {
        // Tens of milliseconds: a cache lookup is worth waiting for only while it is far
        // cheaper than the provider call it may save (hundreds of ms to first token).
        RedisOptions {
            prefix: DEFAULT_PREFIX.to_owned(),
            connect_timeout: Duration::from_millis(50),
            op_timeout: Duration::from_millis(30),
            health_interval: Duration::from_secs(1),
        }
    }
}

impl RedisOptions {
    /// Options from `[cache] prefix`, `connect_timeout_ms` and `timeout_ms` (each defaulted
    /// when absent). Every problem is returned at once as (key under `[cache]`, message).
    pub fn from_config(
        prefix: Option<String>,
        connect_timeout_ms: Option<u64>,
        timeout_ms: Option<u64>,
    ) -> Result<Self, Vec<(&'static str, &'static str)>> {
        let mut problems = Vec::new();
        let defaults = RedisOptions::default();
        if prefix.as_deref().is_some_and(str::is_empty) {
            problems.push((
                "prefix",
                "must not be empty: every key needs a prefix its cache owns (default \"switchyard:cache:\")",
            ));
        }
        let ms =
            |v: Option<u64>, key: &'static str, default: Duration, problems: &mut Vec<_>| match v {
                Some(0) => {
                    problems.push((key, "must be at least 1 (milliseconds)"));
                    default
                }
                Some(n) => Duration::from_millis(n),
                None => default,
            };
        let connect_timeout = ms(
            connect_timeout_ms,
            "connect_timeout_ms",
            defaults.connect_timeout,
            &mut problems,
        );
        let op_timeout = ms(timeout_ms, "timeout_ms", defaults.op_timeout, &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(RedisOptions {
            prefix: prefix.unwrap_or(defaults.prefix),
            connect_timeout,
            op_timeout,
            health_interval: defaults.health_interval,
        })
    }
}

/// The longest TTL sent to Redis (100 years), so `PX` never overflows the server's clock.
const MAX_TTL_MS: u128 = 100 * 365 * 24 * 3_600 * 1_000;

/// A [`Store`] on a Redis server.
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    prefix: String,
    op_timeout: Duration,
    health: Health,
}

impl RedisStore {
    /// A store on the server `url` names (`redis://[user:password@]host:port[/db]`). Connects
    /// lazily: a server that is down now is not an error, only an unhealthy state. Must be
    /// called inside a tokio runtime (the health task runs on it).
    pub fn open(url: &str, options: &RedisOptions) -> Result<Self, OpenError> {
        let client = client(url)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(invalid(
                url,
                "the Redis store must be opened inside the tokio runtime",
            ));
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.op_timeout))
            // The store retries by reconnecting on the next operation, never inside one.
            .set_number_of_retries(0);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| invalid(url, &e.to_string()))?;
        let inner = Arc::new(Inner {
            conn,
            prefix: options.prefix.clone(),
            op_timeout: options.op_timeout,
            health: Health::new(password(url)),
        });
        health::spawn(Arc::downgrade(&inner), options.health_interval);
        Ok(RedisStore { inner })
    }

    /// Deletes every key under this store's prefix; returns how many were deleted. For tests
    /// and an operator's "clear the cache"; walks the keyspace with `SCAN`, so it does not
    /// block the server.
    pub async fn purge(&self) -> Result<u64, StoreError> {
        let pattern = format!("{}*", glob_escape(&self.inner.prefix));
        let mut cursor = 0u64;
        let mut deleted = 0u64;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500);
            let (next, keys): (u64, Vec<Vec<u8>>) = self.inner.run(&scan).await?;
            if !keys.is_empty() {
                let mut del = redis::cmd("DEL");
                del.arg(keys);
                deleted += self.inner.run::<u64>(&del).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

impl Inner {
    fn key(&self, key: &Key) -> String {
        let mut out = String::with_capacity(self.prefix.len() + 64);
        out.push_str(&self.prefix);
        out.push_str(&key.hex());
        out
    }

    /// Runs one command, unless the store is known to be down: then it fails at once (a
    /// request pays nothing for a cache that is out), and the health tick alone probes.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        if self.health.is_down() {
            return Err(StoreError::Unavailable(self.health.down_reason()));
        }
        self.exec(cmd).await
    }

    /// Runs one command within the operation timeout and records the outcome in the health.
    async fn exec<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        let outcome = tokio::time::timeout(self.op_timeout, cmd.query_async::<T>(&mut conn)).await;
        let message = match outcome {
            Ok(Ok(value)) => {
                self.health.succeeded();
                return Ok(value);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!(
                "redis did not answer within {} ms (cache.timeout_ms)",
                self.op_timeout.as_millis()
            ),
        };
        Err(StoreError::Unavailable(self.health.failed(&message)))
    }
}

impl Store for RedisStore {
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("GET");
            cmd.arg(self.inner.key(key));
            let value: Option<Vec<u8>> = self.inner.run(&cmd).await?;
            Ok(value.map(Bytes::from))
        })
    }

    fn put<'a>(&'a self, key: &'a Key, value: Bytes, ttl: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            if ttl.is_zero() {
                // A zero TTL stores nothing and drops what was there (the Store contract).
                return self.remove(key).await;
            }
            // Round sub-millisecond TTLs up: `PX 0` is an error in Redis.
            let ms = ttl.as_millis().clamp(1, MAX_TTL_MS) as u64;
            let mut cmd = redis::cmd("SET");
            cmd.arg(self.inner.key(key))
                .arg(value.as_ref())
                .arg("PX")
                .arg(ms);
            self.inner.run::<()>(&cmd).await
        })
    }

    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut cmd = redis::cmd("DEL");
            cmd.arg(self.inner.key(key));
            self.inner.run::<u64>(&cmd).await.map(|_| ())
        })
    }

    fn state(&self) -> StoreState {
        self.inner.health.state()
    }
}

/// Checks a Redis URL without connecting (for `config check`, which has no runtime).
pub fn validate_url(url: &str) -> Result<(), OpenError> {
    client(url).map(|_| ())
}

fn client(url: &str) -> Result<redis::Client, OpenError> {
    if url.starts_with("rediss://") {
        return Err(invalid(
            url,
            "TLS (`rediss://`) is not built in; reach Redis over a private network or a local TLS tunnel and use `redis://`",
        ));
    }
    if !url.starts_with("redis://") {
        return Err(OpenError::Scheme(redact(url)));
    }
    redis::Client::open(url).map_err(|e| invalid(url, &format!("not a Redis URL ({e})")))
}

fn invalid(url: &str, message: &str) -> OpenError {
    let secret = password(url);
    let mut message = message.to_owned();
    if let Some(secret) = secret.as_deref() {
        message = message.replace(secret, "***");
    }
    OpenError::Invalid {
        url: redact(url),
        message,
    }
}

/// The URL's user-info part (`user:password@`), if any.
fn userinfo(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let authority_end = url[start..].find('/').map_or(url.len(), |i| start + i);
    let at = url[start..authority_end].rfind('@')? + start;
    Some((start, at))
}

/// The password in the URL, so it can be scrubbed from any message.
fn password(url: &str) -> Option<String> {
    let (start, at) = userinfo(url)?;
    let (_, secret) = url[start..at].split_once(':')?;
    (!secret.is_empty()).then(|| secret.to_owned())
}

/// The URL with its password replaced by `***` (the user name stays: it is not a secret).
pub fn redact(url: &str) -> String {
    let Some((start, at)) = userinfo(url) else {
        return url.to_owned();
    };
    let Some((user, _)) = url[start..at].split_once(':') else {
        return url.to_owned();
    };
    format!("{}{user}:***{}", &url[..start], &url[at..])
}

/// `prefix` with Redis glob characters escaped, for `SCAN MATCH`.
fn glob_escape(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
