//! Pricing a request's token usage.

use crate::Catalog;
use crate::model::{ModelEntry, PriceVersion};
use chrono::{DateTime, Utc};
use switchyard_primitives::{Money, TokenUsage};

/// A cost and the exact price version it was computed with.
#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    pub cost: Money,
    /// `provider/model@effective-from`, enough to re-derive the cost later.
    pub price_version: String,
}

impl PriceVersion {
    /// Cost of `usage` at these prices, applying the long-context tier the prompt falls in.
    ///
    /// Defaults where a price is not listed: cached input and cache writes at the input price,
    /// 1-hour writes at the 5-minute write price, reasoning at the output price.
    pub fn cost(&self, usage: &TokenUsage) -> Money {
        self.cost_with_prompt(usage, usage.prompt_total())
    }

    /// Cost of `requests` requests whose tokens add up to `usage`, choosing the long-context
    /// tier by the average prompt (aggregates must not cross a tier no single request crossed).
    pub fn cost_for_requests(&self, usage: &TokenUsage, requests: u64) -> Money {
        let per_request = usage
            .prompt_total()
            .checked_div(requests.max(1))
            .unwrap_or(0);
        self.cost_with_prompt(usage, per_request)
    }

    fn cost_with_prompt(&self, usage: &TokenUsage, prompt: u64) -> Money {
        let tier = self
            .tiers
            .iter()
            .rev()
            .find(|t| prompt > t.above_input_tokens);
        let input = tier.map_or(self.input, |t| t.input);
        let cached = tier
            .and_then(|t| t.cached_input)
            .or(self.cached_input)
            .unwrap_or(input);
        let output = tier.and_then(|t| t.output).unwrap_or(self.output);
        let write_5m = self.cache_write.unwrap_or(input);
        let write_1h = self.cache_write_1h.unwrap_or(write_5m);
        let reasoning = self.reasoning.unwrap_or(output);
        let writes_1h = usage.cache_write_1h.min(usage.cache_write);
        Money::per_million(input, usage.input)
            + Money::per_million(cached, usage.cached_input)
            + Money::per_million(write_5m, usage.cache_write - writes_1h)
            + Money::per_million(write_1h, writes_1h)
            + Money::per_million(output, usage.output)
            + Money::per_million(reasoning, usage.reasoning)
    }
}

impl ModelEntry {
    /// Cost of `usage` at the prices in force at `at`.
    pub fn cost_at(&self, usage: &TokenUsage, at: DateTime<Utc>) -> Priced {
        let p = self.price_at(at.date_naive());
        Priced {
            cost: p.cost(usage),
            price_version: format!("{}/{}@{}", self.provider, self.id, p.effective_from),
        }
    }
}

impl Catalog {
    /// Cost of `usage` on `provider`'s `model` at `at`; `None` when the catalog lacks the model.
    pub fn cost(
        &self,
        provider: &str,
        model: &str,
        usage: &TokenUsage,
        at: DateTime<Utc>,
    ) -> Option<Priced> {
        self.get(provider, model).map(|m| m.cost_at(usage, at))
    }
}
