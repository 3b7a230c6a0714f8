//! `switchyard catalog cost MODEL --input N …`: what one request with these tokens costs, each
//! token kind on its own line with the price applied, so a price can be checked without
//! sending a request. The arithmetic is the catalog's own (`PriceVersion::breakdown`), the
//! same the gateway records.

use crate::ConfigArg;
use crate::table;
use chrono::{NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use std::process::ExitCode;
use switchyard_catalog::{Catalog, CostBreakdown, ModelEntry};
use switchyard_primitives::names::{closest, listed};
use switchyard_primitives::{Money, TokenUsage};

#[derive(clap::Args)]
pub struct Args {
    /// Model id or alias, or provider/model.
    model: String,
    /// Uncached input tokens.
    #[arg(long, default_value_t = 0)]
    input: u64,
    /// Cached input (cache read) tokens.
    #[arg(long, default_value_t = 0)]
    cached: u64,
    /// Cache-write tokens (all durations).
    #[arg(long, default_value_t = 0)]
    cache_write: u64,
    /// The part of --cache-write written for 1 hour.
    #[arg(long, default_value_t = 0)]
    cache_write_1h: u64,
    /// Output tokens, reasoning excluded.
    #[arg(long, default_value_t = 0)]
    output: u64,
    /// Reasoning tokens.
    #[arg(long, default_value_t = 0)]
    reasoning: u64,
    /// Price as of this day (YYYY-MM-DD; default today).
    #[arg(long)]
    at: Option<NaiveDate>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    config: ConfigArg,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if a.cache_write_1h > a.cache_write {
        anyhow::bail!(
            "--cache-write-1h {} is more than --cache-write {}: the 1-hour writes are part of the cache writes",
            a.cache_write_1h,
            a.cache_write
        );
    }
    let cat = crate::catalog_cmd::load(&a.config)?;
    let m = model(&cat, &a.model)?;
    let on = a.at.unwrap_or_else(|| Utc::now().date_naive());
    let price = m.price_at(on);
    let usage = TokenUsage {
        input: a.input,
        cached_input: a.cached,
        cache_write: a.cache_write,
        cache_write_1h: a.cache_write_1h,
        output: a.output,
        reasoning: a.reasoning,
    };
    let b = price.breakdown(&usage);
    let version = format!("{}@{}", m.key(), price.effective_from);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json(&b, &version, m, on))?
        );
    } else {
        print(&b, &version, &usage, on);
    }
    Ok(ExitCode::SUCCESS)
}

/// The one model `name` means, or an error naming the closest known ones.
fn model<'c>(cat: &'c Catalog, name: &str) -> anyhow::Result<&'c ModelEntry> {
    let found: Vec<&ModelEntry> = match name.split_once('/') {
        Some((p, m)) if cat.get(p, m).is_some() => cat.get(p, m).into_iter().collect(),
        _ => cat.find(name),
    };
    match found.as_slice() {
        [one] => Ok(one),
        [] => {
            let keys: Vec<String> = cat.models().iter().map(|m| m.key()).collect();
            let near = closest(name, keys.iter().map(String::as_str), 3);
            anyhow::bail!(
                "no model {name:?} in the catalog; closest known: {} (`switchyard catalog list` shows every model)",
                listed(&near)
            )
        }
        many => {
            let keys: Vec<String> = many.iter().map(|m| m.key()).collect();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            anyhow::bail!(
                "{name:?} is served by more than one provider; name one: {}",
                listed(&keys)
            )
        }
    }
}

/// Dollars to 6 decimals (half away from zero): the precision of a per-request figure.
fn six(m: Money) -> String {
    format!(
        "{:.6}",
        m.decimal()
            .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
    )
}

fn print(b: &CostBreakdown, version: &str, usage: &TokenUsage, on: NaiveDate) {
    println!("{version}: the price version in force on {on} (USD per 1M tokens)");
    if let Some(from) = version
        .rsplit_once('@')
        .and_then(|(_, d)| d.parse::<NaiveDate>().ok())
    {
        if on < from {
            println!("no price is listed before {from}; its earliest version is used");
        }
    }
    match b.tier_above_input_tokens {
        Some(t) => println!(
            "long-context tier: the prompt ({} tokens) is above {}, so the tier's prices apply",
            table::count(usage.prompt_total()),
            table::count(t)
        ),
        None => println!("no long-context tier applies"),
    }
    let mut rows: Vec<Vec<String>> = b
        .lines
        .iter()
        .map(|l| {
            vec![
                l.kind.to_string(),
                table::count(l.tokens),
                l.per_million.decimal().normalize().to_string(),
                format!("${}", six(l.cost)),
                l.priced_as.map_or(String::new(), |p| format!("at {p}")),
            ]
        })
        .collect();
    rows.push(vec![
        "total".into(),
        table::count(usage.prompt_total() + usage.completion_total()),
        String::new(),
        format!("${}", six(b.total)),
        String::new(),
    ]);
    print!(
        "{}",
        table::render(
            &["tokens", "count", "$/1M", "cost", "note"],
            &rows,
            &[1, 2, 3]
        )
    );
}

fn json(b: &CostBreakdown, version: &str, m: &ModelEntry, on: NaiveDate) -> serde_json::Value {
    let per_million = |d: Decimal| d.normalize().to_string();
    let lines: Vec<serde_json::Value> = b
        .lines
        .iter()
        .map(|l| {
            serde_json::json!({
                "kind": l.kind,
                "tokens": l.tokens,
                "usd_per_million": per_million(l.per_million.decimal()),
                "priced_as": l.priced_as,
                "cost_usd": six(l.cost),
            })
        })
        .collect();
    serde_json::json!({
        "model": m.key(),
        "price_version": version,
        "effective_from": m.price_at(on).effective_from,
        "priced_on": on,
        "tier_above_input_tokens": b.tier_above_input_tokens,
        "lines": lines,
        "total_usd": six(b.total),
    })
}
