//! `switchyard strategy scenario`: a what-if from a TOML file and/or flags, every change checked
//! (values and names, against the catalog and the ledger) before it runs, every error at once.

use crate::strategy_cmd::Loaded;
use crate::table;
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::str::FromStr;
use switchyard_strategy::report::{pct, usd};
use switchyard_strategy::scenario::{self, Change, Origin, Scenario, ScenarioError};

/// A scenario given as a file and/or flags.
#[derive(clap::Args, Clone)]
pub struct WhatIf {
    /// Scenario file (see docs/strategy.md).
    #[arg(long)]
    file: Option<PathBuf>,
    /// PROVIDER=FACTOR[@YYYY-MM-DD], e.g. openai=2.
    #[arg(long = "price")]
    prices: Vec<String>,
    /// MODEL@YYYY-MM-DD[=REPLACEMENT].
    #[arg(long = "retire")]
    retirements: Vec<String>,
    /// Monthly volume growth, e.g. 0.1 for 10 %, -0.2 for a 20 % decline.
    #[arg(long, allow_negative_numbers = true)]
    growth: Option<Decimal>,
    /// WORKLOAD=provider/model.
    #[arg(long = "move")]
    moves: Vec<String>,
    #[arg(long, default_value_t = 12)]
    months: u32,
}

/// The scenario of `w`, checked against `l`'s catalog and ledger.
pub fn build(w: &WhatIf, l: &Loaded) -> anyhow::Result<Scenario> {
    let mut errs = Vec::new();
    let mut sc = match &w.file {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
            let (sc, file_errs) = Scenario::parse_toml(&text);
            errs = file_errs;
            sc
        }
        None => Scenario {
            name: "what-if".into(),
            horizon_months: w.months,
            changes: Vec::new(),
            origins: Vec::new(),
        },
    };
    for (flag, value, change) in flag_changes(w)? {
        sc.changes.push(change);
        sc.origins.push(Origin::Flag { flag, value });
    }
    if sc.changes.is_empty() && errs.is_empty() {
        anyhow::bail!("no what-if given: pass --file, --price, --retire, --growth or --move");
    }
    errs.extend(sc.validate());
    errs.extend(sc.check_names(&l.history, &l.catalog));
    ScenarioError::sort(&mut errs);
    if !errs.is_empty() {
        let what = w
            .file
            .as_ref()
            .map_or("the scenario".to_string(), |p| p.display().to_string());
        return Err(refuse(&what, &errs));
    }
    Ok(sc)
}

/// One error listing every problem, each on its own line.
fn refuse(what: &str, errs: &[ScenarioError]) -> anyhow::Error {
    let lines: Vec<String> = errs.iter().map(|e| format!("  {e}")).collect();
    anyhow::anyhow!(
        "{what} has {} problem(s); nothing was run:\n{}",
        errs.len(),
        lines.join("\n")
    )
}

fn date(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("{s:?} is not a date; write YYYY-MM-DD"))
}

/// The changes the flags ask for, each with its flag and value.
fn flag_changes(w: &WhatIf) -> anyhow::Result<Vec<(String, String, Change)>> {
    let today = Utc::now().date_naive();
    let mut out = Vec::new();
    for p in &w.prices {
        out.push(("--price".into(), p.clone(), price(p, today)?));
    }
    for r in &w.retirements {
        out.push(("--retire".into(), r.clone(), retire(r)?));
    }
    if let Some(g) = w.growth {
        out.push((
            "--growth".into(),
            g.to_string(),
            Change::Growth { monthly: g },
        ));
    }
    for m in &w.moves {
        let (workload, to) = m
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--move {m:?}: write WORKLOAD=provider/model"))?;
        let change = Change::Move {
            workload: workload.into(),
            to: to.into(),
            from: None,
        };
        out.push(("--move".into(), m.clone(), change));
    }
    Ok(out)
}

fn price(p: &str, today: NaiveDate) -> anyhow::Result<Change> {
    let (provider, rest) = p
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--price {p:?}: write PROVIDER=FACTOR[@YYYY-MM-DD]"))?;
    let (factor, from) = match rest.split_once('@') {
        Some((f, d)) => (f, date(d)?),
        None => (rest, today),
    };
    let factor = Decimal::from_str(factor)
        .map_err(|_| anyhow::anyhow!("--price {p:?}: {factor:?} is not a number"))?;
    Ok(Change::Price {
        provider: provider.into(),
        factor,
        from,
    })
}

fn retire(r: &str) -> anyhow::Result<Change> {
    let (model, rest) = r
        .split_once('@')
        .ok_or_else(|| anyhow::anyhow!("--retire {r:?}: write MODEL@YYYY-MM-DD[=REPLACEMENT]"))?;
    let (on, replacement) = match rest.split_once('=') {
        Some((d, rep)) => (date(d)?, Some(rep.to_string())),
        None => (date(rest)?, None),
    };
    Ok(Change::Retire {
        model: model.into(),
        on,
        replacement,
    })
}

pub fn print(r: &scenario::ScenarioResult) {
    println!(
        "Scenario: {} — {} months from {}\n",
        r.name, r.horizon_months, r.start
    );
    let mut rows: Vec<Vec<String>> = r
        .workloads
        .iter()
        .map(|w| {
            vec![
                w.workload.clone(),
                usd(w.baseline),
                usd(w.scenario),
                usd(w.delta),
                w.delta_pct.map_or("n/a".into(), pct),
            ]
        })
        .collect();
    rows.push(vec![
        "TOTAL".into(),
        usd(r.total_baseline),
        usd(r.total_scenario),
        usd(r.total_delta),
        String::new(),
    ]);
    print!(
        "{}",
        table::render(
            &["workload", "baseline", "scenario", "delta", "delta %"],
            &rows,
            &[1, 2, 3, 4]
        )
    );
    println!("\nAssumptions:");
    for a in &r.assumptions {
        println!("  - {a}");
    }
}
