//! batch: the gateway's side of a chat or embeddings request carried by a provider's native batch API
//! instead of a live call. [`Gateway::admit_native`] runs the stages before the upstream call
//! (parse, resolve, admit against the caller's key, draft the record) and names the route's
//! first target when its provider has a batch API; [`Gateway::settle_native`] runs the stages
//! after it (usage, price at the catalog's `batch_discount`, settle, record with
//! `batch = true`). The batch runner in between submits, polls and downloads.
//!
//! Must never know how a batch is stored or polled (that is `switchyard-batch`).

use crate::codec::{Codec, embeddings::Embeddings, openai::Chat};
use crate::error::GatewayError;
use crate::governance::{Admitted, Ask};
use crate::reply::RequestContext;
use crate::{Gateway, record};
use bytes::Bytes;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;
use switchyard_catalog::ModelEntry;
use switchyard_ledger::{Attempt, AttemptOutcome, Record};
use switchyard_primitives::Money;
use switchyard_protocol::openai::usage_of;
use switchyard_providers::{NativeBatch, Payload, Provider, ProviderRequest};

/// How a line is written for its target's batch API.
struct Encoder<'a> {
    batch: &'a dyn NativeBatch,
    model: &'a str,
    allow_drop: &'a [String],
}

impl Encoder<'_> {
    /// The line's upstream body, translated as a live call to the target would be; `None`
    /// when the adapter cannot carry it.
    fn encode(&self, payload: Payload<'_>) -> Option<Vec<u8>> {
        let req = ProviderRequest {
            payload,
            model: self.model,
            allow_drop: self.allow_drop,
            prompt_cache: Default::default(),
        };
        self.batch.encode(&req).ok()
    }
}

/// A chat or embeddings line admitted for a provider's batch API: what to send, and the held budget and
/// draft record its answer settles.
pub struct NativeLine {
    /// The target's provider; its `native_batch()` is `Some`.
    pub provider: Arc<dyn Provider>,
    /// The target's upstream model.
    pub model: String,
    /// The line in the target's dialect, as a live call sends it: the client's body with only
    /// `model` rewritten for OpenAI, a Messages or `generateContent` body otherwise.
    pub upstream_body: Vec<u8>,
    rec: Record,
    admitted: Admitted,
    pricing: Option<Arc<ModelEntry>>,
}

impl Gateway {
    /// The stages before the upstream call, for a chat (or, with `embeddings`, an embeddings)
    /// line of a batch. `Ok(None)` when the route's first target has no batch API (the line
    /// then runs through the pipeline); a refusal (bad body, unknown route, route not allowed,
    /// budget) is recorded as for any request and returned. The budget hold lasts until
    /// [`Gateway::settle_native`], or is released when the line is dropped.
    pub fn admit_native(
        &self,
        ctx: &RequestContext,
        body: &Bytes,
        embeddings: bool,
    ) -> Result<Option<NativeLine>, GatewayError> {
        if embeddings {
            self.admit_with::<Embeddings>(ctx, body, |req, to| to.encode(Payload::Embedding(req)))
        } else {
            // Provider-batch lines go as the client wrote them: no prompt caching is added.
            self.admit_with::<Chat>(ctx, body, |req, to| {
                (!req.stream)
                    .then(|| to.encode(Payload::Chat(req)))
                    .flatten()
            })
        }
    }

    fn admit_with<C: Codec>(
        &self,
        ctx: &RequestContext,
        body: &Bytes,
        encode: impl FnOnce(&C::Request<'_>, &Encoder<'_>) -> Option<Vec<u8>>,
    ) -> Result<Option<NativeLine>, GatewayError> {
        let req = self.parse(ctx, C::KIND, || C::parse(body))?;
        let route = self.resolve(ctx, C::KIND, C::model(&req))?;
        let Some(target) = route.targets.first() else {
            return Ok(None);
        };
        let Some(batch) = target.provider.native_batch() else {
            return Ok(None);
        };
        let to = Encoder {
            batch,
            model: &target.model,
            allow_drop: &route.allow_drop,
        };
        // A line the target's dialect cannot carry runs through the pipeline, which answers
        // it as a live request would (another target, or the refusal).
        let Some(upstream_body) = encode(&req, &to) else {
            return Ok(None);
        };
        let shape = C::shape(&req, body.len());
        let ask = Ask {
            prompt_tokens: || C::prompt_tokens(&req),
            bound: shape.bound,
            max_output: shape.max_output,
        };
        let admitted = self.admit(ctx, C::KIND, &route, ask)?;
        let mut rec = self.draft(ctx, &route, C::KIND);
        rec.features = shape.features;
        rec.provider = Some(target.provider.name().to_string());
        rec.model = Some(target.model.clone());
        Ok(Some(NativeLine {
            provider: target.provider.clone(),
            model: target.model.clone(),
            upstream_body,
            rec,
            admitted,
            pricing: target.meta.pricing.clone(),
        }))
    }

    /// The stages after the answer, for a line its provider's batch API answered with a 2xx
    /// `body`: usage, price with the catalog's `batch_discount` for the date, settle, record
    /// (`batch = true`, one attempt). Returns the cost recorded.
    pub fn settle_native(
        &self,
        ctx: &RequestContext,
        line: NativeLine,
        status: u16,
        body: &[u8],
    ) -> Option<Money> {
        let NativeLine {
            mut rec,
            mut admitted,
            pricing,
            model,
            provider,
            ..
        } = line;
        let usage = usage_of(body).map(|u| u.to_tokens()).unwrap_or_default();
        let latency = ctx.received.elapsed();
        rec.status = status;
        rec.attempts = vec![Attempt {
            provider: provider.name().to_string(),
            model,
            outcome: AttemptOutcome::Ok,
            status: Some(status),
            latency_ms: latency.as_millis() as u64,
            error: None,
        }];
        let outcome = record::Outcome {
            usage,
            estimated: false,
            latency,
            ttft: None,
            overhead: Duration::ZERO,
        };
        let priced = record::complete(&mut rec, pricing.as_deref(), outcome);
        if let (Some(p), Some(m)) = (priced, pricing.as_deref()) {
            let off = m
                .price_at(rec.ts.date_naive())
                .batch_discount
                .unwrap_or(Decimal::ZERO);
            rec.cost_usd = Some(p.cost * (Decimal::ONE - off));
            // The batch lever's saving: list price minus what was recorded. Only these lines
            // carry one; a line the pipeline ran was billed at list price and saved nothing.
            if !off.is_zero() {
                rec.saved_usd = Some(p.cost * off);
            }
        }
        admitted.settle(rec.cost_usd, rec.usage.total());
        let cost = rec.cost_usd;
        self.inner.recorder.record(rec);
        cost
    }
}
