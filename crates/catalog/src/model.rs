//! The validated catalog entry.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use switchyard_primitives::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Chat,
    Embedding,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    pub tools: bool,
    pub vision: bool,
    pub json_schema: bool,
    pub reasoning: bool,
    pub prompt_caching: bool,
    /// The shortest prompt prefix the provider caches, in tokens (its documented minimum).
    pub prompt_cache_min_tokens: Option<u64>,
}

/// A long-context tier: applies when the prompt exceeds `above_input_tokens`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceTier {
    pub above_input_tokens: u64,
    pub input: Money,
    pub cached_input: Option<Money>,
    pub output: Option<Money>,
}

/// Prices in force from `effective_from` until the next version, in USD per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceVersion {
    pub effective_from: NaiveDate,
    pub input: Money,
    pub cached_input: Option<Money>,
    /// The (5-minute, where providers distinguish) cache write.
    pub cache_write: Option<Money>,
    pub cache_write_1h: Option<Money>,
    pub output: Money,
    /// Only when reasoning tokens are priced apart from output.
    pub reasoning: Option<Money>,
    /// Fraction off list price in the provider's batch API (0.5 = half price).
    pub batch_discount: Option<Decimal>,
    /// Sorted by threshold, ascending.
    pub tiers: Vec<PriceTier>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelEntry {
    pub id: String,
    pub provider: String,
    pub creator: String,
    pub family: String,
    pub kind: ModelKind,
    pub aliases: Vec<String>,
    pub context_window: u64,
    pub max_output: Option<u64>,
    pub capabilities: Capabilities,
    pub open_weights: bool,
    pub license: String,
    pub released: Option<NaiveDate>,
    pub deprecation_announced: Option<NaiveDate>,
    pub retirement: Option<NaiveDate>,
    pub successor: Option<String>,
    pub source: String,
    pub as_of: Option<NaiveDate>,
    /// Sorted by `effective_from`, ascending; never empty.
    pub prices: Vec<PriceVersion>,
}

impl ModelEntry {
    /// The price version in force on `date`; the earliest one for dates before it.
    pub fn price_at(&self, date: NaiveDate) -> &PriceVersion {
        self.prices
            .iter()
            .rev()
            .find(|p| p.effective_from <= date)
            .unwrap_or(&self.prices[0])
    }

    /// The newest price version.
    pub fn current_price(&self) -> &PriceVersion {
        &self.prices[self.prices.len() - 1]
    }

    /// `provider/id`, the name used in listings.
    pub fn key(&self) -> String {
        format!("{}/{}", self.provider, self.id)
    }
}
