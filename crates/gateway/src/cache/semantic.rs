//! The semantic cache on the request path: after an exact miss on a route with
//! `[routes.cache.semantic]`, the last user turn is embedded and looked up in the route's
//! [`SemanticCache`]; a hit in `serve` mode is the exact store's answer for the entry's key,
//! served like an exact hit (recorded `cache = "semantic"`); in `shadow` mode it is only logged,
//! and once the fresh answer is in, the two are compared and counted. A stored fresh answer
//! is indexed with the vector computed for the lookup (same TTL as its exact entry).
//!
//! Invariants: an embedder failure is a miss, never a failed request, logged at most once per
//! [`super::LOG_INTERVAL`]; the engine is built on the first vector (its dimension is the
//! embedder's). Must never know dialects' wire formats or the engine's internals.

use super::agreement::Agreement;
use super::embed::Partition;
use super::entry::Entry;
use super::key::{KeyParts, context_hash};
use super::reload::Fingerprint;
use super::semantic_config::{Embedder, Mode, SemanticPolicy};
use super::{LOG_INTERVAL, Shared};
use crate::Gateway;
use crate::reply::{ReplyBody, RequestContext};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard_cache::Key;
use switchyard_protocol::canonical::{Block, Role};
use switchyard_semantic::{
    ContextHash, Embed, EmbedError, EmbedFuture, Request, Scope, SemanticCache, Stored, checked,
};

/// One route's semantic cache: the policy of this configuration, and the index with its
/// counters, which a reload keeps when the policy's [`Fingerprint`] did not change.
pub(crate) struct RouteSemantic {
    pub policy: SemanticPolicy,
    /// How shadow mode compares answers (the route's scorers, else exact equality).
    pub(crate) agreement: Arc<Agreement>,
    pub(crate) index: Arc<Index>,
}

/// The index of one route and its counters; shared by successive configurations.
pub(crate) struct Index {
    pub(crate) fingerprint: Fingerprint,
    /// Built on the first vector: (its dimension, the engine).
    engine: OnceLock<(usize, SemanticCache)>,
    pub(crate) counters: Counters,
}

#[derive(Default)]
pub(crate) struct Counters {
    lookups: AtomicU64,
    hits: AtomicU64,
    /// Shadow mode: lookups that would have served an answer.
    shadow_hits: AtomicU64,
    /// Shadow mode: the would-be answer's text and tool calls equal the fresh answer's.
    pub(crate) shadow_agreed: AtomicU64,
    pub(crate) shadow_disagreed: AtomicU64,
    embed_failures: AtomicU64,
    /// Unix seconds of the last logged embedder failure.
    last_logged: AtomicU64,
    /// Shadow comparisons by the comparison that made them (the scorers can change on a
    /// reload that keeps the index).
    pub(crate) by_scorer: std::sync::Mutex<Vec<ScorerCount>>,
}

/// What one comparison (`exact-equality`, or the route's scorers) decided so far.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct ScorerCount {
    pub scorer: String,
    pub agreed: u64,
    pub disagreed: u64,
    /// Could not be decided (a judge route down, an unreadable verdict).
    pub unscored: u64,
}

impl RouteSemantic {
    /// A new, empty index for `policy` on a route whose exact cache has this scope and target
    /// digest.
    pub(crate) fn new(
        policy: SemanticPolicy,
        agreement: Agreement,
        scope: super::config::Scope,
        targets: [u8; 32],
    ) -> Self {
        let fingerprint = Fingerprint::of(&policy, scope, targets);
        RouteSemantic {
            policy,
            agreement: Arc::new(agreement),
            index: Arc::new(Index {
                fingerprint,
                engine: OnceLock::new(),
                counters: Counters::default(),
            }),
        }
    }

    /// `fresh`'s policy and scorers over `previous`'s index (a reload that did not change
    /// the fingerprint).
    pub(crate) fn sharing(fresh: &RouteSemantic, previous: &RouteSemantic) -> Self {
        RouteSemantic {
            policy: fresh.policy.clone(),
            agreement: Arc::clone(&fresh.agreement),
            index: Arc::clone(&previous.index),
        }
    }

    fn engine(&self, dimensions: usize) -> &SemanticCache {
        &self
            .index
            .engine
            .get_or_init(|| {
                let stub = Arc::new(Dimensions(dimensions));
                (dimensions, SemanticCache::new(self.policy.engine, stub))
            })
            .1
    }

    /// Counts an embedder failure and logs it unless one was logged within the interval.
    fn embed_failed(&self, route: &str, e: &str) {
        let c = &self.index.counters;
        let n = c.embed_failures.fetch_add(1, Ordering::Relaxed) + 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = c.last_logged.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= LOG_INTERVAL.as_secs()
            && c.last_logged
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                route,
                failures = n,
                "semantic cache embedder failed, treating it as a miss: {e}"
            );
        }
    }

    /// The counters for `/v1/status`.
    pub(crate) fn status_json(&self) -> serde_json::Value {
        let c = &self.index.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let state = self.index.engine.get().map(|(_, e)| e.state());
        serde_json::json!({
            "mode": match self.policy.mode { Mode::Serve => "serve", Mode::Shadow => "shadow" },
            "min_similarity": self.policy.engine.min_similarity,
            "entries": state.map_or(0, |s| s.entries),
            "lookups": get(&c.lookups),
            "hits": get(&c.hits),
            "shadow_hits": get(&c.shadow_hits),
            "shadow_agreed": get(&c.shadow_agreed),
            "shadow_disagreed": get(&c.shadow_disagreed),
            "shadow_scorer": self.agreement.name(),
            "shadow_by_scorer": c.by_scorer.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            "embed_failures": get(&c.embed_failures),
        })
    }
}

/// The index is filled and searched with vectors the gateway embeds itself (so an embeddings
/// route's dimension is learnt from its first answer); the engine only needs the dimension.
struct Dimensions(usize);

impl Embed for Dimensions {
    fn dimensions(&self) -> usize {
        self.0
    }

    fn embed<'a>(&'a self, _: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async { Err(EmbedError::Failed("embedded by the gateway".into())) })
    }
}

/// What a request asks of the semantic cache: its last user turn, the hash of the rest, and
/// the scope's partition.
pub(crate) struct Ask {
    text: String,
    context: ContextHash,
    scope: Scope,
}

impl Ask {
    /// `None` when the request does not end with a user turn that has text.
    pub(crate) fn of(parts: &KeyParts<'_>, scope: &super::config::Scope) -> Option<Ask> {
        let (last, earlier) = parts.request.messages.split_last()?;
        if last.role != Role::User {
            return None;
        }
        let text: Vec<&str> = last
            .content
            .iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let text = switchyard_semantic::normalise(&text.join("\n"));
        if text.is_empty() {
            return None;
        }
        let context = context_hash(parts, earlier);
        let id = parts
            .scope
            .split_once(':')
            .map_or("", |(_, id)| id)
            .to_owned();
        let scope = match scope {
            super::config::Scope::Global => Scope::Global,
            super::config::Scope::Team => Scope::Team(id),
            super::config::Scope::Key => Scope::Key(id),
        };
        Some(Ask {
            text,
            context: ContextHash(context),
            scope,
        })
    }

    fn request(&self) -> Request<'_> {
        Request {
            text: &self.text,
            context: self.context,
            scope: &self.scope,
        }
    }
}

/// What a miss carries to the write of its answer.
pub(crate) struct Insert {
    sem: Arc<RouteSemantic>,
    ask: Ask,
    vector: Vec<f32>,
    /// Shadow mode: the entry that would have been served, to compare with the fresh answer.
    shadow: Option<super::shadow::Shadow>,
}

impl Insert {
    /// Indexes the stored answer; in shadow mode compares it with the would-be answer.
    pub(crate) fn stored(self, shared: Arc<Shared>, key: Key, fresh: &Entry, ttl: Duration) {
        let engine = self.sem.engine(self.vector.len());
        engine.insert_embedded(&self.ask.request(), &self.vector, Stored { key, ttl });
        if let Some(shadow) = self.shadow {
            shadow.compare(self.sem, shared, fresh, self.ask.text);
        }
    }
}

/// A semantic hit: the stored answer and its similarity.
pub(crate) struct Found {
    pub entry: Entry,
    pub similarity: f32,
}

/// What the lookup found on an exact miss.
pub(crate) enum Semantic {
    Hit(Found),
    /// Go upstream; index the answer (and compare, in shadow mode) when it is stored.
    Miss(Option<Insert>),
}

/// The lookup of one request.
struct Lookup<'a> {
    route: &'a str,
    sem: &'a Arc<RouteSemantic>,
    ask: Ask,
    /// `false` on a refresh: index the fresh answer but serve nothing.
    serve: bool,
    /// The asking request's scope id: a found entry must be that scope's.
    scope: &'a str,
    /// Where the lookup's embedding is cached when the embedder route has no cache.
    partition: Partition,
}

impl Lookup<'_> {
    fn expect(&self) -> super::entry::Expect<'_> {
        super::entry::Expect {
            scope: self.scope,
            check: None,
        }
    }
}

impl Gateway {
    /// After an exact miss on `route`: nothing when the route has no semantic cache or the
    /// request no last user turn; else the lookup (or, on a refresh, only the vector to index).
    pub(crate) async fn semantic_after_miss(
        &self,
        ctx: &RequestContext,
        route: &str,
        rc: &super::RouteCache,
        parts: &KeyParts<'_>,
    ) -> Semantic {
        let (Some(sem), Some(shared)) = (&rc.semantic, self.cache_store()) else {
            return Semantic::Miss(None);
        };
        let Some(ask) = Ask::of(parts, &rc.policy.scope) else {
            return Semantic::Miss(None);
        };
        let l = Lookup {
            route,
            sem,
            ask,
            serve: ctx.cache == super::Directive::Use,
            scope: parts.scope,
            partition: Partition {
                scope: super::embed::scope_of(rc.policy.scope, ctx),
                ttl: rc.policy.ttl,
            },
        };
        self.semantic_lookup(ctx, &shared, l).await
    }

    /// Embeds the last user turn and looks it up.
    async fn semantic_lookup(
        &self,
        ctx: &RequestContext,
        shared: &Shared,
        l: Lookup<'_>,
    ) -> Semantic {
        let Some(vector) = self.semantic_vector(ctx, &l).await else {
            return Semantic::Miss(None);
        };
        let sem = l.sem;
        let engine = sem.engine(vector.len());
        let mut shadow = None;
        if l.serve {
            sem.index.counters.lookups.fetch_add(1, Ordering::Relaxed);
            let found = engine.lookup_embedded(&l.ask.request(), &vector);
            if let Some(hit) = found.hit {
                match sem.policy.mode {
                    // The entry must be its scope's (no check digest: it answers another,
                    // similar request by design).
                    Mode::Serve => match shared.get(&hit.key, l.expect()).await {
                        Some(entry) => {
                            sem.index.counters.hits.fetch_add(1, Ordering::Relaxed);
                            return Semantic::Hit(Found {
                                entry,
                                similarity: hit.similarity,
                            });
                        }
                        None => {
                            engine.forget(&l.ask.request(), &hit.key);
                        }
                    },
                    Mode::Shadow => {
                        sem.index
                            .counters
                            .shadow_hits
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::info!(
                            route = l.route,
                            similarity = hit.similarity,
                            key = %hit.key.hex(),
                            "semantic cache (shadow) would have served this entry"
                        );
                        shadow = Some(super::shadow::Shadow {
                            key: hit.key,
                            gw: self.clone(),
                            route: l.route.to_owned(),
                            workload: ctx.workload.clone(),
                            team: ctx.team.clone(),
                        });
                    }
                }
            }
        }
        Semantic::Miss(Some(Insert {
            sem: Arc::clone(sem),
            ask: l.ask,
            vector,
            shadow,
        }))
    }

    /// The unit vector of the lookup's text, or `None` (counted and logged) when the embedder
    /// fails.
    async fn semantic_vector(&self, ctx: &RequestContext, l: &Lookup<'_>) -> Option<Vec<f32>> {
        let (route, sem, text) = (l.route, l.sem, l.ask.text.as_str());
        let got = match self.injected_embedder(route) {
            Some(e) => e.embed(&[text.to_owned()]).await.map_err(|e| e.to_string()),
            None => match &sem.policy.embedder {
                Embedder::Route(name) => {
                    self.embed_through(ctx, name, text, Some(&l.partition))
                        .await
                }
                Embedder::LocalMiniLm => super::minilm::embed(text.to_owned()).await,
            },
        };
        let dims = sem
            .index
            .engine
            .get()
            .map(|(d, _)| *d)
            .or_else(|| got.as_ref().ok().and_then(|v| v.first().map(Vec::len)));
        let checked = got.and_then(|v| checked(v, 1, dims.unwrap_or(0)).map_err(|e| e.to_string()));
        match checked.map(|mut v| v.pop()) {
            Ok(Some(v)) if !v.is_empty() => Some(v),
            Ok(_) => {
                sem.embed_failed(route, "no vector returned");
                None
            }
            Err(e) => {
                sem.embed_failed(route, &e);
                None
            }
        }
    }

    /// One embedding through the gateway's own embeddings route (recorded as its own
    /// embedding request, attributed to the caller's workload and team), through the exact
    /// embeddings cache: the route's own, else `partition` (a lookup's), so the same text is
    /// embedded upstream once per entry lifetime, not on every lookup.
    ///
    /// A plain function returning a boxed future: the embeddings pipeline is the same generic
    /// pipeline this lookup runs in, and the type erasure keeps its future out of the lookup's
    /// own future type (which would otherwise contain itself).
    pub(crate) fn embed_through(
        &self,
        ctx: &RequestContext,
        route: &str,
        text: &str,
        partition: Option<&Partition>,
    ) -> Embedding {
        let mut inner = RequestContext::new(
            ctx.workload.clone(),
            vec![("switchyard".into(), "semantic-cache".into())],
        );
        inner.team = ctx.team.clone();
        let body = serde_json::json!({"model": route, "input": [text]}).to_string();
        let gw = self.clone();
        let partition = partition.map(|p| Partition {
            scope: p.scope.clone(),
            ttl: p.ttl,
        });
        Box::pin(async move {
            let times = crate::stages::StageTimes::start(inner.received);
            let reply = gw
                .embeddings_in(&inner, body.into(), times, partition.as_ref())
                .await
                .map_err(|e| e.to_string())?;
            vector_of(reply.body)
        })
    }
}

type Embedding = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Vec<Vec<f32>>, String>> + Send + 'static>,
>;

/// The first vector of an OpenAI embeddings answer.
fn vector_of(body: ReplyBody) -> Result<Vec<Vec<f32>>, String> {
    let ReplyBody::Full(bytes) = body else {
        return Err("the embeddings route streamed".into());
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let vector = v["data"][0]["embedding"]
        .as_array()
        .ok_or("the embeddings answer has no data[0].embedding")?
        .iter()
        .filter_map(|x| x.as_f64().map(|f| f as f32))
        .collect();
    Ok(vec![vector])
}
