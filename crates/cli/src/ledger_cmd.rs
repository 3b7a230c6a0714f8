//! `switchyard ledger summary|export|import|migrate|copy`.

use crate::ConfigArg;
use crate::table;
use chrono::{NaiveDate, Utc};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_ledger::import::{ImportError, ImportFormat, ImportOptions, ImportReport};
use switchyard_ledger::{
    Batchable, Dimension, ExportFormat, Location, SavingsReport, SqliteStore, Store, SummaryQuery,
    SummaryRow, Window,
};

#[derive(clap::Args, Clone)]
pub struct Source {
    #[command(flatten)]
    config: ConfigArg,
    /// Ledger file or `postgres://` URL (overrides the config's [ledger] path).
    #[arg(long)]
    ledger: Option<PathBuf>,
}

impl Source {
    fn path(&self) -> anyhow::Result<PathBuf> {
        Ok(match &self.ledger {
            Some(p) => p.clone(),
            None => self.config.load()?.ledger.path,
        })
    }

    fn open(&self) -> anyhow::Result<Box<dyn Store>> {
        Ok(Location::from(self.path()?.as_path()).open_existing()?)
    }
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Creates the ledger's and the eval store's tables or brings them to this build's schema
    /// (SQLite files or a PostgreSQL database) and says what it did for each; every other
    /// command also migrates the store it opens.
    Migrate {
        #[command(flatten)]
        source: Source,
        /// The eval store: a file or a postgres:// URL (overrides [eval] path; default: beside
        /// a ledger file, or in a PostgreSQL ledger's database).
        #[arg(long)]
        eval: Option<PathBuf>,
    },
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
    /// Load existing usage history: a CSV/JSONL file (our export, or the documented columns),
    /// LiteLLM spend logs, or the OpenAI / Anthropic usage APIs' JSON. See docs/import.md.
    Import(ImportArgs),
    /// Moves a whole ledger to another database (SQLite or PostgreSQL, either way): records,
    /// rollups, feature profiles, prompt prefixes, virtual keys and batch state; resumable;
    /// verified by counts and sums at the end (exit 1 on a mismatch, 2 on bad input).
    Copy(crate::ledger_copy::CopyArgs),
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The file to import, or `-` for standard input.
    file: PathBuf,
    /// generic, litellm, openai or anthropic; detected from the content when omitted.
    #[arg(long)]
    format: Option<ImportFormat>,
    /// Workload for rows that name none.
    #[arg(long)]
    workload: Option<String>,
    /// Provider for rows that name none (generic and LiteLLM rows).
    #[arg(long)]
    provider: Option<String>,
    /// Import without this column (or field, `parent.child`), which the format does not know;
    /// repeatable. Any other unknown column is an error.
    #[arg(long = "ignore-column", value_name = "NAME")]
    ignore_columns: Vec<String>,
    /// The ledger to import into (created if missing); its prices come from the config's catalog.
    #[command(flatten)]
    source: Source,
    /// Validate and count, but write nothing.
    #[arg(long)]
    dry_run: bool,
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
            let since = since.as_deref().map(parse_since).transpose()?;
            let query = SummaryQuery {
                by,
                since,
                include_shadow,
            };
            summary(&source, &query, json)?;
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
                    let n = switchyard_ledger::export(store.as_ref(), format, since, &mut f)?;
                    f.flush()?;
                    n
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut lock = std::io::BufWriter::new(stdout.lock());
                    switchyard_ledger::export(store.as_ref(), format, since, &mut lock)?
                }
            };
            tracing::info!(records = n, "exported");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => import(args),
        Command::Copy(args) => crate::ledger_copy::run(args),
        Command::Migrate { source, eval } => {
            migrate(&source, eval)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `ledger migrate`: the ledger, then the eval store where `serve` keeps it for this ledger
/// (or `--eval`), one line each.
fn migrate(source: &Source, eval: Option<PathBuf>) -> anyhow::Result<()> {
    let ledger = source.path()?;
    let location = Location::from(ledger.as_path());
    let said = |what: &str, place: &Location, (before, after): (i64, i64)| {
        if before == after {
            println!("{what} {place}: schema version {after}, up to date");
        } else {
            println!("{what} {place}: migrated from schema version {before} to {after}");
        }
    };
    said("ledger", &location, location.migrate()?);
    let eval = match eval {
        Some(p) => p,
        None => source.config.load()?.eval.store_path(&ledger),
    };
    let versions = switchyard_evalstore::migrate(&eval)
        .map_err(|e| anyhow::anyhow!("the ledger is migrated, the eval store is not: {e}"))?;
    said("eval store", &Location::from(eval.as_path()), versions);
    Ok(())
}

/// `ledger summary`: the table, then savings by lever with its prompt-caching and cascade
/// sections, then still on the table (all from `switchyard_ledger`; this only lays them out).
fn summary(source: &Source, query: &SummaryQuery, json: bool) -> anyhow::Result<()> {
    let store = source.open()?;
    let rows = store.summary(query)?;
    let config = source.config.load()?;
    let catalog =
        switchyard_catalog::Catalog::load(&config.catalog.files, &config.catalog.litellm_files)?;
    let window = Window::from(query);
    let report = store.savings_report(&catalog, &window)?;
    let table = store.on_the_table(
        &catalog,
        &window,
        &batchable(&config),
        &report.prompt_caching,
    )?;
    let SavingsReport {
        savings,
        prompt_caching: caching,
        cascade,
        ..
    } = report;
    let evidence = crate::eval_cmd::evidence(&config.eval.store_path(&source.path()?));
    let quality = switchyard_strategy::cascade::quality(
        &crate::cascade_report::routes(&config, &catalog),
        &evidence,
    );
    if json {
        let mut out = serde_json::json!({
            "rows": rows,
            "savings_by_lever": savings,
            "prompt_caching": caching,
            "cascade": cascade,
            "cascade_quality": quality,
            "still_on_the_table": table,
        });
        switchyard_strategy::rounding::round_json(&mut out);
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", render_summary(query.by, &rows));
        print!("{}", crate::savings_table::render(&savings));
        print!("{}", crate::caching_table::render(&caching));
        print!("{}", crate::cascade_report::render(&cascade, &quality));
        print!("{}", crate::table_report::render(&table));
    }
    Ok(())
}

/// The routes the config marks `batchable = true` (the savings ledger's "still on the table").
pub fn batchable(config: &switchyard_gateway::Config) -> Batchable {
    Batchable {
        routes: config
            .routes
            .iter()
            .filter(|r| r.batchable)
            .map(|r| r.name.clone())
            .collect(),
        workloads: Default::default(),
    }
}

/// Exit code when the file has bad rows (nothing was imported).
const INVALID_INPUT: u8 = 2;

fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let text = read_input(&args.file)?;
    let config = args.source.config.load()?;
    let catalog =
        switchyard_catalog::Catalog::load(&config.catalog.files, &config.catalog.litellm_files)?;
    let path = args.source.path()?;
    let opts = ImportOptions {
        format: args.format,
        workload: args.workload,
        provider: args.provider,
        ignore_columns: args.ignore_columns,
    };
    // The file is validated before the ledger is opened: a refused import creates no ledger.
    let parsed = match switchyard_ledger::import::parse(&text, &opts, &catalog) {
        Ok(p) => p,
        Err(e @ ImportError::Invalid { .. }) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(INVALID_INPUT));
        }
        Err(e) => return Err(e.into()),
    };
    let location = Location::from(path.as_path());
    let existed = location.path().is_none_or(|p| p.exists());
    // A dry run never creates a ledger: without one, everything would be new.
    let mut store: Box<dyn Store> = if args.dry_run && !existed {
        Box::new(SqliteStore::in_memory()?)
    } else {
        location.open()?
    };
    match switchyard_ledger::import::append(store.as_mut(), parsed, args.dry_run) {
        Ok(report) => {
            print!("{}", render_import(&report, args.dry_run, &path));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            drop(store);
            if !existed {
                remove_ledger(&path);
            }
            Err(e.into())
        }
    }
}

fn read_input(file: &std::path::Path) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))
    }
}

/// Removes a ledger this import created and could not fill, with its SQLite side files.
fn remove_ledger(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

fn render_import(r: &ImportReport, dry_run: bool, path: &std::path::Path) -> String {
    let verb = if dry_run { "would import" } else { "imported" };
    let mut out = format!(
        "{} ({}): read {} records ({} requests) · {verb} {} · skipped {} duplicates (already in the ledger)\n",
        path.display(),
        r.format,
        table::count(r.read),
        table::count(r.requests),
        table::count(r.imported),
        table::count(r.duplicates),
    );
    if !r.unpriced.is_empty() {
        out.push_str(&format!(
            "no price in the catalog for {}: imported without a cost. To price them, add the models to a [catalog] file before importing (imported records are never re-priced)\n",
            r.unpriced.join(", ")
        ));
    }
    for note in &r.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    if dry_run {
        out.push_str("dry run: nothing was written\n");
    }
    out
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
