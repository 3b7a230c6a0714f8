//! The in-process vector index: entries partitioned by (scope, context hash), each partition a
//! flat buffer of vectors scanned in full, bounded in entries and bytes, with per-entry expiry.
//!
//! Partitioning is exact isolation: a lookup scans only the partition of its own scope and
//! context, so no other team's entry or other conversation's entry is ever a candidate.
//! Eviction is oldest-first, which with one TTL per route is soonest-to-expire first. Knows
//! nothing of embedders or guards beyond carrying each entry's [`Facts`].

use crate::facts::Facts;
use crate::vectors::{Precision, Vectors};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use switchyard_cache::Key;

/// Who may share an entry, as the route's cache scope resolves for one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Team(String),
    Key(String),
}

/// A hash of everything but the embedded text that determines the answer (system prompt,
/// tools, earlier turns, the route's targets, sampling parameters): must match exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContextHash(pub [u8; 32]);

/// Bounds on the index (across all partitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_bytes: usize,
}

/// What the index holds (`/v1/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexState {
    pub entries: usize,
    pub bytes: usize,
    pub partitions: usize,
    pub evictions: u64,
}

/// One stored entry's data, besides its vector.
#[derive(Debug, Clone)]
pub struct Meta {
    pub key: Key,
    pub expires: DateTime<Utc>,
    pub facts: Facts,
    seq: u64,
    bytes: usize,
}

/// What [`Index::insert`] stores beside the vector.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The exact cache's key of the answer.
    pub key: Key,
    /// The facts of the entry's text.
    pub facts: Facts,
    pub expires: DateTime<Utc>,
}

/// A nearest-neighbour answer: the entry and its cosine similarity to the query.
#[derive(Debug, Clone)]
pub struct Neighbour<'a> {
    pub meta: &'a Meta,
    pub similarity: f32,
}

type PartKey = (Scope, ContextHash);

struct Partition {
    vectors: Vectors,
    slots: Vec<Option<Meta>>,
    free: Vec<usize>,
    by_key: HashMap<Key, usize>,
    live: usize,
}

/// Fixed per-entry cost beyond the vector and the facts' heap: the slot, the key map entry,
/// and the eviction queue entry.
const ENTRY_OVERHEAD: usize = std::mem::size_of::<Option<Meta>>() + 48 + 64;

/// The index. Not synchronised: the cache wraps it in a lock.
pub struct Index {
    dims: usize,
    precision: Precision,
    limits: Limits,
    parts: HashMap<PartKey, Partition>,
    order: VecDeque<(PartKey, usize, u64)>,
    next_seq: u64,
    state: IndexState,
}

impl Index {
    pub fn new(dims: usize, precision: Precision, limits: Limits) -> Self {
        Self {
            dims,
            precision,
            limits,
            parts: HashMap::new(),
            order: VecDeque::new(),
            next_seq: 0,
            state: IndexState::default(),
        }
    }

    pub fn dimensions(&self) -> usize {
        self.dims
    }

    pub fn state(&self) -> IndexState {
        IndexState {
            partitions: self.parts.len(),
            ..self.state
        }
    }

    /// Bytes one entry with `facts` is accounted at.
    pub fn entry_bytes(&self, facts: &Facts) -> usize {
        self.precision.bytes_per_vector(self.dims) + facts.heap_bytes() + ENTRY_OVERHEAD
    }

    /// Stores `vector` (unit length, `dims` long) under `key` in its partition, replacing an
    /// entry with the same key, then evicts oldest entries until the bounds hold. An entry
    /// larger than the whole byte bound, or a vector of the wrong length, is not stored.
    pub fn insert(&mut self, part: (Scope, ContextHash), vector: &[f32], entry: NewEntry) -> bool {
        let NewEntry {
            key,
            facts,
            expires,
        } = entry;
        let bytes = self.entry_bytes(&facts);
        if vector.len() != self.dims
            || bytes > self.limits.max_bytes
            || self.limits.max_entries == 0
        {
            return false;
        }
        self.remove(&part, &key);
        self.next_seq += 1;
        let seq = self.next_seq;
        let (dims, precision) = (self.dims, self.precision);
        let p = self.parts.entry(part.clone()).or_insert_with(|| Partition {
            vectors: Vectors::new(precision, dims),
            slots: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
            live: 0,
        });
        let slot = p.free.pop().unwrap_or(p.slots.len());
        p.vectors.set(slot, vector);
        let meta = Some(Meta {
            key,
            expires,
            facts,
            seq,
            bytes,
        });
        if slot == p.slots.len() {
            p.slots.push(meta);
        } else {
            p.slots[slot] = meta;
        }
        p.by_key.insert(key, slot);
        p.live += 1;
        self.order.push_back((part, slot, seq));
        self.state.entries += 1;
        self.state.bytes += bytes;
        self.enforce_bounds();
        true
    }

    /// Removes the entry under `key` in `part` (absent is fine); true if one was removed.
    pub fn remove(&mut self, part: &(Scope, ContextHash), key: &Key) -> bool {
        let Some(slot) = self
            .parts
            .get(part)
            .and_then(|p| p.by_key.get(key).copied())
        else {
            return false;
        };
        self.free_slot(part, slot);
        true
    }

    fn free_slot(&mut self, part: &PartKey, slot: usize) {
        let Some(p) = self.parts.get_mut(part) else {
            return;
        };
        let Some(meta) = p.slots.get_mut(slot).and_then(Option::take) else {
            return;
        };
        p.by_key.remove(&meta.key);
        p.free.push(slot);
        p.live -= 1;
        self.state.entries -= 1;
        self.state.bytes -= meta.bytes;
        if p.live == 0 {
            self.parts.remove(part);
        }
    }

    fn enforce_bounds(&mut self) {
        while self.state.entries > self.limits.max_entries
            || self.state.bytes > self.limits.max_bytes
        {
            let Some((part, slot, seq)) = self.order.pop_front() else {
                break;
            };
            if self.is_current(&part, slot, seq) {
                self.free_slot(&part, slot);
                self.state.evictions += 1;
            }
        }
        // Replaced and expired entries leave stale queue items; drop them once they dominate.
        if self.order.len() > 2 * self.state.entries + 1024 {
            let order = std::mem::take(&mut self.order);
            self.order = order
                .into_iter()
                .filter(|(p, s, q)| self.is_current(p, *s, *q))
                .collect();
        }
    }

    fn is_current(&self, part: &PartKey, slot: usize, seq: u64) -> bool {
        self.parts
            .get(part)
            .and_then(|p| p.slots.get(slot))
            .is_some_and(|m| m.as_ref().is_some_and(|m| m.seq == seq))
    }

    /// The `k` nearest live (unexpired at `now`) entries of `part` to `query`, nearest first.
    pub fn nearest(
        &self,
        part: &(Scope, ContextHash),
        query: &[f32],
        k: usize,
        now: DateTime<Utc>,
    ) -> Vec<Neighbour<'_>> {
        let Some(p) = self.parts.get(part) else {
            return Vec::new();
        };
        if query.len() != self.dims || k == 0 {
            return Vec::new();
        }
        let mut best: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
        let probe = p.vectors.probe(query);
        p.vectors.scan(&probe, |slot, sim| {
            if best.len() == k && best.last().is_some_and(|(s, _)| sim <= *s) {
                return;
            }
            if p.slots[slot].as_ref().is_none_or(|m| m.expires <= now) {
                return;
            }
            let at = best.partition_point(|(s, _)| *s >= sim);
            best.insert(at, (sim, slot));
            best.truncate(k);
        });
        best.into_iter()
            .filter_map(|(similarity, slot)| {
                p.slots[slot]
                    .as_ref()
                    .map(|meta| Neighbour { meta, similarity })
            })
            .collect()
    }

    /// Drops every entry expired at `now`; returns how many.
    pub fn purge_expired(&mut self, now: DateTime<Utc>) -> usize {
        let expired: Vec<(PartKey, usize)> = self
            .parts
            .iter()
            .flat_map(|(part, p)| {
                p.slots.iter().enumerate().filter_map(move |(slot, m)| {
                    m.as_ref()
                        .filter(|m| m.expires <= now)
                        .map(|_| (part.clone(), slot))
                })
            })
            .collect();
        for (part, slot) in &expired {
            self.free_slot(part, *slot);
        }
        expired.len()
    }
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
