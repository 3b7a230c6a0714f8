//! The ledger record: everything known about one request once it is finished.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchyard_primitives::{Money, TokenUsage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Chat,
    Embedding,
    /// A call to OpenAI's Responses API (`/v1/responses`): a chat, kept apart by endpoint.
    Responses,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Chat => "chat",
            RecordKind::Embedding => "embedding",
            RecordKind::Responses => "responses",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "embedding" {
            RecordKind::Embedding
        } else if s == "responses" {
            RecordKind::Responses
        } else {
            RecordKind::Chat
        }
    }
}

/// How one attempt at one target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Ok,
    /// The upstream answered 429.
    RateLimited,
    /// The upstream answered 5xx.
    ServerError,
    /// The upstream answered another 4xx: the request itself is at fault, not retried.
    ClientError,
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection was reset or closed after the request was sent, before an answer.
    Reset,
    /// The stream broke after it had started.
    StreamError,
    /// The client went away before the upstream finished.
    Cancelled,
    /// A cascade tier answered, its answer failed the route's checks, and the next tier was
    /// asked (`error` says which check failed).
    Escalated,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Ok => "ok",
            AttemptOutcome::RateLimited => "rate_limited",
            AttemptOutcome::ServerError => "server_error",
            AttemptOutcome::ClientError => "client_error",
            AttemptOutcome::Timeout => "timeout",
            AttemptOutcome::Connect => "connect",
            AttemptOutcome::Reset => "reset",
            AttemptOutcome::StreamError => "stream_error",
            AttemptOutcome::Cancelled => "cancelled",
            AttemptOutcome::Escalated => "escalated",
        }
    }
}

/// One try at one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub provider: String,
    pub model: String,
    pub outcome: AttemptOutcome,
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// A short, secret-free description of the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One request, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub request_id: String,
    pub ts: DateTime<Utc>,
    pub kind: RecordKind,
    pub workload: Option<String>,
    /// `key=value` pairs from `x-switchyard-tags`, in the order given.
    pub tags: Vec<(String, String)>,
    pub key_id: Option<String>,
    pub team: Option<String>,
    pub route: String,
    /// The provider and model that finally answered (or were last tried).
    pub provider: Option<String>,
    pub model: Option<String>,
    pub attempts: Vec<Attempt>,
    /// The HTTP status the client received.
    pub status: u16,
    pub error_class: Option<String>,
    pub streamed: bool,
    /// Mirrored traffic for evaluation: never counted as production spend.
    pub shadow: bool,
    /// Comma-separated feature names (`tools,json_schema,param:top_k`).
    pub features: String,
    pub usage: TokenUsage,
    pub cost_usd: Option<Money>,
    pub price_version: Option<String>,
    /// Wall time of one request (for aggregated rows, the mean per request). `0` means not
    /// measured (imported usage reports carry no latency): rollups leave it out of averages.
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub overhead_us: u64,
    pub usage_estimated: bool,
    /// How many requests this record stands for: 1 for the gateway's own records, the bucket's
    /// request count for aggregated imports (usage and cost are then the bucket's totals).
    #[serde(default = "one")]
    pub request_count: u64,
    /// Where the record came from: `gateway`, or `import:<format>` (see docs/import.md).
    #[serde(default = "gateway_source")]
    pub source: String,
    /// The fingerprint of the request's system prompt and tools, when long enough for a
    /// provider to cache (see `prefix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<crate::PromptPrefix>,
    /// Set on a request served by a cascade route: which tier answered and what "always the
    /// top tier" would have cost. The record's usage and `cost_usd` are then the totals over
    /// every tier asked (what was paid); `attempts` shows each tier, escalated ones marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade: Option<CascadeMark>,
    /// Served from a cache, no upstream called: `exact` or `semantic` ([`CACHE_EXACT`],
    /// [`CACHE_SEMANTIC`]); `None` for every answer a provider gave.
    #[serde(default)]
    pub cache: Option<String>,
    /// What a cache hit saved: the stored answer's usage priced at the hit's time (its own
    /// `cost_usd` is zero). On a batch line a provider's batch API answered (`batch = true`,
    /// `cache = None`): its list price minus the discounted `cost_usd`. `None` otherwise, or
    /// when the model has no price.
    #[serde(default)]
    pub saved_usd: Option<Money>,
    /// Sent as part of a batch (`POST /v1/batches`): nobody waited on it, and where the
    /// provider's own batch API carried it, it is priced with the catalog's batch discount.
    #[serde(default)]
    pub batch: bool,
    /// XXH3-128 of what determines the answer (see [`Fingerprint`]): two records on one route
    /// with the same fingerprint asked the same thing, which is how "still on the table"
    /// finds exact duplicates that no cache answered. `None` on records without one (cache
    /// hits, imports of other formats, records before migration 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    /// Set on a request a cost-aware (`lowest-cost`) route served: its usage priced at the
    /// route's baseline target (the first configured target, where the route would have sent
    /// it without the strategy) with the catalog in force at the request. The routing lever
    /// is this minus `cost_usd` (negative where the pick cost more). `None` for every other
    /// strategy, cache hits, unpriced targets and records before migration 11.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_baseline_usd: Option<Money>,
}

/// A request's answer-determining bytes hashed with XXH3-128, stored and exported as 32 hex
/// digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u128);

impl Fingerprint {
    /// As stored: 32 lowercase hex digits.
    pub fn hex(self) -> String {
        format!("{:032x}", self.0)
    }

    /// The inverse of [`Fingerprint::hex`]; `None` unless 1 to 32 hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > 32 {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(Fingerprint)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Fingerprint::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("a fingerprint is 32 hex digits"))
    }
}

/// How a cascade route served one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CascadeMark {
    /// The tier that answered, from 1 (the first tier asked).
    pub tier: u32,
    /// The answering tier's usage priced at the top tier's prices: the cost had the route
    /// always used its top tier (`None` when the top tier is not in the catalog).
    pub baseline_usd: Option<Money>,
    /// What the cascade's `judge` checks cost for this request (`None`: no judge was paid).
    /// The judge calls are records of their own (on the judge route); this is their sum,
    /// which the cascade report subtracts from the saving. Not part of `cost_usd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged_usd: Option<Money>,
}

/// `Record::cache` of an exact response-cache hit.
pub const CACHE_EXACT: &str = "exact";
/// `Record::cache` of a semantic-cache hit.
pub const CACHE_SEMANTIC: &str = "semantic";

/// The `source` of records the gateway writes itself.
pub const GATEWAY_SOURCE: &str = "gateway";

fn one() -> u64 {
    1
}

fn gateway_source() -> String {
    GATEWAY_SOURCE.to_string()
}

impl Record {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether `latency_ms` was measured: always for the gateway's records, for imports only
    /// when the source carried timings.
    pub fn has_latency(&self) -> bool {
        self.is_gateway() || self.latency_ms > 0.0
    }

    /// Written by the gateway itself (or re-imported from its export), so per-request timings
    /// such as `overhead_us` are meaningful.
    pub fn is_gateway(&self) -> bool {
        self.source == GATEWAY_SOURCE
    }
}
