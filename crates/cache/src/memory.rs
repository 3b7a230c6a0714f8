//! The in-process store: a byte-bounded LRU with per-entry expiry, sharded so concurrent
//! requests rarely wait on one another.
//!
//! Each of [`SHARDS`] shards holds its entries in a map and their recency in an ordered map
//! (a per-shard counter stamps every use), under its own mutex; the byte bound is split evenly
//! between shards, and a put evicts the least recently used entries of its shard until the new
//! entry fits. Expired entries are dropped when touched and when eviction walks past them.
//! Time comes from an injected [`Clock`] so expiry is testable.

use crate::{Key, Store, StoreError, StoreFuture, StoreState};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use switchyard_primitives::{Clock, SystemClock};

/// Number of shards; a power of two, picked by the key's first byte.
pub const SHARDS: usize = 16;

/// What one entry costs beyond its value: the key twice (map and recency list), the
/// timestamps and the map slots, rounded up.
const ENTRY_OVERHEAD: usize = 128;

struct Entry {
    value: Bytes,
    expires: DateTime<Utc>,
    stamp: u64,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<Key, Entry>,
    recency: BTreeMap<u64, Key>,
    bytes: usize,
    next_stamp: u64,
}

impl Shard {
    fn take(&mut self, key: &Key) -> Option<Entry> {
        let entry = self.entries.remove(key)?;
        self.recency.remove(&entry.stamp);
        self.bytes -= cost(entry.value.len());
        Some(entry)
    }

    fn stamp(&mut self) -> u64 {
        self.next_stamp += 1;
        self.next_stamp
    }
}

fn cost(value_len: usize) -> usize {
    value_len + ENTRY_OVERHEAD
}

/// The default cache store: no service needed, lost on restart.
pub struct MemoryStore {
    shards: Vec<Mutex<Shard>>,
    shard_limit: usize,
    max_entry_bytes: usize,
    evictions: AtomicU64,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    /// A store holding at most `max_bytes` (values plus a fixed per-entry overhead); one value
    /// may take at most `max_bytes / 16` (a shard's share).
    pub fn new(max_bytes: usize) -> Self {
        Self::with_clock(max_bytes, Arc::new(SystemClock))
    }

    /// [`MemoryStore::new`] on an injected clock.
    pub fn with_clock(max_bytes: usize, clock: Arc<dyn Clock>) -> Self {
        let shard_limit = max_bytes / SHARDS;
        MemoryStore {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_limit,
            max_entry_bytes: shard_limit.saturating_sub(ENTRY_OVERHEAD),
            evictions: AtomicU64::new(0),
            clock,
        }
    }

    fn shard(&self, key: &Key) -> MutexGuard<'_, Shard> {
        let shard = &self.shards[usize::from(key.0[0]) % SHARDS];
        // A panic while holding the lock cannot leave a shard half-updated in a way that
        // matters for a cache (at worst a byte count is off), so a poisoned lock is reused.
        shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lookup(&self, key: &Key) -> Option<Bytes> {
        let now = self.clock.now();
        let mut shard = self.shard(key);
        let mut entry = shard.take(key)?;
        if entry.expires <= now {
            return None;
        }
        entry.stamp = shard.stamp();
        let value = entry.value.clone();
        shard.recency.insert(entry.stamp, *key);
        shard.bytes += cost(entry.value.len());
        shard.entries.insert(*key, entry);
        Some(value)
    }

    fn insert(&self, key: &Key, value: Bytes, ttl: Duration) -> Result<(), StoreError> {
        if value.len() > self.max_entry_bytes {
            return Err(StoreError::TooLarge {
                size: value.len(),
                limit: self.max_entry_bytes,
            });
        }
        let now = self.clock.now();
        let mut shard = self.shard(key);
        shard.take(key);
        if ttl.is_zero() {
            return Ok(());
        }
        let expires = chrono::Duration::from_std(ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        while shard.bytes + cost(value.len()) > self.shard_limit {
            let Some((_, oldest)) = shard.recency.pop_first() else {
                break;
            };
            if let Some(old) = shard.entries.remove(&oldest) {
                shard.bytes -= cost(old.value.len());
                if old.expires > now {
                    self.evictions.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let stamp = shard.stamp();
        shard.bytes += cost(value.len());
        shard.recency.insert(stamp, *key);
        shard.entries.insert(
            *key,
            Entry {
                value,
                expires,
                stamp,
            },
        );
        Ok(())
    }

    fn totals(&self) -> (u64, u64) {
        self.shards.iter().fold((0, 0), |(n, b), shard| {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            (n + shard.entries.len() as u64, b + shard.bytes as u64)
        })
    }
}

impl Store for MemoryStore {
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Bytes>> {
        let found = self.lookup(key);
        Box::pin(std::future::ready(Ok(found)))
    }

    fn put<'a>(&'a self, key: &'a Key, value: Bytes, ttl: Duration) -> StoreFuture<'a, ()> {
        let done = self.insert(key, value, ttl);
        Box::pin(std::future::ready(done))
    }

    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, ()> {
        self.shard(key).take(key);
        Box::pin(std::future::ready(Ok(())))
    }

    fn state(&self) -> StoreState {
        let (entries, bytes) = self.totals();
        StoreState {
            kind: "memory",
            healthy: true,
            entries: Some(entries),
            bytes: Some(bytes),
            evictions: self.evictions.load(Ordering::Relaxed),
            last_error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(first: u8, n: u8) -> Key {
        let mut k = [0u8; 32];
        k[0] = first;
        k[1] = n;
        Key(k)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_memory_store_passes_the_conformance_suite() {
        crate::conformance::run_all(|| MemoryStore::new(64 << 20)).await;
    }

    #[tokio::test]
    async fn the_least_recently_used_entry_of_a_full_shard_is_evicted_first() {
        // Each shard holds 1,000 bytes: three 300-byte values do not fit with their overhead.
        let store = MemoryStore::new(1_000 * SHARDS);
        let value = Bytes::from(vec![b'x'; 300]);
        let ttl = Duration::from_secs(60);
        store.put(&key(0, 1), value.clone(), ttl).await.unwrap();
        store.put(&key(0, 2), value.clone(), ttl).await.unwrap();
        // Touch 1 so 2 is the oldest.
        assert!(store.get(&key(0, 1)).await.unwrap().is_some());
        store.put(&key(0, 3), value.clone(), ttl).await.unwrap();
        assert!(store.get(&key(0, 2)).await.unwrap().is_none());
        assert!(store.get(&key(0, 1)).await.unwrap().is_some());
        assert!(store.get(&key(0, 3)).await.unwrap().is_some());
        assert_eq!(store.state().evictions, 1);
        // Another shard is untouched by this one's pressure.
        store.put(&key(1, 1), value, ttl).await.unwrap();
        assert!(store.get(&key(0, 1)).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_value_larger_than_a_shard_is_refused_and_counted_nowhere() {
        let store = MemoryStore::new(1_000 * SHARDS);
        let err = store
            .put(
                &key(0, 1),
                Bytes::from(vec![0; 2_000]),
                Duration::from_secs(1),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::TooLarge { size: 2_000, .. }));
        assert_eq!(store.state().bytes, Some(0));
    }
}
