//! The exact cache for embeddings, per input item: a batch whose inputs are partly known
//! sends only the rest upstream, and the answer is reassembled in the client's order.
//!
//! Each text input has its own entry, keyed by the route's targets, the scope, the text, and
//! what shapes its vector (`dimensions`, `encoding_format`). A wholly known batch is served
//! like a chat hit (rate counted, no budget, a record with cost 0 and its saving). A partly
//! known one goes through the ordinary pipeline with only the unknown inputs; its record is
//! the upstream call's (cost of those inputs) with `cache = "exact"` and the saving of the
//! known ones. The answer's `usage` counts every input, known ones at their stored counts.
//! Pre-tokenised input (token arrays) is not cached.
//!
//! The semantic cache's own embedding calls come through here too, with a [`Partition`]: the
//! asking route's scope and TTL, used when the embedder route has no `[routes.cache]` of its
//! own, so a text the semantic cache has embedded once is not sent upstream again while its
//! entry lives (same key as a client's call with that scope). Must never know the store's
//! internals.

use super::config::Scope;
use super::stage::HitRecord;
use super::{Directive, Outcome, Shared};
use crate::error::GatewayError;
use crate::reply::{KeyLimits, Reply, ReplyBody, ReplyMeta, RequestContext};
use crate::stages::{Stage, StageTimes};
use crate::{Gateway, TargetMeta};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use switchyard_cache::Key;
use switchyard_ledger::RecordKind;
use switchyard_primitives::{Money, TokenUsage};
use switchyard_protocol::openai::EmbeddingRequest;
use switchyard_router::Route;

/// One stored vector.
#[derive(Serialize, Deserialize)]
struct Item {
    /// The `embedding` value as the upstream answered it (numbers, or base64 text).
    embedding: Value,
    /// The input's tokens (the upstream's count for a one-item batch, else its share).
    tokens: u64,
    provider: String,
    model: String,
}

/// Where the semantic cache's embedding calls are cached when the embedder route has no cache
/// of its own: the asking route's scope (as [`scope_of`] words it) and TTL.
pub(crate) struct Partition {
    pub scope: String,
    pub ttl: std::time::Duration,
}

/// What a partly served batch still needs, and what the known items bring.
struct Known {
    items: Vec<Option<Item>>,
    keys: Vec<Key>,
}

impl Gateway {
    /// `POST /v1/embeddings` on a cache-enabled route; anything else goes to the ordinary
    /// pipeline untouched.
    pub(crate) async fn embeddings_cached(
        &self,
        ctx: &RequestContext,
        body: Bytes,
        times: StageTimes,
    ) -> Result<Reply, GatewayError> {
        self.embeddings_in(ctx, body, times, None).await
    }

    /// [`Gateway::embeddings_cached`], cached in `partition` when the route has no cache of its
    /// own (the semantic cache's calls).
    pub(crate) async fn embeddings_in(
        &self,
        ctx: &RequestContext,
        body: Bytes,
        times: StageTimes,
        partition: Option<&Partition>,
    ) -> Result<Reply, GatewayError> {
        let plan = self.embed_plan(ctx, &body, partition).await;
        let Some((route, shared, ttl, known)) = plan else {
            return self
                .run::<crate::codec::embeddings::Embeddings>(ctx, body, times)
                .await;
        };
        if known.items.iter().all(Option::is_some) {
            return self.serve_embed_hit(ctx, &route, known, times);
        }
        let missing: Vec<usize> = (0..known.items.len())
            .filter(|&i| known.items[i].is_none())
            .collect();
        let sub_body = subset_body(&body, &missing)?;
        let mut sub_ctx = ctx.clone();
        if missing.len() < known.items.len() {
            sub_ctx.partial_saving = Some(saving(&route, known.items.iter().flatten()));
        }
        let reply = self
            .run::<crate::codec::embeddings::Embeddings>(&sub_ctx, sub_body, times)
            .await?;
        Ok(reassemble(reply, known, &missing, (&shared, ttl)))
    }

    /// The route, store and per-item lookups, when this request is the cache's to serve.
    async fn embed_plan(
        &self,
        ctx: &RequestContext,
        body: &Bytes,
        partition: Option<&Partition>,
    ) -> Option<(
        Arc<Route<TargetMeta>>,
        Arc<Shared>,
        std::time::Duration,
        Known,
    )> {
        let live = self.live();
        if !live.any_cache {
            return None;
        }
        let req = EmbeddingRequest::parse(body).ok()?;
        let route = live.routes.get(&req.model)?.clone();
        let own = live.route_meta.get(req.model.as_ref())?.cache.clone();
        let shared = self.cache_store()?;
        if ctx.shadow || ctx.cache == Directive::Off || req.texts.is_empty() || !self.is_ready() {
            return None;
        }
        let (targets, scope, ttl) = match (own, partition) {
            (Some(rc), _) => (rc.targets, scope_of(rc.policy.scope, ctx), rc.policy.ttl),
            (None, Some(p)) => {
                let targets = route.targets.iter();
                let targets = targets.map(|t| (t.provider.name(), t.model.as_str()));
                let digest = super::key::targets_digest(targets);
                (digest, p.scope.clone(), p.ttl)
            }
            (None, None) => return None,
        };
        let mut known = Known {
            items: Vec::with_capacity(req.texts.len()),
            keys: Vec::with_capacity(req.texts.len()),
        };
        for text in &req.texts {
            let k = item_key(&targets, &scope, &req, text);
            let found = match ctx.cache {
                Directive::Use => shared
                    .get_raw(&k)
                    .await
                    .and_then(|b| serde_json::from_slice(&b).ok()),
                _ => None,
            };
            known.items.push(found);
            known.keys.push(k);
        }
        Some((route, shared, ttl, known))
    }

    /// Every input was known: served like a chat hit.
    fn serve_embed_hit(
        &self,
        ctx: &RequestContext,
        route: &Route<TargetMeta>,
        known: Known,
        mut times: StageTimes,
    ) -> Result<Reply, GatewayError> {
        let admitted = self.admit_hit(ctx, RecordKind::Embedding, route)?;
        let items: Vec<Item> = known.items.into_iter().flatten().collect();
        let (provider, model) = items
            .first()
            .map(|i| (i.provider.clone(), i.model.clone()))
            .unwrap_or_default();
        let data: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, it)| json!({"object": "embedding", "index": i, "embedding": it.embedding}))
            .collect();
        let tokens: u64 = items.iter().map(|i| i.tokens).sum();
        let body = json!({"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}});
        let latency = self.record_hit(HitRecord {
            ctx,
            route,
            kind: RecordKind::Embedding,
            answered_by: (&provider, &model),
            saved: Some(saving(route, items.iter())),
            shape: None,
            cache: switchyard_ledger::CACHE_EXACT,
        });
        times.mark(Stage::Record);
        Ok(Reply {
            status: 200,
            content_type: Some("application/json".into()),
            meta: ReplyMeta {
                route: route.name.clone(),
                provider,
                model,
                overhead: latency,
                cost: Some(Money::ZERO),
                dropped: Vec::new(),
                limits: KeyLimits::of(&admitted),
                stages: times,
                cache: Some(Outcome::Hit),
                cascade_tier: None,
            },
            body: ReplyBody::Full(Bytes::from(body.to_string())),
        })
    }
}

/// The scope's part of an item's key: `global`, `team:<team>` or `key:<key id>`.
pub(crate) fn scope_of(scope: Scope, ctx: &RequestContext) -> String {
    match scope {
        Scope::Global => "global".to_string(),
        Scope::Team => format!("team:{}", ctx.team.as_deref().unwrap_or("")),
        Scope::Key => format!("key:{}", ctx.key_id.as_deref().unwrap_or("")),
    }
}

fn item_key(targets: &[u8; 32], scope: &str, req: &EmbeddingRequest<'_>, text: &str) -> Key {
    // BLAKE3, as the chat key (`key.rs` says why a cryptographic digest).
    let mut h = blake3::Hasher::new();
    for part in [b"switchyard-embed-v2".as_slice(), targets, scope.as_bytes()] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.update(&req.dimensions.map_or(0, |d| u64::from(d) + 1).to_le_bytes());
    h.update(&[u8::from(req.base64)]);
    h.update(&(text.len() as u64).to_le_bytes());
    h.update(text.as_bytes());
    Key(*h.finalize().as_bytes())
}

/// The client's body with `input` narrowed to the unknown items (this path only: the one
/// place the gateway rebuilds an embeddings body).
fn subset_body(body: &Bytes, missing: &[usize]) -> Result<Bytes, GatewayError> {
    let invalid = |m: &str| {
        GatewayError::InvalidRequest(switchyard_protocol::FieldError::new("input", m.to_string()))
    };
    let mut v: serde_json::Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| invalid("the body is not a JSON object"))?;
    let texts: Vec<Value> = match v.get("input") {
        Some(Value::Array(all)) => missing
            .iter()
            .filter_map(|&i| all.get(i).cloned())
            .collect(),
        Some(one @ Value::String(_)) => vec![one.clone()],
        _ => return Err(invalid("`input` must be a string or an array of strings")),
    };
    v.insert("input".into(), Value::Array(texts));
    Ok(Bytes::from(Value::Object(v).to_string()))
}

/// The known items' usage at their target's price today.
fn saving<'a>(route: &Route<TargetMeta>, items: impl Iterator<Item = &'a Item>) -> Money {
    items
        .filter_map(|it| {
            let t = route
                .targets
                .iter()
                .find(|t| t.provider.name() == it.provider && t.model == it.model)?;
            let usage = TokenUsage {
                input: it.tokens,
                ..Default::default()
            };
            Some(
                t.meta
                    .pricing
                    .as_deref()?
                    .cost_at(&usage, chrono::Utc::now())
                    .cost,
            )
        })
        .sum()
}

#[derive(Deserialize)]
struct Answer {
    data: Vec<Datum>,
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: Option<Value>,
}

#[derive(Deserialize)]
struct Datum {
    #[serde(default)]
    index: Option<usize>,
    embedding: Value,
}

/// The upstream's answer for the unknown items, stored item by item, with the known ones put
/// back in place. An answer that cannot be read is returned as it came.
fn reassemble(
    mut reply: Reply,
    known: Known,
    missing: &[usize],
    (shared, ttl): (&Arc<Shared>, std::time::Duration),
) -> Reply {
    let ReplyBody::Full(bytes) = &reply.body else {
        return reply;
    };
    let Ok(answer) = serde_json::from_slice::<Answer>(bytes) else {
        return reply;
    };
    if reply.status != 200 || answer.data.len() != missing.len() {
        return reply;
    }
    let upstream_tokens = answer
        .usage
        .as_ref()
        .and_then(|u| u["prompt_tokens"].as_u64())
        .unwrap_or(0);
    let share = upstream_tokens / missing.len().max(1) as u64;
    let mut items = known.items;
    for (pos, d) in answer.data.into_iter().enumerate() {
        let slot = missing[d.index.unwrap_or(pos).min(missing.len() - 1)];
        let item = Item {
            embedding: d.embedding,
            tokens: share,
            provider: reply.meta.provider.clone(),
            model: reply.meta.model.clone(),
        };
        if let Ok(b) = serde_json::to_vec(&item) {
            Arc::clone(shared).put_raw(known.keys[slot], Bytes::from(b), ttl);
        }
        items[slot] = Some(item);
    }
    let known_tokens: u64 = items
        .iter()
        .enumerate()
        .filter(|(i, _)| !missing.contains(i))
        .filter_map(|(_, it)| it.as_ref().map(|it| it.tokens))
        .sum();
    let data: Vec<Value> = items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| {
            let it = it.as_ref()?;
            Some(json!({"object": "embedding", "index": i, "embedding": it.embedding}))
        })
        .collect();
    let tokens = upstream_tokens + known_tokens;
    let body = json!({"object": "list", "data": data, "model": answer.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}});
    reply.body = ReplyBody::Full(Bytes::from(body.to_string()));
    reply.meta.cache = Some(Outcome::Miss);
    reply
}
