//! `switchyard ledger copy --from A --to B`: runs `switchyard_ledger::copy` with a progress
//! bar on stderr (a plain line per step when stderr is not a terminal), then prints the
//! verification table. Exit 0 when verified, 1 on a mismatch, 2 on bad input, 3 when
//! `--max-records` stopped the run before the end (run it again to continue).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use switchyard_evalstore::copy::{Cursor, Table};
use switchyard_gateway::config::EvalConfig;
use switchyard_ledger::Location;
use switchyard_ledger::copy::{Copier, CopyError, Line, Options, Progress, Report};

#[derive(clap::Args)]
pub struct CopyArgs {
    /// The ledger to copy: a SQLite file (`sqlite://path` or a path) or a `postgres://` URL.
    #[arg(long)]
    from: String,
    /// Where to copy it (created and migrated if need be); must be empty unless --append.
    #[arg(long)]
    to: String,
    /// Add to a target that already holds other data.
    #[arg(long)]
    append: bool,
    /// Records per batch (one transaction each on the target).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Copy at most this many records in this run; the next run continues.
    #[arg(long)]
    max_records: Option<u64>,
    /// The source's eval store (default: where `serve` puts it for --from: the ledger's own
    /// PostgreSQL database, or `<stem>-eval.db` beside a SQLite ledger).
    #[arg(long)]
    eval_from: Option<String>,
    /// The target's eval store (default: where `serve` puts it for --to).
    #[arg(long)]
    eval_to: Option<String>,
    /// Leave the eval store where it is.
    #[arg(long)]
    no_eval: bool,
}

pub fn run(args: CopyArgs) -> anyhow::Result<ExitCode> {
    let (from, to) = (Location::parse(&args.from), Location::parse(&args.to));
    if args.batch == 0 {
        eprintln!("error: --batch must be at least 1");
        return Ok(ExitCode::from(2));
    }
    let opts = Options {
        append: args.append,
        batch: args.batch,
        max_records: args.max_records,
    };
    let started = Instant::now();
    let mut progress = Bar::new();
    let report = Copier::open(&from, &to).and_then(|mut c| c.run(&opts, &mut progress));
    progress.finish();
    let report = match report {
        Ok(r) => r,
        Err(CopyError::BadInput(why)) => {
            eprintln!("error: {why}");
            return Ok(ExitCode::from(2));
        }
        Err(CopyError::Ledger(e)) => return Err(e.into()),
    };
    let mut report = report;
    if report.complete && !args.no_eval {
        let mut bar = Bar::new();
        let eval = copy_eval(&eval_places(&args), args.append, &mut bar);
        bar.finish();
        match eval {
            Ok(lines) => report.lines.extend(lines),
            Err(EvalCopyError::BadInput(why)) => {
                eprintln!("error: {why}");
                return Ok(ExitCode::from(2));
            }
            Err(EvalCopyError::Store(e)) => return Err(e.into()),
        }
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "{from} -> {to}: {} records copied in {took:.1} s{}, {} key and batch rows",
        report.records,
        resumed(&report),
        report.rows
    );
    if !report.complete {
        println!("stopped after --max-records; run the same command again to continue");
        return Ok(ExitCode::from(3));
    }
    print!("{}", render(&report.lines));
    if report.verified() {
        println!("verified: every figure matches");
        Ok(ExitCode::SUCCESS)
    } else {
        let bad = report.lines.iter().filter(|l| !l.ok()).count();
        println!(
            "MISMATCH: {bad} figure(s) differ (marked !); the target does not hold what the source holds"
        );
        Ok(ExitCode::from(1))
    }
}

/// Where the two eval stores are: as given, or where `serve` would put them for each ledger.
fn eval_places(args: &CopyArgs) -> (PathBuf, PathBuf) {
    let place = |given: &Option<String>, ledger: &str| match given {
        Some(p) => PathBuf::from(p),
        None => EvalConfig::default().store_path(Path::new(ledger)),
    };
    (
        place(&args.eval_from, &args.from),
        place(&args.eval_to, &args.to),
    )
}

enum EvalCopyError {
    BadInput(String),
    Store(switchyard_evalstore::StoreError),
}

impl From<switchyard_evalstore::StoreError> for EvalCopyError {
    fn from(e: switchyard_evalstore::StoreError) -> Self {
        EvalCopyError::Store(e)
    }
}

/// Rows per page of an eval table (a dataset item is one JSON request).
const EVAL_PAGE: usize = 500;

/// The eval store's section: every table page by page in key order, each page inserted in
/// one transaction that skips rows the target holds, so a run after an interrupted one
/// writes nothing twice. Verified by row counts per table: without `--append` equal to the
/// source's; with it, what the target held before plus the rows new to it. No eval store at
/// the source: nothing to copy, no figures.
fn copy_eval(
    (from, to): &(PathBuf, PathBuf),
    append: bool,
    progress: &mut dyn Progress,
) -> Result<Vec<Line>, EvalCopyError> {
    if !switchyard_evalstore::exists(from) {
        return Ok(Vec::new());
    }
    let shown = |p: &Path| Location::from(p).to_string();
    if shown(from) == shown(to) {
        return Err(EvalCopyError::BadInput(format!(
            "the eval store at {} is both source and target; give --eval-to",
            shown(from)
        )));
    }
    let source = switchyard_evalstore::open(from)?;
    let mut target = switchyard_evalstore::open(to)?;
    let mut lines = Vec::new();
    for table in Table::ALL {
        let total = source.count(table)?;
        let before = target.count(table)?;
        progress.section(&format!("eval {}", table.name()), total);
        let mut after: Option<Cursor> = None;
        let mut new = 0;
        loop {
            let page = source.page(table, after.as_ref(), EVAL_PAGE)?;
            let Some(last) = page.last() else { break };
            after = Some(last.cursor());
            new += target.insert_rows(&page)?;
            progress.advance(page.len() as u64);
            if page.len() < EVAL_PAGE {
                break;
            }
        }
        let held = target.count(table)?;
        // Without --append the target's eval store must end up holding exactly the
        // source's rows (rows from an interrupted earlier run are skipped, not doubled; rows
        // of another store show as a mismatch). With it, what it held plus what was new.
        let expected = if append { before + new } else { total };
        lines.push(Line {
            figure: format!("eval.{}.rows", table.name()),
            source: total.into(),
            expected: Some(expected.into()),
            target: held.into(),
        });
    }
    Ok(lines)
}

fn resumed(r: &Report) -> String {
    match r.resumed_after {
        0 => String::new(),
        id => format!(" (resumed after source record id {id})"),
    }
}

/// The verification table: each figure on the source, what the target must hold, and holds.
fn render(lines: &[Line]) -> String {
    let width = lines.iter().map(|l| l.figure.len()).max().unwrap_or(6);
    let mut out = format!(
        "{:<width$}  {:>20}  {:>20}  {:>20}\n",
        "figure", "source", "expected", "target"
    );
    for l in lines {
        let expected = l.expected.map_or("-".to_owned(), |e| e.to_string());
        let mark = if l.ok() { "" } else { "  !" };
        out.push_str(&format!(
            "{:<width$}  {:>20}  {:>20}  {:>20}{mark}\n",
            l.figure, l.source, expected, l.target
        ));
    }
    out
}

/// indicatif's bar on a terminal; otherwise a line per section and at most one every 2 s.
struct Bar {
    bar: Option<ProgressBar>,
    section: String,
    total: u64,
    done: u64,
    said: Instant,
}

impl Bar {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let style =
                ProgressStyle::with_template("{msg:>14} {bar:40} {pos}/{len} {per_sec} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            b.set_style(style);
            b
        });
        Bar {
            bar,
            section: String::new(),
            total: 0,
            done: 0,
            said: Instant::now(),
        }
    }

    fn line(&mut self) {
        eprintln!("{}: {}/{}", self.section, self.done, self.total);
        self.said = Instant::now();
    }

    fn finish(&mut self) {
        match &self.bar {
            Some(b) => b.finish_and_clear(),
            None if !self.section.is_empty() && self.done > 0 => self.line(),
            None => {}
        }
    }
}

impl Progress for Bar {
    fn section(&mut self, name: &str, total: u64) {
        if self.bar.is_none() && !self.section.is_empty() {
            self.line();
        }
        self.section = name.to_owned();
        self.total = total;
        self.done = 0;
        match &self.bar {
            Some(b) => {
                b.set_message(name.to_owned());
                b.set_length(total);
                b.set_position(0);
            }
            None => self.line(),
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(b) => b.inc(n),
            None if self.said.elapsed() >= Duration::from_secs(2) => self.line(),
            None => {}
        }
    }
}
