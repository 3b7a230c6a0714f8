//! `switchyard demo`: simulated providers + a gateway on loopback + a realistic traffic mix
//! (`demo_traffic`) with the cost levers on, then a nightly batch (`demo_batch`), then the
//! ledger's spend per workload and provider and its savings by lever. Leaves the ledger in place.

use crate::demo_traffic::{TEAMS, request};
use crate::ledger_cmd::render_summary;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use switchyard_gateway::Config;
use switchyard_ledger::{Dimension, Location, OnTheTable, SavingsReport, SummaryQuery, Window};
use switchyard_providers::HttpClient;
use switchyard_sim::SimConfig;

const DEMO_CONFIG: &str = include_str!("../demo/switchyard.toml");
const DEMO_SIM: &str = include_str!("../demo/sim.toml");

#[derive(clap::Args)]
pub struct Args {
    /// How many requests to send.
    #[arg(long, default_value_t = 600)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Ledger file to write (kept afterwards for `ledger` and `strategy` commands).
    #[arg(long, default_value = "./switchyard.db")]
    ledger: PathBuf,
    /// Lines in the nightly summarisation batch.
    #[arg(long, default_value_t = 40)]
    batch_lines: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(demo(args))
}

async fn demo(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let (stop_sim, sim_stopped) = tokio::sync::oneshot::channel::<()>();
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim_url = format!("http://{}", sim_listener.local_addr()?);
    let sim_config = SimConfig::from_toml(DEMO_SIM).map_err(anyhow::Error::msg)?;
    let sim = tokio::spawn(switchyard_sim::run(sim_listener, sim_config, async {
        let _ = sim_stopped.await;
    }));

    let mut config = Config::from_toml(&DEMO_CONFIG.replace("SIM_URL", &sim_url))
        .map_err(|e| anyhow::anyhow!("bundled demo config: {e}"))?;
    config.ledger.path = args.ledger.clone();
    let built = switchyard_evaluation::build(&config, &|k| {
        (k == "SWITCHYARD_DEMO_KEY").then(|| "demo-key".to_string())
    })?;
    let gw_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", gw_listener.local_addr()?);
    let (stop_gw, gw_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(switchyard_server::run(
        gw_listener,
        built.gateway.clone(),
        async {
            let _ = gw_stopped.await;
        },
        Duration::from_secs(10),
    ));
    eprintln!("simulated providers on {sim_url}, gateway on {base}");

    let client =
        switchyard_providers::HttpClient::new(&Default::default()).map_err(anyhow::Error::msg)?;
    let (ok, failed) = drive(&client, &base, &args).await;
    let nightly = crate::demo_batch::input(args.batch_lines.max(1));
    let batch = crate::demo_batch::run(&client, &base, nightly, Duration::from_secs(60)).await?;
    // Shadow calls run after each answer; let the last ones finish before stopping.
    let deadline = Instant::now() + Duration::from_secs(10);
    while built.gateway.shadow_in_flight() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let evaluation = built.gateway.eval_counters();
    built.gateway.shutdown_eval();

    let _ = stop_gw.send(());
    server.await??;
    let stats = built.recorder.shutdown();
    let _ = stop_sim.send(());
    sim.await??;

    let mut store = Location::from(args.ledger.as_path()).open_existing()?;
    let today = chrono::Utc::now().date_naive();
    // Read before the history is written, though that ends yesterday: this run's figures only.
    let query = SummaryQuery {
        by: Dimension::Workload,
        since: Some(today),
        include_shadow: false,
    };
    let catalog = built.gateway.catalog();
    let window = Window::from(&query);
    let savings = store.savings_report(&catalog, &window)?;
    let table = store.on_the_table(
        &catalog,
        &window,
        &built.gateway.batchable(),
        &savings.prompt_caching,
    )?;
    let history = crate::history::write(store.as_mut(), &built.gateway.catalog(), today)?;
    println!(
        "\nSent {} requests in {:.1}s: {ok} succeeded, {failed} failed after fallbacks; {} ledger records written.",
        args.requests,
        started.elapsed().as_secs_f64(),
        stats.written
    );
    println!(
        "Also wrote the 90-day history the strategy commands read ({history} new daily records).\n"
    );
    println!("This run's spend:\n");
    for by in [Dimension::Workload, Dimension::Provider] {
        let rows = store.summary(&SummaryQuery {
            by,
            since: Some(today),
            include_shadow: false,
        })?;
        println!("{}", render_summary(by, &rows));
    }
    println!(
        "Nightly batch {}: {} with {} lines answered, {} failed.",
        batch.id, batch.status, batch.completed, batch.failed
    );
    print_savings(&savings, &table);
    println!(
        "\nLedger: {} ({} records). Next:",
        args.ledger.display(),
        store.count()?
    );
    let l = args.ledger.display();
    println!(
        "  switchyard ledger summary --by model --ledger {l}   # savings by lever, prompt caching, cascade"
    );
    println!("  switchyard strategy spend --ledger {l}");
    println!("  switchyard strategy deprecations --ledger {l}");
    println!("  switchyard strategy report --format html -o strategy.html --ledger {l}");
    if let Some(e) = evaluation {
        let store = config.eval.store_path(&args.ledger);
        println!(
            "\nShadow traffic: {} extraction requests mirrored to gpt-6-luna (gpt-4o-mini's successor) and scored for valid JSON; evaluation spend is kept out of the figures above.",
            e["shadow_sent"]
        );
        for ev in switchyard_strategy::readiness::load_evidence(&store) {
            println!("  {} → {}: {}", ev.workload, ev.candidate, ev.describe());
        }
        println!(
            "  switchyard eval readiness --store {}      # and `strategy lockin` uses it",
            store.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends the live mix with a progress bar; returns (answered 2xx, failed).
async fn drive(client: &HttpClient, base: &str, args: &Args) -> (usize, usize) {
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.requests as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} requests  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut ok = 0usize;
    let mut failed = 0usize;
    let mut results = futures_util::stream::iter((0..args.requests).map(|i| {
        let client = client.clone();
        let base = base.to_string();
        async move { send(&client, &base, i).await }
    }))
    .buffer_unordered(args.concurrency.max(1));
    while let Some(r) = results.next().await {
        match r {
            Ok(true) => ok += 1,
            _ => failed += 1,
        }
        bar.inc(1);
        bar.set_message(format!("{failed} failed"));
    }
    bar.finish_and_clear();
    (ok, failed)
}

/// One request of the mix; `true` when the gateway answered 2xx.
async fn send(client: &HttpClient, base: &str, i: usize) -> anyhow::Result<bool> {
    let (path, body) = request(i);
    let team = TEAMS[i % TEAMS.len()];
    let tags = format!("team={team},env=demo");
    // Reads the whole answer, streams included, as a client would.
    let resp = client
        .post_json(
            &format!("{base}{path}"),
            &[("x-switchyard-tags", &tags)],
            body.to_string(),
        )
        .await
        .map_err(anyhow::Error::msg)?;
    Ok((200..300).contains(&resp.status))
}

/// The savings table (`ledger summary`'s own) and what turned each lever on in this run.
fn print_savings(r: &SavingsReport, table: &OnTheTable) {
    print!("{}", crate::savings_table::render(&r.savings));
    let escalated: u64 = r.cascade.iter().map(|c| c.escalated).sum();
    let cascaded: u64 = r.cascade.iter().map(|c| c.requests).sum();
    println!(
        "  cache (exact)   support-chat: frequent questions answered from the cache (OpenAI and Anthropic clients share entries)"
    );
    println!(
        "  semantic cache  support-chat: frequent questions in other words, answered with the stored answer to the question they mean (each lookup's embedding is priced in the support spend)"
    );
    println!(
        "  prompt caching  code-review: {:.0}% of its prompt tokens read from Anthropic's cache, net of the write premium",
        r.prompt_caching
            .lines
            .iter()
            .find(|l| l.workload == "code-review")
            .map_or(0.0, |l| {
                l.read_share.to_string().parse::<f64>().unwrap_or(0.0) * 100.0
            })
    );
    println!(
        "  cascade         classify: {escalated} of {cascaded} requests escalated from llama-3.1-8b-instant to gpt-4o (invalid JSON or a failed call)"
    );
    println!(
        "  batch           summarize-nightly and summarize: lines sent through OpenAI's Batch API and Anthropic's Message Batches at their discount (lines run by the gateway itself save nothing)"
    );
    println!(
        "  routing         tag: lowest-cost sends each note to mistral-small-latest, priced against the route's first target (gpt-6.1-terra)"
    );
    print!("{}", crate::table_report::render(table));
    println!(
        "  duplicates      extract, summarize, embed: the same documents sent again word for word, on routes without a cache (support-chat's cache is per team); support-embed: the semantic cache embeds a reworded question again each time it is asked\n  batchable       summarization: already sent through /v1/batches, but its Anthropic lines and live requests pay list price"
    );
}
