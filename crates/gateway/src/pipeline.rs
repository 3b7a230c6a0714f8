//! The request pipeline: one [`Gateway::run`] of named stages for every model-call endpoint,
//! the endpoint's [`Codec`] supplying what differs between dialects.
//!
//! Stages, in order (each a small function here or in the module named):
//! parse (attribution headers, then the codec) → resolve the route → cache lookup (`cache`;
//! a hit is served there, admitted for its request rate only) → admit (`governance`) →
//! sample (the route's observer) → execute (`Route::execute`) → read usage (the codec) →
//! render (the codec) → price and settle → observe → record. A stream finishes the last four
//! in the tee, when it ends. Each stage's time is kept in the reply's [`StageTimes`].

use crate::answered::{Answered, Parts};
use crate::cache::Lookup;
use crate::cache::stage::Hit;
use crate::codec::{Codec, anthropic::Messages, embeddings::Embeddings, openai::Chat};
use crate::error::GatewayError;
use crate::governance::Ask;
use crate::observe::Observation;
use crate::record;
use crate::reply::Reply;
use crate::stages::{Stage, StageTimes};
use crate::unfinished::Unfinished;
use crate::{Gateway, TargetMeta};
use bytes::Bytes;
use std::sync::Arc;
use switchyard_ledger::{Record, RecordKind};
use switchyard_providers::Payload;
use switchyard_router::{Route, Success};

pub(crate) use crate::reply::RequestContext;

/// A model-call endpoint, as the edge routes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`
    ChatCompletions,
    /// `POST /v1/embeddings`
    Embeddings,
    /// `POST /v1/messages`
    Messages,
    /// `POST /v1/responses`
    Responses,
}

impl Endpoint {
    /// What the ledger records a call to this endpoint as, refused or not.
    pub fn kind(self) -> RecordKind {
        match self {
            Endpoint::ChatCompletions | Endpoint::Messages => RecordKind::Chat,
            Endpoint::Embeddings => RecordKind::Embedding,
            Endpoint::Responses => RecordKind::Responses,
        }
    }
}

/// One request as the edge hands it over: the endpoint, the key the caller presented, and
/// the body still to be read, so a caller that fails authentication never uploads it.
pub struct Incoming<'k, B> {
    pub endpoint: Endpoint,
    pub key: Option<&'k str>,
    /// The W3C `traceparent` and `tracestate` headers, continued when traces are on.
    pub traceparent: Option<&'k str>,
    pub tracestate: Option<&'k str>,
    pub body: B,
}

impl Gateway {
    /// Serves one model call, every stage inside the pipeline: authenticate (a refusal is
    /// recorded as a call to `incoming.endpoint`), read the body, then [`Gateway::run`] with
    /// the endpoint's codec. The edge calls this once per request.
    pub async fn serve<B>(
        &self,
        ctx: &mut RequestContext,
        incoming: Incoming<'_, B>,
    ) -> Result<Reply, GatewayError>
    where
        B: Future<Output = Result<Bytes, GatewayError>>,
    {
        let kind = incoming.endpoint.kind();
        self.begin_trace(ctx, incoming.traceparent, incoming.tracestate);
        let mut times = StageTimes::start(ctx.received);
        if let Err(e) = self.check_caller(ctx, incoming.key) {
            return Err(self.refuse_early(ctx, kind, e));
        }
        times.mark(Stage::Authenticate);
        let body = match incoming.body.await {
            Ok(body) => body,
            Err(e) => return Err(self.refuse_early(ctx, kind, e)),
        };
        times.mark(Stage::ReadBody);
        let ctx = &*ctx;
        self.trace_prompt(ctx, &body);
        let reply = match incoming.endpoint {
            Endpoint::ChatCompletions => self.run::<Chat>(ctx, body, times).await,
            Endpoint::Embeddings => self.embeddings_cached(ctx, body, times).await,
            Endpoint::Messages => self.run::<Messages>(ctx, body, times).await,
            Endpoint::Responses => self.serve_responses(ctx, body, times).await,
        };
        if let Ok(reply) = &reply {
            self.observe_reply(reply);
        }
        self.finish_trace(ctx, &reply);
        reply
    }

    /// A refusal before the body is parsed (authentication, the body's size or deadline):
    /// recorded as a call to the endpoint, and the request's trace told it is over.
    fn refuse_early(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        e: GatewayError,
    ) -> GatewayError {
        if let Some(note) = &ctx.trace {
            note.finish(Default::default());
        }
        self.reject(ctx, kind, None, e)
    }

    /// `POST /v1/chat/completions` for a caller already authenticated (or in-process, as
    /// replay is).
    pub async fn chat(&self, ctx: &RequestContext, body: Bytes) -> Result<Reply, GatewayError> {
        self.run::<Chat>(ctx, body, StageTimes::start(ctx.received))
            .await
    }

    /// `POST /v1/embeddings`.
    pub async fn embeddings(
        &self,
        ctx: &RequestContext,
        body: Bytes,
    ) -> Result<Reply, GatewayError> {
        self.run::<Embeddings>(ctx, body, StageTimes::start(ctx.received))
            .await
    }

    /// `POST /v1/messages/count_tokens`: the prompt's tokens under `o200k_base`, without
    /// calling any upstream (an estimate for non-OpenAI models; Anthropic's own count differs
    /// by the family ratio in docs/strategy.md).
    pub fn count_tokens(&self, ctx: &RequestContext, body: &[u8]) -> Result<u64, GatewayError> {
        self.parse(ctx, RecordKind::Chat, || {
            crate::codec::anthropic::count_tokens(body)
        })
    }

    /// The pipeline, from the parsed body to the reply.
    pub(crate) async fn run<C: Codec>(
        &self,
        ctx: &RequestContext,
        body: Bytes,
        mut times: StageTimes,
    ) -> Result<Reply, GatewayError> {
        let req = self.parse(ctx, C::KIND, || C::parse(&body))?;
        times.mark(Stage::Parse);
        let route = self.resolve(ctx, C::KIND, C::model(&req))?;
        times.mark(Stage::Resolve);
        let lookup = self.cache_lookup::<C>(ctx, &route, &req).await;
        times.mark(Stage::Cache);
        let shape = C::shape(&req, body.len());
        let cache_outcome = lookup.outcome();
        // On a cache-enabled route the key's pass gave the fingerprint (normalised like the key).
        let fingerprint = lookup.fingerprint();
        let cache = match lookup {
            Lookup::Hit(entry, similarity) => {
                let hit = Hit {
                    ctx,
                    route: &route,
                    entry,
                    shape,
                    similarity,
                };
                return self.serve_hit::<C>(hit, &req, times);
            }
            Lookup::Miss(pending) => Some(pending),
            Lookup::Off | Lookup::Bypass(_) => None,
        };
        let precounted = self
            .count_long_prompt::<C>(ctx, &route, &shape, &body)
            .await;
        // A block, so nothing borrowing the (not `Sync`) count cell lives across an await.
        let (admitted, observation, needs) = {
            // Counted at most once, by whichever needs it first (the tpm limit, the fit check).
            let prompt = std::cell::OnceCell::new();
            if let Some(n) = precounted {
                let _ = prompt.set(n);
            }
            let count = || *prompt.get_or_init(|| C::prompt_tokens(&req));
            let ask = Ask {
                prompt_tokens: count,
                bound: shape.bound,
                max_output: shape.max_output,
            };
            let admitted = self.admit_deferring(ctx, C::KIND, &route, ask)?;
            times.mark(Stage::Admit);
            let observation = C::OBSERVED.and_then(|_| self.sample(&route.name, ctx));
            times.mark(Stage::Sample);
            let mut needs = shape.demand.needs(&route, || C::fit_tokens(&req, &count));
            needs.cache_key = crate::prompt_cache::request_key(&self.live(), &route.name, ctx);
            (admitted, observation, needs)
        };
        // With `[fleet]`, the shared admission's one round trip (its time counts as admit).
        let admitted = match admitted.pending {
            None => admitted,
            Some(_) => {
                let shared = self.admit_shared(ctx, C::KIND, &route, admitted).await?;
                times.mark(Stage::Admit);
                shared
            }
        };
        let mut rec = self.draft(ctx, &route, C::KIND);
        rec.streamed = shape.streamed;
        rec.features = shape.features;
        rec.prefix = shape.prefix;
        rec.fingerprint = Some(fingerprint.unwrap_or_else(|| C::fingerprint(&req, &body)));
        let call = Call {
            route: &route,
            payload: C::payload(&req, &body, ctx),
            needs: &needs,
        };
        let mut admitted = admitted;
        let (success, rec, cascade) = match self.cascade_policy(&route.name) {
            Some(policy) if C::KIND == RecordKind::Chat => {
                // Boxed: the cascade's state (tiers, judge calls) would otherwise be carried,
                // and moved, inside every request's future.
                match Box::pin(self.cascade(ctx, call, rec, &policy)).await {
                    Ok(answered) => answered,
                    Err(failed) => {
                        // What the tiers and judges asked before every tier failed cost.
                        admitted.settle(failed.paid, failed.tokens);
                        return Err(failed.err);
                    }
                }
            }
            _ => {
                let (success, rec) = self.execute(ctx, call, rec).await?;
                (success, rec, None)
            }
        };
        times.mark(Stage::Execute);
        let parts = Parts {
            route: &route,
            success: &success,
            rec,
            admitted,
            observation: C::OBSERVED.zip(observation),
            times,
            cascade,
            cache,
            cache_outcome,
        };
        C::answer(
            Answered::new(self, ctx, &body, parts),
            &req,
            success.response,
        )
    }

    /// The prompt's exact token count, taken on the blocking pool, when the prompt is long
    /// (a body over [`LONG_PROMPT_BYTES`]) and admission or the fit check will need it (a
    /// `tpm` limit near its edge, a context window the byte bound might not fit): tokenising
    /// it on an async worker would stall every other request that worker serves. `None`
    /// otherwise, and then a count that is needed after all is taken in place.
    async fn count_long_prompt<C: Codec>(
        &self,
        ctx: &RequestContext,
        route: &Route<TargetMeta>,
        shape: &crate::codec::Shape,
        body: &Bytes,
    ) -> Option<u64> {
        if body.len() <= LONG_PROMPT_BYTES
            || !(shape.demand.needs_exact(route) || self.tpm_needs_exact(ctx, &shape.bound))
        {
            return None;
        }
        let body = body.clone();
        let count = move || C::parse(&body).ok().map(|req| C::prompt_tokens(&req));
        tokio::task::spawn_blocking(count).await.ok().flatten()
    }

    /// The execute stage: the route's targets tried in policy order, falling back as the
    /// router decides. A route no target answered is recorded and becomes the client's error;
    /// a request cut while it waits here is recorded by its [`Unfinished`] guard.
    pub(crate) async fn execute(
        &self,
        ctx: &RequestContext,
        call: Call<'_>,
        rec: Record,
    ) -> Result<(Success, Record), GatewayError> {
        // Records the request if this future is dropped before the route answers.
        let unfinished = Unfinished::new(rec, &self.inner.recorder, ctx.received);
        let result = call.route.execute(call.payload, call.needs).await;
        let rec = unfinished.disarm();
        match result {
            Ok(s) => Ok((s, rec)),
            Err(ex) => {
                let (err, rec) = crate::failure::fail(rec, &call.route.name, ex, ctx);
                self.inner.recorder.record(rec);
                Err(err)
            }
        }
    }

    /// Checks the caller's attribution (workload, tag keys), then parses the body; either
    /// refusal is recorded and returned as a 400 naming the header or field.
    pub(crate) fn parse<T>(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        parse: impl FnOnce() -> Result<T, switchyard_protocol::FieldError>,
    ) -> Result<T, GatewayError> {
        crate::attribution::check(ctx)
            .and_then(|()| parse())
            .map_err(|e| self.reject(ctx, kind, None, GatewayError::InvalidRequest(e)))
    }

    /// Records a request refused before routing (bad body, unknown route, too large, …).
    pub fn reject(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        route: Option<&str>,
        err: GatewayError,
    ) -> GatewayError {
        let mut rec = record::draft(ctx, route.unwrap_or(""), kind);
        rec.status = err.status();
        rec.error_class = Some(err.class().to_string());
        rec.latency_ms = ctx.received.elapsed().as_secs_f64() * 1000.0;
        rec.overhead_us = ctx.received.elapsed().as_micros() as u64;
        self.inner.recorder.record(rec);
        err
    }

    /// The route in the current config; 404 listing the valid names, 503 while stopping.
    pub(crate) fn resolve(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        name: &str,
    ) -> Result<Arc<Route<TargetMeta>>, GatewayError> {
        if !self.is_ready() {
            return Err(self.reject(ctx, kind, Some(name), GatewayError::ShuttingDown));
        }
        let live = self.live();
        match live.routes.get(name) {
            Some(r) => Ok(r.clone()),
            None => {
                let err = GatewayError::UnknownRoute {
                    requested: crate::attribution::recorded(name),
                    available: live.routes.names().to_vec(),
                };
                Err(self.reject(ctx, kind, Some(name), err))
            }
        }
    }

    /// Asks the route's observer, before the upstream call, whether this request is sampled;
    /// `None` (the usual case) costs one map lookup. Evaluation traffic is never observed.
    fn sample(&self, route: &str, ctx: &RequestContext) -> Option<Box<dyn Observation>> {
        if ctx.shadow {
            return None;
        }
        let live = self.live();
        let meta = live.route_meta.get(route)?;
        // The workload the ledger will record: the caller's (key or header), else the route's.
        let workload = ctx.workload.as_deref().or(meta.workload.as_deref());
        meta.observer.as_ref()?.sample(ctx, workload)
    }

    /// The route's cascade checks, when it is a cascade route.
    fn cascade_policy(&self, route: &str) -> Option<Arc<crate::cascade::CascadePolicy>> {
        self.live().route_meta.get(route)?.cascade.clone()
    }

    /// A record for `route`, its workload defaulting to the route's.
    pub(crate) fn draft(
        &self,
        ctx: &RequestContext,
        route: &Route<TargetMeta>,
        kind: RecordKind,
    ) -> Record {
        let mut rec = record::draft(ctx, &route.name, kind);
        if rec.workload.is_none() {
            rec.workload = self
                .live()
                .route_meta
                .get(&route.name)
                .and_then(|m| m.workload.clone());
        }
        rec
    }
}

/// A prompt whose body is longer than this is tokenised on the blocking pool (a 32 KiB
/// prompt takes the o200k tokenizer a few milliseconds).
pub(crate) const LONG_PROMPT_BYTES: usize = 32 * 1024;

/// One upstream call: the route, what it is sent and what its targets must be able to take.
pub(crate) struct Call<'a> {
    pub(crate) route: &'a Route<TargetMeta>,
    pub(crate) payload: Payload<'a>,
    pub(crate) needs: &'a switchyard_router::Needs,
}
