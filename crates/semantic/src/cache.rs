//! [`SemanticCache`]: embed the query text, find the nearest entries of its partition, check
//! them against the guards, and say which (if any) to serve — with everything shadow mode needs
//! to log (key, similarity, the guards each candidate failed).
//!
//! The cache stores no answers: an entry points at the exact cache's [`Key`], which the gateway
//! fetches the answer by. Must never know requests, dialects or HTTP.

use crate::config::Config;
use crate::embed::{Embed, EmbedError, checked};
use crate::facts::Facts;
use crate::guard::{self, GuardSet};
use crate::index::{ContextHash, Index, IndexState, NewEntry, Scope};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use switchyard_cache::Key;
use switchyard_primitives::{Clock, SystemClock};

/// What a lookup or insert is about: the text to embed (the last user turn), the hash of the
/// rest of the request, and the scope the route's cache resolves to for this caller.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub text: &'a str,
    pub context: ContextHash,
    pub scope: &'a Scope,
}

/// Where an insert points: the exact cache's key and the same TTL as the exact entry.
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    pub key: Key,
    pub ttl: Duration,
}

/// One nearest entry that was checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The exact cache's key of the entry's answer.
    pub key: Key,
    /// Cosine similarity to the query (−1..=1).
    pub similarity: f32,
    /// Guards the entry failed (empty: all passed).
    pub failed: GuardSet,
}

/// Why a lookup served nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The partition is empty (or holds only expired entries).
    Empty,
    /// The text is longer than `max_text_chars`; not looked up.
    TooLong,
    /// No candidate reached `min_similarity`.
    BelowThreshold,
    /// Candidates reached the threshold but each failed a guard (the nearest one's failures).
    Guards(GuardSet),
}

/// The answer of a lookup. `hit` is what to serve; `candidates` (nearest first, up to the
/// configured count, whatever their similarity) is what shadow mode logs and scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    pub hit: Option<Candidate>,
    pub candidates: Vec<Candidate>,
    pub min_similarity: f32,
    /// The text was over `max_text_chars` and was not looked up.
    pub too_long: bool,
}

impl Lookup {
    /// The nearest candidate, served or not.
    pub fn nearest(&self) -> Option<&Candidate> {
        self.candidates.first()
    }

    /// Why nothing was served (`None` on a hit).
    pub fn miss(&self) -> Option<Miss> {
        if self.hit.is_some() {
            return None;
        }
        let mut above = self
            .candidates
            .iter()
            .filter(|c| c.similarity >= self.min_similarity);
        Some(match (self.candidates.is_empty(), above.next()) {
            _ if self.too_long => Miss::TooLong,
            (true, _) => Miss::Empty,
            (false, None) => Miss::BelowThreshold,
            (false, Some(c)) => Miss::Guards(c.failed),
        })
    }

    fn too_long(min_similarity: f32) -> Self {
        Self {
            hit: None,
            candidates: Vec::new(),
            min_similarity,
            too_long: true,
        }
    }
}

/// The text that is embedded for `text`: trimmed, with runs of white space made one space.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The semantic cache of one route (or of several sharing an embedder and bounds).
pub struct SemanticCache {
    config: Config,
    embedder: Arc<dyn Embed>,
    index: RwLock<Index>,
    clock: Arc<dyn Clock>,
}

impl SemanticCache {
    pub fn new(config: Config, embedder: Arc<dyn Embed>) -> Self {
        Self::with_clock(config, embedder, Arc::new(SystemClock))
    }

    /// A cache whose expiry follows `clock` (tests inject one).
    pub fn with_clock(config: Config, embedder: Arc<dyn Embed>, clock: Arc<dyn Clock>) -> Self {
        let index = Index::new(embedder.dimensions(), config.precision, config.limits);
        Self {
            config,
            embedder,
            index: RwLock::new(index),
            clock,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What the index holds.
    pub fn state(&self) -> IndexState {
        self.read().state()
    }

    /// Embeds the request's text and looks it up.
    pub async fn lookup(&self, req: &Request<'_>) -> Result<Lookup, EmbedError> {
        if !self.fits(req.text) {
            return Ok(Lookup::too_long(self.config.min_similarity));
        }
        let vector = self.embed_one(req.text).await?;
        Ok(self.lookup_embedded(req, &vector))
    }

    /// Embeds the request's text and stores an entry pointing at `stored.key`; false if it was
    /// not stored (text too long, TTL zero, entry larger than the byte bound).
    pub async fn insert(&self, req: &Request<'_>, stored: Stored) -> Result<bool, EmbedError> {
        if !self.fits(req.text) || stored.ttl.is_zero() {
            return Ok(false);
        }
        let vector = self.embed_one(req.text).await?;
        Ok(self.insert_embedded(req, &vector, stored))
    }

    /// Looks up with a vector the caller embedded itself (of [`normalise`]d `req.text`, unit
    /// length as [`checked`] returns it), for callers that batch their embedding calls. The scan
    /// runs under the index's read lock; facts are extracted before it is taken.
    pub fn lookup_embedded(&self, req: &Request<'_>, vector: &[f32]) -> Lookup {
        let min_similarity = self.config.min_similarity;
        if !self.fits(req.text) {
            return Lookup::too_long(min_similarity);
        }
        let facts = Facts::of(req.text);
        let index = self.read();
        let part = (req.scope.clone(), req.context);
        let candidates: Vec<Candidate> = index
            .nearest(&part, vector, self.config.candidates, self.clock.now())
            .into_iter()
            .map(|n| Candidate {
                key: n.meta.key,
                similarity: n.similarity,
                failed: guard::check(&facts, &n.meta.facts),
            })
            .collect();
        let hit = candidates
            .iter()
            .find(|c| c.similarity >= min_similarity && c.failed.is_empty())
            .copied();
        Lookup {
            hit,
            candidates,
            min_similarity,
            too_long: false,
        }
    }

    /// Stores an entry with a vector the caller embedded itself (unit length, as for
    /// [`SemanticCache::lookup_embedded`]).
    pub fn insert_embedded(&self, req: &Request<'_>, vector: &[f32], stored: Stored) -> bool {
        if !self.fits(req.text) || stored.ttl.is_zero() {
            return false;
        }
        let expires = self.expiry(stored.ttl);
        let part = (req.scope.clone(), req.context);
        let entry = NewEntry {
            key: stored.key,
            facts: Facts::of(req.text),
            expires,
        };
        self.write().insert(part, vector, entry)
    }

    /// Drops the entry pointing at `key` (the exact store no longer has its answer).
    pub fn forget(&self, req: &Request<'_>, key: &Key) -> bool {
        self.write().remove(&(req.scope.clone(), req.context), key)
    }

    /// Drops expired entries (lookups already skip them; this frees their memory).
    pub fn purge_expired(&self) -> usize {
        let now = self.clock.now();
        self.write().purge_expired(now)
    }

    fn fits(&self, text: &str) -> bool {
        text.chars().count() <= self.config.max_text_chars
    }

    fn expiry(&self, ttl: Duration) -> DateTime<Utc> {
        let ttl = TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX);
        self.clock
            .now()
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    async fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let texts = [normalise(text)];
        let vectors = self.embedder.embed(&texts).await?;
        let mut vectors = checked(vectors, 1, self.embedder.dimensions())?;
        vectors
            .pop()
            .ok_or_else(|| EmbedError::Failed("no vector returned".to_owned()))
    }

    // A panic while holding the lock leaves the index consistent (every mutation completes
    // before it returns), so a poisoned lock is used as is.
    fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Index> {
        self.index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
