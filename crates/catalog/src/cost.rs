//! Pricing a request's token usage.

use crate::Catalog;
use crate::model::{ModelEntry, PriceVersion};
use chrono::{DateTime, Utc};
use serde::Serialize;
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
        self.breakdown_with_prompt(usage, prompt).total
    }

    /// Cost of one request's `usage`, line by line: each token kind with the price applied and
    /// where that price came from, the long-context tier if the prompt falls in one, the total.
    pub fn breakdown(&self, usage: &TokenUsage) -> CostBreakdown {
        self.breakdown_with_prompt(usage, usage.prompt_total())
    }

    fn breakdown_with_prompt(&self, usage: &TokenUsage, prompt: u64) -> CostBreakdown {
        let tier = self
            .tiers
            .iter()
            .rev()
            .find(|t| prompt > t.above_input_tokens);
        let input = tier.map_or(self.input, |t| t.input);
        let listed = |p: Option<Money>, fallback: (Money, &'static str)| match p {
            Some(p) => (p, None),
            None => (fallback.0, Some(fallback.1)),
        };
        let cached = listed(
            tier.and_then(|t| t.cached_input).or(self.cached_input),
            (input, "the input price (no cached price listed)"),
        );
        let output = tier.and_then(|t| t.output).unwrap_or(self.output);
        let write_5m = listed(
            self.cache_write,
            (input, "the input price (no cache-write price listed)"),
        );
        let write_1h = listed(
            self.cache_write_1h,
            (
                write_5m.0,
                "the 5-minute cache-write price (no 1-hour price listed)",
            ),
        );
        let reasoning = listed(
            self.reasoning,
            (output, "the output price (reasoning is billed as output)"),
        );
        let writes_1h = usage.cache_write_1h.min(usage.cache_write);
        let lines = vec![
            CostLine::new("input", usage.input, (input, None)),
            CostLine::new("cached input", usage.cached_input, cached),
            CostLine::new("cache write", usage.cache_write - writes_1h, write_5m),
            CostLine::new("cache write (1h)", writes_1h, write_1h),
            CostLine::new("output", usage.output, (output, None)),
            CostLine::new("reasoning", usage.reasoning, reasoning),
        ];
        CostBreakdown {
            total: lines.iter().map(|l| l.cost).sum(),
            tier_above_input_tokens: tier.map(|t| t.above_input_tokens),
            lines,
        }
    }
}

/// One token kind's part of a cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    /// `input`, `cached input`, `cache write`, `cache write (1h)`, `output`, `reasoning`.
    pub kind: &'static str,
    pub tokens: u64,
    /// USD per million tokens, as applied (the tier's where one applies).
    pub per_million: Money,
    /// Where the price came from when the catalog lists none for this kind.
    pub priced_as: Option<&'static str>,
    pub cost: Money,
}

impl CostLine {
    fn new(
        kind: &'static str,
        tokens: u64,
        (per_million, priced_as): (Money, Option<&'static str>),
    ) -> Self {
        CostLine {
            kind,
            tokens,
            per_million,
            priced_as,
            cost: Money::per_million(per_million, tokens),
        }
    }
}

/// A cost line by line (see [`PriceVersion::breakdown`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostBreakdown {
    pub lines: Vec<CostLine>,
    /// The long-context tier applied: it starts above this many prompt tokens.
    pub tier_above_input_tokens: Option<u64>,
    pub total: Money,
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
