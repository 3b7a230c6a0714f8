//! `switchyard strategy …`: spend, scenarios, contracts, lock-in, deprecations, the report.

use crate::ConfigArg;
use crate::table;
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_catalog::Catalog;
use switchyard_ledger::Location;
use switchyard_strategy::report::{self, ReportOptions, pct, usd};
use switchyard_strategy::spend::{Dimension, Period};
use switchyard_strategy::{History, deprecations, lockin, scenario, spend};

#[derive(clap::Args, Clone)]
pub struct Input {
    #[command(flatten)]
    pub(crate) config: ConfigArg,
    /// Ledger file (overrides the config's [ledger] path).
    #[arg(long)]
    pub(crate) ledger: Option<PathBuf>,
    /// Only history from this day (YYYY-MM-DD) or this many days back (90d).
    #[arg(long)]
    since: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) struct Loaded {
    pub(crate) history: History,
    pub(crate) catalog: Catalog,
    pub(crate) effort: lockin::EffortModel,
    pub(crate) today: NaiveDate,
    /// Evaluation evidence from the eval store beside the ledger, if there is one.
    pub(crate) evidence: Vec<lockin::Evidence>,
}

impl Input {
    pub(crate) fn ledger_path(&self) -> anyhow::Result<PathBuf> {
        Ok(match &self.ledger {
            Some(p) => p.clone(),
            None => self.config.load()?.ledger.path,
        })
    }

    pub(crate) fn load(&self) -> anyhow::Result<Loaded> {
        let config = self.config.load()?;
        let path = self.ledger.clone().unwrap_or(config.ledger.path.clone());
        let store = Location::from(path.as_path()).open_existing()?;
        let since = self
            .since
            .as_deref()
            .map(crate::ledger_cmd::parse_since)
            .transpose()?;
        let history = History::load(store.as_ref(), since)?;
        let catalog = Catalog::load(&config.catalog.files, &config.catalog.litellm_files)?;
        Ok(Loaded {
            history,
            catalog,
            effort: effort_model(&config)?,
            today: Utc::now().date_naive(),
            evidence: crate::eval_cmd::evidence(&config.eval.store_path(&path)),
        })
    }
}

impl Input {
    /// The savings ledger for the report: savings by lever per 30-day period and what is still
    /// on the table, read by the ledger crate (the config says which routes are batchable),
    /// on every backend.
    pub(crate) fn levers(&self, l: &Loaded) -> anyhow::Result<switchyard_ledger::Levers> {
        let config = self.config.load()?;
        let store = Location::from(self.ledger_path()?.as_path()).open_existing()?;
        let batchable = crate::ledger_cmd::batchable(&config);
        Ok(store.levers(&l.catalog, l.today, &batchable)?)
    }
}

/// `[strategy.effort]` from the config, over the documented defaults.
pub fn effort_model(config: &switchyard_gateway::Config) -> anyhow::Result<lockin::EffortModel> {
    match config.strategy.get("effort") {
        None => Ok(lockin::EffortModel::default()),
        Some(v) => serde::Deserialize::deserialize(v.clone())
            .map_err(|e: toml::de::Error| anyhow::anyhow!("strategy.effort: {e}")),
    }
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Cost, tokens and requests by dimension and period; shares, concentration, growth.
    Spend {
        #[command(flatten)]
        input: Input,
        #[arg(long, default_value = "workload")]
        by: Dimension,
        #[arg(long, default_value = "total")]
        period: Period,
    },
    /// Re-price history under what-ifs (a TOML file and/or flags).
    Scenario {
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        what_if: crate::scenario_cmd::WhatIf,
    },
    /// Simulate committed-spend offers against this traffic; recommend a commitment.
    Contract {
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        args: crate::contract_cmd::ContractArgs,
    },
    /// Lock-in score per workload, its factors, alternatives and migration effort.
    Lockin {
        #[command(flatten)]
        input: Input,
    },
    /// Workloads on models whose retirement is announced.
    Deprecations {
        #[command(flatten)]
        input: Input,
    },
    /// The vendor-strategy document.
    Report {
        #[command(flatten)]
        input: Input,
        #[arg(long, default_value = "md")]
        format: String,
        /// Write here instead of stdout.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        #[arg(long, default_value = "")]
        owner: String,
        /// Where this run's figures are kept, so the next run can say what changed.
        #[arg(long, default_value = "./switchyard-strategy.json")]
        snapshot: PathBuf,
        /// Contract offers to include (TOML, as for `strategy contract --file`).
        #[arg(long)]
        contracts: Option<PathBuf>,
    },
    /// Fill a ledger with generated per-request records (benchmarks).
    #[command(hide = true)]
    GenerateLedger {
        #[arg(long)]
        ledger: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::GenerateLedger {
            ledger,
            records,
            days,
        } => {
            let mut store = Location::from(ledger.as_path()).open()?;
            let n = crate::history::generate(
                store.as_mut(),
                &Catalog::bundled()?,
                records,
                days,
                Utc::now().date_naive(),
            )?;
            eprintln!("wrote {n} records to {}", ledger.display());
        }
        Command::Spend { input, by, period } => {
            let l = input.load()?;
            let r = spend::report(&l.history, by, period);
            emit(input.json, &r, print_spend)?;
        }
        Command::Scenario { input, what_if } => {
            let l = input.load()?;
            let sc = crate::scenario_cmd::build(&what_if, &l)?;
            let r = scenario::run(&l.history, &l.catalog, &sc, l.today);
            emit(input.json, &r, crate::scenario_cmd::print)?;
        }
        Command::Contract { input, args } => crate::contract_cmd::contract(&input, args)?,
        Command::Lockin { input } => {
            let l = input.load()?;
            let r = lockin::score_all(&l.history, &l.catalog, &l.effort, l.today, &l.evidence);
            emit(input.json, r.as_slice(), print_lockin)?;
        }
        Command::Deprecations { input } => {
            let l = input.load()?;
            let r = deprecations::exposures_with(&l.history, &l.catalog, l.today, &l.evidence);
            emit(input.json, r.as_slice(), print_deprecations)?;
        }
        Command::Report {
            input,
            format,
            output,
            owner,
            snapshot,
            contracts,
        } => {
            let l = input.load()?;
            let (contracts, triggers) = match &contracts {
                Some(f) => {
                    let sim = crate::contract_cmd::simulate_file(
                        &l,
                        &input.ledger_path()?,
                        f,
                        (None, Decimal::new(1, 1)),
                        2000,
                    )?;
                    crate::contract_cmd::report_lines(&sim)
                }
                None => (Vec::new(), Vec::new()),
            };
            let opts = ReportOptions {
                owner,
                effort: l.effort.clone(),
                contracts,
                triggers,
                evidence: l.evidence.clone(),
                levers: Some(input.levers(&l)?),
                cascade_routes: crate::cascade_report::routes(&input.config.load()?, &l.catalog),
            };
            let data = report::build(&l.history, &l.catalog, l.today, &opts);
            let changes = std::fs::read_to_string(&snapshot)
                .ok()
                .and_then(|t| serde_json::from_str::<report::ReportData>(&t).ok())
                .map(|prev| report::changes_since(&prev, &data))
                .unwrap_or_default();
            let md = report::render_markdown(&data, &changes);
            let text = match format.as_str() {
                "md" | "markdown" => md,
                "html" => report::render_html(&data, &md),
                "json" => {
                    let mut v = serde_json::to_value(&data)?;
                    switchyard_strategy::rounding::round_json(&mut v);
                    serde_json::to_string_pretty(&v)?
                }
                other => anyhow::bail!("unknown --format {other:?}; use md, html or json"),
            };
            match output {
                Some(p) => {
                    std::fs::write(&p, text)?;
                    eprintln!("wrote {}", p.display());
                }
                None => print!("{text}"),
            }
            std::fs::write(&snapshot, serde_json::to_string_pretty(&data)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints `v` as JSON, or through `print` for people.
fn emit<T: serde::Serialize + ?Sized>(json: bool, v: &T, print: impl Fn(&T)) -> anyhow::Result<()> {
    if json {
        let mut v = serde_json::to_value(v)?;
        switchyard_strategy::rounding::round_json(&mut v);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print(v);
    }
    Ok(())
}

fn print_spend(r: &spend::SpendReport) {
    let (costs, shares) = spend_columns(r);
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .zip(costs.into_iter().zip(shares))
        .map(|(x, (cost, share))| {
            vec![
                x.period.clone(),
                x.key.clone(),
                table::count(x.requests),
                table::count(x.usage.prompt_total()),
                table::count(x.usage.completion_total()),
                usd(cost),
                pct(share),
                switchyard_strategy::rounding::unit(x.cost_per_request).to_string(),
                usd(x.cost_per_1k_requests),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "period",
                "group",
                "requests",
                "input tok",
                "output tok",
                "cost",
                "share",
                "$/request",
                "$/1k req"
            ],
            &rows,
            &[2, 3, 4, 5, 6, 7, 8]
        )
    );
    println!(
        "\nTotal {} over {} requests. Vendor concentration (HHI) {} of 10,000.",
        usd(r.total_cost),
        table::count(r.total_requests),
        r.vendor_hhi.round()
    );
    let g: Vec<Vec<String>> = r
        .growth
        .iter()
        .map(|g| {
            vec![
                g.workload.clone(),
                usd(g.previous_30d),
                usd(g.last_30d),
                g.growth_rate.map_or("n/a".into(), pct),
                format!("{:+.4}", g.trend_per_day),
                r.workload_vendor_hhi
                    .get(&g.workload)
                    .map_or("-".into(), |h| h.round().to_string()),
            ]
        })
        .collect();
    println!("\nGrowth by workload (last 30 days against the 30 before):");
    print!(
        "{}",
        table::render(
            &[
                "workload",
                "previous 30d",
                "last 30d",
                "growth",
                "trend $/day²",
                "vendor HHI"
            ],
            &g,
            &[1, 2, 3, 4, 5]
        )
    );
}

/// The cost and share columns of the spend table, rounded so they add up: costs to the
/// printed total, each period's shares to 100 %.
fn spend_columns(r: &spend::SpendReport) -> (Vec<switchyard_primitives::Money>, Vec<Decimal>) {
    use switchyard_strategy::rounding::{apportion, apportion_cents};
    let costs = apportion_cents(&r.rows.iter().map(|x| x.cost).collect::<Vec<_>>());
    let mut shares = vec![Decimal::ZERO; r.rows.len()];
    let periods: std::collections::BTreeSet<&str> =
        r.rows.iter().map(|x| x.period.as_str()).collect();
    for p in periods {
        let idx: Vec<usize> = (0..r.rows.len())
            .filter(|&i| r.rows[i].period == p)
            .collect();
        let exact: Vec<Decimal> = idx.iter().map(|&i| r.rows[i].share).collect();
        for (i, v) in idx.into_iter().zip(apportion(&exact, 3)) {
            shares[i] = v;
        }
    }
    (costs, shares)
}

fn print_lockin(r: &[lockin::LockIn]) {
    for l in r {
        println!(
            "{} — lock-in {}/100 on {}, migration ≈ {:.1} engineering weeks",
            l.workload, l.score, l.primary, l.effort_weeks
        );
        for f in &l.factors {
            println!("    {:>2}/{:<2} {}: {}", f.points, f.max, f.name, f.why);
        }
        let alts: Vec<String> = l
            .alternatives
            .iter()
            .take(3)
            .map(|a| format!("{} {}", a.model, a.cost_note()))
            .collect();
        println!(
            "    alternatives: {}\n",
            if alts.is_empty() {
                "none viable".into()
            } else {
                alts.join(", ")
            }
        );
    }
}

/// "+176.7% (measured on shadow traffic; catalog estimate -27.1%)", or "-27.1%".
fn successor_delta(e: &deprecations::Exposure) -> String {
    let signed = |x: Decimal| format!("{}{}", if x > Decimal::ZERO { "+" } else { "" }, pct(x));
    let d = e.cost_delta_pct.map_or("n/a".into(), signed);
    if e.cost_basis == lockin::CATALOG_ESTIMATE {
        return d;
    }
    let est = e.catalog_cost_delta_pct.map_or("n/a".into(), signed);
    format!("{d} ({}; {} {est})", e.cost_basis, lockin::CATALOG_ESTIMATE)
}

fn print_deprecations(r: &[deprecations::Exposure]) {
    if r.is_empty() {
        println!("No workload runs on a model with an announced deprecation.");
        return;
    }
    let rows: Vec<Vec<String>> = r
        .iter()
        .map(|e| {
            vec![
                e.workload.clone(),
                format!("{}/{}", e.provider, e.model),
                e.retirement.map_or("-".into(), |d| d.to_string()),
                e.days_left.map_or("-".into(), |d| d.to_string()),
                table::count(e.requests_30d),
                usd(e.spend_30d),
                usd(e.annualized_spend),
                e.successor.clone().unwrap_or_else(|| "-".into()),
                successor_delta(e),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "workload",
                "model",
                "retires",
                "days left",
                "requests 30d",
                "spend 30d",
                "annualized",
                "successor",
                "successor Δ"
            ],
            &rows,
            &[3, 4, 5, 6, 8]
        )
    );
}
