//! The cache's two pipeline stages: the lookup (after the route is resolved, before
//! admission reserves anything) and serving a hit (admission for the request rate only, the
//! replay in the caller's dialect, a ledger record with `cache = "exact"`, cost 0 and what it
//! saved).

use super::config::Scope;
use super::entry::{Entry, Expect};
use super::key::{KeyParts, Talk, key};
use super::semantic::Semantic;
use super::{Directive, Lookup, Outcome, Pending, replay};
use crate::codec::{Codec, Shape};
use crate::error::GatewayError;
use crate::governance::Ask;
use crate::reply::{KeyLimits, Reply, ReplyMeta, RequestContext};
use crate::reserve::PromptBound;
use crate::stages::{Stage, StageTimes};
use crate::{Gateway, TargetMeta};
use switchyard_ledger::{CACHE_EXACT, CACHE_SEMANTIC, RecordKind};
use switchyard_primitives::Money;
use switchyard_protocol::canonical::ChatRequest;
use switchyard_router::Route;

impl Gateway {
    /// Decides whether the cache serves this request; looks the entry up when it may.
    pub(crate) async fn cache_lookup<C: Codec>(
        &self,
        ctx: &RequestContext,
        route: &Route<TargetMeta>,
        req: &C::Request<'_>,
    ) -> Lookup {
        let Some(rc) = self
            .live()
            .route_meta
            .get(&route.name)
            .and_then(|m| m.cache.clone())
        else {
            return Lookup::Off;
        };
        let Some(shared) = self.cache_store() else {
            return Lookup::Off;
        };
        if ctx.shadow {
            return Lookup::Bypass(None);
        }
        // A plain OpenAI request is keyed in place (no canonical copy of its prompt); the
        // semantic cache reads the canonical turns, so its routes always convert.
        let plain = match rc.semantic {
            None => C::cache_plain(req),
            Some(_) => None,
        };
        let converted;
        let (canonical, talk, seed) = match &plain {
            Some(p) => (&p.rest, Talk::Plain(&p.turns), p.seed),
            None => {
                let Some(c) = C::cache_request(req) else {
                    return Lookup::Bypass(None);
                };
                converted = c;
                let canonical: &ChatRequest = &converted.0;
                (canonical, Talk::of(canonical), converted.1)
            }
        };
        // Not served or stored, but fingerprinted like the key (one pass, no check digest).
        if ctx.cache == Directive::Off
            || (canonical.temperature.unwrap_or(1.0) > 0.0 && !rc.policy.allow_temperature)
        {
            let f = super::key::fingerprint((canonical, talk), seed, &shared.schemas);
            return Lookup::Bypass(Some(f));
        }
        let scope = scope_id(ctx, rc.policy.scope);
        let parts = KeyParts {
            targets: &rc.targets,
            scope: &scope,
            shared: rc.policy.scope != Scope::Key || ctx.key_id.is_none(),
            request: canonical,
            talk,
            seed,
            schemas: &shared.schemas,
        };
        let keyed = key(&parts);
        if ctx.cache == Directive::Use {
            let expect = Expect {
                scope: &scope,
                check: keyed.check,
            };
            if let Some(entry) = shared.get(&keyed.key, expect).await {
                return Lookup::Hit(entry, None);
            }
        }
        let semantic = match self
            .semantic_after_miss(ctx, &route.name, &rc, &parts)
            .await
        {
            Semantic::Hit(f) => return Lookup::Hit(f.entry, Some(f.similarity)),
            Semantic::Miss(insert) => insert,
        };
        Lookup::Miss(Pending {
            shared,
            key: keyed.key,
            scope,
            check: keyed.check,
            fingerprint: keyed.fingerprint,
            ttl: rc.policy.ttl,
            allow_length: rc.policy.allow_length,
            semantic,
        })
    }
}

/// The scope's id in the key: `global:global`, `team:<team>` or `key:<key id>`.
fn scope_id(ctx: &RequestContext, scope: Scope) -> String {
    let id = match scope {
        Scope::Global => "global",
        // The team the record is attributed to: the key's, else the `team=` tag.
        Scope::Team => ctx
            .team
            .as_deref()
            .or_else(|| {
                ctx.tags
                    .iter()
                    .find(|(k, _)| k == "team")
                    .map(|(_, v)| v.as_str())
            })
            .unwrap_or(""),
        Scope::Key => ctx.key_id.as_deref().unwrap_or("key:"),
    };
    format!("{}:{id}", scope.as_str())
}

impl Gateway {
    /// Serves a hit: the key's request rate is counted, no token budget or `tpm` is held or
    /// charged; the record costs 0 and carries what the original answer costs today.
    pub(crate) fn serve_hit<C: Codec>(
        &self,
        hit: Hit<'_>,
        req: &C::Request<'_>,
        mut times: StageTimes,
    ) -> Result<Reply, GatewayError> {
        let Hit {
            ctx,
            route,
            entry,
            shape,
            similarity,
        } = hit;
        let admitted = self.admit_hit(ctx, C::KIND, route)?;
        times.mark(Stage::Admit);
        let ask = replay::Ask {
            id: ctx.request_id.as_str(),
            model: &entry.model,
            created: ctx.received_at.timestamp().max(0) as u64,
            include_usage: false,
        };
        let (content_type, body) = C::replay(&entry, req, ask);
        times.mark(Stage::Render);
        let latency = self.record_hit(HitRecord {
            ctx,
            route,
            kind: C::KIND,
            answered_by: (&entry.provider, &entry.model),
            saved: saving(route, &entry, ctx.received_at),
            shape: Some(shape),
            cache: if similarity.is_some() {
                CACHE_SEMANTIC
            } else {
                CACHE_EXACT
            },
        });
        times.mark(Stage::Record);
        Ok(Reply {
            status: 200,
            content_type: Some(content_type.into()),
            meta: ReplyMeta {
                route: route.name.clone(),
                provider: entry.provider,
                model: entry.model,
                overhead: latency,
                cost: Some(Money::ZERO),
                dropped: Vec::new(),
                limits: KeyLimits::of(&admitted),
                stages: times,
                cache: Some(similarity.map_or(Outcome::Hit, Outcome::semantic)),
                cascade_tier: None,
            },
            body,
        })
    }
}

impl Gateway {
    /// A hit's admission: the key's route check and request rate; nothing is reserved, and
    /// the zero hold is settled at once.
    pub(crate) fn admit_hit(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        route: &Route<TargetMeta>,
    ) -> Result<crate::Admitted, GatewayError> {
        let free = Ask {
            prompt_tokens: || 0,
            bound: PromptBound::default(),
            max_output: Some(0),
        };
        let mut admitted = self.admit(ctx, kind, route, free)?;
        admitted.settle(Some(Money::ZERO), 0);
        Ok(admitted)
    }

    /// Records a hit (cost 0, what it saved); returns the request's latency so far.
    pub(crate) fn record_hit(&self, h: HitRecord<'_>) -> std::time::Duration {
        let mut rec = crate::record::draft(h.ctx, &h.route.name, h.kind);
        if rec.workload.is_none() {
            rec.workload = self
                .live()
                .route_meta
                .get(&h.route.name)
                .and_then(|m| m.workload.clone());
        }
        if let Some(shape) = h.shape {
            rec.streamed = shape.streamed;
            rec.features = shape.features;
        }
        rec.cache = Some(h.cache.into());
        rec.cost_usd = Some(Money::ZERO);
        rec.saved_usd = h.saved;
        rec.provider = Some(h.answered_by.0.to_string());
        rec.model = Some(h.answered_by.1.to_string());
        let latency = h.ctx.received.elapsed();
        rec.latency_ms = latency.as_secs_f64() * 1000.0;
        rec.overhead_us = latency.as_micros() as u64;
        self.inner.recorder.record(rec);
        latency
    }
}

/// What a hit's record says.
pub(crate) struct HitRecord<'a> {
    pub ctx: &'a RequestContext,
    pub route: &'a Route<TargetMeta>,
    pub kind: RecordKind,
    /// The provider and model of the stored answer.
    pub answered_by: (&'a str, &'a str),
    pub saved: Option<Money>,
    pub shape: Option<Shape>,
    /// `exact` or `semantic`.
    pub cache: &'static str,
}

/// A hit and what the pipeline knew when it found it.
pub(crate) struct Hit<'a> {
    pub ctx: &'a RequestContext,
    pub route: &'a Route<TargetMeta>,
    pub entry: Entry,
    pub shape: Shape,
    /// Found by the semantic cache, at this similarity.
    pub similarity: Option<f32>,
}

/// The stored answer's usage at the answering target's price today; `None` when the route no
/// longer has that target or the catalog does not price it.
fn saving(
    route: &Route<TargetMeta>,
    entry: &Entry,
    at: chrono::DateTime<chrono::Utc>,
) -> Option<Money> {
    let target = route
        .targets
        .iter()
        .find(|t| t.provider.name() == entry.provider && t.model == entry.model)?;
    let pricing = target.meta.pricing.as_deref()?;
    Some(pricing.cost_at(&entry.usage, at).cost)
}
