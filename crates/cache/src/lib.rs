//! Stores for cached answers.
//!
//! Owns the [`Store`] trait (get, put with a TTL, remove, and a state report for `/v1/status`)
//! that every cache backend implements, the in-process [`MemoryStore`] (the default: a
//! byte-bounded LRU with expiry), the shared [`RedisStore`] (for a fleet), the one factory
//! [`open`] that picks a store by URL, and the [`conformance`] suite every backend must pass.
//! A stored value is opaque bytes under a 32-byte [`Key`]; what the key hashes and what the
//! bytes hold (a serialised answer) belong to the gateway. Must never know HTTP, requests or
//! dialects.

mod memory;
mod redis;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

pub use self::redis::{DEFAULT_PREFIX, RedisOptions, RedisStore, redact};
pub use memory::MemoryStore;

use bytes::Bytes;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The key of one stored answer: 32 bytes of digest the caller computed over everything that
/// determines the answer, its scope included (the gateway's: XXH3-128 and half a BLAKE3 check
/// digest, `gateway/src/cache/key.rs`). Stores compare keys as bytes and never look inside.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; 32]);

impl Key {
    /// Lower-case hex, as stores that key by string (Redis) and logs write it.
    pub fn hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for b in self.0 {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        out
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", &self.hex()[..12])
    }
}

/// Why a store could not answer. A cache failure never fails a request: the caller treats
/// every error as a miss (or a skipped write) and reports the store's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backing service could not be reached or answered with an error.
    #[error("cache store unavailable: {0}")]
    Unavailable(String),
    /// A value larger than the store accepts (`max_entry_bytes`).
    #[error("cache value of {size} bytes exceeds the per-entry limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
}

/// The future a store operation returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What a store reports about itself (`/v1/status`, metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreState {
    /// `memory`, `redis`, ….
    pub kind: &'static str,
    /// Whether the last operation reached the store.
    pub healthy: bool,
    /// Entries held, where the store knows it cheaply (`None` for a shared store).
    pub entries: Option<u64>,
    /// Bytes held (keys and values), where known.
    pub bytes: Option<u64>,
    /// Entries evicted to stay within the size bound since start.
    pub evictions: u64,
    /// The last error, secret-free, if the store is unhealthy.
    pub last_error: Option<String>,
}

/// A place to keep answers for a while. Implementations are shared by every request
/// (`Arc<dyn Store>`) and must be safe under concurrency.
pub trait Store: Send + Sync + 'static {
    /// The value under `key`, unless it is absent or expired.
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Bytes>>;
    /// Stores `value` under `key` for `ttl` (a zero TTL stores nothing), replacing any value.
    fn put<'a>(&'a self, key: &'a Key, value: Bytes, ttl: Duration) -> StoreFuture<'a, ()>;
    /// Removes `key` (absent is not an error).
    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, ()>;
    /// The store's current state.
    fn state(&self) -> StoreState;
}

/// Why [`open`] refused a store URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error(
        "unsupported cache store URL scheme in `{0}`: use `memory` or `redis://host:port[/db]`"
    )]
    Scheme(String),
    #[error("cache store `{url}`: {message}")]
    Invalid { url: String, message: String },
}

/// How [`open_with`] builds a store: the memory store's bound and the Redis store's options
/// (each ignored by the other kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// The in-process store's bound in bytes (Redis is bounded by its own `maxmemory`).
    pub max_bytes: usize,
    /// Key prefix and timeouts of a Redis store.
    pub redis: RedisOptions,
}

impl OpenOptions {
    /// Defaults (Redis: prefix `switchyard:cache:`, 50 ms to connect, 30 ms per operation)
    /// with the memory store bounded at `max_bytes`.
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        OpenOptions {
            max_bytes,
            redis: RedisOptions::default(),
        }
    }
}

/// The store a config names: `None` or `memory` for the in-process [`MemoryStore`] bounded at
/// `max_bytes`; `redis://…` for a [`RedisStore`] with default options.
pub fn open(url: Option<&str>, max_bytes: usize) -> Result<std::sync::Arc<dyn Store>, OpenError> {
    open_with(url, &OpenOptions::with_max_bytes(max_bytes))
}

/// [`open`] with every option. A Redis store is opened lazily (a server that is down is an
/// unhealthy state, not an error) and must be opened inside the tokio runtime.
pub fn open_with(
    url: Option<&str>,
    options: &OpenOptions,
) -> Result<std::sync::Arc<dyn Store>, OpenError> {
    match url {
        None | Some("memory") => Ok(std::sync::Arc::new(MemoryStore::new(options.max_bytes))),
        Some(url) => Ok(std::sync::Arc::new(RedisStore::open(url, &options.redis)?)),
    }
}

/// Checks a store URL without opening it (for `config check`: no runtime, no connection).
pub fn check_url(url: Option<&str>) -> Result<(), OpenError> {
    match url {
        None | Some("memory") => Ok(()),
        Some(url) => self::redis::validate_url(url),
    }
}
