//! `switchyard ledger summary|export`.

use crate::ConfigArg;
use crate::table;
use chrono::{NaiveDate, Utc};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_ledger::{
    Dimension, ExportFormat, LedgerStore, SqliteStore, SummaryQuery, SummaryRow,
};

#[derive(clap::Args, Clone)]
pub struct Source {
    #[command(flatten)]
    config: ConfigArg,
    /// Ledger file (overrides the config's [ledger] path).
    #[arg(long)]
    ledger: Option<PathBuf>,
}

impl Source {
    fn open(&self) -> anyhow::Result<SqliteStore> {
        let path = match &self.ledger {
            Some(p) => p.clone(),
            None => self.config.load()?.ledger.path,
        };
        Ok(SqliteStore::open_existing(&path)?)
    }
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Spend, tokens and latency grouped by one dimension.
    Summary {
        #[command(flatten)]
        source: Source,
        /// workload, route, provider, model, day, key or team.
        #[arg(long, default_value = "workload")]
        by: Dimension,
        /// From this day (YYYY-MM-DD) or this many days back (e.g. 7d).
        #[arg(long)]
        since: Option<String>,
        /// Include mirrored (shadow) evaluation traffic.
        #[arg(long)]
        include_shadow: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Every record, streamed to stdout (or --output).
    Export {
        #[command(flatten)]
        source: Source,
        #[arg(long, default_value = "jsonl")]
        format: ExportFormat,
        #[arg(long)]
        since: Option<String>,
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
}

/// `YYYY-MM-DD` or `Nd` (days back from today, UTC).
pub fn parse_since(s: &str) -> anyhow::Result<NaiveDate> {
    if let Some(days) = s.strip_suffix('d').and_then(|d| d.parse::<i64>().ok()) {
        return Ok(Utc::now().date_naive() - chrono::Duration::days(days));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        anyhow::anyhow!(
            "--since {s:?} is not a date; write YYYY-MM-DD or a number of days such as 7d"
        )
    })
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Summary {
            source,
            by,
            since,
            include_shadow,
            json,
        } => {
            let store = source.open()?;
            let since = since.as_deref().map(parse_since).transpose()?;
            let rows = store.summary(&SummaryQuery {
                by,
                since,
                include_shadow,
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", render_summary(by, &rows));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            source,
            format,
            since,
            output,
        } => {
            let store = source.open()?;
            let since = since
                .as_deref()
                .map(parse_since)
                .transpose()?
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc());
            let n = match output {
                Some(p) => {
                    let mut f = std::io::BufWriter::new(std::fs::File::create(&p)?);
                    let n = switchyard_ledger::export(&store, format, since, &mut f)?;
                    f.flush()?;
                    n
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut lock = std::io::BufWriter::new(stdout.lock());
                    switchyard_ledger::export(&store, format, since, &mut lock)?
                }
            };
            tracing::info!(records = n, "exported");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The summary table, with a total line.
pub fn render_summary(by: Dimension, rows: &[SummaryRow]) -> String {
    let total_cost: switchyard_primitives::Money = rows.iter().map(|r| r.cost_usd).sum();
    let total_req: u64 = rows.iter().map(|r| r.requests).sum();
    let mut body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let share = if total_cost.is_zero() {
                0.0
            } else {
                (r.cost_usd.decimal() / total_cost.decimal())
                    .to_string()
                    .parse::<f64>()
                    .unwrap_or(0.0)
                    * 100.0
            };
            vec![
                r.key.clone(),
                table::count(r.requests),
                table::count(r.errors),
                table::count(r.usage.prompt_total()),
                table::count(r.usage.cached_input),
                table::count(r.usage.completion_total()),
                table::usd(r.cost_usd),
                format!("{share:.1}%"),
                format!("{:.0}", r.avg_latency_ms),
                r.avg_ttft_ms.map_or("-".into(), |t| format!("{t:.0}")),
            ]
        })
        .collect();
    body.push(vec![
        "TOTAL".into(),
        table::count(total_req),
        table::count(rows.iter().map(|r| r.errors).sum()),
        table::count(rows.iter().map(|r| r.usage.prompt_total()).sum()),
        table::count(rows.iter().map(|r| r.usage.cached_input).sum()),
        table::count(rows.iter().map(|r| r.usage.completion_total()).sum()),
        table::usd(total_cost),
        "100%".into(),
        String::new(),
        String::new(),
    ]);
    let by_name = match by {
        Dimension::Workload => "workload",
        Dimension::Route => "route",
        Dimension::Provider => "provider",
        Dimension::Model => "model",
        Dimension::Day => "day",
        Dimension::Key => "key",
        Dimension::Team => "team",
    };
    table::render(
        &[
            by_name,
            "requests",
            "errors",
            "input tok",
            "cached",
            "output tok",
            "cost",
            "share",
            "avg ms",
            "ttft ms",
        ],
        &body,
        &[1, 2, 3, 4, 5, 6, 7, 8, 9],
    )
}
