//! `switchyard eval`: datasets from captured traffic or files, replay runs with a verdict, and
//! migration readiness.

use crate::ConfigArg;
use crate::table;
use anyhow::Context;
use chrono::Utc;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use switchyard_eval::{DatasetItem, ScorerSpec, StatsOptions};
use switchyard_evalstore::{CaptureQuery, RunRecord, Store as EvalStore};
use switchyard_evaluation::{ReplayOptions, RunReport};
use switchyard_gateway::Config;
use switchyard_primitives::Money;
use switchyard_strategy::lockin::Evidence;

#[derive(clap::Args, Clone)]
pub struct Store {
    #[command(flatten)]
    config: ConfigArg,
    /// The eval store: a file or a postgres:// URL (overrides [eval] path; default: beside
    /// a ledger file, or in a PostgreSQL ledger's database).
    #[arg(long)]
    store: Option<PathBuf>,
}

impl Store {
    fn load(&self) -> anyhow::Result<(Config, PathBuf)> {
        let config = self.config.load()?;
        let path = self
            .store
            .clone()
            .unwrap_or_else(|| config.eval.store_path(&config.ledger.path));
        Ok((config, path))
    }

    fn open(&self) -> anyhow::Result<Box<dyn EvalStore>> {
        Ok(switchyard_evalstore::open(&self.load()?.1)?)
    }
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Build, import and inspect datasets.
    #[command(subcommand)]
    Dataset(DatasetCmd),
    /// Recent captures (already redacted).
    Captures {
        #[command(flatten)]
        store: Store,
        #[arg(long)]
        workload: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Replay a dataset against a candidate and compare it with a baseline.
    Run(Box<RunArgs>),
    /// Per workload and candidate: the latest verdict, score delta and interval, cost delta.
    Readiness {
        #[command(flatten)]
        store: Store,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Subcommand)]
pub enum DatasetCmd {
    /// A new dataset version from captured traffic.
    Create {
        #[command(flatten)]
        store: Store,
        /// The workload whose captures to use.
        #[arg(long)]
        workload: String,
        /// Dataset name (default: the workload).
        #[arg(long)]
        name: Option<String>,
        /// Only captures from this date (YYYY-MM-DD) or span (7d) on.
        #[arg(long)]
        since: Option<String>,
        /// At most this many items.
        #[arg(long)]
        limit: Option<usize>,
        /// Spread the items evenly over: model, route, team, or tag:KEY.
        #[arg(long)]
        stratify_by: Option<String>,
        /// A scorer for every item (JSON, e.g. '{"type":"contains","values":["refund"]}'). Repeatable.
        #[arg(long = "scorer")]
        scorers: Vec<String>,
    },
    /// A new dataset version from a JSONL file or promptfoo-style YAML tests.
    Import {
        file: PathBuf,
        #[command(flatten)]
        store: Store,
        #[arg(long)]
        name: String,
        /// The workload the dataset stands for (for readiness).
        #[arg(long)]
        workload: Option<String>,
        /// jsonl or promptfoo (default: from the file's extension).
        #[arg(long)]
        format: Option<String>,
    },
    /// Every dataset version.
    List {
        #[command(flatten)]
        store: Store,
    },
    /// One dataset (NAME for the latest version, or NAME@vN) and its items.
    Show {
        id: String,
        #[command(flatten)]
        store: Store,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    store: Store,
    /// Dataset: NAME (latest version) or NAME@vN.
    #[arg(long)]
    dataset: String,
    /// A route, or provider/model of a configured provider.
    #[arg(long)]
    candidate: String,
    /// A route or provider/model; default: the answers captured with the dataset.
    #[arg(long)]
    baseline: Option<String>,
    /// Items in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Stop starting items once the run has spent this much (USD).
    #[arg(long, default_value = "5.00")]
    max_spend: Money,
    /// A scorer for every item (JSON), replacing the dataset's. Repeatable.
    #[arg(long = "scorer")]
    scorers: Vec<String>,
    /// Embeddings route for embedding scorers that name none.
    #[arg(long)]
    embedding_route: Option<String>,
    /// The agreed margin: PASS needs the interval's lower bound above it.
    #[arg(long, default_value_t = switchyard_eval::DEFAULT_MARGIN, allow_hyphen_values = true)]
    margin: f64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = 10_000)]
    resamples: usize,
    /// Exit with status 1 unless the verdict is PASS.
    #[arg(long)]
    ci: bool,
    /// table, json, markdown or html.
    #[arg(long, default_value = "table")]
    format: String,
    /// Write the report here instead of stdout.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Dataset(d) => dataset(d),
        Command::Captures {
            store,
            workload,
            limit,
        } => {
            let caps = store.open()?.captures(&CaptureQuery {
                workload,
                since: None,
                limit: Some(limit),
            })?;
            let rows: Vec<Vec<String>> = caps
                .iter()
                .map(|c| {
                    vec![
                        c.ts.format("%Y-%m-%d %H:%M:%S").to_string(),
                        c.workload.clone().unwrap_or_default(),
                        c.route.clone(),
                        c.model.clone().unwrap_or_default(),
                        clip(&c.output_text, 60),
                    ]
                })
                .collect();
            print!(
                "{}",
                table::render(
                    &["time (UTC)", "workload", "route", "model", "answer"],
                    &rows,
                    &[]
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => run_replay(*args),
        Command::Readiness { store, json } => {
            let (_, path) = store.load()?;
            // Unlike the report's evidence, a store that cannot be read is an error here.
            let ev = if switchyard_evalstore::exists(&path) {
                let since = Utc::now()
                    - chrono::Duration::days(switchyard_strategy::readiness::SHADOW_WINDOW_DAYS);
                let store = switchyard_evalstore::open(&path)?;
                switchyard_strategy::readiness::readiness(
                    store.as_ref(),
                    since,
                    switchyard_eval::DEFAULT_MARGIN,
                )?
            } else {
                Vec::new()
            };
            if json {
                println!(
                    "{}",
                    crate::eval_json::rounded(&ev, &crate::eval_json::READINESS_FIGURES)?
                );
            } else if ev.is_empty() {
                println!(
                    "No evaluation evidence yet. Run `switchyard eval run`, or give a route shadow targets."
                );
            } else {
                print!("{}", readiness_table(&ev));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Evaluation evidence from the store at `path` (none without a store).
pub fn evidence(path: &Path) -> Vec<Evidence> {
    switchyard_strategy::readiness::load_evidence(path)
}

fn readiness_table(ev: &[Evidence]) -> String {
    let rows: Vec<Vec<String>> = ev
        .iter()
        .map(|e| {
            vec![
                e.workload.clone(),
                e.candidate.clone(),
                if e.passed { "PASS" } else { "FAIL" }.to_string(),
                format!("{:+.3}", e.mean_diff),
                format!("[{:+.3}, {:+.3}]", e.ci_low, e.ci_high),
                e.cost_delta
                    .map_or("-".into(), |d| format!("{:+.0}%", d * 100.0)),
                e.samples.to_string(),
                e.source.clone(),
            ]
        })
        .collect();
    table::render(
        &[
            "workload",
            "candidate",
            "verdict",
            "Δ score",
            "95% CI",
            "Δ cost",
            "n",
            "from",
        ],
        &rows,
        &[3, 5, 6],
    )
}

fn parse_scorers(raw: &[String]) -> anyhow::Result<Vec<ScorerSpec>> {
    raw.iter()
        .map(|s| {
            let spec: ScorerSpec =
                serde_json::from_str(s).with_context(|| format!("--scorer {s}"))?;
            spec.validate()
                .map_err(|e| anyhow::anyhow!("--scorer {s}: {e}"))?;
            Ok(spec)
        })
        .collect()
}

fn dataset(cmd: DatasetCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        DatasetCmd::Create {
            store,
            workload,
            name,
            since,
            limit,
            stratify_by,
            scorers,
        } => {
            let scorers = parse_scorers(&scorers)?;
            let mut st = store.open()?;
            let since_t = since
                .as_deref()
                .map(crate::ledger_cmd::parse_since)
                .transpose()?;
            let caps = st.captures(&CaptureQuery {
                workload: Some(workload.clone()),
                since: since_t
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|t| t.and_utc()),
                limit: None,
            })?;
            if caps.is_empty() {
                anyhow::bail!(
                    "no captures for workload {workload:?}; turn capture on for its route ([routes.capture] in the config) and send traffic"
                );
            }
            let picked = stratify(caps, stratify_by.as_deref(), limit)?;
            let items: Vec<Value> = picked
                .iter()
                .map(|c| {
                    let mut input = c.request.clone();
                    if let Some(o) = input.as_object_mut() {
                        o.remove("model");
                        o.remove("stream");
                        o.remove("stream_options");
                    }
                    serde_json::to_value(DatasetItem {
                        id: c.id.clone(),
                        input,
                        expected: None,
                        reference_output: Some(c.output_text.clone()),
                        reference_tool_calls: serde_json::from_value(c.tool_calls.clone())
                            .unwrap_or_default(),
                        reference_cost_usd: c.cost_usd.and_then(|m| {
                            use rust_decimal::prelude::ToPrimitive;
                            m.0.to_f64()
                        }),
                        reference_latency_ms: Some(c.latency_ms),
                        tags: c.tags.clone(),
                        scorers: Vec::new(),
                    })
                    .unwrap_or(Value::Null)
                })
                .collect();
            let source = format!(
                "captures workload={workload}{}{}",
                since.map(|s| format!(" since={s}")).unwrap_or_default(),
                stratify_by
                    .map(|s| format!(" stratified by {s}"))
                    .unwrap_or_default()
            );
            let info = st.create_dataset(
                name.as_deref().unwrap_or(&workload),
                (&source, Some(&workload)),
                &serde_json::to_value(&scorers)?,
                &items,
            )?;
            println!(
                "Created dataset {} with {} items ({}).",
                info.id, info.item_count, info.source
            );
            Ok(ExitCode::SUCCESS)
        }
        DatasetCmd::Import {
            file,
            store,
            name,
            workload,
            format,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let format =
                format.unwrap_or_else(|| match file.extension().and_then(|e| e.to_str()) {
                    Some("yaml" | "yml") => "promptfoo".into(),
                    _ => "jsonl".into(),
                });
            let items = match format.as_str() {
                "jsonl" => switchyard_eval::import_jsonl(&text).map_err(|errs| {
                    anyhow::anyhow!(
                        "{} invalid line(s); nothing imported:\n{}",
                        errs.len(),
                        errs.iter()
                            .map(|e| format!("  line {}: {}", e.line, e.message))
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                })?,
                "promptfoo" => switchyard_eval::import_promptfoo(&text).map_err(|errs| {
                    anyhow::anyhow!(
                        "{} invalid test(s); nothing imported:\n{}",
                        errs.len(),
                        errs.iter()
                            .map(|e| match e.index {
                                Some(i) => format!("  tests[{i}]: {}", e.message),
                                None => format!("  {}", e.message),
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                })?,
                other => anyhow::bail!("--format {other:?}: use jsonl or promptfoo"),
            };
            let values: Vec<Value> = items
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            let info = store.open()?.create_dataset(
                &name,
                (
                    &format!("import {} ({format})", file.display()),
                    workload.as_deref(),
                ),
                &json!([]),
                &values,
            )?;
            println!("Imported {} items as dataset {}.", info.item_count, info.id);
            Ok(ExitCode::SUCCESS)
        }
        DatasetCmd::List { store } => {
            let rows: Vec<Vec<String>> = store
                .open()?
                .datasets()?
                .iter()
                .map(|d| {
                    vec![
                        d.id.clone(),
                        d.item_count.to_string(),
                        d.workload.clone().unwrap_or_default(),
                        d.created.format("%Y-%m-%d %H:%M").to_string(),
                        d.source.clone(),
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!(
                    "No datasets yet. `switchyard eval dataset create --workload W` builds one from captures."
                );
            } else {
                print!(
                    "{}",
                    table::render(
                        &["dataset", "items", "workload", "created", "source"],
                        &rows,
                        &[1]
                    )
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DatasetCmd::Show { id, store, json } => {
            let (info, items) = store.open()?.dataset(&id)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({"dataset": info, "items": items}))?
                );
            } else {
                println!("{}: {} items, {}", info.id, info.item_count, info.source);
                for it in items.iter().take(20) {
                    let item: DatasetItem = serde_json::from_value(it.clone())?;
                    println!("  {}  {}", item.id, clip(&item.question(), 70));
                }
                if items.len() > 20 {
                    println!("  … {} more (--json shows all)", items.len() - 20);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// At most `limit` captures, spread evenly over the groups `by` names (round robin), newest
/// first within each group.
fn stratify(
    caps: Vec<switchyard_evalstore::Capture>,
    by: Option<&str>,
    limit: Option<usize>,
) -> anyhow::Result<Vec<switchyard_evalstore::Capture>> {
    let key = |c: &switchyard_evalstore::Capture| -> anyhow::Result<String> {
        Ok(match by {
            None => String::new(),
            Some("model") => c.model.clone().unwrap_or_default(),
            Some("route") => c.route.clone(),
            Some("team") => c.team.clone().unwrap_or_default(),
            Some(t) if t.starts_with("tag:") => {
                let k = &t[4..];
                c.tags
                    .iter()
                    .find(|(tk, _)| tk == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            }
            Some(other) => {
                anyhow::bail!("--stratify-by {other:?}: use model, route, team or tag:KEY")
            }
        })
    };
    let mut groups: BTreeMap<String, Vec<switchyard_evalstore::Capture>> = BTreeMap::new();
    for c in caps {
        groups.entry(key(&c)?).or_default().push(c);
    }
    let limit = limit.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    let mut iters: Vec<_> = groups.into_values().map(Vec::into_iter).collect();
    while out.len() < limit {
        let mut any = false;
        for it in &mut iters {
            if out.len() >= limit {
                break;
            }
            if let Some(c) = it.next() {
                out.push(c);
                any = true;
            }
        }
        if !any {
            break;
        }
    }
    Ok(out)
}

fn run_replay(a: RunArgs) -> anyhow::Result<ExitCode> {
    let (mut config, store_path) = a.store.load()?;
    let store = switchyard_evalstore::open(&store_path)?;
    let (info, raw_items) = store.dataset(&a.dataset)?;
    let items: Vec<DatasetItem> = raw_items
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .context("the dataset holds an item this version cannot read")?;
    let dataset_scorers: Vec<ScorerSpec> = serde_json::from_value(info.scorers.clone())?;
    let scorers = parse_scorers(&a.scorers)?;
    let candidate = adhoc_route(&mut config, &a.candidate)?;
    let baseline = a
        .baseline
        .as_deref()
        .map(|b| adhoc_route(&mut config, b))
        .transpose()?;
    // Built inside the runtime: `[fleet]` and a Redis `[cache]` start their tasks on it.
    let rt = crate::runtime()?;
    let built = {
        let _in_runtime = rt.enter();
        switchyard_evaluation::build(&config, &crate::env)?
    };
    let gw = built.gateway.clone();
    let opts = ReplayOptions {
        candidate,
        baseline,
        concurrency: a.concurrency,
        max_spend: a.max_spend,
        scorers,
        margin: a.margin,
        stats: StatsOptions {
            resamples: a.resamples.max(1),
            ..StatsOptions::default()
        },
        workload: info.workload.clone(),
        embedding_route: a.embedding_route.clone(),
    };
    let bar = indicatif::ProgressBar::new(items.len() as u64);
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} items {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let progress = |done: usize, _total: usize| bar.set_position(done as u64);
    let dataset = switchyard_evaluation::Dataset {
        name: &info.id,
        items,
        scorers: &dataset_scorers,
    };
    let report = rt.block_on(switchyard_evaluation::replay(
        &gw, dataset, &opts, &progress,
    ));
    bar.finish_and_clear();
    drop(rt);
    built.recorder.shutdown();
    let report = report?;
    store.save_run(&RunRecord {
        id: format!("run-{}", Utc::now().format("%Y%m%dT%H%M%S%3f")),
        created: Utc::now(),
        dataset_id: info.id.clone(),
        workload: info.workload.clone(),
        candidate: a.candidate.clone(),
        baseline: a.baseline.clone().unwrap_or_else(|| "captured".into()),
        verdict: if report.verdict.passed() {
            "PASS"
        } else {
            "FAIL"
        }
        .into(),
        report: serde_json::to_value(&report)?,
    })?;
    let text = match a.format.as_str() {
        "table" => render_table(&report),
        "json" => crate::eval_json::rounded(&report, &crate::eval_json::RUN_FIGURES)? + "\n",
        "markdown" | "md" => render_markdown(&report),
        "html" => render_html(&report),
        other => anyhow::bail!("--format {other:?}: use table, json, markdown or html"),
    };
    match &a.output {
        Some(p) => {
            std::fs::write(p, &text).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!(
                "{} — report written to {}",
                verdict_line(&report),
                p.display()
            );
        }
        None => print!("{text}"),
    }
    if a.ci && !report.verdict.passed() {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A route for `name`: an existing route, or `provider/model` of a configured provider made
/// into a one-target route of that name.
fn adhoc_route(config: &mut Config, name: &str) -> anyhow::Result<String> {
    if config.routes.iter().any(|r| r.name == name) {
        return Ok(name.to_string());
    }
    let Some((provider, model)) = name.split_once('/') else {
        // Catalog-exposed routes are only known after assembly; let the runner check.
        return Ok(name.to_string());
    };
    if !config.providers.iter().any(|p| p.name == provider) {
        anyhow::bail!(
            "{name:?} is neither a route nor provider/model of a configured provider ({})",
            config
                .providers
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    config.routes.push(switchyard_gateway::config::RouteConfig {
        name: name.to_string(),
        workload: None,
        targets: vec![switchyard_gateway::config::TargetConfig {
            provider: provider.to_string(),
            model: model.to_string(),
            price_as: None,
            weight: 1,
            timeout: None,
            ttft_timeout: None,
        }],
        allow_drop: vec!["*".into()],
        strategy: Default::default(),
        retry: Default::default(),
        capture: None,
        shadow: Vec::new(),
        scorers: Vec::new(),
        prompt_cache: Default::default(),
        cascade: None,
        cache: None,
        batchable: false,
    });
    Ok(name.to_string())
}

fn clip(s: &str, n: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        one_line.chars().take(n).collect::<String>() + "…"
    }
}

fn verdict_line(r: &RunReport) -> String {
    format!(
        "{}: {} vs {} on {} — {}",
        if r.verdict.passed() { "PASS" } else { "FAIL" },
        r.candidate,
        r.baseline,
        r.dataset,
        r.verdict.reason
    )
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |d| format!("{:+.1}%", d * 100.0))
}

fn ms(d: Option<switchyard_eval::Distribution>) -> String {
    d.map_or("-".into(), |d| {
        format!("p50 {:.0} / p90 {:.0}", d.p50, d.p90)
    })
}

fn render_table(r: &RunReport) -> String {
    let s = &r.summary;
    let rows = vec![
        vec![
            "items (paired / all)".into(),
            format!("{} / {}", r.paired, r.items),
        ],
        vec![
            "mean score candidate".into(),
            format!("{:.3}", s.mean_candidate),
        ],
        vec![
            "mean score baseline".into(),
            format!("{:.3}", s.mean_baseline),
        ],
        vec![
            "difference, 95% CI".into(),
            format!("{:+.3} [{:+.3}, {:+.3}]", s.mean_diff, s.ci_low, s.ci_high),
        ],
        vec![
            "wins / ties / losses".into(),
            format!("{} / {} / {}", s.wins, s.ties, s.losses),
        ],
        vec![
            "cost candidate / baseline".into(),
            format!(
                "${:.4} / ${:.4} ({})",
                r.deltas.candidate_cost_usd,
                r.deltas.baseline_cost_usd,
                pct(r.deltas.cost_delta)
            ),
        ],
        vec![
            "latency ms candidate".into(),
            ms(r.deltas.candidate_latency_ms),
        ],
        vec![
            "latency ms baseline".into(),
            ms(r.deltas.baseline_latency_ms),
        ],
        vec!["spent by this run".into(), format!("${:.4}", r.spent_usd)],
    ];
    let mut out = table::render(&["", ""], &rows, &[]);
    if let Some(s) = &r.stopped {
        out.push_str(&format!("\nStopped early: {s}\n"));
    }
    out.push_str(&format!("\n{}\n", verdict_line(r)));
    out
}

fn render_markdown(r: &RunReport) -> String {
    let s = &r.summary;
    let mut out = format!(
        "# Evaluation: {} vs {} on {}\n\n**{}** — {}\n\n",
        r.candidate,
        r.baseline,
        r.dataset,
        if r.verdict.passed() { "PASS" } else { "FAIL" },
        r.verdict.reason
    );
    out.push_str("| measure | value |\n|---|---|\n");
    for (k, v) in [
        (
            "items (paired / all)",
            format!("{} / {}", r.paired, r.items),
        ),
        (
            "mean score (candidate / baseline)",
            format!("{:.3} / {:.3}", s.mean_candidate, s.mean_baseline),
        ),
        (
            "difference, 95% bootstrap CI",
            format!("{:+.3} [{:+.3}, {:+.3}]", s.mean_diff, s.ci_low, s.ci_high),
        ),
        ("margin", format!("{:+.3}", r.margin)),
        (
            "wins / ties / losses",
            format!("{} / {} / {}", s.wins, s.ties, s.losses),
        ),
        (
            "cost (candidate / baseline)",
            format!(
                "${:.4} / ${:.4} ({})",
                r.deltas.candidate_cost_usd,
                r.deltas.baseline_cost_usd,
                pct(r.deltas.cost_delta)
            ),
        ),
        ("latency candidate (ms)", ms(r.deltas.candidate_latency_ms)),
        ("latency baseline (ms)", ms(r.deltas.baseline_latency_ms)),
        ("spent by this run", format!("${:.4}", r.spent_usd)),
    ] {
        out.push_str(&format!("| {k} | {v} |\n"));
    }
    out.push_str("\n## Items\n\n| item | candidate | baseline | notes |\n|---|---:|---:|---|\n");
    for it in &r.results {
        let f = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.2}"));
        let note = it
            .skipped
            .clone()
            .or_else(|| it.candidate.error.clone())
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            it.id,
            f(it.candidate_score),
            f(it.baseline_score),
            note.replace('|', "\\|")
        ));
    }
    out
}

fn render_html(r: &RunReport) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let md = render_markdown(r);
    let mut body = String::new();
    let mut in_table = false;
    for line in md.lines() {
        let is_row = line.starts_with('|');
        if is_row && !in_table {
            body.push_str("<table>\n");
            in_table = true;
        } else if !is_row && in_table {
            body.push_str("</table>\n");
            in_table = false;
        }
        if let Some(h) = line.strip_prefix("# ") {
            body.push_str(&format!("<h1>{}</h1>\n", esc(h)));
        } else if let Some(h) = line.strip_prefix("## ") {
            body.push_str(&format!("<h2>{}</h2>\n", esc(h)));
        } else if line.starts_with("|---") {
            continue;
        } else if is_row {
            let cells: Vec<String> = line
                .trim_matches('|')
                .split(" | ")
                .map(|c| format!("<td>{}</td>", esc(c.trim())))
                .collect();
            body.push_str(&format!("<tr>{}</tr>\n", cells.join("")));
        } else if !line.is_empty() {
            body.push_str(&format!("<p>{}</p>\n", esc(&line.replace("**", ""))));
        }
    }
    if in_table {
        body.push_str("</table>\n");
    }
    let color = if r.verdict.passed() {
        "#1a7f37"
    } else {
        "#cf222e"
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Evaluation {}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}}\
         td{{border-bottom:1px solid #ddd;padding:.2rem .6rem}}h1{{color:{color}}}</style></head>\
         <body>\n{body}</body></html>\n",
        esc(&r.dataset)
    )
}
