//! What the pipeline takes from the edge ([`RequestContext`]) and gives back ([`Reply`]).

use crate::stages::StageTimes;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use std::pin::Pin;
use std::time::{Duration, Instant};
use switchyard_primitives::{Money, RequestId};

/// Who is asking and when: set by the edge before the body is parsed.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: RequestId,
    pub received: Instant,
    pub received_at: DateTime<Utc>,
    pub workload: Option<String>,
    pub tags: Vec<(String, String)>,
    pub key_id: Option<String>,
    pub team: Option<String>,
    /// Set by the authenticate stage.
    pub caller: crate::Caller,
    /// Evaluation traffic (a replay): recorded as shadow spend, never captured or mirrored.
    pub shadow: bool,
    /// The client's `anthropic-beta` header (Messages API only), forwarded to Anthropic
    /// targets on the passthrough.
    pub anthropic_beta: Option<String>,
    /// What the client asked of the exact cache (`Cache-Control`, `x-switchyard-cache`).
    pub cache: crate::cache::Directive,
    /// An embeddings batch partly served from the cache: what the known items saved (its
    /// record is the upstream call's, marked as a cache hit with this saving).
    pub(crate) partial_saving: Option<Money>,
    /// A line of a batch (`/v1/batches`): recorded with `batch = true`.
    pub batch: bool,
    /// The request's trace, when `[telemetry]` is on and it was sampled.
    pub(crate) trace: Option<std::sync::Arc<switchyard_telemetry::trace::Note>>,
}

impl RequestContext {
    pub fn new(workload: Option<String>, tags: Vec<(String, String)>) -> Self {
        RequestContext {
            request_id: RequestId::generate(),
            received: Instant::now(),
            received_at: Utc::now(),
            workload,
            tags,
            key_id: None,
            team: None,
            caller: crate::Caller::Open,
            shadow: false,
            anthropic_beta: None,
            cache: crate::cache::Directive::Use,
            partial_saving: None,
            batch: false,
            trace: None,
        }
    }

    /// Parses `x-switchyard-tags`: `k=v` pairs (or bare labels) separated by commas, at most
    /// 32. Keys and values are kept as sent: keys are checked when the request is parsed, and
    /// both are bounded when recorded.
    pub fn parse_tags(header: &str) -> Vec<(String, String)> {
        header
            .split(',')
            .filter_map(|t| {
                let t = t.trim();
                if t.is_empty() {
                    return None;
                }
                let (k, v) = t.split_once('=').unwrap_or((t, ""));
                Some((k.trim().to_string(), v.trim().to_string()))
            })
            .take(32)
            .collect()
    }
}

/// What the edge sends back on success.
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub meta: ReplyMeta,
    pub body: ReplyBody,
}

/// The facts every response carries as `x-switchyard-*` headers.
#[derive(Debug, Clone)]
pub struct ReplyMeta {
    pub route: String,
    pub provider: String,
    pub model: String,
    /// Time spent in the gateway itself, upstream time excluded.
    pub overhead: Duration,
    /// Known for whole answers; a stream's cost is only known at its end (see the ledger).
    pub cost: Option<Money>,
    /// Features the route let a cross-dialect target drop (`x-switchyard-dropped`).
    pub dropped: Vec<String>,
    /// The caller's key: what is left of its budgets and limits, and soft-budget warnings.
    pub limits: KeyLimits,
    /// The time each pipeline stage took, up to the reply (a stream's later work is in the
    /// ledger's overhead).
    pub stages: StageTimes,
    /// A cascade route: the tier that answered, from 1 (`x-switchyard-cascade-tier`).
    pub cascade_tier: Option<u32>,
    /// `x-switchyard-cache`: `None` on a route without a cache.
    pub cache: Option<crate::cache::Outcome>,
}

/// What remains of the caller's key after this request's admission.
#[derive(Debug, Clone, Default)]
pub struct KeyLimits {
    pub budget_remaining: Option<Money>,
    pub requests_remaining: Option<u64>,
    pub tokens_remaining: Option<u64>,
    pub warnings: Vec<String>,
}

impl KeyLimits {
    pub(crate) fn of(a: &crate::Admitted) -> Self {
        KeyLimits {
            budget_remaining: a.budget_remaining,
            requests_remaining: a.requests_remaining,
            tokens_remaining: a.tokens_remaining,
            warnings: a.warnings.clone(),
        }
    }
}

pub enum ReplyBody {
    Full(Bytes),
    /// Any stream of response bytes (the tee itself, or a dialect translation over it).
    Stream(Pin<Box<dyn Stream<Item = Result<Bytes, std::convert::Infallible>> + Send>>),
}
