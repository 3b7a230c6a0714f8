//! The exact response cache on the request path.
//!
//! Owns the per-route policy assembled from `[routes.cache]` ([`RouteCache`]), the shared
//! store handle with its failure reporting ([`Shared`]), the client's directives
//! ([`Directive`]: `Cache-Control: no-cache|no-store`, `x-switchyard-cache: off|refresh`),
//! the lookup decision ([`Lookup`]) and the write of a finished answer ([`Pending`]). The key
//! is in [`key`], the stored form in [`entry`], the replay renderers in [`replay`], the
//! pipeline stages (lookup before admission, serving a hit) in `stage`.
//!
//! Invariants: a route without a cache does no cache work at all (one map lookup, shared with
//! the observer's); a store error is a miss (the request goes upstream) or a skipped write,
//! logged at most once per [`LOG_INTERVAL`]; only complete, successful answers are written,
//! in a spawned task, so the client never waits on the store. Must never know dialects' wire
//! formats (the codecs and `protocol` render) or the store's internals.

pub(crate) mod agreement;
pub mod config;
mod embed;
pub(crate) mod entry;
pub(crate) mod key;
mod minilm;
pub(crate) mod reload;
pub(crate) mod replay;
pub(crate) mod semantic;
pub mod semantic_config;
mod shadow;
pub(crate) mod stage;
mod talk;

use crate::observe;
use entry::{Entry, Expect, Fold};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard_cache::{Key, Store, StoreError};
use switchyard_ledger::Fingerprint;

/// How often a failing store is logged (each failure still counts as a miss).
pub const LOG_INTERVAL: Duration = Duration::from_secs(60);

/// What the client asked of the cache for this request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Directive {
    /// Look up, and store a miss's answer.
    #[default]
    Use,
    /// `Cache-Control: no-cache` or `x-switchyard-cache: refresh`: skip the lookup, go
    /// upstream, and store the fresh answer in place of any entry.
    Refresh,
    /// `Cache-Control: no-store` or `x-switchyard-cache: off`: neither read nor write.
    Off,
}

impl Directive {
    /// From the request's `Cache-Control` and `x-switchyard-cache` headers; `Off` wins over
    /// `Refresh`. Values this version does not know are ignored.
    pub fn from_headers(cache_control: Option<&str>, switch: Option<&str>) -> Self {
        let mut d = Directive::Use;
        for part in cache_control.unwrap_or("").split(',') {
            match part.trim().to_ascii_lowercase().as_str() {
                "no-store" => return Directive::Off,
                "no-cache" => d = Directive::Refresh,
                _ => {}
            }
        }
        match switch.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("off") => Directive::Off,
            Some("refresh") => Directive::Refresh,
            _ => d,
        }
    }
}

/// The `x-switchyard-cache` response header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Served from the cache.
    Hit,
    /// Served from the semantic cache; the similarity in thousandths.
    SemanticHit { similarity_milli: u16 },
    /// Went upstream; the answer is stored if it qualifies (also for a refresh).
    Miss,
    /// Went upstream without the cache: the client said `off`/`no-store`, or the request is
    /// not cacheable (temperature, a feature the canonical form cannot carry, evaluation).
    Bypass,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::SemanticHit { .. } => "hit-semantic",
            Outcome::Miss => "miss",
            Outcome::Bypass => "bypass",
        }
    }
}

impl Outcome {
    /// The `x-switchyard-cache-similarity` header of a semantic hit (`0.93`).
    pub fn similarity(self) -> Option<String> {
        match self {
            Outcome::SemanticHit { similarity_milli } => {
                Some(format!("{:.2}", f64::from(similarity_milli) / 1000.0))
            }
            _ => None,
        }
    }

    pub(crate) fn semantic(similarity: f32) -> Self {
        let milli = (similarity.clamp(0.0, 1.0) * 1000.0).round() as u16;
        Outcome::SemanticHit {
            similarity_milli: milli,
        }
    }
}

/// One route's cache: its policy and the digest of its targets.
pub(crate) struct RouteCache {
    pub policy: config::RoutePolicy,
    pub targets: [u8; 32],
    /// `[routes.cache.semantic]`, when on.
    pub semantic: Option<Arc<semantic::RouteSemantic>>,
}

/// The store every cache-enabled route shares, and its failure reporting.
pub struct Shared {
    store: Arc<dyn Store>,
    /// Tool schemas' key digests by their text, for every route's key.
    pub(crate) schemas: key::SchemaMemo,
    /// Unix seconds of the last logged failure.
    last_logged: AtomicU64,
    failures: AtomicU64,
    /// Entries found under a request's key that it may not be served (another scope's, or a
    /// check digest that differs: a lookup-digest collision or a planted entry).
    refused: AtomicU64,
    /// Unix seconds of the last logged refusal.
    last_refused: AtomicU64,
}

impl Shared {
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Shared {
            store,
            schemas: key::SchemaMemo::default(),
            last_logged: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            last_refused: AtomicU64::new(0),
        })
    }

    /// The stored answer, or `None` on a miss, an unreadable entry, a store error, or an
    /// entry this request may not be served ([`Entry::serves`]; counted and logged).
    async fn get(&self, key: &Key, expect: Expect<'_>) -> Option<Entry> {
        let entry = self
            .get_raw(key)
            .await
            .and_then(|b| Entry::from_bytes(&b))?;
        if entry.serves(&expect) {
            return Some(entry);
        }
        let n = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        if due(&self.last_refused) {
            tracing::warn!(
                refused = n,
                key = ?key,
                "cache entry found under this request's key was written for another scope or another request (a lookup-digest collision, or a planted entry); served from the provider instead"
            );
        }
        None
    }

    /// The stored answer whoever wrote it (shadow mode's comparison, which serves nothing).
    async fn get_unchecked(&self, key: &Key) -> Option<Entry> {
        self.get_raw(key).await.and_then(|b| Entry::from_bytes(&b))
    }

    /// The stored bytes, or `None` on a miss or a store error.
    async fn get_raw(&self, key: &Key) -> Option<bytes::Bytes> {
        match self.store.get(key).await {
            Ok(found) => found,
            Err(e) => {
                self.failed("lookup", &e);
                None
            }
        }
    }

    /// Writes in the background; the request never waits on it.
    fn put(self: Arc<Self>, key: Key, entry: &Entry, ttl: Duration) {
        self.put_raw(key, entry.to_bytes(), ttl);
    }

    fn put_raw(self: Arc<Self>, key: Key, bytes: bytes::Bytes, ttl: Duration) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            if let Err(e) = self.store.put(&key, bytes, ttl).await {
                self.failed("write", &e);
            }
        });
    }

    /// Counts a failure and logs it unless one was logged within [`LOG_INTERVAL`].
    fn failed(&self, what: &str, e: &StoreError) {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if due(&self.last_logged) {
            tracing::warn!(
                failures = n,
                "cache {what} failed, serving from the provider instead: {e}"
            );
        }
    }

    /// The store's state for `/v1/status`.
    pub fn status_json(&self) -> serde_json::Value {
        let s = self.store.state();
        serde_json::json!({
            "store": s.kind,
            "healthy": s.healthy,
            "entries": s.entries,
            "bytes": s.bytes,
            "evictions": s.evictions,
            "last_error": s.last_error,
            "failures": self.failures.load(Ordering::Relaxed),
            "refused": self.refused.load(Ordering::Relaxed),
        })
    }
}

/// Whether a log line is due (none within [`LOG_INTERVAL`]); claims the slot if so.
fn due(last_logged: &AtomicU64) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = last_logged.load(Ordering::Relaxed);
    now.saturating_sub(last) >= LOG_INTERVAL.as_secs()
        && last_logged
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// What the lookup stage decided.
pub(crate) enum Lookup {
    /// The route has no cache: no header, no work.
    Off,
    /// Not served or stored; the request's fingerprint when it was taken on the way.
    Bypass(Option<Fingerprint>),
    /// Served from the store; the similarity when the semantic cache found it.
    Hit(Entry, Option<f32>),
    /// Go upstream, then store the answer if it qualifies.
    Miss(Pending),
}

impl Lookup {
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        match self {
            Lookup::Off => None,
            Lookup::Bypass(_) => Some(Outcome::Bypass),
            Lookup::Hit(_, None) => Some(Outcome::Hit),
            Lookup::Hit(_, Some(s)) => Some(Outcome::semantic(*s)),
            Lookup::Miss(_) => Some(Outcome::Miss),
        }
    }

    /// The request fingerprint the key's pass gave (`cache/key.rs`), for the record: taken in
    /// place of a second pass over the body, normalised like the key.
    pub(crate) fn fingerprint(&self) -> Option<Fingerprint> {
        match self {
            Lookup::Bypass(f) => *f,
            Lookup::Miss(p) => Some(p.fingerprint),
            Lookup::Off | Lookup::Hit(..) => None,
        }
    }
}

/// A miss's answer, to be stored once it is complete.
pub(crate) struct Pending {
    shared: Arc<Shared>,
    key: Key,
    /// The writing request's scope id and, on a shared scope, its check digest.
    scope: String,
    check: Option<[u8; 32]>,
    fingerprint: Fingerprint,
    ttl: Duration,
    allow_length: bool,
    /// Index the answer in the semantic cache too (and compare it, in shadow mode).
    semantic: Option<semantic::Insert>,
}

impl Pending {
    /// A whole answer, as the observer sees it (OpenAI's or Anthropic's shape), with the
    /// usage the codec read from it. An OpenAI body is kept as it is (not parsed: see
    /// [`Entry::neutral`]); an Anthropic one is parsed into the neutral form.
    pub(crate) fn store_whole(
        self,
        answer: &observe::Output,
        usage: switchyard_primitives::TokenUsage,
        answered_by: (&str, &str),
    ) {
        let entry = match answer {
            observe::Output::OpenAi(b) => {
                Entry::from_openai_body(b, usage, answered_by).ok_or(entry::Refused::Unreadable)
            }
            observe::Output::Anthropic(b) => {
                match switchyard_protocol::anthropic::parse_response(b) {
                    Ok(resp) => Entry::from_response(resp, answered_by),
                    Err(_) => Err(entry::Refused::Unreadable),
                }
            }
            observe::Output::Streamed(_) => return,
        };
        self.store(entry);
    }

    /// A stream that ended complete, folded as it passed.
    pub(crate) fn store_stream(self, fold: Fold, answered_by: (&str, &str)) {
        self.store(fold.finish(answered_by));
    }

    fn store(self, entry: Result<Entry, entry::Refused>) {
        let Ok(entry) = entry else { return };
        let entry = entry.sealed(&self.scope, self.check);
        if entry.check(self.allow_length).is_ok() {
            Arc::clone(&self.shared).put(self.key, &entry, self.ttl);
            if let Some(s) = self.semantic {
                s.stored(self.shared, self.key, &entry, self.ttl);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_follow_cache_control_and_the_switchyard_header_with_off_winning() {
        let d = Directive::from_headers;
        assert_eq!(d(None, None), Directive::Use);
        assert_eq!(d(Some("no-cache"), None), Directive::Refresh);
        assert_eq!(d(Some("max-age=0, No-Store"), None), Directive::Off);
        assert_eq!(d(None, Some("refresh")), Directive::Refresh);
        assert_eq!(d(Some("no-cache"), Some("off")), Directive::Off);
        assert_eq!(d(Some("no-store"), Some("refresh")), Directive::Off);
        assert_eq!(d(None, Some("sometimes")), Directive::Use);
    }
}
