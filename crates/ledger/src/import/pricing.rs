//! Pricing imported rows that carry no cost, from the catalog at the row's date.
//!
//! An aggregated row sums many requests, so the long-context tier is chosen by the average
//! prompt per request (or by the context window the report names), never by the bucket's
//! total, which would put every busy day in the long-context tier.

use crate::Record;
use rust_decimal::Decimal;
use switchyard_catalog::{Catalog, PriceTier, PriceVersion};

/// How to choose the long-context tier of an aggregated row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    /// By the average prompt over `record.request_count` requests.
    AveragePrompt,
    /// The report says which window the requests used: `true` for the long-context one.
    Long(bool),
}

/// Fills `cost_usd` and `price_version` when the row has no cost and the catalog knows its
/// provider/model (otherwise it stays without a cost). `batch` applies the catalog's batch
/// discount.
pub(crate) fn fill(catalog: &Catalog, r: &mut Record, tier: Tier, batch: bool) {
    if r.cost_usd.is_some() {
        return;
    }
    let (Some(provider), Some(model)) = (r.provider.as_deref(), r.model.as_deref()) else {
        return;
    };
    let Some(entry) = catalog.get(provider, model) else {
        return;
    };
    let version = entry.price_at(r.ts.date_naive());
    let prompt = match tier {
        Tier::AveragePrompt => r.usage.prompt_total() / r.request_count.max(1),
        Tier::Long(false) => 0,
        Tier::Long(true) => u64::MAX,
    };
    let mut cost = with_fixed_tier(version, prompt).cost(&r.usage);
    if batch {
        if let Some(d) = version.batch_discount {
            cost = cost * (Decimal::ONE - d);
        }
    }
    r.cost_usd = Some(cost);
    // The catalog names the version the same way for the gateway's own records.
    r.price_version = Some(entry.cost_at(&r.usage, r.ts).price_version);
}

/// `version` with the tier a single request of `prompt` tokens would get applied to any
/// usage: `PriceVersion::cost` picks tiers by the prompt it is given, which for an aggregate
/// is the sum.
fn with_fixed_tier(version: &PriceVersion, prompt: u64) -> PriceVersion {
    let mut v = version.clone();
    v.tiers = version
        .tiers
        .iter()
        .rev()
        .find(|t| prompt > t.above_input_tokens)
        .map(|t| PriceTier {
            above_input_tokens: 0,
            ..t.clone()
        })
        .into_iter()
        .collect();
    v
}
