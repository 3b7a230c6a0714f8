//! `switchyard strategy contract`: committed-spend offers on this traffic, and a recommended
//! commitment; also the contract section of `strategy report`.

use crate::strategy_cmd::{Input, Loaded};
use crate::table;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use switchyard_ledger::Location;
use switchyard_strategy::contract::{self, GrowthModel, OfferResult, SimOptions, UsageHistory};
use switchyard_strategy::report::{pct, usd};
use switchyard_strategy::spend;
use switchyard_strategy::{History, contract_usage};

#[derive(clap::Args, Clone)]
pub struct ContractArgs {
    /// Offers (TOML; see crates/strategy/examples/contract.toml and docs/contracts.md).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Mean monthly growth of usage (default: the last 30 days against the 30 before);
    /// negative for a decline (`--growth-mean -0.05`).
    #[arg(long, allow_negative_numbers = true)]
    pub growth_mean: Option<Decimal>,
    /// Monthly growth volatility (standard deviation).
    #[arg(long, default_value = "0.1")]
    pub growth_volatility: Decimal,
    /// Monte Carlo paths.
    #[arg(long, default_value_t = 2000)]
    pub paths: u32,
    /// Also recommend a commitment level from daily usage (7/30/60-day lookbacks).
    #[arg(long)]
    pub recommend: bool,
    /// Commit discount for --recommend.
    #[arg(long, default_value = "0.2")]
    pub discount: Decimal,
    /// Term in months for --recommend.
    #[arg(long, default_value_t = 12)]
    pub term: u32,
    /// Provider whose spend --recommend covers (default: all).
    #[arg(long)]
    pub provider: Option<String>,
}

/// Offers in `file` simulated on this ledger's usage: the results, the usage they ran on, and
/// the growth model used.
pub struct Simulated {
    pub results: Vec<OfferResult>,
    pub usage: UsageHistory,
    pub growth: GrowthModel,
    pub provider: Option<String>,
}

pub fn simulate_file(
    l: &Loaded,
    ledger: &Path,
    file: &Path,
    growth: (Option<Decimal>, Decimal),
    paths: u32,
) -> anyhow::Result<Simulated> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let offers =
        contract::parse_offers(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    // All offers in one file compare on one usage history: the first offer's provider's.
    let provider = offers
        .first()
        .map(|o| o.provider.clone())
        .filter(|p| p != "*");
    let store = Location::from(ledger).open_existing()?;
    let hourly =
        switchyard_strategy::source::hourly_tokens(store.as_ref(), provider.as_deref(), 30)?;
    let usage = UsageHistory {
        monthly: contract_usage::monthly_totals(&l.history, provider.as_deref()),
        hourly_tokens: Some(hourly),
    };
    let growth = GrowthModel {
        monthly_growth_mean: growth
            .0
            .unwrap_or_else(|| contract_usage::observed_growth(&l.history)),
        monthly_growth_volatility: growth.1,
    };
    let results = contract::compare(
        &offers,
        &usage,
        &growth,
        &SimOptions {
            paths,
            ..Default::default()
        },
    )?;
    Ok(Simulated {
        results,
        usage,
        growth,
        provider,
    })
}

/// One sentence per offer for the report's contract section.
pub fn report_lines(sim: &Simulated) -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    let mut triggers = Vec::new();
    for r in sim.results.iter().filter(|r| !r.baseline) {
        lines.push(format!(
            "**{}**: expected {} over {} months (P5–P95 {} – {}) against {} on demand; effective savings {}, utilisation {}, expected waste {}, overage exposure (P95) {}.",
            r.name, usd(r.expected_cost), r.term_months, usd(r.p5_cost), usd(r.p95_cost), usd(r.on_demand_cost), pct(r.effective_savings_rate),
            r.utilisation.map_or("-".into(), pct), usd(r.waste), usd(r.overage_p95)
        ));
        for t in &r.triggers {
            triggers.push(format!(
                "{}: when monthly spend passes {} — {} ({}).",
                r.name,
                usd(t.when_monthly_spend_usd_above),
                t.action,
                t.date
                    .map_or("not reached on the median path".into(), |d| format!(
                        "median path reaches it {d}"
                    ))
            ));
        }
    }
    (lines, triggers)
}

pub fn contract(input: &Input, a: ContractArgs) -> anyhow::Result<()> {
    let l = input.load()?;
    let mut out = serde_json::Map::new();
    if let Some(file) = &a.file {
        let sim = simulate_file(
            &l,
            &input.ledger_path()?,
            file,
            (a.growth_mean, a.growth_volatility),
            a.paths,
        )?;
        if !input.json {
            println!(
                "Usage: on-demand-equivalent spend{} by month (partial months scaled to full): {}; growth {} ± {} a month; {} paths.\n",
                sim.provider
                    .as_deref()
                    .map_or(String::new(), |p| format!(" on {p}")),
                sim.usage
                    .monthly
                    .iter()
                    .map(|(_, c)| usd(*c))
                    .collect::<Vec<_>>()
                    .join(", "),
                pct(sim.growth.monthly_growth_mean),
                pct(sim.growth.monthly_growth_volatility),
                a.paths
            );
            print_offers(&sim.results);
        }
        out.insert("offers".into(), serde_json::to_value(&sim.results)?);
    }
    if a.recommend {
        if let Some(p) = a.provider.as_deref() {
            known_provider(&l.history, p)?;
        }
        let daily = spend::covered_daily_series(&l.history, a.provider.as_deref(), 60);
        let r = contract::recommend(&daily, a.discount, a.term)?;
        if !input.json {
            print_recommendation(&r);
        }
        out.insert("recommendation".into(), serde_json::to_value(&r)?);
    }
    if out.is_empty() {
        anyhow::bail!("nothing to do: pass --file OFFERS.toml and/or --recommend");
    }
    if input.json {
        let mut out = serde_json::Value::Object(out);
        switchyard_strategy::rounding::round_json(&mut out);
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// Refuses a `--provider` the ledger has no traffic for, naming the closest ones it has.
fn known_provider(h: &History, p: &str) -> anyhow::Result<()> {
    let known: std::collections::BTreeSet<&str> =
        h.rows.iter().map(|r| r.provider.as_str()).collect();
    if known.contains(p) {
        return Ok(());
    }
    let near = switchyard_primitives::names::closest(p, known.iter().copied(), 3);
    anyhow::bail!(
        "--provider {p:?}: the ledger has no traffic on that provider; closest known: {}",
        switchyard_primitives::names::listed(&near)
    )
}

fn print_recommendation(r: &contract::Recommendation) {
    println!(
        "Recommended commitment: {} a month for {} months at {} off — expected savings {} a month ({} over the term, {}).",
        usd(r.monthly_commitment),
        r.term_months,
        pct(r.discount),
        usd(r.expected_monthly_savings),
        usd(r.expected_term_savings),
        pct(r.expected_savings_rate)
    );
    for lb in &r.lookbacks {
        let what = match &lb.best {
            Some(c) => format!(
                "P{} level, {} a month, saves {} over the window",
                c.percentile,
                usd(c.monthly_commitment),
                usd(c.window_savings)
            ),
            None if lb.available => "no level saves money".into(),
            None => "not enough history".into(),
        };
        println!("  {}-day lookback: {what}", lb.days);
    }
    println!(
        "  The lower of the short- and long-lookback results is taken, so stale data cannot cause over-commitment."
    );
}

fn print_offers(results: &[switchyard_strategy::contract::OfferResult]) {
    let opt = |d: Option<Decimal>| d.map_or("-".to_string(), pct);
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                usd(r.expected_cost),
                format!(
                    "{} / {} / {}",
                    usd(r.p5_cost),
                    usd(r.p50_cost),
                    usd(r.p95_cost)
                ),
                usd(r.on_demand_cost),
                pct(r.effective_savings_rate),
                opt(r.utilisation),
                usd(r.waste),
                usd(r.overage_p95),
                opt(r.break_even_utilisation),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "offer",
                "expected",
                "P5 / P50 / P95",
                "on-demand eq.",
                "savings rate",
                "utilisation",
                "waste",
                "overage P95",
                "break-even"
            ],
            &rows,
            &[1, 2, 3, 4, 5, 6, 7, 8]
        )
    );
    for r in results.iter().filter(|r| !r.baseline) {
        let exits: Vec<String> = r
            .exit
            .iter()
            .filter(|e| e.month % 3 == 0)
            .map(|e| format!("m{} {}", e.month, usd(e.total_if_exit)))
            .collect();
        if !exits.is_empty() {
            println!(
                "\n{}: total cost if you exit after month … {}",
                r.name,
                exits.join(", ")
            );
        }
        for t in &r.triggers {
            println!(
                "{}: trigger \"{}\" (monthly spend above {}) {}",
                r.name,
                t.action,
                usd(t.when_monthly_spend_usd_above),
                t.month
                    .map_or("never fires on the P50 path".into(), |m| format!(
                        "fires in month {m}"
                    ))
            );
        }
    }
}
