//! Provider prompt caching by workload, priced with the catalog: the share of prompt tokens
//! read from a provider's cache, what those reads saved (the tokens at the plain input price
//! minus at the cache-read price), the premium paid on cache writes (write price minus input
//! price), and the repeated stable prefixes sent uncached (`prompt_prefixes`), priced at what
//! a cache read would have saved.
//!
//! Prices are each row's model at the day's price version; a model without a cached-input
//! price saves (and misses) nothing. One-hour writes are priced at the 5-minute write rate:
//! the rollup keeps writes as one kind. [`analyse`] is pure (the strategy engine feeds it its
//! own daily rows); [`load`] reads the rollup for a [`Window`]. One implementation for
//! `ledger summary`, the strategy report and `/v1/strategy/report`.

use crate::lever_reads::LeverReads;
use crate::{LedgerError, PrefixRepeats, Window};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchyard_catalog::{Catalog, PriceVersion};
use switchyard_primitives::{Money, TokenUsage};

/// One day of one workload on one model: what the analysis reads.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    pub day: NaiveDate,
    pub workload: String,
    pub provider: String,
    pub model: String,
    pub usage: TokenUsage,
}

/// One workload's prompt caching.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptCacheLine {
    pub workload: String,
    /// Every prompt token: plain input, cache reads and cache writes.
    pub prompt_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// `cache_read_tokens / prompt_tokens`, 0 to 1.
    pub read_share: Decimal,
    /// What the cache reads saved against plain input.
    pub saved_usd: Money,
    /// What the cache writes cost above plain input.
    pub write_premium_usd: Money,
    /// Requests that repeated a stable prefix (system prompt and tools) sent earlier in the
    /// same hour, with the provider's cache not engaged.
    pub uncached_repeats: u64,
    pub uncached_repeat_tokens: u64,
    /// What caching those repeats would have saved.
    pub missed_usd: Money,
}

/// The section: one line per workload that used or could have used prompt caching, largest
/// saving plus missed saving first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptCaching {
    pub lines: Vec<PromptCacheLine>,
    pub saved_usd: Money,
    pub write_premium_usd: Money,
    pub missed_usd: Money,
}

impl PromptCaching {
    /// Workloads whose repeated prefixes are not being cached.
    pub fn uncached(&self) -> impl Iterator<Item = &PromptCacheLine> {
        self.lines.iter().filter(|l| l.uncached_repeats > 0)
    }

    /// The lever's saving: reads saved minus the write premium.
    pub fn net_saved_usd(&self) -> Money {
        self.saved_usd - self.write_premium_usd
    }
}

/// (saving per read token, premium per written token), per million, of a price version.
fn rates(p: &PriceVersion) -> (Money, Money) {
    let saving = p.cached_input.map_or(Money::ZERO, |c| p.input - c);
    let premium = p.cache_write.map_or(Money::ZERO, |w| {
        if w > p.input {
            w - p.input
        } else {
            Money::ZERO
        }
    });
    (saving, premium)
}

fn add_row(line: &mut PromptCacheLine, row: &UsageRow, catalog: &Catalog) {
    let u = &row.usage;
    line.prompt_tokens += u.input + u.cached_input + u.cache_write;
    line.cache_read_tokens += u.cached_input;
    line.cache_write_tokens += u.cache_write;
    if let Some(entry) = catalog.get(&row.provider, &row.model) {
        let (saving, premium) = rates(entry.price_at(row.day));
        line.saved_usd += Money::per_million(saving, u.cached_input);
        line.write_premium_usd += Money::per_million(premium, u.cache_write);
    }
}

fn label(workload: &str) -> String {
    if workload.is_empty() {
        "(none)".to_string()
    } else {
        workload.to_string()
    }
}

/// The prompt-caching section for `rows` and the repeated prefixes of the same period.
pub fn analyse(rows: &[UsageRow], prefixes: &[PrefixRepeats], catalog: &Catalog) -> PromptCaching {
    let mut lines: BTreeMap<String, PromptCacheLine> = BTreeMap::new();
    for row in rows {
        let l = lines.entry(row.workload.clone()).or_default();
        l.workload.clone_from(&row.workload);
        add_row(l, row, catalog);
    }
    for r in prefixes {
        let workload = label(&r.workload);
        let l = lines.entry(workload.clone()).or_default();
        l.workload = workload;
        l.uncached_repeats += r.uncached_repeats;
        l.uncached_repeat_tokens += r.uncached_tokens;
        if let Some(entry) = catalog.get(&r.provider, &r.model) {
            l.missed_usd += Money::per_million(rates(entry.current_price()).0, r.uncached_tokens);
        }
    }
    let mut lines: Vec<PromptCacheLine> = lines
        .into_values()
        .filter(|l| l.cache_read_tokens + l.cache_write_tokens + l.uncached_repeats > 0)
        .map(|mut l| {
            if l.prompt_tokens > 0 {
                l.read_share = Decimal::from(l.cache_read_tokens) / Decimal::from(l.prompt_tokens);
            }
            l
        })
        .collect();
    lines.sort_by(|a, b| {
        (b.saved_usd + b.missed_usd)
            .cmp(&(a.saved_usd + a.missed_usd))
            .then_with(|| a.workload.cmp(&b.workload))
    });
    PromptCaching {
        saved_usd: lines.iter().map(|l| l.saved_usd).sum(),
        write_premium_usd: lines.iter().map(|l| l.write_premium_usd).sum(),
        missed_usd: lines.iter().map(|l| l.missed_usd).sum(),
        lines,
    }
}

/// The section over `w`, read from the rollup and `prompt_prefixes`: production traffic
/// only, whatever `w.include_shadow` says (shadow traffic is not the bill the section prices).
pub(crate) fn load(
    src: &dyn LeverReads,
    catalog: &Catalog,
    w: &Window,
) -> Result<PromptCaching, LedgerError> {
    let w = Window {
        include_shadow: false,
        ..*w
    };
    let mut rows = src.usage_rows(&w)?;
    for r in &mut rows {
        r.workload = label(&r.workload);
    }
    let prefixes = src.prefix_repeats(&w)?;
    Ok(analyse(&rows, &prefixes, catalog))
}
